"""The writes of trust and safety: a report received, a decision with its statement of
reasons, an appeal and its outcome, a repeat infringer's suspension and its lifting.

Each decision, appeal and suspension is one transaction with its audit entry; the emails
leave once it commits. The audio of a track taken down for copyright is read and
fingerprinted before the transaction, so no row stays locked while fpcalc runs."""

import logging
from datetime import datetime

from django.contrib.auth.models import Group
from django.db import IntegrityError, transaction
from django.utils import timezone
from rest_framework.exceptions import NotFound

from accounts.models import User
from audit.services import record
from moderation import errors, fingerprints, metrics, targets
from moderation.models import (
    Appeal,
    BlockedAudio,
    Category,
    Decision,
    Report,
    TargetType,
)
from moderation.notify import email as _email
from moderation.strikes import refresh_suspension

logger = logging.getLogger(__name__)

MODERATION_GROUP = "Moderation"


def is_moderator(user) -> bool:
    """Admins, and the staff group Moderation."""
    if not (user and user.is_authenticated and user.is_active):
        return False
    return user.is_admin or user.groups.filter(name=MODERATION_GROUP).exists()


def moderation_group() -> Group:
    return Group.objects.get_or_create(name=MODERATION_GROUP)[0]


# --- reports ------------------------------------------------------------------------------
def submit_report(
    *,
    reporter,
    target_type: str,
    target_id,
    category: str,
    description: str,
    reporter_email: str = "",
    reporter_name: str = "",
    copyright: dict | None = None,
    ip_address: str | None = None,
) -> Report:
    """A notice about a target the reporter can see (404 otherwise, as if it did not exist).
    The reporter is sent an acknowledgement."""
    target = targets.load(target_type, target_id)
    if target is None or not targets.visible_to(target, reporter):
        raise NotFound("Nothing to report here: the target does not exist.")
    signed_in = reporter is not None and reporter.is_authenticated
    with transaction.atomic():
        report = Report.objects.create(
            target_type=target_type,
            target_id=target.id,
            target_owner=target.owner,
            category=category,
            description=description,
            reporter=reporter if signed_in else None,
            reporter_email=reporter_email or (reporter.email if signed_in else ""),
            reporter_name=reporter_name,
            copyright=copyright if category == Category.COPYRIGHT else None,
            ip_address=ip_address or None,
        )
        _email(
            "moderation_report_received",
            report.notify_email,
            name=reporter_name or (reporter.username if signed_in else ""),
            report_id=str(report.pk),
            target=f"{report.get_target_type_display()} “{target.label}”",
            category=report.get_category_display(),
        )
        transaction.on_commit(lambda: metrics.reports_received.labels(category=category).inc())
    return report


# --- decisions ----------------------------------------------------------------------------
def _check_statement(*, action: str, ground: str, provision: str, explanation: str) -> None:
    if action == Decision.Action.TAKE_DOWN:
        complete = ground in Decision.Ground.values and provision.strip() and explanation.strip()
    else:
        complete = bool(explanation.strip())
    if not complete:
        raise errors.StatementIncomplete()


