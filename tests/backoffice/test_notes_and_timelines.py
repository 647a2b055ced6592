"""Internal notes on refunds and payouts (audited, never edited), and one timeline on the
refund, order, dispute, payout and seller pages."""

import pytest
from django.contrib.auth.models import Permission

from audit.models import AuditLog
from marketplace.models import Order
from payments.models import Dispute, Payout, PayoutNote, RefundNote, SellerBalance
from payments.notes import add_dispute_note, add_refund_note
from payments.payouts.services import run_payouts
from tests.backoffice.test_admin_console import staff_client
from tests.factories import CreatorFactory
from tests.marketplace.factories import completed_order, opened_refund
from tests.payments.payout_helpers import released, with_method

pytestmark = pytest.mark.django_db


def refund_url(refund) -> str:
    return f"/admin/payments/refund/{refund.pk}/change/"


def timeline_of(page: str) -> str:
    return page[page.lower().index("everything that happened") :]


def test_support_adds_a_note_to_a_refund_and_it_is_audited_and_in_both_timelines():
    order = completed_order()
    refund = opened_refund(order, provider_refund_id="ref_note")
    client, support = staff_client("Support")

    response = client.post(refund_url(refund), {"text": "  Buyer called: files corrupt.  "})

    assert response.status_code == 302
    note = RefundNote.objects.get(refund=refund)
    assert (note.author, note.text) == (support, "Buyer called: files corrupt.")
    entry = AuditLog.objects.get(action="refund.note_added", target_id=str(refund.pk))
    assert entry.actor == support and entry.details["note_id"] == str(note.pk)
    page = client.get(refund_url(refund)).content.decode()
    assert "internal note on the refund" in timeline_of(page)
    assert "Buyer called: files corrupt." in timeline_of(page)
    order_page = client.get(f"/admin/marketplace/order/{order.pk}/change/").content.decode()
    assert "Buyer called: files corrupt." in order_page


def test_an_empty_or_oversized_note_is_refused_with_a_message_not_a_500():
    refund = opened_refund(completed_order())
    client, _ = staff_client("Finance")

    blank = client.post(refund_url(refund), {"text": "   "})
    too_long = client.post(refund_url(refund), {"text": "x" * 5001})
    missing = client.post(refund_url(refund), {})

    assert blank.status_code == 200 and "A note cannot be empty." in blank.content.decode()
    assert too_long.status_code == 200 and "at most 5000 characters" in too_long.content.decode()
    assert missing.status_code == 200
    assert not RefundNote.objects.exists()


def test_a_note_is_never_edited_nor_deleted_by_anyone():
    refund = opened_refund(completed_order())
    client, author = staff_client("Finance")
    note = add_refund_note(refund=refund, author=author, text="first words")

    assert not Permission.objects.filter(codename__in=["change_refundnote", "delete_refundnote"])
    note.text = "second thoughts"
    with pytest.raises(PermissionError):
        note.save()
    with pytest.raises(PermissionError):
        note.delete()
    with pytest.raises(PermissionError):
        RefundNote.objects.filter(pk=note.pk).update(text="x")
    note.refresh_from_db()
    assert note.text == "first words"
    # The page shows existing notes read-only: no input for them, only the "add" form.
    page = client.get(refund_url(refund)).content.decode()
    assert "first words" in page and 'name="notes-0-text"' not in page
    assert client.get(f"/admin/payments/refundnote/{note.pk}/change/").status_code == 404


def test_the_auditor_reads_notes_but_cannot_add_one_and_the_refusal_is_audited():
    refund = opened_refund(completed_order())
    _, author = staff_client("Finance")
    add_refund_note(refund=refund, author=author, text="checked with the bank")
    auditor, reader = staff_client("Auditor")

    page = auditor.get(refund_url(refund))
    refused = auditor.post(refund_url(refund), {"text": "nope"})

    assert page.status_code == 200 and "checked with the bank" in page.content.decode()
    assert 'id="refund-note-form"' not in page.content.decode()
    assert refused.status_code == 403
    assert RefundNote.objects.count() == 1
    assert AuditLog.objects.filter(action="admin.refund_note_refused", actor=reader).exists()


