from datetime import UTC

import django_filters
from django import forms
from django_filters.fields import IsoDateTimeField
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from audit import selectors
from audit.api import serializers as s
from audit.models import AuditLog
from veza.permissions import IsAdminRole
from veza.scopes import NO_API_KEYS


class _UtcIsoDateTimeField(IsoDateTimeField):
    """Compares in UTC: Python accepts offsets up to ±23:59, PostgreSQL only up to ±15:59,
    so ``?since=...+22:41`` would otherwise fail in the database with a 500."""

    def to_python(self, value):
        value = super().to_python(value)
        if value is None:
            return None
        try:
            return value.astimezone(UTC)
        except OverflowError as exc:
            raise forms.ValidationError(
                "Enter a date and time within the supported range.", code="invalid"
            ) from exc


class UtcIsoDateTimeFilter(django_filters.IsoDateTimeFilter):
    field_class = _UtcIsoDateTimeField


class AuditLogFilter(django_filters.FilterSet):
    user = django_filters.UUIDFilter(field_name="actor_id", help_text="actor id")
    action = django_filters.CharFilter(help_text="exact action, e.g. auth.login_failed")
    action_prefix = django_filters.CharFilter(field_name="action", lookup_expr="startswith")
    target_type = django_filters.CharFilter()
    target_id = django_filters.CharFilter()
    since = UtcIsoDateTimeFilter(field_name="created_at", lookup_expr="gte")
    until = UtcIsoDateTimeFilter(field_name="created_at", lookup_expr="lte")

    class Meta:
        model = AuditLog
        fields = ["user", "action", "since", "until"]


@extend_schema(tags=["audit"])
class AuditLogListView(generics.ListAPIView):
    """The append-only audit log, newest first (admin role only)."""

    api_key_scopes = NO_API_KEYS

    permission_classes = [IsAuthenticated, IsAdminRole]
    serializer_class = s.AuditLogOutput
    filterset_class = AuditLogFilter
    ordering_fields = ["created_at", "action"]
    ordering = ["-created_at"]
    queryset = AuditLog.objects.select_related("actor")


@extend_schema(tags=["audit"])
class AuditStatsView(APIView):
    api_key_scopes = NO_API_KEYS
    permission_classes = [IsAuthenticated, IsAdminRole]

    @extend_schema(
        parameters=[OpenApiParameter("days", int, description="window, 1..365 (default 7)")],
        responses={200: s.AuditStatsOutput},
    )
    def get(self, request):
        query = s.WindowQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        return Response(s.AuditStatsOutput(selectors.stats(days=query.validated_data["days"])).data)


@extend_schema(tags=["audit"])
class AuditSuspiciousView(APIView):
    api_key_scopes = NO_API_KEYS
    permission_classes = [IsAuthenticated, IsAdminRole]

    @extend_schema(
        parameters=[OpenApiParameter("hours", int, description="window (default from settings)")],
        responses={200: s.AuditSuspiciousOutput},
    )
    def get(self, request):
        query = s.WindowQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        data = selectors.suspicious(hours=query.validated_data.get("hours"))
        return Response(s.AuditSuspiciousOutput(data).data)
