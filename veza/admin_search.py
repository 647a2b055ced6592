"""The back-office's free-text search, served by indexes at millions of rows.

Django's admin search is ``icontains`` over every search field, OR'd across joins
(``buyer__email``): PostgreSQL must read every row of the list's table, and of the joined
ones, to answer it — 0.8–3.6 s at a million rows (bench/README.md). Here each search field
names its own lookup, an exact or prefix match an index serves:

- ``"hyperswitch_payment_id__startswith"``: a provider's id, case as the provider gives it,
  through the ``varchar_pattern_ops`` index Django builds beside any unique or indexed
  ``CharField`` on PostgreSQL (``…_like``);
- ``"buyer__email__istartswith"``: an email or a name in any case, through an index on
  ``UPPER(column) text_pattern_ops`` (the indexes migrations named ``*search_indexes*``).

Each field is searched on its own, as ``SELECT pk … WHERE <one indexed condition>``, and
the matches are the UNION of those: one index probe per field instead of one scan for all
of them. A term that looks like the start of an id (the 8 characters the lists show) is also
searched as a range of ids (``id_prefix_fields``). Several words must each match (as in
Django's search). A word that cannot be a value of a field (longer than the column, an
invalid IP address) skips that field. Every ``search_fields`` entry must end in one of
``SEARCH_LOOKUPS``: a contains-search would scan again.
"""

from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.db.models import CharField, Model, QuerySet, TextField
from django.db.models.constants import LOOKUP_SEP
from django.utils.text import smart_split, unescape_string_literal

from veza.admin_tools import id_prefix_filter

SEARCH_LOOKUPS = ("exact", "iexact", "startswith", "istartswith")


class IndexedSearchMixin:
    """A ModelAdmin's search as a UNION of index-served matches (module docstring)."""

    id_prefix_fields: tuple[str, ...] = ("id",)

    def get_search_results(self, request, queryset: QuerySet, search_term: str):
        words = search_words(search_term)
        if not words:
            return queryset, False
        fields = [search_field(self.model, spec) for spec in self.get_search_fields(request)]
        for word in words:
            queryset = queryset.filter(pk__in=matching_pks(self.model, word, fields, self))
        return queryset, False  # ``pk IN (…)`` never repeats a row


def search_words(search_term: str) -> list[str]:
    """The words of a search, as Django's admin splits them (quotes keep spaces)."""
    words = []
    for bit in smart_split(search_term or ""):
        if bit.startswith(('"', "'")) and bit[0] == bit[-1]:
            bit = unescape_string_literal(bit)
        if bit.strip():
            words.append(bit.strip())
    return words


def search_field(model: type[Model], spec: str) -> tuple[str, object]:
    """``"buyer__email__istartswith"`` → (the spec, the model field it ends on); refuses a
    spec without one of ``SEARCH_LOOKUPS`` (Django's default would be ``icontains``)."""
    *path, lookup = spec.split(LOOKUP_SEP)
    if lookup not in SEARCH_LOOKUPS or not path:
        raise ValueError(f"{model.__name__} search field {spec!r}: end it in {SEARCH_LOOKUPS}")
    opts, field = model._meta, None
    for name in path:
        try:
            field = opts.get_field(name)
        except FieldDoesNotExist:
            raise ValueError(f"{model.__name__} search field {spec!r}: no field {name}") from None
        if field.is_relation:
            opts = field.related_model._meta
    return spec, field


def fits(field, word: str) -> bool:
    """Whether ``word`` can be (the start of) a value of ``field``: a longer word, or a word
    the column's type refuses (an IP address column and ``alice``, a number column and
    ``bob``), cannot match — and would be a database error for some types."""
    if isinstance(field, CharField | TextField):
        return not (field.max_length and len(word) > field.max_length)
    try:
        field.clean(word, None)
    except ValidationError:
        return False
    return True


def matching_pks(model: type[Model], word: str, fields, model_admin=None) -> QuerySet:
    """The pks of the rows one of ``fields`` matches ``word`` in (or whose id starts with it):
    a UNION of one index-served SELECT per field."""
    rows = model._default_manager.order_by()  # no ORDER BY inside a UNION
    arms = [rows.filter(**{spec: word}).values("pk") for spec, field in fields if fits(field, word)]
    for name in getattr(model_admin, "id_prefix_fields", ()):
        by_prefix = id_prefix_filter(rows, word, (name,))
        if by_prefix is not None:
            arms.append(by_prefix.values("pk"))
    if not arms:
        return rows.none().values("pk")
    first, *others = arms
    return first.union(*others) if others else first


def search_indexes(*indexes: tuple[str, str, str]):
    """A migration operation adding the indexes the search (and the lists' value filters)
    need on PostgreSQL (SQLite, for development and tests, has no operator classes; its
    tables are small): each index is
    (name, table, what it indexes), e.g. ``("user_email_upper_idx", "accounts_user",
    "UPPER(email) text_pattern_ops")`` — what ``UPPER(email::text) LIKE UPPER('ali%')``, the
    SQL of ``email__istartswith``, reads through. Built ``CONCURRENTLY`` (the migration must
    be ``atomic = False``): a million-row table keeps taking writes meanwhile."""
    from django.db import migrations

    def add(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        for name, table, columns in indexes:
            schema_editor.execute(
                f'CREATE INDEX CONCURRENTLY IF NOT EXISTS "{name}" ON "{table}" ({columns})'
            )

    def drop(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        for name, _, _ in indexes:
            schema_editor.execute(f'DROP INDEX CONCURRENTLY IF EXISTS "{name}"')

    return migrations.RunPython(add, drop)
