from rest_framework import serializers

from developer.models import APIKey, WebhookDelivery, WebhookDeliveryAttempt, WebhookEndpoint
from veza.events import EVENT_TYPES
from veza.scopes import SCOPES
from veza.serializers import JSONInput


class ApiKeyInput(JSONInput):
    name = serializers.CharField(max_length=50)
    scopes = serializers.ListField(
        child=serializers.ChoiceField(choices=SCOPES),
        allow_empty=False,
        min_length=1,
        max_length=len(SCOPES),
    )


class ApiKeyOutput(serializers.ModelSerializer):
    created_at = serializers.DateTimeField(source="created")
    scopes = serializers.ListField(child=serializers.CharField())

    class Meta:
        model = APIKey
        fields = ["id", "name", "prefix", "scopes", "created_at", "last_used_at"]
        read_only_fields = fields


class ApiKeyCreatedOutput(ApiKeyOutput):
    key = serializers.CharField(help_text="The key itself: shown once, never again.")

    class Meta(ApiKeyOutput.Meta):
        fields = ["id", "name", "prefix", "key", "scopes", "created_at"]
        read_only_fields = fields


class WebhookEndpointInput(JSONInput):
    url = serializers.URLField(max_length=2000)
    events = serializers.ListField(
        child=serializers.ChoiceField(choices=EVENT_TYPES),
        allow_empty=False,
        min_length=1,
        max_length=len(EVENT_TYPES),
    )
    description = serializers.CharField(max_length=500, required=False, allow_blank=True)


class WebhookEndpointUpdateInput(WebhookEndpointInput):
    is_active = serializers.BooleanField(required=False)


class WebhookEndpointOutput(serializers.ModelSerializer):
    events = serializers.ListField(child=serializers.CharField())

    class Meta:
        model = WebhookEndpoint
        fields = [
            "id",
            "url",
            "description",
            "events",
            "is_active",
            "failing_since",
            "disabled_at",
            "disabled_reason",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class WebhookEndpointCreatedOutput(WebhookEndpointOutput):
    secret = serializers.CharField(
        help_text="Signing secret (`whsec_` + base64): shown once, never again."
    )

    class Meta(WebhookEndpointOutput.Meta):
        fields = [*WebhookEndpointOutput.Meta.fields, "secret"]
        read_only_fields = fields


class WebhookDeliveryAttemptOutput(serializers.ModelSerializer):
    """One HTTP call: when, the receiver's status code (null without an answer), how long it
    took, and what went wrong ("" on success)."""

    class Meta:
        model = WebhookDeliveryAttempt
        fields = ["attempted_at", "response_status_code", "duration_ms", "error"]
        read_only_fields = fields


class WebhookDeliveryOutput(serializers.ModelSerializer):
    event_id = serializers.UUIDField()
    event_type = serializers.CharField(source="event.type")
    webhook_id = serializers.CharField(source="message_id")
    attempt = serializers.IntegerField(
        source="attempts", help_text="How many HTTP calls were made (the length of `attempts`)."
    )
    attempts = WebhookDeliveryAttemptOutput(
        source="attempt_log",
        many=True,
        read_only=True,
        help_text="Every HTTP call of this message, redeliveries included, oldest first.",
    )
    next_retry_at = serializers.SerializerMethodField()

    class Meta:
        model = WebhookDelivery
        fields = [
            "id",
            "webhook_id",
            "event_id",
            "event_type",
            "status",
            "attempt",
            "attempts",
            "response_status_code",
            "duration_ms",
            "error",
            "last_attempt_at",
            "next_retry_at",
            "created_at",
        ]
        read_only_fields = fields

    def get_next_retry_at(self, delivery) -> str | None:
        if delivery.status != WebhookDelivery.Status.PENDING or delivery.next_attempt_at is None:
            return None
        return serializers.DateTimeField().to_representation(delivery.next_attempt_at)
