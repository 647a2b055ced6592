"""Repeat infringers (DSA art. 23): copyright take-downs count as strikes for twelve months;
at MODERATION_STRIKES the account may no longer upload or sell, until fewer remain."""

from datetime import datetime

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from accounts import services as account_services
from accounts.models import User
from audit.services import record
from moderation.models import STRIKE_WINDOW, Category, Decision, Suspension
from moderation.notify import email


def active_strikes(*, user: User, now: datetime) -> int:
    return Decision.objects.filter(
        target_owner=user,
        action=Decision.Action.TAKE_DOWN,
        category=Category.COPYRIGHT,
        reversed_at__isnull=True,
        created_at__gt=now - STRIKE_WINDOW,
    ).count()


def refresh_suspension(*, user: User, now: datetime | None = None) -> Suspension | None:
    """Suspend at MODERATION_STRIKES strikes within twelve months; lift once fewer remain
    (a reversed appeal, or strikes older than a year). The open suspension, if any."""
    now = now or timezone.now()
    strikes = active_strikes(user=user, now=now)
    with transaction.atomic():
        locked = User.objects.select_for_update().get(pk=user.pk)
        current = Suspension.objects.filter(user=locked, lifted_at__isnull=True).first()
        if strikes >= settings.MODERATION_STRIKES and current is None:
            current = Suspension.objects.create(user=locked, strikes=strikes, started_at=now)
            account_services.set_publishing_suspended(user=locked, when=now)
            record(
                action="moderation.suspension",
                target=current,
                details={"user_id": str(locked.pk), "strikes": strikes},
            )
            email(
                "moderation_suspension",
                locked.email,
                username=locked.username,
                strikes=strikes,
                limit=settings.MODERATION_STRIKES,
            )
        elif strikes < settings.MODERATION_STRIKES and current is not None:
            lift_suspension(suspension=current, reason=f"{strikes} strike(s) left", now=now)
            current = None
    return current


def lift_suspension(*, suspension: Suspension, reason: str, actor=None, now=None, request=None):
    now = now or timezone.now()
    with transaction.atomic():
        updated = Suspension.objects.filter(pk=suspension.pk, lifted_at__isnull=True).update(
            lifted_at=now, lift_reason=reason[:300]
        )
        if not updated:
            return
        account_services.set_publishing_suspended(user=suspension.user, when=None)
        record(
            action="moderation.suspension_lifted",
            actor=actor,
            target=suspension,
            request=request,
            details={"user_id": str(suspension.user_id), "reason": reason},
        )


def lift_lapsed_suspensions() -> int:
    """Daily: suspensions whose strikes have aged past twelve months are lifted."""
    lifted = 0
    for suspension in Suspension.objects.filter(lifted_at__isnull=True).select_related("user"):
        if refresh_suspension(user=suspension.user) is None:
            lifted += 1
    return lifted
