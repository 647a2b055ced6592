"""Shared serializer building blocks."""

import copy


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
