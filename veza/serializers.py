"""Shared serializer building blocks."""

import copy

from rest_framework import serializers


class CachedFieldsMixin:
    """For read serializers on hot lists: ModelSerializer introspects the model to build its
    fields on every instantiation (every request); build them once per class, then hand out
    copies, as DRF itself does for declared fields. Only for serializers whose fields do not
    depend on the instance or the context."""

    def get_fields(self):
        cls = type(self)
        cached = cls.__dict__.get("_veza_cached_fields")
        if cached is None:
            cached = super().get_fields()
            cls._veza_cached_fields = cached
        return copy.deepcopy(cached)


def _json_types(field) -> tuple[type, ...] | None:
    """The JSON types a field takes in a JSON body, as the schema documents it; None when the
    schema types it loosely (decimals as strings, free-form JSON, files)."""
    if isinstance(field, serializers.BooleanField):
        return (bool,)
    if isinstance(field, serializers.IntegerField):
        return (int,)
    if isinstance(field, serializers.FloatField):
        return (int, float)
    if isinstance(field, serializers.ListField | serializers.ListSerializer):
        return (list,)
    if isinstance(field, serializers.MultipleChoiceField):
        return (list,)
    if isinstance(field, serializers.DictField | serializers.Serializer):
        return (dict,)
    if isinstance(field, serializers.ChoiceField):
        return (str,) if all(isinstance(key, str) for key in field.choices) else None
    if isinstance(
        field,
        serializers.CharField
        | serializers.UUIDField
        | serializers.DateTimeField
        | serializers.DateField
        | serializers.PrimaryKeyRelatedField,
    ):
        return (str,)
    return None


_NAMES = {bool: "a boolean", int: "an integer", float: "a number", list: "a list"}
_NAMES.update({dict: "an object", str: "a string"})


# An input serializer that takes, from a JSON body, exactly the JSON types its schema
# documents. DRF coerces (`14` into `"14"`, `"3"` into `3`, `"yes"` into `true`), which would
# make the server accept what the OpenAPI schema calls invalid. Forms and multipart uploads
# (QueryDicts, every value a string) are left to DRF's own parsing. (A comment, not a
# docstring: drf-spectacular would copy a docstring into every input component.)
class JSONInput(serializers.Serializer):
    def to_internal_value(self, data):
        if type(data) is dict:
            errors = {}
            for name, field in self.fields.items():
                if field.read_only or data.get(name) is None:
                    continue  # absent or null: the field's required/allow_null decide
                expected = _json_types(field)
                value = data[name]
                wrong_bool = isinstance(value, bool) and bool not in (expected or ())
                # JSON Schema counts 183.0 as an integer (a service may send one): so do we.
                whole = isinstance(value, float) and value.is_integer() and int in (expected or ())
                if expected is not None and (not isinstance(value, expected) or wrong_bool):
                    if whole:
                        continue
                    errors[name] = [f"Expected {_NAMES[expected[0]]}."]
            if errors:
                raise serializers.ValidationError(errors)
        return super().to_internal_value(data)
