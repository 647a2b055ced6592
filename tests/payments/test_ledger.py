import pytest
from django.core.management import CommandError, call_command
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from payments.ledger import ledger_differences, post_entry
from payments.models import LedgerEntry, SellerBalance
from tests.factories import CreatorFactory

moves = st.lists(st.integers(min_value=-5000, max_value=5000).filter(bool), min_size=1, max_size=25)


@pytest.mark.django_db
@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(amounts=moves)
def test_balance_always_equals_the_sum_of_applied_entries(amounts):
    seller = CreatorFactory()
    expected = 0
    for amount in amounts:
        kind = LedgerEntry.Kind.SALE_CREDIT if amount > 0 else LedgerEntry.Kind.PAYOUT
        kind = LedgerEntry.Kind.ADJUSTMENT if kind == LedgerEntry.Kind.SALE_CREDIT else kind
        entry = post_entry(seller=seller, currency="EUR", kind=kind, amount=amount)
        applied = amount if amount > 0 else -min(-amount, expected)
        expected += applied
        assert entry.applied_amount == applied
        assert entry.balance_after == expected >= 0
    assert SellerBalance.objects.get(seller=seller).available == expected
    assert ledger_differences() == []


@pytest.mark.django_db
def test_check_ledger_fails_loudly_on_a_tampered_balance():
    seller = CreatorFactory()
    post_entry(seller=seller, currency="EUR", kind=LedgerEntry.Kind.ADJUSTMENT, amount=500)
    call_command("check_ledger")
    SellerBalance.objects.filter(seller=seller).update(available=499)
    with pytest.raises(CommandError, match="1 balance"):
        call_command("check_ledger")
    SellerBalance.objects.filter(seller=seller).update(available=500)  # leave it consistent


@pytest.mark.django_db
def test_ledger_entries_are_append_only():
    seller = CreatorFactory()
    entry = post_entry(seller=seller, currency="EUR", kind=LedgerEntry.Kind.ADJUSTMENT, amount=10)
    entry.applied_amount = 1_000_000
    with pytest.raises(PermissionError):
        entry.save()
    with pytest.raises(PermissionError):
        LedgerEntry.objects.filter(pk=entry.pk).update(applied_amount=1_000_000)
    with pytest.raises(PermissionError):
        LedgerEntry.objects.filter(pk=entry.pk).delete()
    with pytest.raises(PermissionError):
        entry.delete()
    entry.refresh_from_db()
    assert entry.applied_amount == 10
