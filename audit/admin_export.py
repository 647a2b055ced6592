"""CSV exports of an admin list: streamed, every row, the list's current filters and search,
a totals row per currency, and an audit entry saying who exported what.

An export is declared as columns (``Column``: a header, the ORM path it reads, how the value
becomes a cell). The rows are read as plain tuples (``values_list``) through a server-side
cursor in blocks of ``FETCH_BLOCK``, each tuple becomes its cells with no per-row query and
no per-cell object (a money amount is formatted with integer arithmetic, not ``Decimal``),
and each block of ``STREAM_BLOCK`` rows is written by the C ``csv`` writer at once and sent:
memory stays one block, whatever the number of rows.

On PostgreSQL the rows are not Python's at all: each column is a SQL expression that writes
its cell exactly as the Python path does (``cell_sql``), and ``COPY (SELECT …) TO STDOUT
(FORMAT CSV)`` sends the CSV, which Python forwards in blocks (bench/export_csv.py). The
two paths give the same bytes for the same data (tests/backoffice/test_export_copy.py).
"""

import csv
import io
from collections.abc import Iterator, Sequence
from contextlib import nullcontext
from decimal import Decimal
from functools import lru_cache
from operator import itemgetter
from typing import NamedTuple

from babel.core import get_global
from babel.numbers import get_currency_precision
from django.core.exceptions import PermissionDenied
from django.db import connections, transaction
from django.db.models import BooleanField, Case, Func, JSONField, Sum, TextField, Value, When
from django.db.models.fields.json import KT
from django.db.models.functions import Cast, NullIf
from django.http import StreamingHttpResponse
from django.urls import path, reverse

from audit.services import record
from veza.money import to_major

STREAM_BLOCK = 2000  # rows per chunk of the streamed response (both paths)
FETCH_BLOCK = 5000  # rows per round trip of the server-side cursor

TEXT, ISO, MAJOR = "text", "iso", "major"


class Column(NamedTuple):
    """One column of an export: its header, the ORM path read (``"seller__email"``,
    ``"buyer__name"`` inside a JSON field), and how the value becomes a cell: ``TEXT`` as it
    is (``None`` → empty), ``ISO`` a datetime in ISO 8601, ``MAJOR`` a minor-units amount in
    its row's currency's major units, exact (``4999`` EUR → ``49.99``)."""

    header: str
    path: str
    kind: str = TEXT


def text(header: str, field_path: str | None = None) -> Column:
    return Column(header, field_path or header)


def iso(header: str, field_path: str | None = None) -> Column:
    return Column(header, field_path or header, ISO)


def major(header: str, field_path: str) -> Column:
    return Column(header, field_path, MAJOR)


@lru_cache(maxsize=64)
def decimal_places(currency: str) -> int:
    return get_currency_precision(currency.upper())


def major_text(amount: int, currency: str) -> str:
    """``str(to_major(amount, currency))`` without a ``Decimal``: the export's hot path."""
    places = decimal_places(currency)
    if not places:
        return str(amount)
    whole, fraction = divmod(abs(amount), 10**places)
    return f"{'-' if amount < 0 else ''}{whole}.{fraction:0{places}d}"


def row_maker(columns: Sequence[Column]):
    """(the paths to read, a function of one ``values_list`` tuple → its cells)."""
    paths = list(dict.fromkeys([*(c.path for c in columns), "currency"]))
    kinds = {c.path: c.kind for c in columns}
    pick = itemgetter(*(paths.index(c.path) for c in columns))
    dates = [(n, paths.index(c.path)) for n, c in enumerate(columns) if c.kind == ISO]
    amounts = [(n, paths.index(c.path)) for n, c in enumerate(columns) if c.kind == MAJOR]
    currency = paths.index("currency")

    def cells(values: tuple) -> list:
        row = list(pick(values))  # TEXT cells as they are: the csv writer writes None as ""
        for n, i in dates:  # PostgreSQL wrote them already (``IsoUtc``)
            moment = values[i]
            row[n] = (
                "" if moment is None else moment if moment.__class__ is str else moment.isoformat()
            )
        for n, i in amounts:
            amount = values[i]
            row[n] = "" if amount is None else major_text(amount, values[currency])
        return row

    return [(p, kinds.get(p, TEXT)) for p in paths], cells


def cells_of_instance(columns: Sequence[Column], obj) -> list[str]:
    """The cells of one model instance, the slow way (attributes, ``Decimal``): what the
    export must equal, for tests and for reading one row."""
    row = []
    for column in columns:
        value = obj
        for name in column.path.split("__"):
            if value is None:
                break
            value = value.get(name) if isinstance(value, dict) else getattr(value, name)
        if value is None:
            row.append("")
        elif column.kind == ISO:
            row.append(value.isoformat())
        elif column.kind == MAJOR:
            row.append(str(to_major(value, obj.currency)))
        else:
            row.append(str(value))
    return row


