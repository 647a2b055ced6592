"""Building blocks of the back-office shared by every app's admin."""

import re
import uuid
from datetime import date, datetime

from django.contrib import admin
from django.core.exceptions import FieldDoesNotExist
from django.db import connection
from django.db.models import Q
from django.urls import path, reverse
from django.utils import formats, timezone
from django.utils.html import format_html, format_html_join

from veza.pagination import EstimatedCountPaginator


def short_id(pk) -> str:
    """An id as the back-office shows it: its first 8 characters (the full id is on its page;
    search finds a row by them, ``veza.admin_search``)."""
    return str(pk)[:8]


def admin_link(url_name: str, pk, label: str | None = None) -> str:
    """A link to a row's admin page, labelled with its short id unless told otherwise."""
    if pk is None:
        return "—"
    url = reverse(url_name, args=[pk])
    return format_html('<a href="{}">{}</a>', url, short_id(pk) if label is None else label)


def when(moment: datetime | date | None, empty: str = "—") -> str:
    """A date as the admin's changelists and detail pages show it: in the current time zone,
    in the active locale's format (``DATETIME_FORMAT``), never ISO with microseconds."""
    if moment is None:
        return empty
    if isinstance(moment, datetime):
        return formats.localize(timezone.template_localtime(moment))
    return formats.localize(moment)


def html_table(headers: list[str], rows: list[tuple]) -> str:
    """A small read-only table for an admin detail page (cells are escaped; dates read as
    everywhere else in the admin, through ``when``)."""
    if not rows:
        return format_html("<em>{}</em>", "none")
    head = format_html_join("", "<th>{}</th>", ((h,) for h in headers))
    body = format_html_join(
        "",
        "<tr>{}</tr>",
        ((format_html_join("", "<td>{}</td>", ((_cell(c),) for c in row)),) for row in rows),
    )
    return format_html("<table><thead><tr>{}</tr></thead><tbody>{}</tbody></table>", head, body)


def _cell(value):
    return when(value) if isinstance(value, date) else value


class ReadOnlyAdmin(admin.ModelAdmin):
    """Visible to those allowed to view, changeable by nobody (superusers included): these
    rows change through actions that call services, never through a form.

    These tables grow to millions of rows: the changelist never counts the whole table
    (``show_full_result_count``) and its paginator counts exactly only up to 10,000 matches,
    then shows PostgreSQL's estimate."""

    show_full_result_count = False
    paginator = EstimatedCountPaginator
    show_facets = admin.ShowFacets.NEVER  # a count per filter choice reads the whole table
    # Rendering a changelist row costs ~2-5 ms of Django admin Python: 50 rows keep a page
    # near 150-300 ms (bench/README.md, "Admin lists at a million rows").
    list_per_page = 50

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


_ID_PREFIX = re.compile(r"^[0-9a-f-]{4,36}$")


def id_prefix_filter(queryset, term: str, fields: tuple[str, ...]):
    """The rows whose id (or a linked id) starts with ``term``, as the lists show ids: the
    first characters of a UUID. ``None`` when ``term`` does not look like an id prefix.

    A prefix is a range of UUIDs (``6220eb5d`` is every id from ``6220eb5d-0000-…`` to
    ``6220eb5d-ffff-…``): each field is searched through its index, on every database.
    """
    digits = term.strip().lower().replace("-", "")
    if not fields or not _ID_PREFIX.match(term.strip().lower()) or not 4 <= len(digits) <= 32:
        return None  # "----" would be every id
    low, high = uuid.UUID(digits.ljust(32, "0")), uuid.UUID(digits.ljust(32, "f"))
    condition = Q()
    for name in fields:
        condition |= Q(**{f"{_id_path(queryset.model, name)}__range": (low, high)})
    return queryset.filter(condition)


def _id_path(model, name: str) -> str:
    """``order_id`` or ``order`` names the linked row's id; lookups need ``order__pk``."""
    try:
        field = model._meta.get_field(name)
    except FieldDoesNotExist:  # a path through relations, ending in an id
        return name
    return f"{field.name}__pk" if field.is_relation else name


class IndexedValuesFilter(admin.AllValuesFieldListFilter):
    """Django's filter by a column's values, without ``SELECT DISTINCT`` over the table.

    On PostgreSQL the values are found by skipping through an index that starts with the
    column (a recursive query, one index probe per distinct value: milliseconds at a million
    rows); elsewhere Django's own query. The column needs such an index.
    """

    def __init__(self, field, request, params, model, model_admin, field_path):
        super().__init__(field, request, params, model, model_admin, field_path)
        if connection.vendor == "postgresql" and "__" not in field_path:
            self.lookup_choices = distinct_through_index(model, field.column)


def distinct_through_index(model, column: str) -> list:
    table = connection.ops.quote_name(model._meta.db_table)
    column = connection.ops.quote_name(column)
    # Names come from the model's metadata, quoted; no value is interpolated.
    sql = f"""
        WITH RECURSIVE found(value) AS (
            (SELECT {column} FROM {table} WHERE {column} IS NOT NULL ORDER BY 1 LIMIT 1)
            UNION ALL
            SELECT (SELECT {column} FROM {table} WHERE {column} > found.value ORDER BY 1 LIMIT 1)
            FROM found WHERE found.value IS NOT NULL
        )
        SELECT value FROM found WHERE value IS NOT NULL
    """  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(sql)
        return [value for (value,) in cursor.fetchall()]


def timeline_table(items: list, describe) -> str:
    """A timeline as a table: each item has its ``when`` and its ``source`` (what kind of
    record it is); ``describe(item)`` → (what, who, detail)."""
    return html_table(
        ["when", "source", "what", "who", "detail"],
        [(item.when, item.source, *describe(item)) for item in items],
    )


def add_site_view(route: str, view, *, name: str, site: admin.AdminSite = admin.site) -> None:
    """A back-office page that belongs to no model (an app's overview), served by the admin
    site itself: under ``/admin/<route>``, behind its login, named ``admin:<name>``. Call it
    from an app's admin module (the admin autodiscovers those before the URLs are read)."""
    extra = getattr(site, "_veza_site_views", None)
    if extra is None:
        extra = site._veza_site_views = []
        model_urls = site.get_urls
        # Before the model URLs: the site's catch-all would otherwise answer first.
        site.get_urls = lambda: [*extra, *model_urls()]
    extra.append(path(route, site.admin_view(view), name=name))
