from rest_framework import serializers

from accounts.api.serializers import UserRefOutput
from audit.models import AuditLog


class AuditLogOutput(serializers.ModelSerializer):
    actor = UserRefOutput(allow_null=True)

    class Meta:
        model = AuditLog
        fields = [
            "id",
            "actor",
            "actor_role",
            "action",
            "target_type",
            "target_id",
            "ip_address",
            "user_agent",
            "details",
            "created_at",
        ]
        read_only_fields = fields


class CountByAction(serializers.Serializer):
    action = serializers.CharField()
    count = serializers.IntegerField()


class CountByDay(serializers.Serializer):
    day = serializers.DateField()
    count = serializers.IntegerField()


class ActorCount(serializers.Serializer):
    actor_id = serializers.UUIDField()
    username = serializers.CharField()
    count = serializers.IntegerField()


class AuditStatsOutput(serializers.Serializer):
    window_days = serializers.IntegerField()
    since = serializers.DateTimeField()
    total = serializers.IntegerField()
    by_action = CountByAction(many=True)
    by_day = CountByDay(many=True)
    top_actors = ActorCount(many=True)


class IpCount(serializers.Serializer):
    ip_address = serializers.CharField()
    count = serializers.IntegerField()


class EmailCount(serializers.Serializer):
    email = serializers.CharField(allow_null=True)
    count = serializers.IntegerField()


class AuditSuspiciousOutput(serializers.Serializer):
    window_hours = serializers.IntegerField()
    thresholds = serializers.DictField(child=serializers.IntegerField())
    failed_logins_by_ip = IpCount(many=True)
    failed_logins_by_account = EmailCount(many=True)
    refund_request_bursts = ActorCount(many=True)
    webhook_signature_failures_by_ip = IpCount(many=True)


class WindowQuery(serializers.Serializer):
    days = serializers.IntegerField(min_value=1, max_value=365, default=7)
    hours = serializers.IntegerField(min_value=1, max_value=24 * 30, required=False)
