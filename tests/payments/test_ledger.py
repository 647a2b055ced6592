import pytest
from django.core.management import CommandError, call_command
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from payments.ledger import ledger_differences
from payments.models import LedgerEntry, SellerBalance
from tests.factories import CreatorFactory
from tests.payments.ledger_helpers import post_entry

moves = st.lists(st.integers(min_value=-5000, max_value=5000).filter(bool), min_size=1, max_size=25)


@pytest.mark.django_db
@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(amounts=moves)
def test_every_amount_equals_the_sum_of_its_entries_and_nothing_is_lost(amounts):
    seller = CreatorFactory()
    total = 0
    for amount in amounts:
        entry = post_entry(
            seller=seller, currency="EUR", kind=LedgerEntry.Kind.ADJUSTMENT, amount=amount
        )
        total += amount  # a debit beyond the money is debt, never clamped away
        assert entry.balance_after <= total or entry.kind != LedgerEntry.Kind.DEBT
    balance = SellerBalance.objects.get(seller=seller)
    assert balance.total == total
    assert min(balance.pending, balance.available, balance.held, balance.debt) >= 0
    assert not (balance.available and balance.debt)  # credits repay debt first
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
