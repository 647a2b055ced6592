"""Payouts the provider never confirmed: re-read (or re-submit the same id) and apply a
terminal answer through ``apply_payout_status``."""

import logging
from collections import defaultdict
from enum import StrEnum

from payments.models import Payout
from payments.payouts.selectors import stuck_payouts
from payments.payouts.services import (
    _record_provider_id,
    apply_payout_status,
    submit_payout,
    take_note,
)
from payments.providers import ProviderError, get_provider

logger = logging.getLogger(__name__)


class ReconcileOutcome(StrEnum):
    """How asking the provider about one payout ended."""

    TERMINAL = "terminal"  # settled already: nothing was asked
    UNREACHABLE = "unreachable"  # no answer: asked again next run
    RESUBMITTED = "resubmitted"  # the provider never saw it: sent again with the same id
    STILL_PENDING = "still_pending"
    PAID = "paid"
    FAILED = "failed"
    REVERSED = "reversed"

    @classmethod
    def of(cls, status: Payout.Status) -> "ReconcileOutcome":
        return cls.STILL_PENDING if status == Payout.Status.PENDING else cls(status.value)


def reconcile_payout(*, payout: Payout) -> ReconcileOutcome:
    """Ask the provider where a pending payout stands; re-submit the same id when it has none."""
    payout = Payout.objects.get(pk=payout.pk)
    if payout.is_terminal:
        return ReconcileOutcome.TERMINAL
    provider = get_provider()
    try:
        result = provider.get_payout(payout.provider_payout_id or str(payout.pk))
    except ProviderError as exc:
        if not exc.not_found:
            return ReconcileOutcome.UNREACHABLE
        # The provider never saw it (the create timed out before reaching it): same id again.
        submission = submit_payout(payout=payout)
        if submission.accepted:
            return ReconcileOutcome.RESUBMITTED
        return ReconcileOutcome.of(submission.payout.status)
    if payout.provider_payout_id is None:
        _record_provider_id(payout=payout, provider_payout_id=result.payout_id)
    take_note(payout=payout, result=result)
    if not result.is_terminal:
        return ReconcileOutcome.STILL_PENDING
    apply_payout_status(
        payout_id=payout.pk,
        status=result.status,
        error_message=result.error_message or "",
        source="reconciliation",
    )
    return ReconcileOutcome.of(result.status)


def reconcile_payouts(*, payouts=None) -> dict[str, int]:
    summary: dict[str, int] = defaultdict(int)
    for payout in payouts if payouts is not None else stuck_payouts().order_by("created_at"):
        try:
            summary[reconcile_payout(payout=payout).value] += 1
        except Exception:  # noqa: BLE001 - one bad payout must not stop the others
            logger.exception("reconciliation of payout %s failed", payout.pk)
            summary["error"] += 1
    return dict(summary)
