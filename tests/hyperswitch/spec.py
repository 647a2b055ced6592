"""The vendored excerpt of Hyperswitch's published OpenAPI document, ready to validate against.

``problems(name, body)`` lists what Hyperswitch's own schema says is wrong with a body: field
names (``additionalProperties`` where published, and for requests every field outside the
published ``properties``), types, enums, required fields and nullability. Length and range
keywords (``minLength``/``maxLength``/``minimum``/``maximum``) are reported separately by
``advisories``: the generated document gives ids a length of exactly 30 while Hyperswitch itself
recommends a UUID v4 (36 characters) as ``refund_id``, and the contract only asks for names,
types and enums.
"""

import json
from functools import cache
from pathlib import Path

from jsonschema import validators
from openapi_schema_validator import OAS30Validator

DOCUMENT_PATH = Path(__file__).with_name("openapi_subset.json")
RELAXED_KEYWORDS = ("minLength", "maxLength", "minimum", "maximum")

# Fields the server accepts though the generated schema omits them (the contract names them).
ALSO_ACCEPTED = {"PayoutsCreateRequest": ("payout_id",)}


@cache
def document() -> dict:
    return json.loads(DOCUMENT_PATH.read_text())


def _nullable_as_any_of(node):
    """Read the document as Hyperswitch means it. utoipa writes an optional ``$ref`` as ``{"allOf": [ref], "nullable": true}``; OAS 3.0
    validators then refuse ``null`` inside the ``allOf``. Spell the intent out: null, or the
    schema."""
    if isinstance(node, list):
        return [_nullable_as_any_of(item) for item in node]
    if not isinstance(node, dict):
        return node
    # A ``discriminator`` without ``mapping`` makes OAS validators look for a schema named after
    # the value ("refund_details"); the ``oneOf`` branches' enums discriminate on their own.
    node = {
        key: _nullable_as_any_of(value) for key, value in node.items() if key != "discriminator"
    }
    if node.get("nullable") is True:
        rest = {key: value for key, value in node.items() if key != "nullable"}
        return {"anyOf": [{"enum": [None]}, rest]}
    return node


@cache
def _components() -> dict:
    return _nullable_as_any_of(document()["components"])


def _ignore(validator, value, instance, schema):
    return iter(())


_Relaxed = validators.extend(OAS30Validator, {keyword: _ignore for keyword in RELAXED_KEYWORDS})


def _schema(name: str) -> dict:
    if name not in document()["components"]["schemas"]:
        raise KeyError(f"{name} is not in the vendored document")
    return {"$ref": f"#/components/schemas/{name}", "components": _components()}


def _describe(error) -> str:
    where = ".".join(str(part) for part in error.absolute_path) or "<body>"
    return f"{where}: {error.message}"


def problems(name: str, body, *, request: bool = False) -> list[str]:
    """What the published schema ``name`` rejects in ``body`` (lengths and ranges aside)."""
    found = [_describe(e) for e in _Relaxed(_schema(name)).iter_errors(body)]
    published = document()["components"]["schemas"][name]
    if request and isinstance(body, dict) and published.get("additionalProperties") is not False:
        known = set(published.get("properties", {})) | set(ALSO_ACCEPTED.get(name, ()))
        found += [f"{key}: unknown field" for key in sorted(set(body) - known)]
    return found


def unknown_fields(name: str, body: dict) -> list[str]:
    known = set(document()["components"]["schemas"][name].get("properties", {}))
    return sorted(set(body) - known - set(ALSO_ACCEPTED.get(name, ())))


def advisories(name: str, body) -> list[str]:
    """Length and range notes the published schema makes that the contract does not enforce."""
    return [
        _describe(e)
        for e in OAS30Validator(_schema(name)).iter_errors(body)
        if e.validator in RELAXED_KEYWORDS
    ]
