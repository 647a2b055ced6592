"""Dispute evidence submitted for us: the buyer's downloads, a signed dispute webhook, the
PDFs uploaded and submitted to (fake) Hyperswitch once, and staff's re-submit and accept."""

from datetime import timedelta
from io import BytesIO

import pytest
from django.contrib.auth.models import Group, Permission
from django.core.files.base import ContentFile
from django.utils import timezone
from pypdf import PdfReader

from audit.models import AuditLog
from marketplace.models import Order, ProductDownload
from payments.models import Dispute, DisputeEvidence, SandboxObject
from payments.tasks import submit_dispute_evidence
from tests.backoffice.test_admin_console import staff_client
from tests.hyperswitch.webhook_bodies import dispute_body, dispute_object, signed_post
from tests.marketplace.factories import ProductFactory, completed_order
from tests.tracks.factories import TrackFactory
from tracks.models import TrackDownload
from veza.pdf import when

pytestmark = pytest.mark.django_db

BROWSER = "VezaBrowser/2.1"
BUYER_IP = "203.0.113.7"
DISPUTE_ID = "dp_evidence_0001"


def pdf_text(content: bytes) -> str:
    """The document's text, whitespace collapsed (a table cell may wrap a line)."""
    reader = PdfReader(BytesIO(content))
    return " ".join(" ".join(page.extract_text() for page in reader.pages).split())


def open_dispute(api_client, order, *, event="dispute_opened", stage="dispute", due=None, **kw):
    body = dispute_body(
        event,
        dispute_id=kw.pop("dispute_id", DISPUTE_ID),
        payment_id=order.hyperswitch_payment_id,
        amount=order.total_amount,
        dispute_stage=stage,
        **kw,
    )
    due = due or timezone.now() + timedelta(days=10)
    body["content"]["object"]["challenge_required_by"] = due.isoformat()
    return signed_post(api_client, body)


def provider_knows(psp, order, dispute_id=DISPUTE_ID):
    """Hyperswitch knows the dispute (it answers accept and evidence for known disputes)."""
    psp.add_dispute(
        dispute_object(
            dispute_id=dispute_id,
            payment_id=order.hyperswitch_payment_id,
            dispute_status="dispute_opened",
            amount=order.total_amount,
        )
    )


@pytest.fixture
def bought(client_for, api_client):
    """A buyer who bought a sample pack and downloaded it (through the API, from a browser)."""
    product = ProductFactory(title="Night Drums kit", price=1500)
    product.file.save("kit.wav", ContentFile(b"RIFF\x24\x00\x00\x00WAVEfmt demo"), save=True)
    order = completed_order(products=[product])
    link = client_for(order.buyer).get(f"/api/v1/marketplace/download/{product.id}").json()
    fetched = api_client.get(
        link["url"].replace("http://testserver", ""),
        HTTP_USER_AGENT=BROWSER,
        REMOTE_ADDR=BUYER_IP,
    )
    assert fetched.status_code == 200
    return order, product


