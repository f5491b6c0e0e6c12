"""What the notifications remember: each person's settings, and one row per message owed.

``Notification`` is both the log of what was decided and the queue of what is still to be
delivered (healthchecks-style): a unique constraint per (dispute, deadline, due date, threshold,
recipient) for reminders and per (recipient, week) for digests makes every sweep safe to
repeat, and ``sent_at`` tells delivery what is still owed.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone


class NotificationSettings(models.Model):
    """A person's choices. Escalations cannot be turned off, so there is no field for them."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notification_settings"
    )
    reminders = models.BooleanField(
        "e-mail me deadline reminders",
        default=True,
        help_text="Reminders before your disputes' internal and network deadlines.",
    )
    weekly_digest = models.BooleanField(
        "e-mail me the weekly digest", default=True, help_text="Mondays at 08:00."
    )
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name_plural = "notification settings"

    def __str__(self):
        return f"Notification settings of {self.user}"


class Kind(models.TextChoices):
    REMINDER = "reminder", "Reminder"
    ESCALATION = "escalation", "Escalation"
    CHASER = "chaser", "Evidence chaser"
    DIGEST = "digest", "Weekly digest"


class Deadline(models.TextChoices):
    INTERNAL = "internal", "Internal deadline"
    NETWORK = "network", "Network deadline"
    EVIDENCE = "evidence", "Client evidence deadline"


class Notification(models.Model):
    kind = models.CharField(max_length=12, choices=Kind.choices)
    dispute = models.ForeignKey(
        "disputes.Dispute",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="notifications",
    )
    deadline = models.CharField(max_length=10, choices=Deadline.choices, blank=True)
    due_on = models.DateField(null=True, blank=True)
    threshold = models.CharField(max_length=20, blank=True)
    week_of = models.DateField(null=True, blank=True, help_text="Digests: the week's Monday")
    # "user:12" or "contact:5": who, independent of an e-mail address that may change.
    recipient_key = models.CharField(max_length=40)
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="notifications",
    )
    email = models.EmailField()
    # What the notification is about (evidence chasers: the request's id).
    subject_id = models.PositiveBigIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(help_text="The sweep's time: what the message describes")
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.CharField(max_length=300, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["dispute", "deadline", "due_on", "threshold", "recipient_key"],
                condition=Q(kind__in=["reminder", "escalation"]),
                name="uniq_reminder_per_threshold",
            ),
            models.UniqueConstraint(
                fields=["subject_id", "due_on", "threshold", "recipient_key"],
                condition=Q(kind="chaser"),
                name="uniq_chaser_per_threshold",
            ),
            models.UniqueConstraint(
                fields=["recipient_key", "week_of"],
                condition=Q(kind="digest"),
                name="uniq_digest_per_week",
            ),
        ]
        indexes = [
            models.Index(
                fields=["created_at"], condition=Q(sent_at__isnull=True), name="notif_pending_idx"
            ),
            models.Index(fields=["dispute", "deadline", "due_on"], name="notif_dispute_idx"),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} to {self.email}"


class SweepMark(models.Model):
    """What the last complete reminder sweep decided on: a digest of everything ``plan`` reads
    (the day, the candidate disputes' clocks and assignees, the people). A sweep that finds the
    same digest has nothing new to record and skips straight to delivery; rows of
    ``Notification`` are never deleted, so nothing recorded can go missing behind it."""

    name = models.CharField(max_length=40, primary_key=True)
    fingerprint = models.CharField(max_length=32)
    swept_at = models.DateTimeField()

    def __str__(self):
        return f"{self.name} sweep at {self.swept_at:%Y-%m-%d %H:%M}"
