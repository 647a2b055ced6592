"""The payout console: Finance acts (audited), Support reads."""

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME

from audit.models import AuditLog
from payments.models import Payout, PayoutMethod
from payments.payouts.services import run_payouts
from tests.backoffice.test_admin_console import staff_client
from tests.factories import CreatorFactory
from tests.payments.payout_helpers import released, with_method

pytestmark = pytest.mark.django_db

LIST = "/admin/payments/payout/"


@pytest.fixture
def failed_payout(psp):
    psp.payout_mode = "refuse"
    seller = CreatorFactory()
    with_method(seller)
    released(seller, price=2000)
    run_payouts()
    psp.payout_mode = "ok"
    return Payout.objects.get(seller=seller)


def test_support_reads_the_console_but_cannot_act(failed_payout):
    client, _ = staff_client("Support")
    assert client.get(LIST).status_code == 200
    page = client.get(f"{LIST}{failed_payout.pk}/change/")
    assert page.status_code == 200
    assert "18,00" in page.content.decode() or "18.00" in page.content.decode()
    response = client.post(
        LIST, {"action": "retry_failed", ACTION_CHECKBOX_NAME: [str(failed_payout.pk)]}
    )
    assert Payout.objects.count() == 1
    assert response.status_code in (200, 302)
    assert client.post(f"{LIST}run-now/").status_code == 403


def test_finance_retries_a_failed_payout(failed_payout):
    client, user = staff_client("Finance")
    response = client.post(
        LIST, {"action": "retry_failed", ACTION_CHECKBOX_NAME: [str(failed_payout.pk)]}
    )
    assert response.status_code == 302
    assert Payout.objects.filter(status="pending", seller=failed_payout.seller).count() == 1
    assert AuditLog.objects.filter(action="payout.retried", actor=user).exists()


def test_finance_pauses_and_resumes_a_sellers_payouts(failed_payout):
    client, user = staff_client("Finance")
    ids = [str(failed_payout.pk)]
    client.post(LIST, {"action": "pause_sellers", ACTION_CHECKBOX_NAME: ids})
    assert PayoutMethod.objects.get(seller=failed_payout.seller).payouts_paused
    client.post(LIST, {"action": "resume_sellers", ACTION_CHECKBOX_NAME: ids})
    assert not PayoutMethod.objects.get(seller=failed_payout.seller).payouts_paused
    actions = set(AuditLog.objects.filter(actor=user).values_list("action", flat=True))
    assert {"payouts.paused", "payouts.resumed"} <= actions


def test_finance_runs_payouts_now(failed_payout, django_capture_on_commit_callbacks):
    client, user = staff_client("Finance")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"{LIST}run-now/")
    assert response.status_code == 302
    assert AuditLog.objects.filter(action="payouts.run_requested", actor=user).exists()
    assert AuditLog.objects.filter(action="payouts.run").exists()
    assert Payout.objects.filter(seller=failed_payout.seller, status="pending").count() == 1