def test_an_opened_dispute_gets_the_receipt_and_the_access_log_submitted_once(
    bought, api_client, psp, django_capture_on_commit_callbacks
):
    order, product = bought
    download = ProductDownload.objects.get()
    assert (download.user_id, download.product_id) == (order.buyer_id, product.pk)
    assert (download.ip_address, download.user_agent) == (BUYER_IP, BROWSER)

    with django_capture_on_commit_callbacks(execute=True):
        response = open_dispute(api_client, order)

    assert response.status_code == 200
    uploads = psp.calls_to("POST", "/files")
    assert len(uploads) == 2
    assert {c.form["purpose"] for c in uploads} == {"dispute_evidence"}
    assert {c.form["file_type"] for c in uploads} == {"application/pdf"}
    [submission] = psp.calls_to("POST", "/disputes/evidence")
    evidence = DisputeEvidence.objects.get(dispute__provider_dispute_id=DISPUTE_ID)
    assert submission.body == {
        "dispute_id": DISPUTE_ID,
        "receipt": evidence.receipt_file_id,
        "service_documentation": evidence.service_documentation_file_id,
    }
    assert evidence.status == DisputeEvidence.Status.SUBMITTED
    assert evidence.attempts == 1 and evidence.submitted_at is not None
    assert evidence.error == "" and evidence.claimed_until is None

    receipt = pdf_text(psp.files[evidence.receipt_file_id]["file"])
    # The receipt is the order's invoice; a long id may wrap in its table cell.
    flat = "".join(receipt.split())
    assert str(order.pk) in flat and order.hyperswitch_payment_id in flat
    assert "Night Drums kit" in receipt and "€15.00" in receipt
    documentation = pdf_text(psp.files[evidence.service_documentation_file_id]["file"])
    assert when(download.downloaded_at) in documentation
    assert BUYER_IP in documentation and BROWSER in documentation
    assert "Night Drums kit" in documentation and order.buyer.email in documentation
    verified = "yes" if order.buyer.email_verified else "no"
    assert f"Email address verified {verified}" in documentation
    assert "Account created" in documentation and "days" in documentation
    assert "1 download(s), 0 stream(s)" in documentation
    audit = AuditLog.objects.get(action="dispute.evidence_submitted")
    assert audit.target_id == str(evidence.dispute_id)
    assert audit.details["receipt"] == evidence.receipt_file_id

    # The task delivered again (acks late, a worker killed), a repeated webhook: nothing more.
    assert submit_dispute_evidence.apply(kwargs={"dispute_id": str(evidence.dispute_id)}).get() == (
        "already_done"
    )
    with django_capture_on_commit_callbacks(execute=True):
        open_dispute(api_client, order, event_id="evt_opened_again")
    assert len(psp.calls_to("POST", "/files")) == 2
    assert len(psp.calls_to("POST", "/disputes/evidence")) == 1
    evidence.refresh_from_db()
    assert (evidence.status, evidence.attempts) == ("submitted", 1)


def test_track_downloads_and_streams_of_the_buyer_are_in_the_access_log(
    client_for, api_client, psp, django_capture_on_commit_callbacks, settings
):
    track = TrackFactory(is_public=False, title="Low Tide", with_file=True)
    product = ProductFactory(
        seller=track.creator, track=track, product_type="track", title="Low Tide (licence)"
    )
    order = completed_order(products=[product])
    buyer = client_for(order.buyer)
    assert (
        buyer.get(
            f"/api/v1/tracks/{track.id}/download", HTTP_USER_AGENT=BROWSER, REMOTE_ADDR=BUYER_IP
        ).status_code
        == 200
    )
    settings.STREAM_SERVER_INTERNAL_API_KEY = "stream-key"
    played_at = timezone.now() + timedelta(seconds=1)
    reported = api_client.post(
        "/api/v1/internal/plays",
        {
            "batch_id": "b-evidence",
            "plays": [
                {
                    "track_id": str(track.id),
                    "user_id": str(order.buyer_id),
                    "played_at": played_at.isoformat(),
                    "seconds": 42,
                }
            ],
        },
        format="json",
        HTTP_X_INTERNAL_API_KEY="stream-key",
    )
    assert reported.status_code == 202
    download = TrackDownload.objects.get()
    assert (download.user_id, download.ip_address, download.user_agent) == (
        order.buyer_id,
        BUYER_IP,
        BROWSER,
    )

    with django_capture_on_commit_callbacks(execute=True):
        open_dispute(api_client, order)

    evidence = DisputeEvidence.objects.get()
    assert evidence.status == "submitted"
    text = pdf_text(psp.files[evidence.service_documentation_file_id]["file"])
    assert "1 download(s), 1 stream(s)" in text
    assert when(download.downloaded_at) in text and BROWSER in text and BUYER_IP in text
    assert when(played_at) in text and "42 s listened" in text
    assert "not known" in text  # a stream's address and user agent
    assert "Low Tide" in text


