"""Building blocks of the back-office shared by every app's admin."""

from django.contrib import admin
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
