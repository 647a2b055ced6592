"""Right to be forgotten: scheduled with the password, cancellable during its grace period,
carried out by a periodic job that keeps the books (orders, ledger, payouts, audit) intact."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.files.storage import default_storage
from django.core.management import call_command
from django.utils import timezone

from accounts.models import User
from audit.models import AuditLog
from developer.models import APIKey, WebhookEndpoint
from marketplace.models import Order, Product
from payments.models import LedgerEntry, Payout
from payments.payouts.services import apply_payout_status, run_payouts
from playlists.models import Playlist
from privacy.erasure import ErasureOutcome, erase_account
from privacy.tasks import erase_due_accounts
from tests.factories import DEFAULT_PASSWORD, CreatorFactory, UserFactory
from tests.marketplace.factories import ProductFactory, completed_order
from tests.payments.payout_helpers import released, sold, with_method
from tests.tracks.factories import TrackFactory, TrackLikeFactory, TrackShareFactory
from tracks.models import Track

pytestmark = pytest.mark.django_db


def request_erasure(client, password=DEFAULT_PASSWORD):
    return client.delete("/api/v1/users/me", {"password": password}, format="json")


def make_due(user) -> None:
    User.objects.filter(pk=user.pk).update(deletion_scheduled_for=timezone.now())


def login(api_client, email, password=DEFAULT_PASSWORD):
    return api_client.post(
        "/api/v1/auth/login", {"email": email, "password": password}, format="json"
    )


def test_an_erasure_is_scheduled_after_the_grace_period(client_for):
    user = UserFactory()
    client = client_for(user)

    response = request_erasure(client)

    assert response.status_code == 202, response.content
    due = timezone.datetime.fromisoformat(response.json()["deletion_scheduled_for"])
    assert abs(due - (timezone.now() + timedelta(days=14))) < timedelta(minutes=1)
    me = client.get("/api/v1/auth/me").json()
    assert me["deletion_scheduled_for"] == response.json()["deletion_scheduled_for"]
    assert AuditLog.objects.filter(action="user.erasure_requested", target_id=str(user.pk))


def test_the_grace_period_is_a_setting(client_for, settings):
    settings.ACCOUNT_DELETION_GRACE_DAYS = 3

    response = request_erasure(client_for(UserFactory()))

    due = timezone.datetime.fromisoformat(response.json()["deletion_scheduled_for"])
    assert abs(due - (timezone.now() + timedelta(days=3))) < timedelta(minutes=1)


def test_a_wrong_password_is_refused(client_for):
    user = UserFactory()

    response = request_erasure(client_for(user), password="not-my-password")

    assert response.status_code == 403
    assert response.json()["code"] == "invalid_password"
    user.refresh_from_db()
    assert user.deletion_scheduled_for is None


def test_a_missing_password_is_a_field_error(client_for):
    response = client_for(UserFactory()).delete("/api/v1/users/me", {}, format="json")

    assert response.status_code == 400
    assert response.json()["code"] == "invalid"


def test_refused_while_seller_money_is_pending(client_for):
    seller = CreatorFactory()
    sold(seller=seller, price=2000)  # 1800 pending inside the refund window

    response = request_erasure(client_for(seller))

    assert response.status_code == 409
    body = response.json()
    assert body["code"] == "balance_not_settled"
    assert body["remaining"]["pending"] == 1800 and body["remaining"]["currency"] == "EUR"
    assert body["remaining"]["balances"] == [{"currency": "EUR", "pending": 1800}]
    seller.refresh_from_db()
    assert seller.deletion_scheduled_for is None


def test_refused_while_a_payout_is_in_flight(client_for, psp):
    seller = CreatorFactory()
    with_method(seller)
    released(seller, price=2000)
    run_payouts()
    payout = Payout.objects.get(seller=seller)

    response = request_erasure(client_for(seller))

    assert response.status_code == 409
    assert response.json()["remaining"]["payouts"] == [
        {"id": str(payout.pk), "amount": 1800, "currency": "EUR"}
    ]


def test_cancel_works(client_for):
    user = UserFactory()
    client = client_for(user)
    request_erasure(client)

    response = client.post("/api/v1/users/me/cancel-deletion")

    assert response.status_code == 200
    assert response.json() == {"deletion_scheduled_for": None}
    user.refresh_from_db()
    assert user.deletion_scheduled_for is None
    assert AuditLog.objects.filter(action="user.erasure_cancelled", target_id=str(user.pk))
    assert erase_due_accounts.delay().get() == 0  # nothing scheduled: nothing erased
    assert User.objects.get(pk=user.pk).email == user.email


def test_signing_in_during_the_grace_period_works_and_keeps_the_schedule(client_for, api_client):
    user = UserFactory()
    scheduled = request_erasure(client_for(user)).json()["deletion_scheduled_for"]

    response = login(api_client, user.email)

    assert response.status_code == 200
    assert response.json()["user"]["deletion_scheduled_for"] == scheduled
    user.refresh_from_db()
    assert user.deletion_scheduled_for is not None


def test_an_erasure_after_its_grace_period_keeps_the_books_and_frees_the_email(
    client_for, api_client, psp, django_capture_on_commit_callbacks
):
    seller = CreatorFactory(display_name="Ada L.", bio="Producer from Lyon", country="FR")
    email, username = seller.email, seller.username
    # A seller whose money has all left: a sale released and paid out.
    with_method(seller)
    released(seller, price=2000)
    run_payouts()
    payout = Payout.objects.get(seller=seller)
    apply_payout_status(status=Payout.Status.PAID, payout_id=payout.pk)
    # ... who also bought, liked, shared, made playlists and tracks, and used the API.
    bought = completed_order(buyer=seller, products=[ProductFactory()])
    track = TrackFactory(creator=seller, with_file=True)
    TrackShareFactory(track=track)
    other_track = TrackFactory()
    TrackLikeFactory(user=seller, track=other_track)
    Playlist.objects.create(owner=seller, title="Mine")
    product = ProductFactory(seller=seller)
    APIKey.objects.create_key(name="ci", owner=seller)
    WebhookEndpoint.objects.create(owner=seller, url="https://example.test/hook", secret="x")
    client = client_for(seller)
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/api/v1/users/me/export")
    assert request_erasure(client).status_code == 202
    make_due(seller)

    with django_capture_on_commit_callbacks(execute=True):
        assert erase_due_accounts.delay().get() == 1

    erased = User.objects.get(pk=seller.pk)
    assert erased.email == f"deleted-{seller.pk}@erased.invalid"
    assert erased.country is None
    assert erased.username.startswith("deleted-")
    assert (erased.display_name, erased.bio, erased.avatar_url) == ("", "", "")
    assert not erased.is_active and not erased.has_usable_password()
    assert erased.token_version > seller.token_version
    assert erased.deletion_scheduled_for is None and erased.erased_at is not None
    assert not Track.objects.filter(pk=track.pk).exists()
    assert not default_storage.exists(track.file.name)
    assert not other_track.likes.exists()
    other_track.refresh_from_db()
    assert other_track.like_count == 0
    assert not Playlist.objects.filter(owner=seller).exists()
    assert not APIKey.objects.filter(owner=seller).exists()
    assert not WebhookEndpoint.objects.filter(owner=seller).exists()
    assert not erased.data_exports.exists()
    assert not Product.objects.get(pk=product.pk).is_active
    # The books: orders, ledger entries and payouts still point at the erased user.
    assert Order.objects.filter(pk=bought.pk, buyer=erased).exists()
    assert LedgerEntry.objects.filter(seller=erased).count() >= 3
    assert Payout.objects.filter(pk=payout.pk, seller=erased, status="paid").exists()
    out = StringIO()
    call_command("check_ledger", stdout=out)
    assert AuditLog.objects.filter(action="user.erased", target_id=str(seller.pk)).exists()
    assert AuditLog.objects.filter(actor=erased).exists()  # earlier entries kept

    # Gone from the outside: no sign-in, no profile; the email and username are free.
    assert client.get("/api/v1/auth/me").status_code == 401
    failed = login(api_client, email)
    assert failed.status_code == 401
    assert failed.json()["code"] == "invalid_credentials"
    assert api_client.get(f"/api/v1/users/{seller.pk}").status_code == 404
    assert api_client.get(f"/api/v1/users/by-username/{username}").status_code == 404
    again = api_client.post(
        "/api/v1/auth/register",
        {"email": email, "username": username, "password": DEFAULT_PASSWORD},
        format="json",
    )
    assert again.status_code == 201, again.content


def test_the_job_rechecks_the_money_when_the_date_comes(client_for):
    seller = CreatorFactory()
    assert request_erasure(client_for(seller)).status_code == 202
    sold(seller=seller)  # a sale during the grace period
    make_due(seller)

    assert erase_due_accounts.delay().get() == 0

    seller.refresh_from_db()
    assert seller.is_active and seller.erased_at is None
    assert seller.deletion_scheduled_for is not None  # erased once the money is settled


def test_the_job_is_safe_to_run_twice(client_for):
    user = UserFactory()
    request_erasure(client_for(user))
    make_due(user)

    assert erase_account(user_id=user.pk) == ErasureOutcome.ERASED
    assert erase_account(user_id=user.pk) == ErasureOutcome.ALREADY_ERASED
    assert erase_due_accounts.delay().get() == 0
    assert AuditLog.objects.filter(action="user.erased", target_id=str(user.pk)).count() == 1


def test_an_erasure_not_yet_due_is_left_alone(client_for):
    user = UserFactory()
    request_erasure(client_for(user))

    assert erase_due_accounts.delay().get() == 0
    assert erase_account(user_id=user.pk) == ErasureOutcome.NOT_DUE


def test_staff_see_pending_erasures_with_their_dates(client, client_for):
    user = UserFactory(username="leaving")
    request_erasure(client_for(user))
    UserFactory(username="staying")
    staff = User.objects.create_superuser(
        email="boss@example.test", username="boss", password=DEFAULT_PASSWORD
    )
    client.force_login(staff)

    page = client.get("/admin/privacy/pendingerasure/")

    assert page.status_code == 200
    html = page.content.decode()
    assert "leaving" in html and "staying" not in html
    assert client.get(f"/admin/privacy/pendingerasure/{user.pk}/change/").status_code == 200


def test_an_export_built_after_its_owner_was_erased_leaves_no_file(client_for):
    from privacy.exports import build_export
    from privacy.models import DataExport

    user = UserFactory()
    client = client_for(user)
    export_id = client.post("/api/v1/users/me/export").json()["id"]  # its task not run yet
    request_erasure(client)
    make_due(user)
    erase_account(user_id=user.pk)

    assert build_export(export_id=export_id) is None
    assert not DataExport.objects.filter(pk=export_id).exists()


def test_refused_for_a_buyer_while_a_dispute_on_its_order_is_open(client_for, post_webhook):
    from payments.models import Dispute
    from tests.payments.test_disputes import dispute_event

    buyer = UserFactory()
    order = completed_order(buyer=buyer, products=[ProductFactory(price=1000)])
    assert post_webhook(dispute_event(order, "opened")).status_code == 200
    dispute = Dispute.objects.get(order=order)

    response = request_erasure(client_for(buyer))

    assert response.status_code == 409
    assert response.json()["remaining"]["disputes"] == [
        {
            "id": str(dispute.pk),
            "order_id": str(order.pk),
            "amount": 1000,
            "currency": "EUR",
        }
    ]


def test_support_staff_may_read_the_pending_erasures(client, client_for):
    from django.contrib.auth.models import Group

    user = UserFactory(username="leaving")
    request_erasure(client_for(user))
    support = UserFactory(is_staff=True)
    support.groups.add(Group.objects.get(name="Support"))
    client.force_login(support)

    assert client.get("/admin/privacy/pendingerasure/").status_code == 200
    assert client.get("/admin/privacy/dataexport/").status_code == 200
