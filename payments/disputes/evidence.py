"""Dispute evidence, submitted for us: a digital-goods chargeback is lost without it.

- A dispute opened at the ``dispute`` stage gets a ``DisputeEvidence`` row (``pending``) and a
  task, queued on commit, that builds the receipt and the service documentation, uploads both
  and submits them (``submit_evidence``).
- The task may run twice (acks late, a killed worker): once the row is ``submitted`` (or
  ``failed``, or ``skipped``) a run does nothing; a run holds the row for ``CLAIM_FOR`` while it
  talks to the provider, and keeps each file id as soon as it has it.
- An unknown outcome leaves the row ``pending`` for the task's retry; a refusal marks it
  ``failed`` with the provider's message. A closed dispute, one staff accepted, or one past its
  ``evidence_due_at`` is not answered (``skipped``).
- A beat job (``sweep_evidence``) queues again what a broker outage or a killed worker left
  ``pending``: the task itself decides whether anything is still to send.
- Staff re-submit (the documents are rebuilt) or accept the dispute from the console
  (``resubmit_evidence``, ``accept_dispute``); each submission and decision is audited and so
  shown on the dispute's timeline.
"""

import logging
from datetime import timedelta
from enum import Enum

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from audit.services import record
from payments import errors
from payments.disputes import documents
from payments.models import Dispute, DisputeEvidence
from payments.providers import ProviderError, get_provider
from veza.tasks import enqueue_on_commit

logger = logging.getLogger(__name__)

# By name: the task module imports this one.
SUBMIT_TASK = "payments.tasks.submit_dispute_evidence"
# Longer than building two small PDFs and three provider calls at PSP_TIMEOUT each.
CLAIM_FOR = timedelta(minutes=5)
MANAGE_PERMISSION = "payments.manage_dispute"
# Never attempted this long after it was queued, or not attempted again this long after its
# last attempt (longer than the task's longest retry backoff): the task was lost.
LOST_AFTER = timedelta(minutes=10)
RETRY_LOST_AFTER = timedelta(minutes=45)

Status = DisputeEvidence.Status


class EvidenceOutcome(Enum):
    SUBMITTED = "submitted"
    ALREADY_DONE = "already_done"  # submitted, failed or skipped before this run
    SKIPPED = "skipped"  # closed, accepted or past due: nothing sent
    IN_PROGRESS = "in_progress"  # another run holds the row
    FAILED = "failed"  # the provider refused
    RETRY = "retry"  # the outcome is unknown: run again later


def open_evidence(dispute: Dispute) -> DisputeEvidence | None:
    """Called by ``apply_dispute_event`` under the dispute's lock: a dispute (still open, not
    accepted) at the ``dispute`` stage gets its evidence row and the task that sends it."""
    if dispute.is_terminal or dispute.accepted_at is not None:
        return None
    if dispute.stage != Dispute.Stage.DISPUTE:
        return None
    evidence, created = DisputeEvidence.objects.get_or_create(dispute=dispute)
    if created:
        enqueue_on_commit(SUBMIT_TASK, dispute_id=str(dispute.pk))
    return evidence


def sweep_evidence(*, now=None) -> int:
    """Queue the task again for pending evidence whose task was lost (a broker that was down
    at commit, a worker killed mid-run); returns how many."""
    now = now or timezone.now()
    lost = (
        DisputeEvidence.objects.filter(status=Status.PENDING)
        .exclude(claimed_until__gt=now)
        .filter(
            Q(last_attempt_at__isnull=True, created_at__lt=now - LOST_AFTER)
            | Q(last_attempt_at__lt=now - RETRY_LOST_AFTER)
        )
        .exclude(dispute__status__in=Dispute.TERMINAL)
        .values_list("dispute_id", flat=True)
    )
    dispute_ids = list(lost[:500])
    for dispute_id in dispute_ids:
        enqueue_on_commit(SUBMIT_TASK, dispute_id=str(dispute_id))
    return len(dispute_ids)


def _refusal(dispute: Dispute, now) -> str:
    """Why no evidence may be sent for the dispute now ("" when it may)."""
    if dispute.is_terminal:
        return f"the dispute is {dispute.status}"
    if dispute.accepted_at is not None:
        return "staff accepted the dispute"
    if dispute.evidence_due_at is not None and dispute.evidence_due_at <= now:
        return "the evidence was due at " + dispute.evidence_due_at.isoformat()
    return ""


