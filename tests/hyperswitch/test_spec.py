"""The vendored excerpt of Hyperswitch's OpenAPI document, and our bodies held against it."""

import json

import httpx
import pytest
from openapi_schema_validator import OAS30Validator
from openapi_spec_validator import OpenAPIV30SpecValidator, validate

from tests.fakes.psp import RunningPSP
from tests.hyperswitch import spec
from tests.hyperswitch.webhook_bodies import BODIES, OBJECT_SCHEMAS

SCHEMAS = spec.document()["components"]["schemas"]


def test_the_excerpt_is_a_valid_openapi_3_document_but_for_one_published_defect():
    # Hyperswitch's own document gives RefundRequest.refund_type the default "Instant", which
    # is not one of its enum values ("instant"): kept verbatim, and the only error.
    errors = [e.message for e in OpenAPIV30SpecValidator(spec.document()).iter_errors()]
    assert errors == ["'Instant' is not one of ['scheduled', 'instant']"]
    fixed = json.loads(json.dumps(spec.document()))
    fixed["components"]["schemas"]["RefundRequest"]["properties"]["refund_type"]["default"] = (
        "instant"
    )
    validate(fixed)


@pytest.mark.parametrize("name", sorted(SCHEMAS))
def test_each_schema_compiles_and_every_ref_resolves(name):
    OAS30Validator.check_schema(SCHEMAS[name])
    refs = []

    def walk(node):
        if isinstance(node, dict):
            if "$ref" in node:
                refs.append(node["$ref"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(SCHEMAS[name])
    prefix = "#/components/schemas/"
    assert all(ref.startswith(prefix) and ref[len(prefix) :] in SCHEMAS for ref in refs)


def test_placeholders_are_exactly_the_empty_schemas():
    empty = sorted(name for name, schema in SCHEMAS.items() if schema == {})
    assert empty == spec.document()["x-veza-excerpt"]["not_vendored"]


@pytest.mark.parametrize("name", sorted(BODIES))
def test_each_full_webhook_body_validates_against_outgoing_webhook(name):
    body = BODIES[name]
    assert spec.problems("OutgoingWebhook", body) == []
    content = body["content"]
    assert spec.problems(OBJECT_SCHEMAS[content["type"]], content["object"]) == []


@pytest.mark.parametrize("name", sorted(BODIES))
def test_webhook_bodies_use_only_published_fields(name):
    content = BODIES[name]["content"]
    published = SCHEMAS[OBJECT_SCHEMAS[content["type"]]]["properties"]
    assert set(content["object"]) <= set(published)


def test_every_event_type_we_handle_is_a_published_event_type():
    published = set(SCHEMAS["EventType"]["enum"])
    assert {body["event_type"] for body in BODIES.values()} <= published


def test_every_payout_status_is_covered_by_a_fixture_or_the_fake():
    statuses = {BODIES[name]["content"]["object"]["status"] for name in BODIES if "payout" in name}
    assert {"ineligible", "requires_payout_method_data", "success", "reversed"} <= statuses
    assert statuses <= set(SCHEMAS["PayoutStatus"]["enum"])


def test_a_wrong_enum_or_type_is_a_problem_and_lengths_are_only_advisories():
    refund = BODIES["refund_succeeded"]["content"]["object"]
    assert spec.problems("RefundResponse", {**refund, "status": "done"})
    assert spec.problems("RefundResponse", {**refund, "amount": "1200"})
    short = {**refund, "amount": 50}
    assert spec.problems("RefundResponse", short) == []
    assert spec.advisories("RefundResponse", short)


def test_payout_id_is_accepted_on_payout_create_though_the_schema_omits_it():
    assert "payout_id" not in SCHEMAS["PayoutsCreateRequest"]["properties"]
    body = {"payout_id": "p", "amount": 1, "currency": "EUR"}
    assert spec.problems("PayoutsCreateRequest", body, request=True) == []
    assert spec.problems("PayoutsCreateRequest", {**body, "payout_ids": "p"}, request=True)


# The fake itself, spoken to directly (no API in between).


@pytest.fixture
def fake():
    with RunningPSP() as running:
        yield running


def _post(fake, path, body, **kw):
    headers = {"api-key": fake.api_key}
    return httpx.post(f"{fake.url}{path}", json=body, headers=headers, timeout=5, **kw)


def test_the_fake_answers_ir_06_for_an_unknown_field_and_records_it(fake):
    response = _post(fake, "/refunds", {"payment_id": "pay_1", "refund_id": "r", "foo": 1})
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "IR_06"
    assert set(response.json()["error"]) == {"type", "message", "code"}
    assert "unknown field `foo`" in response.json()["error"]["message"]
    assert fake.violations and fake.refunds == {}


def test_the_fake_answers_he_01_for_a_refund_id_it_has_seen(fake):
    body = {"payment_id": "pay_1", "refund_id": "r1", "amount": 1200}
    assert _post(fake, "/refunds", body).status_code == 200
    again = _post(fake, "/refunds", body)
    assert again.status_code == 400 and again.json()["error"]["code"] == "HE_01"
    assert fake.violations == [] and fake.response_errors == []


def test_the_fake_answers_404_he_02_and_records_force_sync(fake):
    response = httpx.get(
        f"{fake.url}/refunds/nope?force_sync=true", headers={"api-key": fake.api_key}
    )
    assert response.status_code == 404 and response.json()["error"]["code"] == "HE_02"
    payout = httpx.get(f"{fake.url}/payouts/nope", headers={"api-key": fake.api_key})
    assert payout.status_code == 404 and payout.json()["error"]["code"] == "HE_02"
    assert [c.force_sync for c in fake.calls] == [True, None]


def test_the_fake_answers_422_ir_29_for_a_lapsed_token(fake):
    fake.payout_mode = "token_expired"
    response = _post(fake, "/payouts/create", {"payout_id": "p1", "amount": 1, "currency": "EUR"})
    assert response.status_code == 422
    assert response.json()["error"] == {
        "type": "invalid_request",
        "message": "Token is invalid or expired",
        "code": "IR_29",
    }
    assert fake.payouts == {}


@pytest.mark.parametrize("status", SCHEMAS["PayoutStatus"]["enum"])
def test_the_fake_answers_every_payout_status_within_the_schema(fake, status):
    fake.payout_status, fake.payout_method_id = status, "pm_123"
    body = {"payout_id": "p1", "amount": 1800, "currency": "EUR", "payout_type": "bank"}
    response = _post(fake, "/payouts/create", body)
    assert response.status_code == 200
    assert response.json()["status"] == status
    assert response.json()["payout_method_id"] == "pm_123"
    assert fake.response_errors == []


def test_the_fake_takes_evidence_files_and_accepts_disputes(fake):
    upload = httpx.post(
        f"{fake.url}/files",
        headers={"api-key": fake.api_key},
        data={"purpose": "dispute_evidence", "file_type": "application/pdf"},
        files={"file": ("invoice.pdf", b"%PDF-1.4", "application/pdf")},
        timeout=5,
    )
    assert upload.status_code == 200
    file_id = upload.json()["file_id"]
    assert fake.files[file_id]["file"] == b"%PDF-1.4"
    evidence = {"dispute_id": "dp_1", "receipt": file_id, "service_documentation": file_id}
    assert _post(fake, "/disputes/evidence", evidence).status_code == 200
    assert fake.evidence["dp_1"] == evidence
    wrong = _post(fake, "/disputes/evidence", {"dispute_id": "dp_1", "receipts": file_id})
    assert wrong.status_code == 400 and fake.violations
    fake.violations.clear()
    fake.add_dispute(BODIES["dispute_opened"]["content"]["object"])
    dispute_id = BODIES["dispute_opened"]["content"]["object"]["dispute_id"]
    accepted = httpx.post(
        f"{fake.url}/disputes/accept/{dispute_id}", headers={"api-key": fake.api_key}
    )
    assert accepted.status_code == 200
    assert accepted.json()["dispute_status"] == "dispute_accepted"
    assert fake.accepted_disputes == [dispute_id] and fake.response_errors == []


def test_a_file_without_the_evidence_purpose_is_refused(fake):
    upload = httpx.post(
        f"{fake.url}/files",
        headers={"api-key": fake.api_key},
        data={"purpose": "other", "file_type": "application/pdf"},
        files={"file": ("x.pdf", b"x", "application/pdf")},
        timeout=5,
    )
    assert upload.status_code == 400 and fake.violations


def test_the_bodies_module_does_not_import_payments():
    # payments' module paths are moving; the fixtures must not depend on them.
    source = (spec.DOCUMENT_PATH.parent / "webhook_bodies.py").read_text()
    imports = [line for line in source.splitlines() if line.startswith(("import ", "from "))]
    assert not any("payments" in line for line in imports)
    assert json.loads(json.dumps(BODIES)) == BODIES
