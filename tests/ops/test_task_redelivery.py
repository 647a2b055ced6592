"""Tasks that survive their worker: acknowledged late, so a task whose worker died is
delivered again -- and a second delivery repeats no outside effect (README "Scaling out")."""

import pytest
from django.conf import settings

from accounts.tasks import send_templated_email
from payments.tasks import send_refund_notification
from tests.marketplace.factories import completed_order, opened_refund
from veza import config
from veza.celery import app
from veza.models import TaskEffect


def test_every_task_is_acked_late_and_ends_before_the_broker_redelivers_it():
    app.loader.import_default_modules()
    assert app.conf.task_acks_late and app.conf.task_reject_on_worker_lost
    assert settings.CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"] > (
        config.LONGEST_TASK_SECONDS
    )
    ours = {name: task for name, task in app.tasks.items() if not name.startswith("celery.")}
    assert "payments.tasks.run_payouts" in ours
    for name, task in ours.items():
        limit = task.time_limit or settings.CELERY_TASK_TIME_LIMIT
        assert limit <= config.LONGEST_TASK_SECONDS, name
        assert task.acks_late in (None, True), name  # None: the app's default (late)


def _verify_email(task_id: str):
    return send_templated_email.apply(
        kwargs={
            "template": "verify_email",
            "to": ["ada@example.com"],
            "context": {"username": "ada", "hours": 48, "url": "https://veza.test/v?t=1"},
        },
        task_id=task_id,
    )


@pytest.mark.django_db
def test_an_email_task_delivered_twice_sends_one_email(mailoutbox):
    assert _verify_email("delivery-1").successful()
    assert _verify_email("delivery-1").successful()  # the redelivery of the same message
    assert len(mailoutbox) == 1
    assert TaskEffect.objects.get().done is True
    assert _verify_email("another-task").successful()  # another task is another email
    assert len(mailoutbox) == 2


@pytest.mark.django_db
def test_a_notification_delivered_twice_reaches_each_recipient_once(mailoutbox):
    order = completed_order()
    refund = opened_refund(order, requested_by=order.buyer, reason="twice")
    mailoutbox.clear()
    for _ in range(2):
        result = send_refund_notification.apply(
            kwargs={"refund_id": str(refund.pk), "event": "opened"}, task_id="refund-mail-1"
        )
        assert result.successful(), result.traceback
    recipients = sorted(address for message in mailoutbox for address in message.to)
    seller_emails = sorted({item.seller.email for item in order.items.all()})
    assert recipients == sorted([order.buyer.email, *seller_emails])


@pytest.mark.django_db
def test_an_email_whose_first_delivery_died_while_sending_is_sent_again(mailoutbox):
    # The claim exists but was never marked done: the worker died during the SMTP exchange.
    TaskEffect.objects.create(key="died-1:email:verify_email:ada@example.com")
    assert _verify_email("died-1").successful()
    assert len(mailoutbox) == 1
    assert TaskEffect.objects.get().done is True
