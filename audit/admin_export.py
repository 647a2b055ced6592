"""CSV exports of an admin list: streamed, every row, the list's current filters and search,
a totals row per currency, and an audit entry saying who exported what."""

import csv
from collections.abc import Callable, Iterator
from typing import NamedTuple

from django.core.exceptions import PermissionDenied
from django.db.models import Sum
from django.http import StreamingHttpResponse
from django.urls import path, reverse

from audit.services import record
from veza.money import to_major

STREAM_BLOCK = 500  # rows per chunk of the streamed response


class _Echo:
    def write(self, value):
        return value


class CsvExportMixin:
    """``export_columns``: (header, function of a row), one of them ``currency``.
    ``export_amount``: the minor-units field summed per currency in the totals rows, and the
    header of the column the sum goes under (None for no totals).
    ``export_fields``: the ORM paths the columns read (``"seller__email"`` is read as
    ``row.seller.email``). With them the rows are read as plain values instead of model
    instances, several times faster: 200 k rows well under ten seconds."""

    export_columns: list[tuple[str, Callable]] = []
    export_amount: tuple[str, str] | None = None
    export_select_related: tuple[str, ...] = ()
    export_fields: tuple[str, ...] = ()

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
        changelist = self.get_changelist_instance(request)
        queryset = changelist.get_queryset(request)
        if self.export_select_related:
            queryset = queryset.select_related(*self.export_select_related)
        return queryset

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
        response = StreamingHttpResponse(self._rows(queryset), content_type="text/csv")
        filename = label.replace(" ", "-")
        response["Content-Disposition"] = f'attachment; filename="{filename}.csv"'
        return response

    def _rows(self, queryset) -> Iterator[str]:
        writer = csv.writer(_Echo())
        headers = [header for header, _ in self.export_columns]
        yield writer.writerow(headers)
        columns = [value for _, value in self.export_columns]
        lines = []
        for row in self._export_records(queryset):
            lines.append(writer.writerow([value(row) for value in columns]))
            if len(lines) == STREAM_BLOCK:
                yield "".join(lines)  # one write per block, not per row
                lines = []
        yield "".join(lines)
        if self.export_amount is None:
            return
        field, header = self.export_amount
        totals = (
            queryset.order_by().values("currency").annotate(total=Sum(field)).order_by("currency")
        )
        for line in totals:
            cells = [""] * len(headers)
            cells[0] = "TOTAL"
            cells[headers.index("currency")] = line["currency"]
            cells[headers.index(header)] = str(to_major(line["total"] or 0, line["currency"]))
            yield writer.writerow(cells)

    def _export_records(self, queryset) -> Iterator:
        if not self.export_fields:
            yield from queryset.iterator(chunk_size=2000)
            return
        index = _field_index(self.export_fields)
        for values in queryset.values_list(*self.export_fields).iterator(chunk_size=2000):
            yield _Values(values, index)


class _Related(NamedTuple):
    index: dict
    leaves: tuple[int, ...]


def _field_index(paths: tuple[str, ...]) -> dict:
    """``("pk", "seller__email")`` → ``{"pk": 0, "seller": _Related({"email": 1}, (1,))}``."""
    tree: dict = {}
    for position, field_path in enumerate(paths):
        *parents, leaf = field_path.split("__")
        node = tree
        for name in parents:
            node = node.setdefault(name, {})
        node[leaf] = position

    def freeze(node: dict) -> dict:
        frozen = {}
        for name, child in node.items():
            is_related = isinstance(child, dict)
            frozen[name] = _Related(freeze(child), tuple(_leaves(child))) if is_related else child
        return frozen

    return freeze(tree)


def _leaves(node: dict):
    for child in node.values():
        if isinstance(child, dict):
            yield from _leaves(child)
        else:
            yield child


class _Values:
    """One row of ``values_list`` read by attribute, related rows nested (``row.seller.email``);
    a related row whose values are all NULL (there is none) is None, as on a model."""

    __slots__ = ("_values", "_index")

    def __init__(self, values: tuple, index: dict):
        self._values = values
        self._index = index

    def __getattr__(self, name: str):
        try:
            found = self._index[name]
        except KeyError:
            raise AttributeError(name) from None
        if isinstance(found, int):
            return self._values[found]
        if all(self._values[position] is None for position in found.leaves):
            return None
        return _Values(self._values, found.index)


def major(amount_field: str) -> Callable:
    """A column: the amount in the currency's major units, exact (``4999`` EUR → ``49.99``)."""

    def value(row):
        amount = getattr(row, amount_field)
        return "" if amount is None else str(to_major(amount, row.currency))

    return value