def test_the_access_log_costs_the_same_queries_for_three_or_thirty_downloads(
    django_assert_max_num_queries,
):
    from payments.disputes.documents import service_documentation_pdf

    product = ProductFactory()
    order = completed_order(products=[product])
    Order.objects.filter(pk=order.pk).update(status=Order.Status.DISPUTED)
    dispute = Dispute.objects.create(
        order=order, provider_dispute_id="dp_q", amount=1000, currency="EUR", stage="dispute"
    )

    def downloads(n):
        ProductDownload.objects.bulk_create(
            ProductDownload(product=product, user=order.buyer, ip_address=BUYER_IP)
            for _ in range(n)
        )

    downloads(3)
    dispute = Dispute.objects.select_related("order__buyer").get(pk=dispute.pk)
    with django_assert_max_num_queries(9) as few:
        service_documentation_pdf(dispute)
    downloads(27)
    with django_assert_max_num_queries(len(few.captured_queries)):
        content = service_documentation_pdf(dispute)
    assert "30 download(s)" in pdf_text(content)


@pytest.mark.parametrize("stage", ["pre_dispute", "pre_arbitration"])
def test_a_dispute_before_or_after_the_dispute_stage_sends_nothing(
    bought, api_client, psp, django_capture_on_commit_callbacks, stage
):
    order, _ = bought
    with django_capture_on_commit_callbacks(execute=True):
        open_dispute(api_client, order, stage=stage)

    dispute = Dispute.objects.get()
    assert (dispute.status, dispute.stage) == ("opened", stage)
    assert not DisputeEvidence.objects.exists()
    assert psp.calls_to("POST", "/files") == []
    assert psp.calls_to("POST", "/disputes/evidence") == []


def test_a_pre_dispute_that_reaches_the_dispute_stage_gets_its_evidence(
    bought, api_client, psp, django_capture_on_commit_callbacks
):
    order, _ = bought
    with django_capture_on_commit_callbacks(execute=True):
        open_dispute(api_client, order, stage="pre_dispute")
        open_dispute(api_client, order, stage="dispute", event_id="evt_escalated")
    assert DisputeEvidence.objects.get().status == "submitted"
    assert len(psp.calls_to("POST", "/disputes/evidence")) == 1


def test_a_dispute_whose_first_event_is_terminal_sends_nothing(
    bought, api_client, psp, django_capture_on_commit_callbacks
):
    order, _ = bought
    with django_capture_on_commit_callbacks(execute=True):
        open_dispute(api_client, order, event="dispute_lost")

    assert Dispute.objects.get().status == "lost"
    order.refresh_from_db()
    assert order.status == Order.Status.CHARGED_BACK
    assert not DisputeEvidence.objects.exists()
    assert psp.calls == [c for c in psp.calls if not c.path.startswith(("/files", "/disputes"))]


def test_evidence_past_its_due_date_is_not_sent(
    bought, api_client, psp, django_capture_on_commit_callbacks
):
    order, _ = bought
    with django_capture_on_commit_callbacks(execute=True):
        open_dispute(api_client, order, due=timezone.now() - timedelta(hours=1))

    evidence = DisputeEvidence.objects.get()
    assert evidence.status == "skipped" and "due" in evidence.error
    assert psp.calls_to("POST", "/files") == []
    assert AuditLog.objects.filter(action="dispute.evidence_skipped").exists()


