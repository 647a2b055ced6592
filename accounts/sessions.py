"""Sign-in sessions: started by login and registration, kept by refresh, ended by the user
(one, or all by logging out) or by any revocation of the user's tokens (``User.end_sessions``).

A session's id travels in its tokens as the ``sid`` claim. Authentication reads the session
with its user (``accounts.authentication``), from the cache while nothing changed
(``accounts.auth_cache``): ending a session forgets it there, so an ended session's access
tokens are refused at once.
"""

from datetime import timedelta

from django.conf import settings
from django.db.models import QuerySet
from django.utils import timezone

from accounts import auth_cache, errors
from accounts.models import Session, SessionEnd, User
from audit.services import record
from veza.client_ip import client_ip

USER_AGENT_MAX = Session._meta.get_field("user_agent").max_length
# last_used_at is a "when did I last see this device" hint, not a log: written at most this
# often per session, so an authenticated request normally writes nothing.
TOUCH_INTERVAL = timedelta(seconds=60)


def start_session(*, user: User, request=None) -> Session:
    ip = client_ip(request) if request is not None else ""
    agent = request.META.get("HTTP_USER_AGENT", "") if request is not None else ""
    now = timezone.now()
    return Session.objects.create(
        user=user,
        created_at=now,
        last_used_at=now,
        ip=ip or None,
        # A header is the client's string: PostgreSQL text cannot hold a NUL.
        user_agent=agent.replace("\x00", "")[:USER_AGENT_MAX],
    )


def live_sessions(*, user: User) -> QuerySet[Session]:
    """The user's sessions that can still be used: not ended, and refreshed within the
    refresh token's lifetime (past it, no token of the session is valid any more)."""
    idle_limit = timezone.now() - settings.SIMPLE_JWT["REFRESH_TOKEN_LIFETIME"]
    return Session.objects.filter(
        user=user, ended_at__isnull=True, last_used_at__gte=idle_limit
    ).order_by("-created_at", "-pk")


def end_session(*, user: User, session_id, request=None) -> Session:
    """End one of the user's sessions; another user's or an unknown id is not found."""
    now = timezone.now()
    ended = Session.objects.filter(pk=session_id, user=user, ended_at__isnull=True).update(
        ended_at=now, end_reason=SessionEnd.ENDED_BY_USER
    )
    if not ended:
        raise errors.SessionNotFound()
    auth_cache.forget(user.pk)
    session = Session.objects.get(pk=session_id)
    record(
        action="auth.session_ended",
        actor=user,
        target=session,
        request=request,
        details={"reason": SessionEnd.ENDED_BY_USER.value},
    )
    return session


def touch(session_id, last_used_at, *, now=None):
    """Record that the session was used, at most once a ``TOUCH_INTERVAL``: the conditional
    UPDATE writes nothing when another request of the session already did. The last use as
    now known (``last_used_at`` when it was recent enough)."""
    now = now or timezone.now()
    if last_used_at >= now - TOUCH_INTERVAL:
        return last_used_at
    Session.objects.filter(pk=session_id, last_used_at__lt=now - TOUCH_INTERVAL).update(
        last_used_at=now
    )
    return now


def purge_old_sessions(*, now=None) -> int:
    """Delete sessions ended, or idle past the refresh lifetime, more than
    ``SESSION_RETENTION_DAYS`` ago; the number deleted."""
    now = now or timezone.now()
    cutoff = now - timedelta(days=settings.SESSION_RETENTION_DAYS)
    idle_cutoff = cutoff - settings.SIMPLE_JWT["REFRESH_TOKEN_LIFETIME"]
    deleted, _ = Session.objects.filter(ended_at__lt=cutoff).delete()
    idle, _ = Session.objects.filter(ended_at__isnull=True, last_used_at__lt=idle_cutoff).delete()
    return deleted + idle
