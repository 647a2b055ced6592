import pytest
from django.core.management import call_command

from accounts.models import Role, User
from marketplace.models import Order, Product
from payments.models import Payout, Refund, SellerTransfer
from playlists.models import Playlist
from tracks.models import Track

# Real commits: the sandbox settles payments from on-commit tasks, as in development.
pytestmark = pytest.mark.django_db(transaction=True)


def counts() -> dict:
    return {
        "users": User.objects.count(),
        "tracks": Track.objects.count(),
        "playlists": Playlist.objects.count(),
        "products": Product.objects.count(),
        "orders": Order.objects.count(),
        "refunds": Refund.objects.count(),
        "payouts": Payout.objects.count(),
    }


def test_seed_builds_a_demo_world_and_is_idempotent():
    call_command("seed")
    first = counts()
    assert {u.role for u in User.objects.filter(username__startswith="demo_")} == set(Role)
    assert first["tracks"] and first["playlists"] and first["products"]
    assert Order.objects.filter(status=Order.Status.COMPLETED).exists()
    assert set(Refund.objects.values_list("status", flat=True)) == {
        "pending",
        "succeeded",
        "failed",
    }
    assert User.objects.get(username="demo_admin").is_staff
    # A demo seller followed from a sale to a paid payout; another one's payout failed.
    assert set(Payout.objects.values_list("status", flat=True)) == {"paid", "failed"}
    assert SellerTransfer.objects.filter(status="paid", payout__status="paid").exists()

    call_command("seed")
    assert counts() == first
    call_command("check_ledger")
