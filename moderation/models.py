"""Notice and action under the Digital Services Act: reports (art. 16), decisions with their
statement of reasons (art. 17), appeals (art. 20), repeat infringers' suspensions (art. 23),
and the audio of recordings taken down for copyright, kept to refuse their re-upload."""

import uuid
from datetime import timedelta

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

APPEAL_WINDOW = timedelta(days=183)  # six months (DSA art. 20(1))
STRIKE_WINDOW = timedelta(days=365)


class TargetType(models.TextChoices):
    TRACK = "track", "Track"
    PLAYLIST = "playlist", "Playlist"
    USER = "user", "User profile"
    PRODUCT = "product", "Product"


class Category(models.TextChoices):
    COPYRIGHT = "copyright", "Copyright"
    ILLEGAL_CONTENT = "illegal_content", "Illegal content"
    HATE = "hate", "Hate"
    HARASSMENT = "harassment", "Harassment"
    SPAM = "spam", "Spam"
    OTHER = "other", "Other"


class Decision(models.Model):
    """One moderator's decision on a target, with its statement of reasons."""

    class Action(models.TextChoices):
        TAKE_DOWN = "take_down", "Take down"
        DISMISS = "dismiss", "Dismiss"

    class Ground(models.TextChoices):
        LAW = "law", "Illegal under the law"
        TERMS = "terms", "Against the terms of service"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    target_type = models.CharField(max_length=16, choices=TargetType.choices)
    target_id = models.UUIDField()
    # Whose content it is (the uploader, seller, playlist owner or the profile itself): who
    # reads the decision, may appeal it, and collects a strike for a copyright take-down.
    target_owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="moderation_decisions",
    )
    target_label = models.CharField(max_length=300, blank=True)
    category = models.CharField(max_length=20, choices=Category.choices)
    action = models.CharField(max_length=16, choices=Action.choices)
    ground = models.CharField(max_length=8, choices=Ground.choices, blank=True)
    provision = models.CharField(max_length=500, blank=True)
    explanation = models.TextField(max_length=5000)
    automated = models.BooleanField(default=False)
    moderator = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    # What the take-down hid, exactly, so that a reversal puts back that and nothing more:
    # {"track_status": "ready", "products": {"<id>": true}, "playlist": true, "profile": true}.
    hidden = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    reversed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["target_type", "target_id"], name="decision_target_idx"),
            models.Index(
                fields=["target_owner", "-created_at"],
                name="decision_strike_idx",
                condition=Q(action="take_down", category="copyright", reversed_at__isnull=True),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_action_display()} {self.target_type} {self.target_label}"

    @property
    def is_strike(self) -> bool:
        return (
            self.action == self.Action.TAKE_DOWN
            and self.category == Category.COPYRIGHT
            and self.reversed_at is None
        )

    @property
    def appeal_deadline(self):
        return self.created_at + APPEAL_WINDOW


class Report(models.Model):
    """A notice from anyone: signed in, or anonymous with an email address."""

    class Status(models.TextChoices):
        RECEIVED = "received", "Received"
        DECIDED = "decided", "Decided"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    target_type = models.CharField(max_length=16, choices=TargetType.choices)
    target_id = models.UUIDField()
    target_owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    category = models.CharField(max_length=20, choices=Category.choices)
    description = models.TextField(max_length=5000)
    reporter = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="moderation_reports",
    )
    reporter_email = models.EmailField(blank=True)
    reporter_name = models.CharField(max_length=200, blank=True)
    # A rights holder's notice: {"work_title", "rights_holder", "original_url"}.
    copyright = models.JSONField(null=True, blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.RECEIVED)
    decision = models.ForeignKey(
        Decision, null=True, blank=True, on_delete=models.PROTECT, related_name="reports"
    )
    created_at = models.DateTimeField(default=timezone.now)
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at"]
        indexes = [
            models.Index(fields=["status", "created_at"], name="report_queue_idx"),
            models.Index(fields=["target_type", "target_id", "status"], name="report_target_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_category_display()} report on {self.target_type} {self.target_id}"

    @property
    def notify_email(self) -> str:
        return self.reporter_email or (self.reporter.email if self.reporter_id else "")


class Appeal(models.Model):
    """A complaint against a decision, decided by another moderator."""

    class Status(models.TextChoices):
        RECEIVED = "received", "Received"
        DECIDED = "decided", "Decided"

    class Outcome(models.TextChoices):
        UPHELD = "upheld", "Upheld"
        REVERSED = "reversed", "Reversed"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    # One appeal per decision: the database says so.
    decision = models.OneToOneField(Decision, on_delete=models.PROTECT, related_name="appeal")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    text = models.TextField(max_length=5000)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.RECEIVED)
    outcome = models.CharField(max_length=16, choices=Outcome.choices, blank=True)
    explanation = models.TextField(max_length=5000, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at"]

    def __str__(self) -> str:
        return f"appeal of {self.decision_id}"


class BlockedAudio(models.Model):
    """The audio of a track taken down for copyright: its bytes' SHA-256 and its Chromaprint
    fingerprint (raw 32-bit sub-fingerprints, about eight a second)."""

    decision = models.ForeignKey(Decision, on_delete=models.CASCADE, related_name="blocked_audio")
    track_id = models.UUIDField()
    sha256 = models.CharField(max_length=64, db_index=True)
    fingerprint = models.JSONField(default=list, blank=True)
    duration_seconds = models.FloatField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at"]
        verbose_name_plural = "blocked audio"

    def __str__(self) -> str:
        return f"audio of track {self.track_id}"


class Suspension(models.Model):
    """A repeat infringer's suspension from uploading and selling, until lifted."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="moderation_suspensions"
    )
    strikes = models.PositiveIntegerField()
    started_at = models.DateTimeField(default=timezone.now)
    lifted_at = models.DateTimeField(null=True, blank=True)
    lift_reason = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-started_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["user"],
                condition=Q(lifted_at__isnull=True),
                name="one_open_suspension_per_user",
            )
        ]

    def __str__(self) -> str:
        return f"suspension of {self.user_id}"
