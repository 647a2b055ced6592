"""Whatever happens to seller money, in any order — sales, release, payouts paid, failed or
reversed, full and partial refunds settled or failed, disputes opened, won or lost (with and
without ``DISPUTE_FEE``), debt repaid by later sales — what ``manage.py check_ledger`` checks
holds after every step, no balance is negative, and no money appears or vanishes.

A Hypothesis state machine drives the services and the signed webhooks the API uses against
the fake provider; each example runs in a savepoint of its own, rolled back after it, so every
example starts from an empty ledger. Derandomised: CI runs the same examples every time.
"""

import json
import time
from datetime import timedelta
from itertools import count

import pytest
from django.conf import settings as django_settings
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from rest_framework.test import APIClient

from marketplace.models import Order
from payments import errors
from payments.intake.webhooks import sign
from payments.ledger import ledger_differences
from payments.models import (
    Dispute,
    DisputeShare,
    LedgerEntry,
    Payout,
    Refund,
    SellerBalance,
    SellerTransfer,
)
from payments.payouts.checks import payout_differences
from payments.payouts.release import release_due
from payments.payouts.services import run_payouts
from payments.refunds.approvals import approve_refund
from payments.refunds.services import open_refund, submit_refund
from tests.factories import AdminFactory, CreatorFactory, UserFactory
from tests.marketplace.factories import OrderFactory, ProductFactory
from tests.payments.payout_helpers import with_method

pytestmark = pytest.mark.django_db

WEBHOOK = "/api/v1/webhooks/hyperswitch"
LOST = [Dispute.Status.LOST, Dispute.Status.ACCEPTED, Dispute.Status.EXPIRED]
events = count()


def post(client: APIClient, body: dict) -> None:
    """One signed delivery through the HTTP API; never a server error."""
    raw = json.dumps({"merchant_id": "m", "event_id": f"evt_{next(events)}", **body}).encode()
    response = client.generic(
        "POST",
        WEBHOOK,
        raw,
        content_type="application/json",
        HTTP_X_WEBHOOK_SIGNATURE_512=sign(raw),
    )
    assert response.status_code == 200, (response.status_code, response.content, body)


def refundable():
    return Order.objects.filter(
        status__in=[Order.Status.COMPLETED, Order.Status.PARTIALLY_REFUNDED],
        items__refunded=False,
    ).distinct()


def open_disputes():
    return Dispute.objects.exclude(status__in=list(Dispute.TERMINAL))