class CsvExportMixin:
    """``export_columns``: the ``Column``s of the CSV (the model needs a ``currency``).
    ``export_totals``: (minor-units field, header of the column its sum goes under), summed
    per currency in the TOTAL rows after the data."""

    export_columns: Sequence[Column] = ()
    export_totals: Sequence[tuple[str, str]] = ()

    def _export_url_name(self) -> str:
        opts = self.model._meta
        return f"{opts.app_label}_{opts.model_name}_export"

    def get_urls(self):
        export = path(
            "export.csv",
            self.admin_site.admin_view(self.export_csv),
            name=self._export_url_name(),
        )
        return [export, *super().get_urls()]

    def changelist_view(self, request, extra_context=None):
        url = reverse(f"admin:{self._export_url_name()}", current_app=self.admin_site.name)
        extra_context = {**(extra_context or {}), "csv_export_url": url}
        return super().changelist_view(request, extra_context)

    def export_queryset(self, request):
        return self.get_changelist_instance(request).get_queryset(request)

    def export_csv(self, request):
        """The changelist's current filters and search, as CSV (streamed, no row limit)."""
        if not self.has_view_permission(request):
            raise PermissionDenied("Exporting needs the view permission.")
        queryset = self.export_queryset(request)
        label = str(self.model._meta.verbose_name_plural)
        record(
            action="admin.export",
            request=request,
            target_type=self.model._meta.label_lower,
            details={"export": label, "filters": request.GET.dict(), "rows": queryset.count()},
        )
        response = StreamingHttpResponse(self.export_lines(queryset), content_type="text/csv")
        filename = label.replace(" ", "-")
        response["Content-Disposition"] = f'attachment; filename="{filename}.csv"'
        return response

    def export_lines(self, queryset) -> Iterator[str | bytes]:
        """The header, the rows in blocks of ``STREAM_BLOCK``, then the TOTAL rows: rows and
        totals in one transaction, so they agree (a client that goes away closes the
        generator, which ends the transaction)."""
        headers = [column.header for column in self.export_columns]
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(headers)
        yield _drain(buffer)
        on_postgresql = connections[queryset.db].vendor == "postgresql"
        rows = copied_rows if on_postgresql else python_rows
        with transaction.atomic(using=queryset.db):
            yield from rows(queryset, self.export_columns)
            writer.writerows(self.export_total_rows(queryset, headers))
        yield _drain(buffer)

    def export_total_rows(self, queryset, headers: list[str]) -> list[list[str]]:
        """One TOTAL row per currency: each ``export_totals`` field summed (one query)."""
        if not self.export_totals:
            return []
        sums = {f"sum_{field}": Sum(field) for field, _ in self.export_totals}
        per_currency = queryset.order_by().values("currency").annotate(**sums)
        rows = []
        for line in per_currency.order_by("currency"):
            cells = [""] * len(headers)
            cells[0] = "TOTAL"
            cells[headers.index("currency")] = line["currency"]
            for field, header in self.export_totals:
                total = line[f"sum_{field}"] or 0
                cells[headers.index(header)] = major_text(total, line["currency"])
            rows.append(cells)
        return rows


def python_rows(queryset, columns: Sequence[Column]) -> Iterator[str]:
    """The rows as CSV, made in Python: tuples through a server-side cursor, cells, the
    ``csv`` writer (SQLite; on PostgreSQL, what ``copied_rows`` must equal)."""
    paths, cells = row_maker(columns)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    block = []
    rows = queryset.values_list(
        *(read_expression(queryset.model, p, queryset.db, kind) for p, kind in paths)
    )
    for values in rows.iterator(chunk_size=FETCH_BLOCK):
        block.append(cells(values))
        if len(block) == STREAM_BLOCK:
            writer.writerows(block)
            block = []
            yield _drain(buffer)
    writer.writerows(block)
    yield _drain(buffer)


def copied_rows(queryset, columns: Sequence[Column]) -> Iterator[bytes]:
    """The rows as CSV, written by PostgreSQL (``COPY … TO STDOUT``), forwarded in blocks of
    ``STREAM_BLOCK`` rows. libpq returns one row per read, ending in ``\\n``; the ``csv``
    writer ends a row in ``\\r\\n`` (and both quote a cell holding either), so each row
    gets its ``\\r`` back as the block is joined."""
    cells = {f"cell{n}": cell_sql(queryset, column) for n, column in enumerate(columns)}
    sql, params = queryset.annotate(**cells).values_list(*cells).query.sql_with_params()
    statement = f"COPY ({sql}) TO STDOUT (FORMAT CSV)"
    with (
        connections[queryset.db].cursor() as cursor,
        logged(cursor, statement, params),
        cursor.cursor.copy(statement, params) as copy,
    ):
        block = []
        for row in copy:
            block.append(row[:-1])
            if len(block) == STREAM_BLOCK:
                yield b"\r\n".join(block) + b"\r\n"
                block = []
        if block:
            yield b"\r\n".join(block) + b"\r\n"


