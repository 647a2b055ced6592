"""The admin's bulk "sync with provider": a batch of refunds asked about on the worker, in
chunks, each refund through reconciliation's own code (``reconcile_refund``).

The batch row counts what was done and what it found (status changed, unchanged, errors), so
that staff can follow it; the last chunk closes it with one ``admin.refund_sync_batch`` audit
entry carrying the summary.
"""

import logging
import uuid

from django.db import transaction
from django.utils import timezone

from audit.services import record
from payments.models import Refund, RefundSyncBatch
from payments.refunds.reconcile import reconcile_refund
from veza.tasks import enqueue_on_commit

logger = logging.getLogger(__name__)

CHUNK_TASK = "payments.tasks.sync_refund_chunk"  # by name: the task module imports this one
CHUNK_SIZE = 20
RESULTS_KEPT = 200  # changed or failed refunds listed on the progress page


def start_batch(*, refunds: list[Refund], actor, request=None) -> RefundSyncBatch:
    """Record the batch and queue one worker job per chunk, oldest refunds first."""
    ordered = [str(r.pk) for r in sorted(refunds, key=lambda r: r.created_at)]
    with transaction.atomic():
        batch = RefundSyncBatch.objects.create(requested_by=actor, total=len(ordered))
        record(
            action="admin.refund_sync_queued",
            actor=actor,
            target=batch,
            request=request,
            details={"refunds": len(ordered), "chunks": -(-len(ordered) // CHUNK_SIZE)},
        )
        for chunk, start in enumerate(range(0, len(ordered), CHUNK_SIZE)):
            enqueue_on_commit(
                CHUNK_TASK,
                batch_id=str(batch.pk),
                refund_ids=ordered[start : start + CHUNK_SIZE],
                chunk=chunk,
            )
    return batch


def sync_chunk(*, batch_id, refund_ids: list[str], chunk: int | None = None) -> dict:
    """Sync one chunk of a batch and add what it found to the batch's counters."""
    found = {"changed": 0, "unchanged": 0, "errors": 0}
    results = []
    by_id = {str(r.pk): r for r in Refund.objects.filter(pk__in=_valid_ids(refund_ids))}
    for refund_id in refund_ids:
        refund = by_id.get(refund_id)
        if refund is None:
            found["errors"] += 1
            results.append({"refund": refund_id, "error": "no such refund"})
            continue
        before = refund.status
        try:
            outcome = reconcile_refund(refund=refund)
        except Exception as exc:  # noqa: BLE001 - one bad refund must not stop the batch
            logger.exception("sync of refund %s failed", refund_id)
            found["errors"] += 1
            results.append({"refund": refund_id, "error": f"{type(exc).__name__}: {exc}"[:300]})
            continue
        after = Refund.objects.filter(pk=refund_id).values_list("status", flat=True).first()
        if after != before:
            found["changed"] += 1
            results.append(
                {"refund": refund_id, "before": before, "after": after, "outcome": outcome}
            )
        else:
            found["unchanged"] += 1
    _add_to_batch(
        batch_id=batch_id, found=found, results=results, count=len(refund_ids), chunk=chunk
    )
    return found


def _valid_ids(refund_ids: list[str]) -> list[str]:
    valid = []
    for refund_id in refund_ids:
        try:
            valid.append(str(uuid.UUID(str(refund_id))))
        except ValueError:
            continue
    return valid


def _add_to_batch(*, batch_id, found: dict, results: list, count: int, chunk=None) -> None:
    with transaction.atomic():
        batch = RefundSyncBatch.objects.select_for_update().filter(pk=batch_id).first()
        if batch is None or (chunk is not None and chunk in batch.chunks_done):
            return  # a chunk delivered again: its refunds were asked again, counted once
        if chunk is not None:
            batch.chunks_done = [*batch.chunks_done, chunk]
        batch.done = min(batch.done + count, batch.total)
        batch.changed += found["changed"]
        batch.unchanged += found["unchanged"]
        batch.errors += found["errors"]
        batch.results = (batch.results + results)[:RESULTS_KEPT]
        fields = ["done", "changed", "unchanged", "errors", "results", "chunks_done"]
        finishing = batch.done >= batch.total and batch.finished_at is None
        if finishing:
            batch.finished_at = timezone.now()
            fields.append("finished_at")
        batch.save(update_fields=fields)
        if finishing:
            record(
                action="admin.refund_sync_batch",
                actor=batch.requested_by,
                target=batch,
                details={
                    "refunds": batch.total,
                    "summary": {
                        "changed": batch.changed,
                        "unchanged": batch.unchanged,
                        "errors": batch.errors,
                    },
                },
            )