class SellerMoney(RuleBasedStateMachine):
    def __init__(self):
        super().__init__()
        # A savepoint per example, counted as part of the test's own wrapping block (as
        # Django's TestCase marks its own): the services still see "no transaction of ours".
        self.example = transaction.atomic()
        self.example.__enter__()
        self.example._from_testcase = True
        self.client = APIClient()
        self.admins = [AdminFactory(is_staff=True, is_superuser=True) for _ in range(2)]
        self.buyer = UserFactory()
        self.sellers = [CreatorFactory(), CreatorFactory()]
        for seller in self.sellers:
            with_method(seller)

    def teardown(self):
        transaction.set_rollback(True)
        self.example.__exit__(None, None, None)

    @initialize(fee=st.sampled_from([0, 150]))
    def dispute_fee(self, fee):
        django_settings.DISPUTE_FEE = fee  # restored by the test's ``settings`` fixture
        self.fee = fee

    # --- the rules --------------------------------------------------------------------
    @initialize(items=st.just([(0, 1000), (1, 2500)]))
    def first_sale(self, items):
        self.sale(items)

    @rule(
        items=st.lists(
            st.tuples(st.sampled_from([0, 1]), st.sampled_from([500, 1000, 2500])),
            min_size=1,
            max_size=3,
        )
    )
    def sale(self, items):
        products = [ProductFactory(seller=self.sellers[s], price=price) for s, price in items]
        order = OrderFactory(buyer=self.buyer, products=products)
        post(
            self.client,
            {
                "event_type": "payment_succeeded",
                "payment_id": order.hyperswitch_payment_id,
                "status": "succeeded",
            },
        )
        order.refresh_from_db()
        assert order.status == Order.Status.COMPLETED

    @rule()
    def refund_window_passes_and_release(self):
        Order.objects.filter(refund_deadline__gt=timezone.now()).update(
            refund_deadline=timezone.now() - timedelta(hours=1)
        )
        summary = release_due()
        assert "error" not in summary, summary

    @rule(outcome=st.sampled_from(["payout_success", "payout_success", "payout_failed"]))
    def payout_run_and_its_webhook(self, outcome):
        summary = run_payouts()
        assert "error" not in summary, summary
        for payout in Payout.objects.filter(status=Payout.Status.PENDING).order_by("pk"):
            self._payout_event(payout, outcome)

    @precondition(lambda self: Payout.objects.filter(status=Payout.Status.PAID).exists())
    @rule(pick=st.integers(min_value=0))
    def payout_reversed(self, pick):
        payouts = list(Payout.objects.filter(status=Payout.Status.PAID).order_by("created_at"))
        self._payout_event(payouts[pick % len(payouts)], "payout_reversed")

    def _payout_event(self, payout: Payout, event: str) -> None:
        post(
            self.client,
            {
                "event_type": event,
                "content": {
                    "type": "payout_details",
                    "object": {
                        "payout_id": str(payout.pk),
                        "status": event.removeprefix("payout_"),
                        "amount": payout.amount,
                        "currency": payout.currency,
                    },
                },
            },
        )

    @precondition(lambda self: refundable().exists())
    @rule(
        pick=st.integers(min_value=0),
        partial=st.booleans(),
        outcome=st.sampled_from(["succeeded", "succeeded", "failed"]),
    )
    def refund(self, pick, partial, outcome):
        orders = list(refundable().order_by("created_at"))
        order = orders[pick % len(orders)]
        standing = [i for i in order.items.order_by("position") if not i.refunded]
        item_ids = [standing[0].pk] if partial and standing else None
        late = order.refund_deadline is not None and order.refund_deadline < timezone.now()
        try:
            refund = open_refund(
                order_id=order.pk,
                requested_by=self.admins[0],
                reason="property",
                item_ids=item_ids,
                as_staff=True,
                override_window_reason="late complaint" if late else "",
            )
        except errors.DomainError:
            return  # refused by the rules (disputed, nothing left): nothing changed
        if refund.status == Refund.Status.AWAITING_APPROVAL:
            approve_refund(refund_id=refund.pk, approved_by=self.admins[1])
        else:
            submit_refund(refund=refund)
        refund.refresh_from_db()
        assert refund.provider_refund_id, refund.status
        post(
            self.client,
            {
                "event_type": f"refund_{outcome}",
                "refund_id": refund.provider_refund_id,
                "status": outcome,
            },
        )
        refund.refresh_from_db()
        assert refund.status == outcome

    @precondition(lambda self: Order.objects.filter(status__in=list(Order.PAID)).exists())
    @rule(pick=st.integers(min_value=0), partly=st.booleans())
    def dispute_opened(self, pick, partly):
        orders = list(Order.objects.filter(status__in=list(Order.PAID)).order_by("created_at"))
        order = orders[pick % len(orders)]
        standing = order.total_amount - order.refunded_amount
        amount = standing // 2 if partly else standing
        self._dispute_event(order, f"dp_{next(events)}", "opened", amount)

    @precondition(lambda self: open_disputes().exists())
    @rule(pick=st.integers(min_value=0), outcome=st.sampled_from(["won", "lost"]))
    def dispute_closed(self, pick, outcome):
        disputes = list(open_disputes().select_related("order").order_by("opened_at", "pk"))
        dispute = disputes[pick % len(disputes)]
        self._dispute_event(dispute.order, dispute.provider_dispute_id, outcome, dispute.amount)

    def _dispute_event(self, order: Order, dispute_id: str, event: str, amount: int) -> None:
        post(
            self.client,
            {
                "event_type": f"dispute_{event}",
                "content": {
                    "type": "dispute_details",
                    "object": {
                        "dispute_id": dispute_id,
                        "payment_id": order.hyperswitch_payment_id,
                        "amount": str(amount),
                        "currency": order.currency,
                        "dispute_stage": "dispute",
                        "dispute_status": f"dispute_{event}",
                        "created_at": "2026-12-01T10:00:00Z",
                    },
                },
            },
        )

    # --- what must always hold --------------------------------------------------------
    @invariant()
    def check_ledger_passes(self):
        assert ledger_differences() == []
        assert payout_differences() == []

    @invariant()
    def no_balance_is_negative(self):
        for balance in SellerBalance.objects.all():
            assert min(balance.pending, balance.available, balance.held, balance.debt) >= 0

    @invariant()
    def each_seller_is_owed_the_sum_of_its_entries(self):
        for balance in SellerBalance.objects.all():
            applied = LedgerEntry.objects.filter(
                seller_id=balance.seller_id, currency=balance.currency
            ).aggregate(n=Sum("applied_amount"))["n"]
            assert (applied or 0) == balance.total

    @invariant()
    def no_money_appears_or_vanishes(self):
        """Per seller: what it is still owed, plus what was paid or is being paid to it, plus
        the dispute fees it was charged, plus what an open dispute holds as debt (a hold the
        seller could not cover), is its standing share of every order."""
        fees = {}
        if self.fee:
            charged = DisputeShare.objects.filter(dispute__status__in=LOST)
            for dispute_id in charged.values_list("dispute_id", flat=True).distinct():
                seller_fees = _fee_split(dispute_id, self.fee)
                for seller_id, fee in seller_fees.items():
                    fees[seller_id] = fees.get(seller_id, 0) + fee
        for seller in self.sellers:
            balance = SellerBalance.objects.filter(seller=seller).first()
            owed = balance.total if balance else 0
            paid = Payout.objects.filter(
                seller=seller, status__in=[Payout.Status.PENDING, Payout.Status.PAID]
            ).aggregate(n=Sum("amount"))["n"]
            owed_to_disputes = DisputeShare.objects.filter(
                seller=seller, dispute__in=open_disputes()
            ).aggregate(n=Sum("as_debt"))["n"]
            standing = SellerTransfer.objects.filter(seller=seller).aggregate(n=Sum("amount"))["n"]
            accounted = owed + (paid or 0) + fees.get(str(seller.pk), 0) + (owed_to_disputes or 0)
            assert accounted == (standing or 0)


def _fee_split(dispute_id, fee: int) -> dict[str, int]:
    """What each seller paid of a lost dispute's fee, read from its dispute_debit entries:
    the debit asked for −(share + fee)."""
    shares = dict(
        DisputeShare.objects.filter(dispute_id=dispute_id).values_list("seller_id", "amount")
    )
    split = {}
    for entry in LedgerEntry.objects.filter(dispute_id=dispute_id, kind="dispute_debit"):
        split[str(entry.seller_id)] = -entry.requested_amount - shares[entry.seller_id]
    assert sum(split.values()) == fee
    return split


def test_seller_money_holds_under_any_sequence_of_events(psp, settings):
    settings.DISPUTE_FEE = settings.DISPUTE_FEE  # the fixture restores what a rule sets
    settings.PAYOUT_MINIMUM = 100  # small sales are paid out too: more paths reach a payout
    started = time.monotonic()
    run_state_machine_as_test(
        SellerMoney,
        settings=hypothesis_settings(
            max_examples=30,
            stateful_step_count=12,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=[HealthCheck.too_slow],
        ),
    )
    assert time.monotonic() - started < 300  # a CI budget, not a benchmark