def logged(cursor, sql: str, params):
    """Django's query log (``DEBUG``, tests' ``CaptureQueriesContext``) records the COPY as
    it records any statement, though it runs on the driver's cursor."""
    debug_sql = getattr(cursor, "debug_sql", None)
    return debug_sql(sql, params) if debug_sql else nullcontext()


def cell_sql(queryset, column: Column):
    """A column's cell as PostgreSQL text, as the ``csv`` writer writes the Python value:
    ``None`` and ``""`` both an empty unquoted cell (``COPY`` writes NULL so, and quotes an
    empty string), a boolean ``True``/``False``, a date ``IsoUtc``, money ``MajorText``."""
    if column.kind == ISO:
        return IsoUtc(column.path)
    if column.kind == MAJOR:
        return MajorText(column.path, "currency")
    if isinstance(field_at(queryset.model, column.path), BooleanField):
        return Case(
            When(**{column.path: True}, then=Value("True")),
            When(**{column.path: False}, then=Value("False")),
            output_field=TextField(),
        )
    value = read_expression(queryset.model, column.path, queryset.db)
    return NullIf(Cast(value, TextField()), Value(""), output_field=TextField())


def field_at(model, field_path: str):
    """The model field at the end of an ORM path, ``None`` inside a JSON field."""
    field = None
    for name in field_path.split("__"):
        if field is not None and field.related_model is None:
            return None
        if field is not None:
            model = field.related_model
        field = model._meta.pk if name == "pk" else model._meta.get_field(name)
    return field


class MajorText(Func):
    """A minor-units amount as text in its currency's major units, exactly as ``major_text``
    writes it: the amount times the currency's unit, a ``numeric`` of that many decimals
    (``4999 * 0.01`` is ``49.99``, ``700 * 1`` in JPY ``700``, ``-5 * 0.001`` in KWD
    ``-0.005``). The decimal places are babel's, as in ``decimal_places``; the common case
    (the default places) is tested first, against a hashed array, since this runs per cell."""

    output_field = TextField()

    def as_sql(self, compiler, connection, **extra):
        (amount, amount_params), (currency, currency_params) = (
            compiler.compile(e) for e in self.get_source_expressions()
        )
        default, odd = currency_places()
        every_odd = [code for codes in odd.values() for code in codes]
        whens = [(f"upper({currency}) <> ALL(%s)", every_odd, default)]
        whens += [(f"upper({currency}) = ANY(%s)", codes, p) for p, codes in odd.items()]
        cases = " ".join(f"WHEN {test} THEN {unit(places)}" for test, _, places in whens)
        params = [*amount_params]
        for _, codes, _ in whens:
            params += [*currency_params, codes]
        return f"({amount}::numeric * CASE {cases} END)::text", params


def currency_places() -> tuple[int, dict[int, list[str]]]:
    """babel's default decimal places, and the currencies of each other number of places."""
    fractions = get_global("currency_fractions")
    default = fractions["DEFAULT"][0]
    odd: dict[int, list[str]] = {}
    for code, (places, *_) in fractions.items():
        if places != default and code != "DEFAULT":
            odd.setdefault(places, []).append(code)
    return default, odd


def unit(places: int) -> str:
    """One minor unit as a SQL ``numeric`` literal with ``places`` decimals (``0.01``)."""
    return f"{Decimal(1).scaleb(-places):f}"


class IsoUtc(Func):
    """A ``timestamptz`` as text, exactly as ``datetime.isoformat()`` writes it in UTC
    (``2025-01-31T09:05:00.250000+00:00``, no fraction when it is zero): PostgreSQL formats
    it in C, where Django's time-zone-aware loader would parse it in Python, per cell."""

    output_field = TextField()
    template = (  # one to_char, the fraction dropped when it is zero
        "replace(to_char(%(expressions)s AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US')"
        " || '+00:00', '.000000+', '+')"
    )


def read_expression(model, field_path: str, using: str, kind: str = TEXT):
    """How a column is read on PostgreSQL: a key of a JSON field (``buyer__name``) as text
    (``->>``), not a JSON document the driver parses per cell; a date already as its ISO
    text (``IsoUtc``); any other path as it is."""
    if connections[using].vendor == "postgresql" and kind == ISO:
        return IsoUtc(field_path)
    name = field_path.split("__", 1)[0]
    fields = {f.name: f for f in model._meta.concrete_fields}
    is_key = "__" in field_path and isinstance(fields.get(name), JSONField)
    if is_key and connections[using].vendor == "postgresql":  # SQLite's text of null: "null"
        return KT(field_path)
    return field_path


def _drain(buffer: io.StringIO) -> str:
    chunk = buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    return chunk
