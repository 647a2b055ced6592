"""Payouts the provider never confirmed: re-read (or re-submit the same id) and apply a
terminal answer through ``apply_payout_status``."""

import logging
from collections import defaultdict

from payments.models import Payout
from payments.payouts.selectors import stuck_payouts
from payments.payouts.services import _record_provider_id, apply_payout_status, submit_payout
from payments.providers import ProviderError, get_provider

logger = logging.getLogger(__name__)


def reconcile_payout(*, payout: Payout) -> str:
    """Ask the provider where a pending payout stands; re-submit the same id when it has none."""
    payout = Payout.objects.get(pk=payout.pk)
    if payout.is_terminal:
        return "terminal"
    provider = get_provider()
    try:
        result = provider.get_payout(payout.provider_payout_id or str(payout.pk))
    except ProviderError as exc:
        if not exc.not_found:
            return "unreachable"
        # The provider never saw it (the create timed out before reaching it): same id again.
        submission = submit_payout(payout=payout)
        return "resubmitted" if submission.accepted else str(submission.payout.status)
    if payout.provider_payout_id is None:
        _record_provider_id(payout=payout, provider_payout_id=result.payout_id)
    if not result.is_terminal:
        return "still_pending"
    apply_payout_status(
        payout_id=payout.pk,
        status=result.status,
        error_message=result.error_message or "",
        source="reconciliation",
    )
    return str(result.status)


def reconcile_payouts(*, payouts=None) -> dict[str, int]:
    summary: dict[str, int] = defaultdict(int)
    for payout in payouts if payouts is not None else stuck_payouts().order_by("created_at"):
        try:
            summary[reconcile_payout(payout=payout)] += 1
        except Exception:  # noqa: BLE001 - one bad payout must not stop the others
            logger.exception("reconciliation of payout %s failed", payout.pk)
            summary["error"] += 1
    return dict(summary)