def test_a_disputes_timeline_holds_its_webhook_ledger_and_notes(post_webhook):
    order = completed_order()
    post_webhook(
        {
            "event_type": "dispute_opened",
            "event_id": "evt_tl_dispute",
            "content": {
                "object": {
                    "dispute_id": "dp_tl",
                    "payment_id": order.hyperswitch_payment_id,
                    "amount": str(order.total_amount),
                    "currency": "EUR",
                }
            },
        }
    )
    dispute = Dispute.objects.get(provider_dispute_id="dp_tl")
    client, _ = staff_client("Finance")
    url = f"/admin/payments/dispute/{dispute.pk}/change/"
    assert client.post(url, {"text": "Evidence sent."}).status_code == 302

    timeline = timeline_of(client.get(url).content.decode())

    assert "dispute_opened" in timeline  # the provider's event
    assert "Dispute hold" in timeline  # the ledger
    assert "dispute.note_added" in timeline and "internal note on the dispute" in timeline
    assert timeline.index("dispute_opened") < timeline.index("internal note on the dispute")
    order_page = client.get(f"/admin/marketplace/order/{order.pk}/change/").content.decode()
    assert "Evidence sent." in order_page


@pytest.fixture
def paid_payout(psp, post_webhook):
    seller = CreatorFactory()
    with_method(seller)
    released(seller, price=2000)
    run_payouts()
    payout = Payout.objects.get(seller=seller)
    post_webhook({"event_type": "payout_success", "payout_id": str(payout.pk), "status": "success"})
    payout.refresh_from_db()
    assert payout.status == Payout.Status.PAID
    return payout


def test_finance_notes_a_payout_and_its_timeline_holds_webhook_ledger_audit_and_note(paid_payout):
    client, finance = staff_client("Finance")
    url = f"/admin/payments/payout/{paid_payout.pk}/change/"

    response = client.post(url, {"text": "Seller asked for the remittance advice."})

    assert response.status_code == 302
    note = PayoutNote.objects.get(payout=paid_payout)
    assert note.author == finance
    assert AuditLog.objects.filter(
        action="payout.note_added", target_id=str(paid_payout.pk), actor=finance
    ).exists()
    timeline = timeline_of(client.get(url).content.decode())
    for expected in ("payout_success", "payout.created", "Payout", "remittance advice"):
        assert expected in timeline, expected


def test_a_sellers_page_has_a_timeline_of_its_money_and_payouts(paid_payout):
    client, _ = staff_client("Finance")
    balance = SellerBalance.objects.get(seller=paid_payout.seller, currency="EUR")

    page = client.get(f"/admin/payments/sellerbalance/{balance.pk}/change/")

    assert page.status_code == 200
    timeline = timeline_of(page.content.decode())
    for expected in ("Sale credit", "payout_success", "payout.created"):
        assert expected in timeline, expected


def test_other_sellers_money_stays_off_a_sellers_timeline(paid_payout):
    other = completed_order()
    client, _ = staff_client("Finance")
    balance = SellerBalance.objects.get(seller=paid_payout.seller, currency="EUR")
    page = client.get(f"/admin/payments/sellerbalance/{balance.pk}/change/").content.decode()
    assert other.items.get().seller.username not in timeline_of(page)


def test_an_order_with_a_refund_note_shows_it_once(psp):
    order = completed_order()
    refund = opened_refund(order)
    Order.objects.filter(pk=order.pk).update(status=Order.Status.REFUND_PENDING)
    client, author = staff_client("Finance")
    add_refund_note(refund=refund, author=author, text="only-once-marker")
    page = client.get(f"/admin/marketplace/order/{order.pk}/change/").content.decode()
    # The note row itself (the audit entry quotes the text too).
    assert page.count("internal note on the refund") == 1


def test_a_dispute_note_follows_the_same_rules_as_every_internal_note(post_webhook):
    order = completed_order()
    body = {
        "event_type": "dispute_opened",
        "event_id": "evt_note_rules",
        "content": {
            "object": {
                "dispute_id": "dp_note_rules",
                "payment_id": order.hyperswitch_payment_id,
                "amount": str(order.total_amount),
                "currency": "EUR",
            }
        },
    }
    assert post_webhook(body).status_code == 200
    dispute = Dispute.objects.get(provider_dispute_id="dp_note_rules")
    _, author = staff_client("Finance")
    note = add_dispute_note(dispute=dispute, author=author, text="bank asked for the receipt")

    assert not Permission.objects.filter(codename__in=["change_disputenote", "delete_disputenote"])
    note.text = "edited"
    with pytest.raises(PermissionError):
        note.save()
    with pytest.raises(PermissionError):
        note.delete()
    note.refresh_from_db()
    assert note.text == "bank asked for the receipt"
