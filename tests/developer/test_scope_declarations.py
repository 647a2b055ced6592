"""Every view of the API states what an API key needs there — a new endpoint cannot be
forgotten — and the OpenAPI schema shows it."""

from django.urls import URLPattern, URLResolver, get_resolver
from rest_framework.views import APIView

from veza.scopes import SCOPES, Undeclared, required_scope


def _patterns(resolver=None, prefix=""):
    for entry in (resolver or get_resolver()).url_patterns:
        if isinstance(entry, URLResolver):
            yield from _patterns(entry, prefix + str(entry.pattern))
        elif isinstance(entry, URLPattern):
            yield prefix + str(entry.pattern), entry.callback


def api_operations():
    """(route, view class, method, action) for every DRF view of the API (/api/v1/...)."""
    for route, callback in _patterns():
        cls = getattr(callback, "cls", None)
        if not route.startswith("api/v1/"):
            continue  # probes and the schema itself: no credentials at all
        if cls is None or not issubclass(cls, APIView):
            continue
        actions = getattr(callback, "actions", None)
        if actions:
            for method, action in actions.items():
                yield route, cls, method.upper(), action
        else:
            for method in cls.http_method_names:
                if method != "options" and hasattr(cls, method):
                    yield route, cls, method.upper(), None


def test_the_walk_finds_the_api():
    routes = {route for route, *_ in api_operations()}
    assert "api/v1/developer/api-keys" in routes
    assert "api/v1/tracks" in routes
    assert "api/v1/admin/audit/logs" in routes
    assert len(routes) > 40


def test_every_view_and_action_declares_an_api_key_scope():
    missing, unknown = [], []
    for route, cls, method, action in api_operations():
        view = cls()
        view.action = action
        try:
            scope = required_scope(view, method)
        except Undeclared:
            missing.append(f"{method} {route} ({cls.__name__}.{action or method.lower()})")
            continue
        if scope is not None and scope not in SCOPES:
            unknown.append(f"{method} {route}: {scope}")
    assert missing == [], "views without api_key_scopes:\n" + "\n".join(missing)
    assert unknown == []


def test_staff_internal_and_key_management_endpoints_refuse_keys():
    refused = {
        "api/v1/developer/api-keys",
        "api/v1/admin/audit/logs",
        "api/v1/admin/audit/stats",
        "api/v1/admin/audit/suspicious",
        "api/v1/chat/token",
        "api/v1/internal/tracks/<uuid:pk>/stream-ready",
        "api/v1/webhooks/hyperswitch",
        "api/v1/users",
    }
    for route, cls, method, action in api_operations():
        if route in refused:
            view = cls()
            view.action = action
            assert required_scope(view, method) is None, (route, method)


def test_schema_documents_the_api_key_scheme_and_each_operations_scope(api_client, db):
    schema = api_client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()

    assert schema["components"]["securitySchemes"]["apiKeyAuth"]["type"] == "apiKey"
    tracks_list = schema["paths"]["/api/v1/tracks"]["get"]
    assert tracks_list["x-scopes"] == ["tracks:read"]
    assert "`tracks:read`" in tracks_list["description"]
    assert {"apiKeyAuth": []} in tracks_list["security"]
    keys = schema["paths"]["/api/v1/developer/api-keys"]["post"]
    assert keys["x-scopes"] == []
    assert all("apiKeyAuth" not in entry for entry in keys["security"])
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            if isinstance(operation, dict) and "responses" in operation:
                assert "x-scopes" in operation, (method, path)
