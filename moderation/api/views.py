"""Reports from anyone, decisions and appeals for moderators, decisions for uploaders, and the
transparency figures for admins."""

from datetime import date, timedelta

from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.permissions import AllowAny, BasePermission, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from moderation import selectors, services
from moderation.api import serializers as s
from moderation.models import Appeal, Decision, Report
from veza.api_errors import ErrorResponse
from veza.client_ip import client_ip
from veza.permissions import IsAdminRole
from veza.scopes import NO_API_KEYS
from veza.throttling import GlobalRateThrottle, PerHourThrottle

ERRORS = {
    400: OpenApiResponse(description="Invalid input: `{field: [...], detail, code}`"),
    401: OpenApiResponse(description="Missing or invalid credentials"),
    403: OpenApiResponse(description="Not a moderator"),
    404: OpenApiResponse(description="Not found, or not yours to see"),
    409: OpenApiResponse(description="Already decided / already appealed / too late"),
    429: OpenApiResponse(description="Too many reports from this address (Retry-After)"),
}


def _errors(*codes: int) -> dict:
    return {code: ERRORS[code] for code in codes}


class ReportRateThrottle(PerHourThrottle):
    """REPORT_RATE_LIMIT_PER_HOUR reports per client address per hour, signed in or not."""

    scope = "reports"
    limit_setting = "REPORT_RATE_LIMIT_PER_HOUR"


class IsModerator(BasePermission):
    message = "Only moderators (the staff group Moderation) and admins may do this."

    def has_permission(self, request, view) -> bool:
        return services.is_moderator(request.user)


@extend_schema(tags=["moderation"])
class ReportCreateView(APIView):
    api_key_scopes = NO_API_KEYS
    permission_classes = [AllowAny]
    throttle_classes = [GlobalRateThrottle, ReportRateThrottle]

    @extend_schema(
        request=s.ReportInput,
        responses={201: s.ReportCreatedOutput, **_errors(400, 404, 429)},
        description="Report a track, playlist, user profile or product (DSA art. 16), signed "
        "in or anonymously with `reporter_email`. `copyright` is required for the category "
        "`copyright`. The reporter is emailed an acknowledgement, then the outcome. A target "
        "the reporter may not see is 404. At most REPORT_RATE_LIMIT_PER_HOUR per client "
        "address per hour (429 with Retry-After).",
    )
    def post(self, request):
        data = s.ReportInput(data=request.data, context={"request": request})
        data.is_valid(raise_exception=True)
        report = services.submit_report(
            reporter=request.user, ip_address=client_ip(request), **data.validated_data
        )
        return Response(s.ReportCreatedOutput(report).data, status=status.HTTP_201_CREATED)


@extend_schema(tags=["moderation"])
class DecisionViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    # The decisions on the caller's content (their statements of reasons), and appeals.
    api_key_scopes = NO_API_KEYS
    permission_classes = [IsAuthenticated]
    serializer_class = s.DecisionOutput
    lookup_value_converter = "uuid"
    filter_backends: list = []

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Decision.objects.none()
        return selectors.decisions_of(user=self.request.user)

    @extend_schema(responses={200: s.DecisionOutput(many=True), **_errors(401)})
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    @extend_schema(
        responses={200: s.DecisionOutput, **_errors(401, 404)},
        description="One decision on the caller's content, with its statement of reasons.",
    )
    def retrieve(self, request, *args, **kwargs):
        return super().retrieve(request, *args, **kwargs)

    @extend_schema(
        request=s.AppealInput,
        responses={
            201: s.AppealOutput,
            409: ErrorResponse("Too late, or already appealed", "appeal_not_allowed"),
            **_errors(400, 401, 404),
        },
        description="Appeal a decision (DSA art. 20): its content's owner, or a signed-in "
        "reporter of a dismissed report. Within six months, once per decision (409 otherwise). "
        "Another moderator decides it; the author is emailed the outcome.",
    )
    @action(detail=True, methods=["post"])
    def appeal(self, request, pk=None):
        data = s.AppealInput(data=request.data)
        data.is_valid(raise_exception=True)
        decision = Decision.objects.filter(pk=pk).first()
        if decision is None:
            raise NotFound("Decision not found.")
        appeal = services.appeal_decision(
            decision=decision,
            author=request.user,
            text=data.validated_data["text"],
            request=request,
        )
        return Response(s.AppealOutput(appeal).data, status=status.HTTP_201_CREATED)