def _locked(dispute_id) -> tuple[Dispute | None, DisputeEvidence | None]:
    """The dispute and its evidence row (created if missing), locked in that order."""
    dispute = Dispute.objects.select_for_update().filter(pk=dispute_id).first()
    if dispute is None:
        return None, None
    # Under the dispute's lock, no one else creates the row; the OneToOne keeps it unique.
    DisputeEvidence.objects.get_or_create(dispute=dispute)
    return dispute, DisputeEvidence.objects.select_for_update().get(dispute=dispute)


def submit_evidence(*, dispute_id, final_attempt: bool = False) -> EvidenceOutcome:
    """Build, upload and submit the dispute's evidence, once. ``final_attempt``: an unknown
    outcome marks the evidence ``failed`` instead of asking for a retry."""
    claimed = _claim(dispute_id)
    if isinstance(claimed, EvidenceOutcome):
        return claimed
    dispute, evidence = claimed
    provider = get_provider()
    try:
        receipt_id = evidence.receipt_file_id or _upload(
            provider, evidence, "receipt_file_id", documents.receipt(dispute)
        )
        documentation_id = evidence.service_documentation_file_id or _upload(
            provider,
            evidence,
            "service_documentation_file_id",
            documents.service_documentation(dispute),
        )
        # Staff may have accepted the dispute while the documents were built.
        dispute.refresh_from_db(fields=["status", "accepted_at"])
        refusal = _refusal(dispute, timezone.now())
        if refusal:
            return _skip(evidence, refusal)
        provider.submit_evidence(
            dispute_id=dispute.provider_dispute_id,
            receipt_file_id=receipt_id,
            service_documentation_file_id=documentation_id,
        )
    except ProviderError as exc:
        return _failed(evidence, exc, final_attempt=final_attempt)
    return _submitted(evidence)


def _claim(dispute_id) -> tuple[Dispute, DisputeEvidence] | EvidenceOutcome:
    now = timezone.now()
    with transaction.atomic():
        dispute, evidence = _locked(dispute_id)
        if dispute is None:
            return EvidenceOutcome.SKIPPED
        if evidence.status != Status.PENDING:
            return EvidenceOutcome.ALREADY_DONE
        refusal = _refusal(dispute, now)
        if refusal:
            _mark(evidence, status=Status.SKIPPED, error=f"Not sent: {refusal}.")
            record(
                action="dispute.evidence_skipped",
                target=dispute,
                details={"reason": refusal},
            )
            return EvidenceOutcome.SKIPPED
        if evidence.claimed_until is not None and evidence.claimed_until > now:
            return EvidenceOutcome.IN_PROGRESS
        evidence.attempts += 1
        evidence.last_attempt_at = now
        evidence.claimed_until = now + CLAIM_FOR
        evidence.save(update_fields=["attempts", "last_attempt_at", "claimed_until", "updated_at"])
    dispute = Dispute.objects.select_related("order__buyer").get(pk=dispute.pk)
    return dispute, evidence


def _upload(provider, evidence: DisputeEvidence, field: str, document) -> str:
    file_id = provider.upload_file(
        content=document.content, filename=document.filename, file_type=document.file_type
    )
    # Kept at once: a retry after a later failure does not upload the file again.
    DisputeEvidence.objects.filter(pk=evidence.pk).update(
        **{field: file_id, "updated_at": timezone.now()}
    )
    setattr(evidence, field, file_id)
    return file_id


def _mark(evidence: DisputeEvidence, **fields) -> None:
    for name, value in {"claimed_until": None, **fields}.items():
        setattr(evidence, name, value)
    evidence.save()


def _submitted(evidence: DisputeEvidence) -> EvidenceOutcome:
    with transaction.atomic():
        dispute, evidence = _locked(evidence.dispute_id)
        _mark(evidence, status=Status.SUBMITTED, submitted_at=timezone.now(), error="")
        record(
            action="dispute.evidence_submitted",
            target=dispute,
            details={
                "receipt": evidence.receipt_file_id,
                "service_documentation": evidence.service_documentation_file_id,
                "attempt": evidence.attempts,
            },
        )
    logger.info("evidence submitted for dispute %s", dispute.provider_dispute_id)
    return EvidenceOutcome.SUBMITTED


def _failed(evidence: DisputeEvidence, exc: ProviderError, *, final_attempt: bool):
    gave_up = exc.outcome_unknown and final_attempt
    with transaction.atomic():
        dispute, evidence = _locked(evidence.dispute_id)
        if exc.outcome_unknown and not final_attempt:
            _mark(evidence, error=f"Outcome unknown, will retry: {exc.message}")
            action, outcome = "dispute.evidence_unknown", EvidenceOutcome.RETRY
        else:
            suffix = f" (gave up after {evidence.attempts} attempts)" if gave_up else ""
            _mark(evidence, status=Status.FAILED, error=f"{exc.message}{suffix}")
            action, outcome = "dispute.evidence_failed", EvidenceOutcome.FAILED
        record(
            action=action,
            target=dispute,
            details={
                "error": exc.message,
                "status_code": exc.status_code,
                "attempt": evidence.attempts,
            },
        )
    logger.warning("evidence for dispute %s: %s", dispute.provider_dispute_id, exc.message)
    return outcome


