"""Seller money races on PostgreSQL: real threads, their own connections, real row locks."""

import pytest
from django.db import connection

from payments.models import LedgerEntry, Payout, SellerBalance, SellerTransfer
from payments.payouts.release import release_due
from payments.payouts.services import run_payouts
from tests.factories import CreatorFactory
from tests.payments.payout_helpers import past_window, released, sold, with_method
from tests.payments.test_concurrency import run_together

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _postgres_only():
    if connection.vendor != "postgresql":
        pytest.skip("row-lock races need PostgreSQL (CI runs them there)")


def test_two_concurrent_release_runs_move_the_money_once():
    order = past_window(sold(price=2000))
    seller = order.items.get().seller

    results = run_together(2, lambda i: release_due())

    assert not [r for r in results if isinstance(r, Exception)], results
    assert sum(r.get("transfers", 0) for r in results) == 1
    assert LedgerEntry.objects.filter(order=order, kind="release").count() == 1
    balance = SellerBalance.objects.get(seller=seller)
    assert (balance.pending, balance.available) == (0, 1800)
    assert SellerTransfer.objects.get(order=order).status == SellerTransfer.Status.RELEASED


def test_two_concurrent_payout_runs_pay_once(psp):
    seller = CreatorFactory()
    with_method(seller)
    released(seller, price=2000)

    results = run_together(2, lambda i: run_payouts())

    assert not [r for r in results if isinstance(r, Exception)], results
    [payout] = Payout.objects.filter(seller=seller)
    assert payout.amount == 1800
    assert SellerBalance.objects.get(seller=seller).available == 0
    assert LedgerEntry.objects.filter(seller=seller, kind="payout").count() == 1
    assert len(psp.calls_to("POST", "/payouts/create")) == 1
    assert list(psp.payouts) == [str(payout.pk)]