@extend_schema(tags=["moderation"])
class ModerationReportViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    # The moderators' queue: oldest first.
    api_key_scopes = NO_API_KEYS
    permission_classes = [IsModerator]
    serializer_class = s.ModerationReportOutput
    lookup_value_converter = "uuid"
    filter_backends: list = []

    def get_queryset(self):
        status_ = self.request.query_params.get("status") or None
        if status_ is not None and status_ not in Report.Status.values:
            raise ValidationError({"status": [f"One of {', '.join(Report.Status.values)}."]})
        return selectors.report_queue(status=status_)

    @extend_schema(
        parameters=[OpenApiParameter("status", str, enum=Report.Status.values)],
        responses={200: s.ModerationReportOutput(many=True), **_errors(400, 401, 403)},
        description="Reports, oldest first (moderators and admins).",
    )
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    @extend_schema(responses={200: s.ModerationReportOutput, **_errors(401, 403, 404)})
    def retrieve(self, request, *args, **kwargs):
        return super().retrieve(request, *args, **kwargs)

    @extend_schema(
        request=s.DecideReportInput,
        responses={
            200: s.ModeratorDecisionOutput,
            400: ErrorResponse("Incomplete statement of reasons", "statement_incomplete"),
            409: ErrorResponse("Already decided", "already_decided"),
            **_errors(401, 403, 404),
        },
        description="Take down or dismiss. A take-down needs its statement of reasons: `ground` "
        "(`law` with the provision, `terms` with the clause, in `provision`), the facts "
        "(`explanation`) and whether automation was used (`automated`, default false); a "
        "dismissal needs a reason (`explanation`); 400 `statement_incomplete` otherwise. "
        "Every other open report on the same target is decided with it. 409 once decided.",
    )
    @action(detail=True, methods=["post"])
    def decide(self, request, pk=None):
        report = Report.objects.filter(pk=pk).first()
        if report is None:
            raise NotFound("Report not found.")
        data = s.DecideReportInput(data=request.data)
        data.is_valid(raise_exception=True)
        decision = services.decide_report(
            report=report, moderator=request.user, request=request, **data.validated_data
        )
        return Response(s.ModeratorDecisionOutput(decision).data)


@extend_schema(tags=["moderation"])
class ModerationAppealViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    # Appeals waiting for a second moderator, oldest first.
    api_key_scopes = NO_API_KEYS
    permission_classes = [IsModerator]
    serializer_class = s.AppealOutput
    lookup_value_converter = "uuid"
    filter_backends: list = []

    def get_queryset(self):
        status_ = self.request.query_params.get("status") or None
        if status_ is not None and status_ not in Appeal.Status.values:
            raise ValidationError({"status": [f"One of {', '.join(Appeal.Status.values)}."]})
        return selectors.appeal_queue(status=status_)

    @extend_schema(
        parameters=[OpenApiParameter("status", str, enum=Appeal.Status.values)],
        responses={200: s.AppealOutput(many=True), **_errors(400, 401, 403)},
    )
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    @extend_schema(
        request=s.DecideAppealInput,
        responses={
            200: s.AppealOutput,
            403: ErrorResponse("Not a moderator, or the one who decided", "same_moderator"),
            409: ErrorResponse("Already decided", "already_decided"),
            **_errors(400, 401, 404),
        },
        description="Uphold or reverse, by a moderator other than the decision's (403 "
        "`same_moderator`). Reversing a take-down restores exactly what it hid and removes "
        "its strike. 409 once decided.",
    )
    @action(detail=True, methods=["post"])
    def decide(self, request, pk=None):
        appeal = Appeal.objects.filter(pk=pk).first()
        if appeal is None:
            raise NotFound("Appeal not found.")
        data = s.DecideAppealInput(data=request.data)
        data.is_valid(raise_exception=True)
        appeal = services.decide_appeal(
            appeal=appeal,
            moderator=request.user,
            outcome=data.validated_data["outcome"],
            explanation=data.validated_data.get("explanation", ""),
            request=request,
        )
        return Response(s.AppealOutput(appeal).data)


def _day_bound(value: str, *, end: bool) -> str:
    """A bare date means its whole day: ``from`` at its start, ``to`` at the next day's."""
    try:
        day = date.fromisoformat(value) if len(value) == 10 else None
    except ValueError:
        return value
    if day is None:
        return value
    return f"{day + timedelta(days=1) if end else day}T00:00:00Z"


@extend_schema(tags=["moderation"])
class TransparencyView(APIView):
    api_key_scopes = NO_API_KEYS
    permission_classes = [IsAdminRole]

    @extend_schema(
        parameters=[
            OpenApiParameter("from", str, description="a date or date-time; default: 182 days ago"),
            OpenApiParameter("to", str, description="a date (included) or date-time; default: now"),
        ],
        responses={200: s.TransparencyOutput, **_errors(400, 401, 403)},
        description="The DSA transparency report's figures over [from, to) (admins): reports "
        "by category and target type, decisions by action and ground, the median hours from "
        "report to decision, appeals received and decisions reversed.",
    )
    def get(self, request):
        query = s.StatsQueryInput(
            data={
                key: _day_bound(value, end=key == "period_to")
                for key, value in (
                    ("period_from", request.query_params.get("from")),
                    ("period_to", request.query_params.get("to")),
                )
                if value
            }
        )
        if not query.is_valid():
            raise ValidationError(
                {
                    {"period_from": "from", "period_to": "to"}[field]: problems
                    for field, problems in query.errors.items()
                }
            )
        period_to = query.validated_data.get("period_to") or timezone.now()
        period_from = query.validated_data.get("period_from") or period_to - timedelta(days=182)
        if period_from > period_to:
            raise ValidationError({"from": ["`from` must not be after `to`."]})
        figures = selectors.transparency(period_from=period_from, period_to=period_to)
        return Response(s.TransparencyOutput(figures).data)
