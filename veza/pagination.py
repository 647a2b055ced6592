"""Page-number pagination whose ``count`` does not scan a big table.

The contract: ``count`` is exact up to ``EXACT_COUNT_LIMIT`` matches; past that it may be an
estimate, and then the body says ``"count_is_estimate": true``. Counting at most
``EXACT_COUNT_LIMIT + 1`` rows bounds the exact part; past it PostgreSQL's planner estimate
(one ``EXPLAIN``) gives the figure, cached briefly so a busy list does not ask again on every
request. SQLite (development, tests) has no such estimate and counts exactly.
"""

import hashlib
import json
import re
from functools import partial

from django.core.cache import cache
from django.core.paginator import EmptyPage, Paginator
from django.db import connections
from django.utils.functional import cached_property
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.pagination import PageNumberPagination

EXACT_COUNT_LIMIT = 10_000
ESTIMATE_CACHE_SECONDS = 60


def planner_estimate(queryset) -> int | None:
    """PostgreSQL's row estimate for ``queryset`` (no rows read); None elsewhere."""
    connection = connections[queryset.db]
    if connection.vendor != "postgresql":
        return None
    sql, params = queryset.order_by().values("pk").query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}", params)
        plan = cursor.fetchone()[0]
    if isinstance(plan, str):
        plan = json.loads(plan)
    return int(plan[0]["Plan"]["Plan Rows"])


class EstimatedCountPaginator(Paginator):
    """A Django paginator whose ``count`` is exact up to ``exact_limit``, else an estimate."""

    exact_limit = EXACT_COUNT_LIMIT
    count_is_estimate = False

    def __init__(self, *args, count_key: str | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.count_key = count_key

    def _cache_key(self) -> str | None:
        if self.count_key is not None:
            # Given by the caller (the API: path, caller, filters): no SQL to compile.
            digest = hashlib.sha256(f"{self.exact_limit}|{self.count_key}".encode()).hexdigest()
            return f"veza:count-estimate:{digest}"
        query = getattr(self.object_list, "query", None)
        if query is None:
            return None
        try:
            sql, params = query.sql_with_params()
        except Exception:  # noqa: BLE001 - an empty-result query has no SQL
            return None
        digest = hashlib.sha256(f"{self.exact_limit}|{sql}|{params!r}".encode()).hexdigest()
        return f"veza:count-estimate:{digest}"

    @cached_property
    def count(self) -> int:
        if not hasattr(self.object_list, "query"):
            return len(self.object_list)
        key = self._cache_key()
        if key is not None:
            cached = cache.get(key)
            if cached is not None:
                self.count_is_estimate = True
                return cached
        bounded = self.object_list.order_by()[: self.exact_limit + 1].count()
        if bounded <= self.exact_limit:
            return bounded
        estimate = planner_estimate(self.object_list)
        if estimate is None:
            return self.object_list.count()
        # The planner may guess low; we know for certain there are more than the limit.
        estimate = max(estimate, self.exact_limit + 1)
        self.count_is_estimate = True
        if key is not None:
            cache.set(key, estimate, ESTIMATE_CACHE_SECONDS)
        return estimate

    def page(self, number):
        number = self.validate_number(number)  # evaluates ``count`` first
        if not self.count_is_estimate:
            return super().page(number)
        # An estimate may be low: never cut a page short at it (Django's ``page`` would).
        bottom = (number - 1) * self.per_page
        return self._get_page(self.object_list[bottom : bottom + self.per_page], number, self)

    def validate_number(self, number):
        try:
            return super().validate_number(number)
        except EmptyPage:
            if not self.count_is_estimate:
                raise
            # Past an estimated last page there may still be rows: answer what is there.
            return int(number)


POSITIVE_INTEGER = re.compile(r"^[1-9][0-9]*$")


class VezaPagination(PageNumberPagination):
    page_size = 20
    page_size_query_param = "page_size"
    max_page_size = 100
    # Only numbers: the schema says `page` is an integer ≥ 1, and the server takes no more.
    last_page_strings = ()

    def paginate_queryset(self, queryset, request, view=None):
        # DRF would read `?page=` as page 1 and a bad `?page_size=` as the default; what the
        # schema refuses, the server refuses too (404 for a page, as DRF's own invalid page).
        page = request.query_params.get(self.page_query_param)
        if page is not None and not POSITIVE_INTEGER.match(page):
            raise NotFound("Invalid page.")
        size = request.query_params.get(self.page_size_query_param)
        if size is not None and not POSITIVE_INTEGER.match(size):
            raise ValidationError(
                {self.page_size_query_param: ["A positive integer (at most 100 are sent)."]}
            )
        return super().paginate_queryset(queryset, request, view)

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            # No maximum for page_size: a larger one is answered with max_page_size rows.
            parameter["schema"]["minimum"] = 1
        return parameters

    @property
    def django_paginator_class(self):
        # DRF sets ``self.request`` before it builds the paginator. The list's rows depend on
        # the path, the caller and the query string but the page: that names its count.
        request = getattr(self, "request", None)
        if request is None:
            return EstimatedCountPaginator
        params = sorted(
            (k, v)
            for k, v in request.query_params.lists()
            if k not in (self.page_query_param, self.page_size_query_param)
        )
        user = getattr(request, "user", None)
        caller = user.pk if user is not None and user.is_authenticated else "-"
        key = f"{request.path}|{caller}|{params!r}"
        return partial(EstimatedCountPaginator, count_key=key)

    def get_paginated_response(self, data):
        response = super().get_paginated_response(data)
        if getattr(self.page.paginator, "count_is_estimate", False):
            response.data["count_is_estimate"] = True
        return response

    def get_paginated_response_schema(self, schema):
        schema = super().get_paginated_response_schema(schema)
        # Always sent (next/previous as null at the ends); only count_is_estimate may be absent.
        schema["required"] = ["count", "next", "previous", "results"]
        schema["properties"]["count_is_estimate"] = {
            "type": "boolean",
            "description": "Present and true when `count` is an estimate (past "
            f"{EXACT_COUNT_LIMIT:,} matches); absent when it is exact.",
        }
        return schema