def _skip(evidence: DisputeEvidence, refusal: str) -> EvidenceOutcome:
    with transaction.atomic():
        dispute, evidence = _locked(evidence.dispute_id)
        _mark(evidence, status=Status.SKIPPED, error=f"Not sent: {refusal}.")
        record(action="dispute.evidence_skipped", target=dispute, details={"reason": refusal})
    return EvidenceOutcome.SKIPPED


def _check_permission(user) -> None:
    if user is None or not user.has_perm(MANAGE_PERMISSION):
        raise errors.DisputeManagementForbidden()


def resubmit_evidence(*, dispute_id, requested_by, request=None) -> DisputeEvidence:
    """Staff: build the documents again (the access log as it is now) and send them."""
    _check_permission(requested_by)
    now = timezone.now()
    with transaction.atomic():
        dispute, evidence = _locked(dispute_id)
        if dispute is None:
            raise errors.EvidenceNotAccepted("No such dispute.")
        refusal = _refusal(dispute, now)
        if refusal:
            raise errors.EvidenceNotAccepted(f"Evidence cannot be sent: {refusal}.")
        if evidence.claimed_until is not None and evidence.claimed_until > now:
            raise errors.EvidenceInProgress()
        previous = evidence.status
        _mark(
            evidence,
            status=Status.PENDING,
            receipt_file_id="",
            service_documentation_file_id="",
            submitted_at=None,
            error="",
        )
        record(
            action="dispute.evidence_resubmit",
            actor=requested_by,
            target=dispute,
            request=request,
            details={"previous_status": previous},
        )
        enqueue_on_commit(SUBMIT_TASK, dispute_id=str(dispute.pk))
    return evidence


def accept_dispute(*, dispute_id, accepted_by, request=None) -> Dispute:
    """Staff concede the dispute at the provider. Marked first, so that no evidence leaves
    while the provider is asked; a refusal takes the mark back, an unknown outcome keeps it
    (accepting again is allowed). The provider's ``dispute_accepted`` event closes it later.
    """
    _check_permission(accepted_by)
    with transaction.atomic():
        dispute = Dispute.objects.select_for_update().filter(pk=dispute_id).first()
        if dispute is None:
            raise errors.DisputeClosed("No such dispute.")
        if dispute.is_terminal:
            raise errors.DisputeClosed(f"This dispute is already {dispute.status}.")
        marked_now = dispute.accepted_at is None
        if marked_now:
            dispute.accepted_at = timezone.now()
            dispute.accepted_by = accepted_by
            dispute.save(update_fields=["accepted_at", "accepted_by", "updated_at"])
    try:
        # Outside the transaction: a slow provider must not hold the dispute's lock.
        get_provider().accept_dispute(dispute_id=dispute.provider_dispute_id)
    except ProviderError as exc:
        _accept_failed(dispute, exc, accepted_by=accepted_by, request=request, undo=marked_now)
        if exc.outcome_unknown:
            raise errors.ProviderRefused(
                f"The provider's answer is unknown ({exc.message}); no evidence will be sent. "
                "Accept again to be sure."
            ) from exc
        raise errors.ProviderRefused(f"The payment provider refused: {exc.message}") from exc
    with transaction.atomic():
        dispute, evidence = _locked(dispute.pk)
        if evidence.status in (Status.PENDING, Status.FAILED):
            _mark(evidence, status=Status.SKIPPED, error="Not sent: staff accepted the dispute.")
        record(
            action="dispute.accept",
            actor=accepted_by,
            target=dispute,
            request=request,
            details={"provider_dispute_id": dispute.provider_dispute_id},
        )
    return dispute


def _accept_failed(dispute: Dispute, exc: ProviderError, *, accepted_by, request, undo: bool):
    with transaction.atomic():
        dispute = Dispute.objects.select_for_update().get(pk=dispute.pk)
        if undo and not exc.outcome_unknown:
            # Definitely not accepted: evidence may be sent again.
            dispute.accepted_at = None
            dispute.accepted_by = None
            dispute.save(update_fields=["accepted_at", "accepted_by", "updated_at"])
        record(
            action="dispute.accept_failed",
            actor=accepted_by,
            target=dispute,
            request=request,
            details={
                "error": exc.message,
                "status_code": exc.status_code,
                "outcome_unknown": exc.outcome_unknown,
            },
        )
