"""The quarterly VAT report (the One-Stop Shop return and the domestic one): invoices minus
credit notes issued in the quarter, per country, scheme and rate — one SQL aggregate."""

import csv
import io
import re
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from decimal import Decimal

from django.conf import settings
from django.db.models import Case, CharField, Count, Q, Sum, Value, When

from invoicing.models import InvoiceLine, rate_text

QUARTER = re.compile(r"^(\d{4})-Q([1-4])$")


class Scheme:
    OSS = "oss"
    DOMESTIC = "domestic"
    REVERSE_CHARGE = "reverse_charge"


class BadQuarter(ValueError):
    pass


@dataclass(frozen=True)
class Quarter:
    year: int
    number: int

    @classmethod
    def parse(cls, text: str | None) -> "Quarter":
        match = QUARTER.match((text or "").strip().upper())
        if not match or not 2000 <= int(match[1]) <= 9999:
            raise BadQuarter("A quarter reads YYYY-Qn, e.g. 2025-Q3.")
        return cls(year=int(match[1]), number=int(match[2]))

    @classmethod
    def of(cls, moment: datetime) -> "Quarter":
        moment = moment.astimezone(UTC)
        return cls(year=moment.year, number=(moment.month - 1) // 3 + 1)

    def __str__(self) -> str:
        return f"{self.year}-Q{self.number}"

    @property
    def start(self) -> datetime:
        return datetime(self.year, 3 * self.number - 2, 1, tzinfo=UTC)

    @property
    def end(self) -> datetime:
        if self.number == 4:
            return datetime(self.year + 1, 1, 1, tzinfo=UTC)
        return datetime(self.year, 3 * self.number + 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class ReportLine:
    country: str | None
    scheme: str
    vat_rate: str
    net_amount: int
    vat_amount: int
    documents: int


@dataclass(frozen=True)
class VatReport:
    quarter: Quarter
    currency: str
    lines: list[ReportLine]

    def as_dict(self) -> dict:
        return {
            "quarter": str(self.quarter),
            "currency": self.currency,
            "lines": [asdict(line) for line in self.lines],
        }


def platform_country() -> str:
    return getattr(settings, "PLATFORM_COUNTRY", "FR")


def vat_report(*, quarter: Quarter, currency: str = "EUR") -> VatReport:
    """Signed sums of the lines of every document issued in the quarter (credit notes'
    lines are negative, so they net out), grouped in the database."""
    scheme = Case(
        When(invoice__reverse_charge=True, then=Value(Scheme.REVERSE_CHARGE)),
        When(invoice__tax_country=platform_country(), then=Value(Scheme.DOMESTIC)),
        default=Value(Scheme.OSS),
        output_field=CharField(),
    )
    rows = (
        InvoiceLine.objects.filter(
            Q(invoice__issued_at__gte=quarter.start) & Q(invoice__issued_at__lt=quarter.end),
            invoice__currency=currency,
        )
        .annotate(scheme=scheme)
        .values("invoice__tax_country", "scheme", "vat_rate")
        .annotate(
            net=Sum("net_amount"),
            vat=Sum("vat_amount"),
            documents=Count("invoice", distinct=True),
        )
        .order_by("invoice__tax_country", "scheme", "vat_rate")
    )
    lines = [
        ReportLine(
            country=row["invoice__tax_country"],
            scheme=row["scheme"],
            vat_rate=rate_text(row["vat_rate"] or Decimal(0)),
            net_amount=row["net"],
            vat_amount=row["vat"],
            documents=row["documents"],
        )
        for row in rows
    ]
    return VatReport(quarter=quarter, currency=currency, lines=lines)


CSV_HEADER = ["country", "scheme", "vat_rate", "net_amount", "vat_amount", "documents"]


def report_csv(report: VatReport) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["quarter", "currency", *CSV_HEADER])
    for line in report.lines:
        row = asdict(line)
        writer.writerow([str(report.quarter), report.currency, *(row[k] for k in CSV_HEADER)])
    return out.getvalue()
