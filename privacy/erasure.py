"""Right to be forgotten: an erasure is scheduled (after the password), may be cancelled during
its grace period, and is carried out by a periodic job once due.

What identifies the person goes (profile, sessions, API keys, webhook endpoints, likes,
playlists, shares, tracks and their files, exports); what the books and the law need stays
(orders, ledger entries, payouts, disputes, audit entries), pointing at the same user row,
now anonymised. Money still owed either way blocks it: see ``unsettled``.
"""

import enum
import logging
from datetime import timedelta

from django.apps import apps
from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from accounts.models import Role, User
from audit.services import record
from marketplace.models import Product
from moderation.models import Report
from payments.models import Dispute, Payout, SellerBalance
from playlists.models import Playlist, PlaylistCollaborator
from privacy import errors
from privacy.exports import delete_exports_of
from tracks import services as track_services
from tracks.models import Play, Track, TrackShare

logger = logging.getLogger(__name__)

BALANCE_AMOUNTS = ("pending", "available", "held", "debt")
OPEN_DISPUTE = ~Q(status__in=Dispute.TERMINAL)


class ErasureOutcome(enum.Enum):
    ERASED = "erased"
    ALREADY_ERASED = "already_erased"
    NOT_DUE = "not_due"  # cancelled, or its date moved
    BLOCKED = "blocked"  # money appeared during the grace period


# --- the money rule -----------------------------------------------------------------------
def unsettled(user: User) -> dict:
    """What still ties the account to money, named; empty when it may be erased.

    The amounts of its first balance that still hold money sit at the top, as the contract's
    example reads (``{"pending": 1800, "currency": "EUR"}``); every balance, payout in flight
    and open dispute is listed too:

    - ``balances``: ``[{"currency", "pending"?, "available"?, "held"?, "debt"?}]`` — the
      non-zero amounts of each seller balance;
    - ``payouts``: ``[{"id", "amount", "currency"}]`` — payouts still in flight;
    - ``disputes``: ``[{"id", "order_id", "amount", "currency"}]`` — open disputes on orders
      the user bought or sold in.
    """
    balances = []
    for balance in SellerBalance.objects.filter(seller=user).order_by("currency"):
        owed = {name: getattr(balance, name) for name in BALANCE_AMOUNTS}
        owed = {name: amount for name, amount in owed.items() if amount > 0}
        if owed:
            balances.append({"currency": balance.currency, **owed})
    payouts = [
        {"id": str(p.pk), "amount": p.amount, "currency": p.currency}
        for p in Payout.objects.filter(seller=user, status=Payout.Status.PENDING)
    ]
    disputes = [
        {"id": str(d.pk), "order_id": str(d.order_id), "amount": d.amount, "currency": d.currency}
        for d in Dispute.objects.filter(OPEN_DISPUTE)
        .filter(Q(order__buyer=user) | Q(order__items__seller=user))
        .distinct()
        .order_by("opened_at")
    ]
    if not (balances or payouts or disputes):
        return {}
    remaining: dict = {**balances[0]} if balances else {}
    remaining.update(balances=balances, payouts=payouts, disputes=disputes)
    return remaining


# --- schedule and cancel ------------------------------------------------------------------
def schedule_erasure(*, user: User, password: str, request=None) -> User:
    """Schedule the erasure after ``ACCOUNT_DELETION_GRACE_DAYS``; asking again while one is
    scheduled keeps the first date."""
    with transaction.atomic():
        locked = User.objects.select_for_update().get(pk=user.pk)
        if not locked.check_password(password):
            raise errors.InvalidPassword()
        remaining = unsettled(locked)
        if remaining:
            raise errors.BalanceNotSettled(remaining=remaining)
        if locked.deletion_scheduled_for is None:
            locked.deletion_scheduled_for = timezone.now() + timedelta(
                days=settings.ACCOUNT_DELETION_GRACE_DAYS
            )
            locked.save(update_fields=["deletion_scheduled_for", "updated_at"])
            record(
                action="user.erasure_requested",
                actor=locked,
                target=locked,
                request=request,
                details={"deletion_scheduled_for": locked.deletion_scheduled_for.isoformat()},
            )
    return locked


def cancel_erasure(*, user: User, request=None) -> User:
    """Idempotent: cancelling when nothing is scheduled changes (and records) nothing."""
    with transaction.atomic():
        locked = User.objects.select_for_update().get(pk=user.pk)
        if locked.deletion_scheduled_for is not None:
            scheduled = locked.deletion_scheduled_for
            locked.deletion_scheduled_for = None
            locked.save(update_fields=["deletion_scheduled_for", "updated_at"])
            record(
                action="user.erasure_cancelled",
                actor=locked,
                target=locked,
                request=request,
                details={"deletion_scheduled_for": scheduled.isoformat()},
            )
    return locked