def decide_report(
    *,
    report: Report,
    moderator: User,
    action: str,
    explanation: str = "",
    ground: str = "",
    provision: str = "",
    automated: bool = False,
    request=None,
) -> Decision:
    """Decide ``report`` and every other open report on the same target, at once.

    A take-down hides the target (and a track's products), records what it hid, and — for
    copyright — keeps the track's audio print to refuse re-uploads and counts a strike."""
    _check_statement(action=action, ground=ground, provision=provision, explanation=explanation)
    if action == Decision.Action.DISMISS:
        ground, provision = "", ""
    audio = None
    if action == Decision.Action.TAKE_DOWN and report.target_type == TargetType.TRACK:
        copyright_claimed = Report.objects.filter(
            target_type=report.target_type,
            target_id=report.target_id,
            status=Report.Status.RECEIVED,
            category=Category.COPYRIGHT,
        ).exists()
        target = targets.load(report.target_type, report.target_id)
        if copyright_claimed and target is not None:
            audio = fingerprints.print_of_stored(target.obj.file)
    now = timezone.now()
    with transaction.atomic():
        locked = Report.objects.select_for_update().get(pk=report.pk)
        if locked.status != Report.Status.RECEIVED:
            raise errors.AlreadyDecided("This report has already been decided.")
        reports = list(
            Report.objects.select_for_update(of=("self",))
            .filter(
                target_type=locked.target_type,
                target_id=locked.target_id,
                status=Report.Status.RECEIVED,
            )
            .select_related("reporter")
            .order_by("pk")
        )
        categories = {r.category for r in reports}
        category = Category.COPYRIGHT if Category.COPYRIGHT in categories else locked.category
        target = targets.load(locked.target_type, locked.target_id)
        hidden = {}
        if action == Decision.Action.TAKE_DOWN and target is not None:
            hidden = targets.hide(target, moderator=moderator, now=now)
        owner = target.owner if target is not None else locked.target_owner
        decision = Decision.objects.create(
            target_type=locked.target_type,
            target_id=locked.target_id,
            target_owner=owner,
            target_label=(target.label if target is not None else "")[:300],
            category=category,
            action=action,
            ground=ground,
            provision=provision.strip(),
            explanation=explanation.strip(),
            automated=automated,
            moderator=moderator,
            hidden=hidden,
            created_at=now,
        )
        Report.objects.filter(pk__in=[r.pk for r in reports]).update(
            status=Report.Status.DECIDED, decision=decision, decided_at=now
        )
        if decision.is_strike and audio is not None and decision.target_type == TargetType.TRACK:
            BlockedAudio.objects.create(
                decision=decision,
                track_id=decision.target_id,
                sha256=audio.sha256,
                fingerprint=audio.fingerprint,
                duration_seconds=audio.duration_seconds,
            )
        record(
            action=f"moderation.{action}",
            actor=moderator,
            target=decision,
            request=request,
            details={
                "target_type": decision.target_type,
                "target_id": str(decision.target_id),
                "category": category,
                "ground": ground,
                "provision": decision.provision,
                "automated": automated,
                "reports": [str(r.pk) for r in reports],
                "hidden": hidden,
            },
        )
        if action == Decision.Action.TAKE_DOWN and owner is not None:
            _email_statement(decision, owner)
        for each in reports:
            _email_report_outcome(each, decision)
        if decision.is_strike and owner is not None:
            refresh_suspension(user=owner, now=now)
        transaction.on_commit(lambda: metrics.decisions_taken.labels(action=action).inc())
    return decision


def _appeal_path(decision: Decision) -> str:
    return f"/api/v1/moderation/decisions/{decision.pk}/appeal"


def _email_statement(decision: Decision, owner: User) -> None:
    _email(
        "moderation_statement",
        owner.email,
        username=owner.username,
        decision_id=str(decision.pk),
        target=f"{decision.get_target_type_display()} “{decision.target_label}”",
        restriction=_restriction(decision),
        ground=decision.get_ground_display(),
        provision=decision.provision,
        explanation=decision.explanation,
        automated="Yes" if decision.automated else "No: a moderator decided",
        appeal_path=_appeal_path(decision),
        appeal_deadline=decision.appeal_deadline.date().isoformat(),
        strike=decision.is_strike,
    )


def _restriction(decision: Decision) -> str:
    if decision.target_type == TargetType.TRACK:
        return (
            "The track is hidden from everyone but you: it left every list, playlist and "
            "search, its downloads stopped, and the products selling it were withdrawn."
        )
    if decision.target_type == TargetType.PRODUCT:
        return "The product was withdrawn from sale, and its downloads stopped."
    if decision.target_type == TargetType.PLAYLIST:
        return "The playlist is hidden from everyone but you."
    return "Your public profile is hidden from everyone but you."


def _email_report_outcome(report: Report, decision: Decision) -> None:
    _email(
        "moderation_report_outcome",
        report.notify_email,
        name=report.reporter_name or (report.reporter.username if report.reporter_id else ""),
        report_id=str(report.pk),
        taken_down=decision.action == Decision.Action.TAKE_DOWN,
        explanation=decision.explanation,
        ground=decision.get_ground_display() if decision.ground else "",
        provision=decision.provision,
        decision_id=str(decision.pk),
        appeal_path=_appeal_path(decision) if report.reporter_id else "",
    )


