"""Bundles: the PDF sent with a response, one row per render (a version), the submitted one
kept exactly as sent.

A ``Bundle`` holds a dispute's choices (the channel, the order of the items); each render is a
``BundleVersion`` with its file, size, pages, SHA-256 and preflight verdict. Submitting marks
one version: from then on its row and file never change (the model refuses, and on PostgreSQL a
trigger refuses UPDATE and DELETE of a submitted row, migration 0012).
"""

import uuid
from datetime import timedelta

from django.conf import settings
from django.db import models
from django.utils import timezone

from ..storage import evidence_storage


def bundle_path(version, filename: str) -> str:
    return f"bundles/{version.dispute_id}/{uuid.uuid4().hex}.pdf"


class Bundle(models.Model):
    dispute = models.OneToOneField(
        "disputes.Dispute", on_delete=models.PROTECT, related_name="bundle"
    )
    channel = models.CharField(
        max_length=40, blank=True, help_text="Empty: the channel of the dispute's network"
    )
    item_order = models.JSONField(
        default=list, blank=True, help_text="Evidence item ids in the order the ops user chose"
    )
    updated_at = models.DateTimeField(default=timezone.now)

    def __str__(self):
        return f"Bundle of dispute {self.dispute_id}"


class RenderStatus(models.TextChoices):
    QUEUED = "queued", "Waiting to render"
    RENDERING = "rendering", "Rendering"
    RENDERED = "rendered", "Rendered"
    FAILED = "failed", "Could not render"


class SubmittedVersionError(Exception):
    """A submitted bundle version is immutable."""


class BundleVersion(models.Model):
    bundle = models.ForeignKey(Bundle, on_delete=models.PROTECT, related_name="versions")
    dispute = models.ForeignKey(
        "disputes.Dispute", on_delete=models.PROTECT, related_name="bundle_versions"
    )
    number = models.PositiveIntegerField()
    stage = models.CharField(max_length=32, help_text="The dispute's stage when it was asked for")
    channel = models.CharField(max_length=40)
    status = models.CharField(
        max_length=12, choices=RenderStatus.choices, default=RenderStatus.QUEUED
    )
    items_done = models.PositiveIntegerField(default=0)
    items_total = models.PositiveIntegerField(default=0)
    contents = models.JSONField(
        default=list, blank=True, help_text="The items as rendered: id, name, SHA-256"
    )
    letter_version = models.PositiveIntegerField(null=True, blank=True)
    file = models.FileField(
        upload_to=bundle_path, storage=evidence_storage, max_length=300, blank=True
    )
    file_name = models.CharField(max_length=80, blank=True)
    size = models.PositiveBigIntegerField(null=True, blank=True)
    pages = models.PositiveIntegerField(null=True, blank=True)
    sha256 = models.CharField(max_length=64, blank=True)
    fits = models.BooleanField(null=True)
    verdict = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    requested_at = models.DateTimeField(default=timezone.now)
    rendered_at = models.DateTimeField(null=True, blank=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        ordering = ["bundle", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["bundle", "number"], name="uniq_bundle_version")
        ]
        indexes = [models.Index(fields=["dispute", "stage"], name="bundlever_stage_idx")]
        permissions = [
            ("file_without_bundle", "Can file a response without a submitted bundle"),
        ]

    def __str__(self):
        return f"Bundle v{self.number} of dispute {self.dispute_id}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            stored = type(self).objects.filter(pk=self.pk, submitted_at__isnull=False).exists()
            if stored:
                raise SubmittedVersionError(f"{self} was submitted; it cannot change.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        if self.is_submitted:
            raise SubmittedVersionError(f"{self} was submitted; it cannot be deleted.")
        return super().delete(*args, **kwargs)

    @property
    def is_submitted(self) -> bool:
        return self.submitted_at is not None

    @property
    def is_finished(self) -> bool:
        return self.status in (RenderStatus.RENDERED, RenderStatus.FAILED)

    @property
    def is_stalled(self) -> bool:
        """Asked for long ago and still not finished: the worker stopped (the task's time
        limit is 10 minutes). The page stops polling and offers a new render."""
        waited = timezone.now() - self.requested_at
        return not self.is_finished and waited > timedelta(minutes=15)

    @property
    def percent(self) -> int:
        if not self.items_total:
            return 100 if self.is_finished else 0
        return round(100 * self.items_done / self.items_total)