# --- the erasure job ----------------------------------------------------------------------
def erase_due_accounts(*, now=None) -> int:
    """Erase every account whose date has passed; each in its own transaction, so one that
    is blocked does not hold the others back. Safe to run twice, or on two workers."""
    now = now or timezone.now()
    due = User.objects.filter(deletion_scheduled_for__lte=now, erased_at__isnull=True).values_list(
        "pk", flat=True
    )
    erased = 0
    for user_id in list(due):
        if erase_account(user_id=user_id, now=now) == ErasureOutcome.ERASED:
            erased += 1
    return erased


def erase_account(*, user_id, now=None) -> ErasureOutcome:
    now = now or timezone.now()
    with transaction.atomic():
        user = User.objects.select_for_update().filter(pk=user_id).first()
        if user is None or user.erased_at is not None:
            return ErasureOutcome.ALREADY_ERASED
        if user.deletion_scheduled_for is None or user.deletion_scheduled_for > now:
            return ErasureOutcome.NOT_DUE
        # Money may have arrived during the grace period (a late sale, a dispute).
        remaining = unsettled(user)
        if remaining:
            logger.warning("erasure of %s is blocked: %s", user.pk, remaining)
            return ErasureOutcome.BLOCKED
        counts = _delete_content(user)
        _anonymise(user, now=now)
        record(action="user.erased", target=user, details=counts)
    return ErasureOutcome.ERASED


def placeholder_username(user: User) -> str:
    # 30 characters at most (the field): "deleted-" + 22 hex digits of the id.
    return f"deleted-{user.pk.hex[:22]}"


def placeholder_email(user: User) -> str:
    return f"deleted-{user.pk}@erased.invalid"


def _delete_content(user: User) -> dict:
    counts = {}
    # Likes first, through the service: each liked track's counter moves with its row.
    liked = Track.objects.filter(likes__user=user)
    for track in liked:
        track_services.unlike_track(track=track, user=user)
    counts["likes"] = len(liked)
    counts["shares"], _ = TrackShare.objects.filter(created_by=user).delete()
    tracks = list(Track.objects.filter(creator=user))
    for track in tracks:  # each file leaves the storage once the transaction commits
        track_services.delete_track(track=track, deleted_by=None)
    counts["tracks"] = len(tracks)
    counts["plays"] = Play.objects.filter(user=user).update(user=None)
    PlaylistCollaborator.objects.filter(user=user).delete()
    counts["playlists"], _ = Playlist.objects.filter(owner=user).delete()
    counts["products_deactivated"] = Product.objects.filter(seller=user, is_active=True).update(
        is_active=False
    )
    counts["exports"] = delete_exports_of(user=user)
    # The notices stay (decisions and the transparency report rest on them), without who sent
    # them.
    counts["reports_anonymised"] = Report.objects.filter(reporter=user).update(
        reporter=None, reporter_email="", reporter_name="", ip_address=None
    )
    # Models of apps above or beside this one, reached by name: no module imports developer,
    # and the sessions model may not exist yet.
    for name, label in (
        ("sessions", "accounts.Session"),
        ("api_keys", "developer.APIKey"),
        ("webhook_endpoints", "developer.WebhookEndpoint"),
    ):
        counts[name] = _delete_rows_of(label, user)
    return {name: value for name, value in counts.items() if value}


def _delete_rows_of(label: str, user: User) -> int:
    try:
        model = apps.get_model(label)
    except LookupError:
        return 0
    for field in model._meta.concrete_fields:
        if field.is_relation and field.related_model is User:
            deleted, _ = model.objects.filter(**{field.name: user}).delete()
            return deleted
    return 0


def _anonymise(user: User, *, now) -> None:
    user.email = placeholder_email(user)
    user.username = placeholder_username(user)
    user.display_name = ""
    user.bio = ""
    user.avatar_url = ""
    user.country = None
    user.role = Role.USER
    user.email_verified = False
    user.is_active = False
    user.is_staff = False
    user.is_superuser = False
    user.deletion_scheduled_for = None
    user.erased_at = now
    user.set_unusable_password()
    user.save()  # a new password hash: the model bumps token_version, every token is refused
    user.groups.clear()
    user.user_permissions.clear()
