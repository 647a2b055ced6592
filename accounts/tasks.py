import logging

from celery import shared_task
from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.core.management import call_command
from django.template.loader import render_to_string

from accounts import sessions
from veza.effects import once, task_effect_key

logger = logging.getLogger(__name__)


@shared_task(
    bind=True,
    autoretry_for=(OSError,),
    retry_backoff=True,
    retry_backoff_max=600,
    max_retries=5,
)
def send_templated_email(self, *, template: str, to: list[str], context: dict) -> None:
    """Render ``templates/email/<template>.{subject,txt,html}`` and send it."""
    subject = render_to_string(f"email/{template}.subject.txt", context).strip()
    text = render_to_string(f"email/{template}.txt", context)
    html = render_to_string(f"email/{template}.html", context)
    message = EmailMultiAlternatives(subject, text, settings.DEFAULT_FROM_EMAIL, to)
    message.attach_alternative(html, "text/html")
    # A task redelivered after its worker died does not send the same email again; the
    # recipients are in the key because a notification task sends one email per recipient.
    with once(task_effect_key("email", template, ",".join(to))) as first:
        if not first:
            logger.info("email %s already sent by an earlier delivery of this task", template)
            return
        message.send()
    logger.info("sent email %s", template)


@shared_task
def flush_expired_tokens() -> None:
    """Drop expired refresh-token bookkeeping rows (simplejwt's flushexpiredtokens)."""
    call_command("flushexpiredtokens")


@shared_task
def purge_old_sessions() -> int:
    """Delete sign-in sessions ended (or idle past use) over SESSION_RETENTION_DAYS ago."""
    deleted = sessions.purge_old_sessions()
    logger.info("purged %d old sessions", deleted)
    return deleted
