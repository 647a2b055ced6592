"""Building blocks of the back-office shared by every app's admin."""

import re

from django.contrib import admin
from django.db import connection
from django.db.models import CharField, Q
from django.db.models.functions import Cast
from django.utils.html import format_html, format_html_join

from veza.pagination import EstimatedCountPaginator


def html_table(headers: list[str], rows: list[tuple]) -> str:
    """A small read-only table for an admin detail page (cells are escaped)."""
    if not rows:
        return format_html("<em>{}</em>", "none")
    head = format_html_join("", "<th>{}</th>", ((h,) for h in headers))
    body = format_html_join(
        "",
        "<tr>{}</tr>",
        ((format_html_join("", "<td>{}</td>", ((cell,) for cell in row)),) for row in rows),
    )
    return format_html("<table><thead><tr>{}</tr></thead><tbody>{}</tbody></table>", head, body)


class ReadOnlyAdmin(admin.ModelAdmin):
    """Visible to those allowed to view, changeable by nobody (superusers included): these
    rows change through actions that call services, never through a form.

    These tables grow to millions of rows: the changelist never counts the whole table
    (``show_full_result_count``) and its paginator counts exactly only up to 10,000 matches,
    then shows PostgreSQL's estimate."""

    show_full_result_count = False
    paginator = EstimatedCountPaginator

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

    PostgreSQL casts a UUID to its dashed text; SQLite stores the 32 hex digits, so there the
    dashes are dropped from the prefix.
    """
    term = term.strip().lower()
    if not fields or not _ID_PREFIX.match(term):
        return None
    if connection.vendor != "postgresql":
        term = term.replace("-", "")
    aliases = {f"{name}__as_text": Cast(name, CharField()) for name in fields}
    condition = Q()
    for alias in aliases:
        condition |= Q(**{f"{alias}__startswith": term})
    return queryset.alias(**aliases).filter(condition)


class IdPrefixSearchMixin:
    """Search also finds a row by the prefix of its id, or of a linked row's id."""

    id_prefix_fields: tuple[str, ...] = ("id",)

    def get_search_results(self, request, queryset, search_term):
        found, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        by_prefix = id_prefix_filter(queryset, search_term, self.id_prefix_fields)
        if by_prefix is None:
            return found, may_have_duplicates
        matching = by_prefix.values("pk")
        return queryset.filter(Q(pk__in=matching) | Q(pk__in=found.values("pk"))), False


def timeline_table(items: list[dict], describe) -> str:
    """A timeline as a table: ``describe(item)`` → (what, who, detail) for each entry."""
    return html_table(
        ["when", "source", "what", "who", "detail"],
        [(item["when"], item["source"], *describe(item)) for item in items],
    )
