from rest_framework import serializers

from moderation.models import Appeal, Category, Decision, Report, TargetType
from veza.serializers import JSONInput


class CopyrightInput(JSONInput):
    work_title = serializers.CharField(max_length=300)
    rights_holder = serializers.CharField(max_length=300)
    original_url = serializers.URLField(max_length=500, required=False, allow_blank=True)


class ReportInput(JSONInput):
    target_type = serializers.ChoiceField(choices=TargetType.choices)
    target_id = serializers.UUIDField()
    category = serializers.ChoiceField(choices=Category.choices)
    description = serializers.CharField(min_length=10, max_length=5000)
    reporter_email = serializers.EmailField(required=False, allow_blank=True)
    reporter_name = serializers.CharField(max_length=200, required=False, allow_blank=True)
    copyright = CopyrightInput(
        required=False,
        allow_null=True,
        help_text="Required for the category `copyright`: the work and its rights holder.",
    )

    def validate(self, attrs):
        request = self.context["request"]
        if not request.user.is_authenticated and not attrs.get("reporter_email"):
            raise serializers.ValidationError(
                {"reporter_email": ["An email address is required to report without signing in."]}
            )
        if attrs["category"] == Category.COPYRIGHT and not attrs.get("copyright"):
            raise serializers.ValidationError(
                {"copyright": ["A copyright notice names the work and its rights holder."]}
            )
        return attrs


class ReportCreatedOutput(serializers.ModelSerializer):
    class Meta:
        model = Report
        fields = ["id", "status", "created_at"]
        read_only_fields = fields


class AppealSummaryOutput(serializers.ModelSerializer):
    outcome = serializers.CharField(allow_null=True, help_text="null until decided")

    class Meta:
        model = Appeal
        fields = ["id", "status", "outcome"]
        read_only_fields = fields

    def to_representation(self, instance):
        body = super().to_representation(instance)
        body["outcome"] = instance.outcome or None
        return body


class DecisionOutput(serializers.ModelSerializer):
    """A decision on the caller's content, with its statement of reasons."""

    appeal = serializers.SerializerMethodField()
    appeal_deadline = serializers.DateTimeField(read_only=True)
    reversed = serializers.SerializerMethodField()

    class Meta:
        model = Decision
        fields = [
            "id",
            "target_type",
            "target_id",
            "action",
            "category",
            "ground",
            "provision",
            "explanation",
            "automated",
            "created_at",
            "appeal_deadline",
            "reversed",
            "appeal",
        ]
        read_only_fields = fields

    def get_appeal(self, decision) -> AppealSummaryOutput(allow_null=True):  # type: ignore[valid-type]
        appeal = getattr(decision, "appeal", None) if hasattr(decision, "appeal") else None
        return AppealSummaryOutput(appeal).data if appeal is not None else None

    def get_reversed(self, decision) -> bool:
        return decision.reversed_at is not None


class ModeratorDecisionOutput(DecisionOutput):
    moderator_id = serializers.UUIDField(allow_null=True)
    target_owner_id = serializers.UUIDField(allow_null=True)
    hidden = serializers.JSONField()
    reports = serializers.SerializerMethodField()

    class Meta(DecisionOutput.Meta):
        fields = [
            *DecisionOutput.Meta.fields,
            "moderator_id",
            "target_owner_id",
            "hidden",
            "reports",
        ]
        read_only_fields = fields

    def get_reports(self, decision) -> list[str]:
        return [str(pk) for pk in decision.reports.values_list("pk", flat=True)]


class ModerationReportOutput(serializers.ModelSerializer):
    reporter_id = serializers.UUIDField(allow_null=True)
    target_owner_id = serializers.UUIDField(allow_null=True)
    decision_id = serializers.UUIDField(allow_null=True)
    decision_action = serializers.SerializerMethodField()

    class Meta:
        model = Report
        fields = [
            "id",
            "target_type",
            "target_id",
            "target_owner_id",
            "category",
            "description",
            "copyright",
            "reporter_id",
            "reporter_email",
            "reporter_name",
            "status",
            "created_at",
            "decided_at",
            "decision_id",
            "decision_action",
        ]
        read_only_fields = fields

    def get_decision_action(self, report) -> str | None:
        # Joined by the queue's query (selectors.report_queue), not read per report.
        return report.decision_action


class DecideReportInput(JSONInput):
    action = serializers.ChoiceField(choices=Decision.Action.choices)
    ground = serializers.ChoiceField(
        choices=Decision.Ground.choices, required=False, allow_blank=True
    )
    provision = serializers.CharField(
        max_length=500,
        required=False,
        allow_blank=True,
        help_text="With `law`: the provision broken; with `terms`: the clause.",
    )
    explanation = serializers.CharField(
        max_length=5000,
        required=False,
        allow_blank=True,
        help_text="The facts and circumstances (a take-down), or the reason (a dismissal).",
    )
    automated = serializers.BooleanField(required=False, default=False)


class AppealInput(JSONInput):
    text = serializers.CharField(min_length=1, max_length=5000)


class AppealOutput(serializers.ModelSerializer):
    decision_id = serializers.UUIDField()
    author_id = serializers.UUIDField(allow_null=True)
    decided_by_id = serializers.UUIDField(allow_null=True)
    outcome = serializers.SerializerMethodField()

    class Meta:
        model = Appeal
        fields = [
            "id",
            "decision_id",
            "author_id",
            "text",
            "status",
            "outcome",
            "explanation",
            "decided_by_id",
            "created_at",
            "decided_at",
        ]
        read_only_fields = fields

    def get_outcome(self, appeal) -> str | None:
        return appeal.outcome or None


class DecideAppealInput(JSONInput):
    outcome = serializers.ChoiceField(choices=Appeal.Outcome.choices)
    explanation = serializers.CharField(max_length=5000, required=False, allow_blank=True)


class StatsQueryInput(JSONInput):
    # "from" is a keyword: the view maps the query parameters onto these names.
    period_from = serializers.DateTimeField(required=False)
    period_to = serializers.DateTimeField(required=False)


class TransparencyOutput(serializers.Serializer):
    reports = serializers.IntegerField()
    reports_by_category = serializers.DictField(child=serializers.IntegerField())
    reports_by_target_type = serializers.DictField(child=serializers.IntegerField())
    decisions = serializers.IntegerField()
    decisions_by_action = serializers.DictField(child=serializers.IntegerField())
    decisions_by_ground = serializers.DictField(child=serializers.IntegerField())
    automated_decisions = serializers.IntegerField()
    median_hours_to_decision = serializers.FloatField(allow_null=True)
    appeals_received = serializers.IntegerField()
    appeals_decided = serializers.IntegerField()
    decisions_reversed = serializers.IntegerField()
    suspensions = serializers.IntegerField()

    def get_fields(self):
        # The query's own names: ?from=&to= give back "from" and "to" (Python keywords, so not
        # class attributes); declared here so the schema names them as the body does.
        return {
            "from": serializers.DateTimeField(source="period_from"),
            "to": serializers.DateTimeField(source="period_to"),
            **super().get_fields(),
        }