def test_staff_accept_tells_the_provider_and_no_evidence_is_sent_afterwards(
    bought, api_client, psp, django_capture_on_commit_callbacks
):
    order, _ = bought
    provider_knows(psp, order)
    # The evidence task is queued with the dispute but has not run yet when staff accept.
    with django_capture_on_commit_callbacks(execute=False) as queued:
        open_dispute(api_client, order)
    dispute = Dispute.objects.get()
    finance, staff = staff_client("Finance")
    page = finance.get(f"/admin/payments/dispute/{dispute.pk}/change/")
    assert b"Accept dispute" in page.content and b"Re-submit evidence" in page.content
    assert finance.get(f"/admin/payments/dispute/{dispute.pk}/accept/").status_code == 200

    response = finance.post(f"/admin/payments/dispute/{dispute.pk}/accept/")
    assert response.status_code == 302
    for callback in queued:
        callback()

    assert psp.accepted_disputes == [DISPUTE_ID]
    assert psp.calls_to("POST", "/files") == []
    assert psp.calls_to("POST", "/disputes/evidence") == []
    dispute.refresh_from_db()
    assert dispute.accepted_by == staff and dispute.accepted_at is not None
    assert dispute.status == "opened"  # until the provider says so
    evidence = DisputeEvidence.objects.get()
    assert evidence.status == "skipped" and "accepted" in evidence.error
    entry = AuditLog.objects.get(action="dispute.accept")
    assert (entry.actor, entry.target_id) == (staff, str(dispute.pk))
    page = finance.get(f"/admin/payments/dispute/{dispute.pk}/change/")
    assert b"dispute.accept" in page.content  # on the timeline
    assert b"Re-submit evidence" not in page.content

    # No re-submit after an acceptance; the provider's event closes the dispute as before.
    finance.post(f"/admin/payments/dispute/{dispute.pk}/resubmit-evidence/")
    assert psp.calls_to("POST", "/disputes/evidence") == []
    open_dispute(api_client, order, event="dispute_accepted")
    dispute.refresh_from_db()
    order.refresh_from_db()
    assert (dispute.status, order.status) == ("accepted", Order.Status.CHARGED_BACK)


def test_a_refused_accept_takes_the_mark_back(bought, api_client, psp):
    order, _ = bought
    psp.accept_mode = "refuse"
    open_dispute(api_client, order, stage="pre_dispute")
    dispute = Dispute.objects.get()
    finance, _ = staff_client("Finance")
    finance.post(f"/admin/payments/dispute/{dispute.pk}/accept/")

    dispute.refresh_from_db()
    assert dispute.accepted_at is None and dispute.accepted_by is None
    entry = AuditLog.objects.get(action="dispute.accept_failed")
    assert entry.details["error"] == "Dispute status validation failed"


def test_a_provider_refusal_marks_the_evidence_failed_and_staff_resubmit_it(
    bought, api_client, psp, django_capture_on_commit_callbacks
):
    order, _ = bought
    provider_knows(psp, order)
    psp.evidence_mode = "refuse"
    with django_capture_on_commit_callbacks(execute=True):
        open_dispute(api_client, order)

    evidence = DisputeEvidence.objects.get()
    assert evidence.status == "failed"
    assert evidence.error == "Dispute status validation failed"
    assert AuditLog.objects.filter(action="dispute.evidence_failed").count() == 1
    finance, staff = staff_client("Finance")
    page = finance.get(f"/admin/payments/dispute/{evidence.dispute_id}/change/")
    assert b"Dispute status validation failed" in page.content
    assert b"dispute.evidence_failed" in page.content

    psp.evidence_mode = "ok"
    with django_capture_on_commit_callbacks(execute=True):
        response = finance.post(f"/admin/payments/dispute/{evidence.dispute_id}/resubmit-evidence/")
    assert response.status_code == 302

    evidence.refresh_from_db()
    assert (evidence.status, evidence.error, evidence.attempts) == ("submitted", "", 2)
    assert len(psp.calls_to("POST", "/files")) == 4  # built again with the latest access log
    assert psp.evidence[DISPUTE_ID]["service_documentation"] == (
        evidence.service_documentation_file_id
    )
    resubmitted = AuditLog.objects.get(action="dispute.evidence_resubmit")
    assert resubmitted.actor == staff and resubmitted.details == {"previous_status": "failed"}


