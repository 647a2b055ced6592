"""The OpenAPI document tells a typed client the truth about response bodies: a property the
server always sends is `required`, a property that can be null is `nullable`.

Walks every schema component that a 2xx response reaches and holds it against the serializer
drf-spectacular built it from. DRF's ``Serializer.to_representation`` emits every readable field
of a model instance; it leaves a field out only when the attribute is missing and the field
is declared ``required=False`` without a default (a dict-backed body such as a data export's
``download_url``). Any other field is always there, so the schema must require it.
"""

import pytest
from django.db import models
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.plumbing import ResolvedComponent
from rest_framework import serializers
from rest_framework.fields import empty


@pytest.fixture(scope="module")
def generated():
    generator = SchemaGenerator()
    schema = generator.get_schema(request=None, public=True)
    return schema, generator.registry


def _reached_from_success(schema: dict) -> set[str]:
    components = schema["components"]["schemas"]
    reached: set[str] = set()

    def walk(node):
        if isinstance(node, dict):
            ref = node.get("$ref", "")
            if ref.startswith("#/components/schemas/"):
                name = ref.rsplit("/", 1)[1]
                if name not in reached:
                    reached.add(name)
                    walk(components[name])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    for operations in schema["paths"].values():
        for operation in operations.values():
            for status, response in operation.get("responses", {}).items():
                if str(status).startswith("2"):
                    walk(response)
    return reached


def _serializers_by_component(registry) -> dict[str, serializers.Serializer]:
    found = {}
    for (name, kind), component in registry._components.items():
        if kind != ResolvedComponent.SCHEMA:
            continue
        obj = component.object
        if isinstance(obj, type) and issubclass(obj, serializers.BaseSerializer):
            obj = obj()
        if isinstance(obj, serializers.Serializer):
            found[name] = obj
    return found


def _may_be_left_out(serializer: serializers.Serializer, field: serializers.Field) -> bool:
    """Only a field declared optional (``required=False``, no default, not read-only, not
    nullable) is ever skipped by ``to_representation``; model-built fields never are."""
    if field.field_name not in serializer._declared_fields:
        return False
    return not (field.read_only or field.required or field.allow_null) and (field.default is empty)


def _model_field(serializer: serializers.Serializer, field: serializers.Field):
    model = getattr(getattr(serializer, "Meta", None), "model", None)
    if model is None or not field.source or "." in field.source or field.source == "*":
        return None
    try:
        return model._meta.get_field(field.source)
    except Exception:  # noqa: BLE001 - a property or a method, not a column
        return None


def test_every_always_sent_property_of_a_response_is_required(generated):
    schema, registry = generated
    components = schema["components"]["schemas"]
    by_component = _serializers_by_component(registry)
    reached = _reached_from_success(schema)
    checked = 0
    optional_but_sent = []
    for name in sorted(reached):
        serializer = by_component.get(name)
        if serializer is None or name.startswith("Paginated"):
            continue  # the list envelopes: their own test below
        required = set(components[name].get("required", []))
        for field_name, field in serializer.fields.items():
            if field.write_only:
                continue
            checked += 1
            if field_name not in required and not _may_be_left_out(serializer, field):
                optional_but_sent.append(f"{name}.{field_name}")
    assert not optional_but_sent, f"optional in the schema, always sent: {optional_but_sent}"
    # The walk really saw the API's bodies (a broken lookup would pass vacuously).
    assert checked > 400


def test_paginated_lists_require_their_envelope(generated):
    schema, _ = generated
    pages = [
        (name, component)
        for name, component in schema["components"]["schemas"].items()
        if name.startswith("Paginated")
    ]
    assert len(pages) > 15
    for name, component in pages:
        assert set(component["required"]) == {"count", "next", "previous", "results"}, name
        assert component["properties"]["next"]["nullable"] is True, name
        assert "count_is_estimate" not in component["required"]


def test_a_column_that_can_be_null_is_nullable_in_the_response(generated):
    """A declared field reading a NULL-able column must say ``allow_null`` (the schema's
    ``nullable``), or a typed client is told a null never comes."""
    schema, registry = generated
    components = schema["components"]["schemas"]
    not_nullable = []
    columns = 0
    for name, serializer in _serializers_by_component(registry).items():
        if name.endswith("Request") or name.startswith("Paginated") or name not in components:
            continue
        for field_name, field in serializer.fields.items():
            column = _model_field(serializer, field)
            if not isinstance(column, models.Field) or not column.null:
                continue
            columns += 1
            prop = components[name]["properties"].get(field_name, {})
            nullable = prop.get("nullable") or any(
                part.get("nullable") for part in prop.get("allOf", []) + prop.get("oneOf", [])
            )
            if not nullable:
                not_nullable.append(f"{name}.{field_name}")
    assert not not_nullable, f"NULL-able columns typed non-null: {not_nullable}"
    assert columns > 20