# --- appeals ------------------------------------------------------------------------------
def may_appeal(*, decision: Decision, user) -> bool:
    """The owner of what was decided, or a signed-in reporter of one of its reports."""
    if not (user and user.is_authenticated):
        return False
    if decision.target_owner_id == user.pk:
        return True
    return decision.reports.filter(reporter=user).exists()


def appeal_decision(*, decision: Decision, author: User, text: str, request=None) -> Appeal:
    """One appeal per decision, within six months of it (409 otherwise)."""
    if not may_appeal(decision=decision, user=author):
        raise NotFound("Decision not found.")
    now = timezone.now()
    if now > decision.appeal_deadline:
        raise errors.AppealNotAllowed("The six months to appeal this decision have passed.")
    try:
        with transaction.atomic():
            appeal = Appeal.objects.create(decision=decision, author=author, text=text.strip())
            record(
                action="moderation.appeal",
                actor=author,
                target=appeal,
                request=request,
                details={"decision_id": str(decision.pk)},
            )
    except IntegrityError as exc:
        raise errors.AppealNotAllowed("This decision has already been appealed.") from exc
    return appeal


def decide_appeal(
    *, appeal: Appeal, moderator: User, outcome: str, explanation: str, request=None
) -> Appeal:
    """Another moderator upholds or reverses the decision. Reversing a take-down restores
    exactly what it hid, unblocks the audio and removes the strike; reversing a dismissal
    puts its reports back in the queue."""
    if not explanation.strip():
        raise errors.StatementIncomplete("An appeal's outcome needs an explanation.")
    now = timezone.now()
    with transaction.atomic():
        locked = (
            Appeal.objects.select_for_update(of=("self",))
            .select_related("decision", "author")
            .get(pk=appeal.pk)
        )
        if locked.status != Appeal.Status.RECEIVED:
            raise errors.AlreadyDecided("This appeal has already been decided.")
        decision = Decision.objects.select_for_update().get(pk=locked.decision_id)
        if decision.moderator_id == moderator.pk:
            raise errors.SameModerator()
        was_strike = decision.is_strike
        if outcome == Appeal.Outcome.REVERSED:
            _reverse(decision, moderator=moderator, now=now)
        locked.status = Appeal.Status.DECIDED
        locked.outcome = outcome
        locked.explanation = explanation.strip()
        locked.decided_by = moderator
        locked.decided_at = now
        locked.save(update_fields=["status", "outcome", "explanation", "decided_by", "decided_at"])
        record(
            action=f"moderation.appeal_{outcome}",
            actor=moderator,
            target=locked,
            request=request,
            details={"decision_id": str(decision.pk), "restored": decision.hidden},
        )
        if locked.author is not None:
            _email(
                "moderation_appeal_outcome",
                locked.author.email,
                username=locked.author.username,
                decision_id=str(decision.pk),
                reversed=outcome == Appeal.Outcome.REVERSED,
                explanation=locked.explanation,
                target=f"{decision.get_target_type_display()} “{decision.target_label}”",
            )
        if was_strike and outcome == Appeal.Outcome.REVERSED and decision.target_owner:
            refresh_suspension(user=decision.target_owner, now=now)
        transaction.on_commit(lambda: metrics.appeals_decided.labels(outcome=outcome).inc())
    return locked


def _reverse(decision: Decision, *, moderator, now: datetime) -> None:
    decision.reversed_at = now
    decision.save(update_fields=["reversed_at"])
    if decision.action == Decision.Action.TAKE_DOWN:
        target = targets.load(decision.target_type, decision.target_id)
        if target is not None:
            targets.restore(target, decision.hidden, moderator=moderator)
        BlockedAudio.objects.filter(decision=decision).delete()
    else:
        decision.reports.update(status=Report.Status.RECEIVED, decided_at=None, decision=None)