def test_an_unknown_outcome_is_retried_without_uploading_again_then_given_up(
    bought, api_client, psp, django_capture_on_commit_callbacks
):
    order, _ = bought
    psp.evidence_mode = "error"
    with django_capture_on_commit_callbacks(execute=True):
        open_dispute(api_client, order)

    evidence = DisputeEvidence.objects.get()
    tries = submit_dispute_evidence.max_retries + 1
    assert len(psp.calls_to("POST", "/disputes/evidence")) == tries
    assert len(psp.calls_to("POST", "/files")) == 2  # each file id kept once uploaded
    assert evidence.status == "failed" and f"gave up after {tries} attempts" in evidence.error
    assert AuditLog.objects.filter(action="dispute.evidence_unknown").count() == tries - 1


def test_staff_without_the_permission_cannot_accept_or_resubmit(bought, api_client, psp):
    order, _ = bought
    open_dispute(api_client, order, stage="pre_dispute")
    dispute = Dispute.objects.get()
    support, _ = staff_client("Support")
    assert support.post(f"/admin/payments/dispute/{dispute.pk}/accept/").status_code == 403
    assert (
        support.post(f"/admin/payments/dispute/{dispute.pk}/resubmit-evidence/").status_code == 403
    )
    assert (
        b"Accept dispute"
        not in support.get(f"/admin/payments/dispute/{dispute.pk}/change/").content
    )
    assert psp.accepted_disputes == [] and psp.calls_to("POST", "/files") == []
    finance = Group.objects.get(name="Finance")
    assert finance.permissions.filter(codename="manage_dispute").exists()
    assert (
        not Permission.objects.get(codename="manage_dispute")
        .group_set.filter(name="Support")
        .exists()
    )


def test_the_sandbox_takes_the_evidence_and_settles_an_accept(
    bought, api_client, settings, django_capture_on_commit_callbacks
):
    settings.HYPERSWITCH_BASE_URL = ""
    order, _ = bought
    with django_capture_on_commit_callbacks(execute=True):
        open_dispute(api_client, order)

    evidence = DisputeEvidence.objects.get()
    assert evidence.status == "submitted"
    files = SandboxObject.objects.filter(kind=SandboxObject.Kind.FILE)
    assert {f.provider_id for f in files} == {
        evidence.receipt_file_id,
        evidence.service_documentation_file_id,
    }
    assert all(f.data["file_type"] == "application/pdf" and f.data["size"] > 500 for f in files)
    stored = SandboxObject.objects.get(kind=SandboxObject.Kind.EVIDENCE, provider_id=DISPUTE_ID)
    assert stored.data["receipt"] == evidence.receipt_file_id

    finance, _ = staff_client("Finance")
    dispute = Dispute.objects.get()
    with django_capture_on_commit_callbacks(execute=True):
        finance.post(f"/admin/payments/dispute/{dispute.pk}/accept/")
    dispute.refresh_from_db()
    order.refresh_from_db()
    assert dispute.status == "accepted" and order.status == Order.Status.CHARGED_BACK


def test_evidence_whose_task_was_lost_is_queued_again_by_the_sweep(
    bought, api_client, psp, django_capture_on_commit_callbacks
):
    from payments.tasks import sweep_dispute_evidence

    order, _ = bought
    with django_capture_on_commit_callbacks(execute=False):  # the broker was down
        open_dispute(api_client, order)
    evidence = DisputeEvidence.objects.get()
    assert evidence.status == "pending"
    with django_capture_on_commit_callbacks(execute=True):
        assert sweep_dispute_evidence() == 0  # just queued: not lost yet
    DisputeEvidence.objects.filter(pk=evidence.pk).update(
        created_at=timezone.now() - timedelta(minutes=11)
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert sweep_dispute_evidence() == 1

    evidence.refresh_from_db()
    assert evidence.status == "submitted"
    assert len(psp.calls_to("POST", "/disputes/evidence")) == 1
    with django_capture_on_commit_callbacks(execute=True):
        assert sweep_dispute_evidence() == 0
