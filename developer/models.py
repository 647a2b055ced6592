"""API keys, webhook endpoints, the event outbox and its deliveries."""

import uuid
from datetime import timedelta

from django.conf import settings
from django.db import models
from django.utils import timezone
from rest_framework_api_key.models import AbstractAPIKey, BaseAPIKeyManager


class APIKeyManager(BaseAPIKeyManager):
    def assign_key(self, obj: "APIKey") -> str:
        # The library makes "<prefix>.<hash>" the primary key; ours stays a UUID (the
        # contract's ids), the prefix (UNIQUE, so indexed) is what a request is looked up by.
        key, prefix, hashed_key = self.key_generator.generate()
        obj.prefix = prefix
        obj.hashed_key = hashed_key
        return key


class APIKey(AbstractAPIKey):
    """djangorestframework-api-key's hashed key (sha512, prefix lookup) with an owner, scopes
    and ``last_used_at``. The key itself is never stored."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_keys"
    )
    scopes = models.JSONField(default=list)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = APIKeyManager()

    IS_API_KEY = True  # what the permission and the throttle recognise in request.auth
    # Once a minute at most: a busy key does not write its row on every request.
    LAST_USED_RESOLUTION = timedelta(seconds=60)

    class Meta(AbstractAPIKey.Meta):
        verbose_name = "API key"
        verbose_name_plural = "API keys"
        indexes = [models.Index(fields=["owner", "revoked"])]

    def touch(self, *, now=None) -> None:
        """Note the key's use, at most once a minute: the row the lookup read tells whether it
        is due, and a conditional UPDATE keeps concurrent requests from writing it twice."""
        now = now or timezone.now()
        last = self.last_used_at
        if last is not None and now - last < self.LAST_USED_RESOLUTION:
            return
        stale = APIKey.objects.filter(pk=self.pk)
        stale = stale.filter(last_used_at=last) if last else stale.filter(last_used_at=None)
        stale.update(last_used_at=now)
        self.last_used_at = now


class WebhookEndpoint(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="webhook_endpoints"
    )
    url = models.URLField(max_length=2000)
    description = models.CharField(max_length=500, blank=True)
    events = models.JSONField(default=list)
    # Needed in clear to sign every delivery (Standard Webhooks: "whsec_" + base64).
    secret = models.CharField(max_length=100, editable=False)
    is_active = models.BooleanField(default=True)
    # Since when every delivery has failed (None after a success); 3 days of it disables.
    failing_since = models.DateTimeField(null=True, blank=True)
    disabled_at = models.DateTimeField(null=True, blank=True)
    disabled_reason = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["owner", "is_active"])]

    def __str__(self) -> str:
        return self.url


class OutboxEvent(models.Model):
    """One domain event, written in the transaction of the change it describes."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    type = models.CharField(max_length=40)
    data = models.JSONField()
    # Who may hear of it: every subscriber (public) or only these users' endpoints.
    public = models.BooleanField(default=False)
    audience = models.JSONField(default=list)
    created_at = models.DateTimeField(default=timezone.now)
    # Set once a delivery row exists for every subscribed endpoint.
    dispatched_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["dispatched_at", "created_at"])]

    def __str__(self) -> str:
        return f"{self.type} {self.pk}"


class WebhookDelivery(models.Model):
    """One event for one endpoint; its id is the ``webhook-id`` every attempt carries."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    endpoint = models.ForeignKey(
        WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries"
    )
    event = models.ForeignKey(OutboxEvent, on_delete=models.CASCADE, related_name="deliveries")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    response_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    duration_ms = models.PositiveIntegerField(null=True, blank=True)
    error = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at"]
        verbose_name_plural = "webhook deliveries"
        constraints = [
            models.UniqueConstraint(fields=["event", "endpoint"], name="one_delivery_per_endpoint")
        ]
        indexes = [
            models.Index(fields=["status", "next_attempt_at"]),
            models.Index(fields=["endpoint", "-created_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.event_id} → {self.endpoint_id}"

    @property
    def message_id(self) -> str:
        return f"msg_{self.pk.hex}"


class WebhookDeliveryAttempt(models.Model):
    """One HTTP call of a delivery (retries and redeliveries included), kept for its log."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    delivery = models.ForeignKey(
        WebhookDelivery, on_delete=models.CASCADE, related_name="attempt_log"
    )
    # 1 for the first call; the delivery's ``attempts`` count after this one.
    number = models.PositiveSmallIntegerField()
    attempted_at = models.DateTimeField()
    response_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    duration_ms = models.PositiveIntegerField()
    error = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["delivery", "number"]
        constraints = [
            models.UniqueConstraint(
                fields=["delivery", "number"], name="one_attempt_row_per_number"
            )
        ]

    def __str__(self) -> str:
        return f"{self.delivery_id} #{self.number}"
