"""An invoice or credit note as a PDF: the wording from ``templates/invoicing/document.json``,
the data from the document's own snapshots, laid out with the ``veza.pdf`` helpers."""

import json

from django.template.loader import render_to_string

from invoicing.models import Invoice, rate_text
from veza import pdf
from veza.money import format_money

WORDING_TEMPLATE = "invoicing/document.json"


def wording() -> dict:
    return json.loads(render_to_string(WORDING_TEMPLATE))


def invoice_pdf(invoice: Invoice) -> bytes:
    """Number, dates, both parties, every line, the totals and the mentions that apply.

    ``invoice`` comes with its order and ``corrects`` (select_related) and its lines
    (prefetched), as the selectors give it.
    """
    words = wording()
    labels, kind = words["labels"], invoice.kind
    none = labels["none"]
    money = invoice.currency
    heading = f"{words['title'][kind]} {invoice.number}"
    facts = [
        (labels["number"], invoice.number),
        (labels["issued_at"], pdf.when(invoice.issued_at)),
        (labels["supplied_at"], pdf.when(invoice.order.completed_at)),
        (labels["order"], str(invoice.order_id)),
        (labels["payment"], invoice.order.hyperswitch_payment_id or none),
        (labels["currency"], invoice.currency),
    ]
    if invoice.corrects_id:
        corrected = invoice.corrects
        facts.append((labels["corrects"], f"{corrected.number} ({pdf.when(corrected.issued_at)})"))
        if invoice.reason:
            facts.append((labels["reason"], invoice.reason))
    seller, buyer = invoice.seller, invoice.buyer
    parties = [
        (seller.get("name") or none, buyer.get("name") or none),
        (seller.get("address") or none, f"{labels['email']}: {buyer.get('email') or none}"),
        (
            f"{labels['vat_number']}: {seller.get('vat_number') or none}",
            f"{labels['country']}: {buyer.get('country') or none}",
        ),
    ]
    if buyer.get("vat_number"):
        parties.append(("", f"{labels['vat_number']}: {buyer['vat_number']}"))
    lines = [
        (
            line.description,
            format_money(line.net_amount, money),
            f"{rate_text(line.vat_rate)} %",
            format_money(line.vat_amount, money),
            format_money(line.gross_amount, money),
        )
        for line in invoice.lines.all()
    ]
    totals = words["totals"]
    mentions = words["mentions"]
    story = [
        pdf.title(heading),
        pdf.key_values(facts),
        pdf.space(),
        pdf.table([labels["seller"], labels["buyer"]], parties, widths=[0.5, 0.5]),
        pdf.space(),
        pdf.table(words["columns"], lines, widths=[0.44, 0.14, 0.14, 0.14, 0.14]),
        pdf.space(),
        pdf.key_values(
            [
                (totals["net_total"], format_money(invoice.net_total, money)),
                (totals["vat_total"], format_money(invoice.vat_total, money)),
                (totals["gross_total"][kind], format_money(invoice.gross_total, money)),
            ]
        ),
        pdf.space(),
    ]
    if invoice.reverse_charge:
        story += [pdf.heading(mentions["reverse_charge"])]
        story += [pdf.paragraph(mentions["reverse_charge_detail"])]
    if invoice.corrects_id:
        story.append(pdf.paragraph(mentions["credit_note"]))
    else:
        story.append(pdf.paragraph(mentions["paid"]))
    story.append(pdf.paragraph(mentions["seller_of_record"]))
    return pdf.render(story, document_title=heading, author=seller.get("name") or "Veza")
