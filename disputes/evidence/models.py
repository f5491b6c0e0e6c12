"""Evidence on a dispute: files, requests for them, checklist overrides and rebuttal letters.

These models belong to the ``disputes`` app (imported at the bottom of ``disputes.models``).
Rows here change only through ``disputes.evidence.services``, which records each act as an
event in the dispute's case history in the same transaction. An item is withdrawn, never
deleted; a letter is never edited, a new version is added.
"""

import secrets
import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone

from .storage import evidence_storage


def evidence_path(item, filename: str) -> str:
    """Stored name: the dispute and a random name; the client's file name is kept in the row
    only (it may carry anything), and never decides where the file goes."""
    return f"disputes/{item.dispute_id}/{uuid.uuid4().hex}"


class RequestStatus(models.TextChoices):
    OPEN = "open", "Open"
    ANSWERED = "answered", "Answered"
    EXPIRED = "expired", "Expired"
    CANCELLED = "cancelled", "Cancelled"


class EvidenceRequest(models.Model):
    """A request to a client contact (or a colleague) for checklist items, by a due date.

    The client answers through a signed link (``disputes.evidence.links``) scoped to this one
    request; ``link_nonce`` is part of what is signed, so a link names exactly one request."""

    dispute = models.ForeignKey(
        "disputes.Dispute", on_delete=models.PROTECT, related_name="evidence_requests"
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="evidence_requests_made"
    )
    contact = models.ForeignKey(
        "disputes.ClientContact",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="evidence_requests",
    )
    colleague = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="evidence_requests_received",
    )
    kinds = models.JSONField(default=list, help_text="Checklist evidence kinds asked for")
    message = models.TextField(blank=True)
    due_on = models.DateField()
    status = models.CharField(
        max_length=12, choices=RequestStatus.choices, default=RequestStatus.OPEN
    )
    link_nonce = models.CharField(max_length=32, default="", blank=True)
    link_expires_at = models.DateTimeField(null=True, blank=True)
    first_opened_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        ordering = ["due_on", "id"]
        indexes = [
            models.Index(fields=["status", "due_on"], name="evreq_status_due_idx"),
            models.Index(fields=["requested_by", "status", "due_on"], name="evreq_mine_idx"),
        ]

    def __str__(self):
        return f"Evidence request {self.pk} on dispute {self.dispute_id}"

    @staticmethod
    def new_nonce() -> str:
        return secrets.token_hex(16)

    @property
    def is_open(self) -> bool:
        return self.status == RequestStatus.OPEN

    def recipient_name(self) -> str:
        if self.contact_id:
            return self.contact.name
        if self.colleague_id:
            return self.colleague.get_full_name() or self.colleague.get_username()
        return ""


class EvidenceItem(models.Model):
    """One file of evidence on a dispute. The bundle renderer reads these rows: kind, the
    stored file, its type as found by content, size, SHA-256 and (PDF) page count."""

    dispute = models.ForeignKey(
        "disputes.Dispute", on_delete=models.PROTECT, related_name="evidence_items"
    )
    kind = models.CharField(max_length=40, help_text="Checklist evidence kind (evidence.yaml)")
    description = models.CharField(max_length=300, blank=True)
    original_name = models.CharField("original file name", max_length=255)
    file = models.FileField(upload_to=evidence_path, storage=evidence_storage, max_length=300)
    content_type = models.CharField(max_length=100, help_text="Found by content, not by name")
    size = models.PositiveBigIntegerField(help_text="Bytes")
    sha256 = models.CharField(max_length=64)
    pages = models.PositiveIntegerField(null=True, blank=True, help_text="PDF page count")
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="evidence_uploaded",
    )
    on_behalf_of = models.ForeignKey(
        "disputes.ClientContact",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="evidence_sent",
        help_text="The client contact the file came from",
    )
    request = models.ForeignKey(
        EvidenceRequest,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="items",
    )
    duplicate_of = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    uploaded_at = models.DateTimeField(default=timezone.now)
    withdrawn = models.BooleanField(default=False)
    withdrawn_at = models.DateTimeField(null=True, blank=True)
    withdrawn_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    withdrawal_reason = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["uploaded_at", "id"]
        indexes = [
            models.Index(fields=["dispute", "withdrawn"], name="evitem_dispute_idx"),
            models.Index(fields=["dispute", "sha256"], name="evitem_hash_idx"),
        ]

    def __str__(self):
        return self.original_name


class ChecklistOverride(models.Model):
    """An ops lead let the dispute go to "ready to submit" with required evidence missing, at
    this stage, for a stated reason (also an event in the case history)."""

    dispute = models.ForeignKey(
        "disputes.Dispute", on_delete=models.PROTECT, related_name="checklist_overrides"
    )
    stage = models.CharField(max_length=32)
    missing = models.JSONField(default=list)
    reason = models.TextField()
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at"]
        permissions = [("override_checklist", "Can override the evidence checklist")]

    def __str__(self):
        return f"Checklist override on dispute {self.dispute_id}"


class RebuttalLetter(models.Model):
    """One version of the rebuttal (cover) letter. Versions are kept; the latest is current."""

    dispute = models.ForeignKey(
        "disputes.Dispute", on_delete=models.PROTECT, related_name="rebuttal_letters"
    )
    version = models.PositiveIntegerField()
    family = models.CharField(max_length=40, help_text="Template family it started from")
    body = models.TextField()
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["dispute", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["dispute", "version"], name="uniq_letter_version")
        ]

    def __str__(self):
        return f"Rebuttal letter v{self.version} of dispute {self.dispute_id}"
