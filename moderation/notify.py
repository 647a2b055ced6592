"""Emails of trust and safety: sent by the accounts task once the transaction commits."""

from veza.tasks import enqueue_on_commit

SEND_EMAIL = "accounts.tasks.send_templated_email"


def email(template: str, to: str, **context) -> None:
    """``templates/email/<template>.*`` to ``to`` (nothing when there is no address)."""
    if to:
        enqueue_on_commit(SEND_EMAIL, template=template, to=[to], context=context)
