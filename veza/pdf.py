"""Small PDF documents (receipts, dispute evidence, later invoices), rendered with ReportLab.

A document is a list of flowables built with the helpers below and turned into bytes by
``render``. Every text given to them is the caller's data — a title, a user agent — and is
escaped here, once: ReportLab's paragraphs read a markup language.
"""

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from io import BytesIO
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

_STYLES = getSampleStyleSheet()
_CELL = _STYLES["BodyText"].clone("VezaCell", fontSize=8, leading=10)
_HEADER_CELL = _CELL.clone("VezaHeaderCell", fontName="Helvetica-Bold")
_MARGIN = 18 * mm
WIDTH = A4[0] - 2 * _MARGIN  # the width a table may take


def _text(value) -> str:
    # NUL and other control characters are not text a PDF can show.
    text = "" if value is None else str(value)
    return escape("".join(ch for ch in text if ch >= " " or ch in "\n\t"))


def when(value: datetime | None) -> str:
    """A time as documents show it: to the second, in UTC, saying so."""
    if value is None:
        return "—"
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def title(text: str) -> Paragraph:
    return Paragraph(_text(text), _STYLES["Title"])


def heading(text: str) -> Paragraph:
    return Paragraph(_text(text), _STYLES["Heading2"])


def paragraph(text: str) -> Paragraph:
    return Paragraph(_text(text), _STYLES["BodyText"])


def space(height_mm: float = 4) -> Spacer:
    return Spacer(1, height_mm * mm)


def table(
    header: Sequence[str],
    rows: Iterable[Sequence],
    *,
    widths: Sequence[float] | None = None,
) -> Table:
    """A grid with a bold header row repeated on every page; long cells wrap.

    ``widths`` are fractions of the page width (they should add up to 1).
    """
    data = [[Paragraph(_text(h), _HEADER_CELL) for h in header]]
    data += [[Paragraph(_text(cell), _CELL) for cell in row] for row in rows]
    grid = Table(
        data,
        colWidths=[WIDTH * w for w in widths] if widths else None,
        repeatRows=1,
        hAlign="LEFT",
    )
    grid.setStyle(
        TableStyle(
            [
                ("GRID", (0, 0), (-1, -1), 0.25, colors.grey),
                ("BACKGROUND", (0, 0), (-1, 0), colors.whitesmoke),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ]
        )
    )
    return grid


def key_values(pairs: Iterable[tuple[str, object]]) -> Table:
    """Label/value lines (an order's id, date, buyer...), the labels bold."""
    data = [
        [Paragraph(_text(label), _HEADER_CELL), Paragraph(_text(value), _CELL)]
        for label, value in pairs
    ]
    grid = Table(data, colWidths=[WIDTH * 0.3, WIDTH * 0.7], hAlign="LEFT")
    grid.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP")]))
    return grid


def render(flowables: list, *, document_title: str, author: str = "Veza") -> bytes:
    """The document as PDF bytes, numbered pages, its title in the metadata."""

    def footer(canvas, doc) -> None:
        canvas.saveState()
        canvas.setFont("Helvetica", 7)
        canvas.drawString(_MARGIN, 10 * mm, f"{document_title} — page {doc.page}")
        canvas.restoreState()

    buffer = BytesIO()
    doc = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=_MARGIN,
        rightMargin=_MARGIN,
        topMargin=_MARGIN,
        bottomMargin=_MARGIN,
        title=document_title,
        author=author,
    )
    doc.build(list(flowables), onFirstPage=footer, onLaterPages=footer)
    return buffer.getvalue()
