"""Each operation of the OpenAPI document says what the server does: the error statuses it can
answer with the ``{detail, code}`` body and the codes as an enum, security as enforced (public
operations accept no credentials), and query parameters no wider than the server takes."""

import pytest
from drf_spectacular.generators import SchemaGenerator

from tests.factories import UserFactory
from tests.tracks.factories import TrackFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def schema():
    return SchemaGenerator().get_schema(request=None, public=True)


def _operations(schema):
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            yield f"{method.upper()} {path}", operation


def _codes(response: dict) -> set[str]:
    schema = response["content"]["application/json"]["schema"]
    return set(schema["allOf"][1]["properties"]["code"]["enum"])


def test_the_error_body_is_a_component(schema):
    error = schema["components"]["schemas"]["Error"]
    assert set(error["required"]) == {"detail", "code"}


def test_every_api_operation_documents_the_refusals_of_credentials_and_rate_limits(schema):
    checked = 0
    for label, operation in _operations(schema):
        if not any(requirement for requirement in operation.get("security", [])):
            continue  # reads no credentials: signed links, the PSP's webhook, the probes
        responses = operation["responses"]
        assert {"401", "403", "429"} <= set(responses), label
        assert "not_authenticated" in _codes(responses["401"]), label
        assert "insufficient_scope" in _codes(responses["403"]), label
        assert responses["429"]["headers"]["Retry-After"]["required"] is True, label
        if "requestBody" in operation:
            assert {"400", "415"} <= set(responses), label
        if any(parameter["in"] == "path" for parameter in operation.get("parameters", [])):
            assert "404" in responses, label
        checked += 1
    assert checked > 80


def test_domain_codes_are_an_enum_of_their_operation(schema):
    refund = schema["paths"]["/api/v1/marketplace/orders/{id}/refund"]["post"]["responses"]
    assert {"refund_already_requested", "refund_window_expired", "invalid_refund_items"} <= (
        _codes(refund["400"])
    )
    assert _codes(refund["502"]) == {"psp_error"}
    login = schema["paths"]["/api/v1/auth/login"]["post"]["responses"]
    assert "invalid_credentials" in _codes(login["401"])
    # A code of another operation is not offered here.
    assert "refund_window_expired" not in _codes(login["401"])


def test_public_operations_accept_no_credentials_and_private_ones_need_them(schema):
    public = schema["paths"]["/api/v1/tracks"]["get"]["security"]
    assert {} in public
    private = schema["paths"]["/api/v1/auth/me"]["get"]["security"]
    assert {} not in private


def test_pages_are_integers_from_one(schema):
    parameters = {p["name"]: p for p in schema["paths"]["/api/v1/tracks"]["get"]["parameters"]}
    assert parameters["page"]["schema"] == {"type": "integer", "minimum": 1}
    assert parameters["page_size"]["schema"]["minimum"] == 1


@pytest.mark.parametrize("page", ["", "0", "-1", "1.5", "last", "two"])
def test_a_page_that_is_not_a_positive_integer_is_404(api_client, page):
    TrackFactory(creator=UserFactory())
    response = api_client.get("/api/v1/tracks", {"page": page})
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


@pytest.mark.parametrize("size", ["", "0", "l", "-5"])
def test_a_page_size_that_is_not_a_positive_integer_is_400(api_client, size):
    response = api_client.get("/api/v1/tracks", {"page_size": size})
    assert response.status_code == 400
    assert response.json()["code"] == "invalid"


def test_a_page_size_past_the_maximum_is_answered_with_the_maximum(api_client):
    response = api_client.get("/api/v1/tracks", {"page_size": "100000000000000000000"})
    assert response.status_code == 200
