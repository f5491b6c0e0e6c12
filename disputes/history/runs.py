"""Verification and checkpoint runs asked for from the case-history page.

A run is a row (who asked, when, what it found) and a Celery task that does the work after
commit: at a million disputes a verification takes about a minute, longer than a web request
should wait. The page shows the latest runs in words."""

import logging

from django.conf import settings
from django.db import models, transaction
from django.utils import timezone

from astra_ops.celery import enqueue_on_commit

log = logging.getLogger(__name__)

BREAKS_SHOWN = 50


class AuditRun(models.Model):
    class Kind(models.TextChoices):
        VERIFY = "verify", "Verification"
        CHECKPOINT = "checkpoint", "Checkpoint"

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        INTACT = "intact", "Intact"
        BROKEN = "broken", "Broken"
        WRITTEN = "written", "Written"
        FAILED = "failed", "Failed"

    kind = models.CharField(max_length=12, choices=Kind.choices)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.QUEUED)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    requested_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    disputes = models.PositiveIntegerField(null=True, blank=True)
    events = models.BigIntegerField(null=True, blank=True)
    break_count = models.PositiveIntegerField(null=True, blank=True)
    breaks = models.JSONField(default=list, blank=True, help_text="The first breaks, in words")
    checkpoint = models.CharField(max_length=200, blank=True, help_text="Compared with, or written")
    summary = models.TextField(blank=True)
    seconds = models.FloatField(null=True, blank=True)

    class Meta:
        app_label = "disputes"
        ordering = ["-requested_at", "-id"]

    def __str__(self):
        return f"{self.get_kind_display()} {self.requested_at:%Y-%m-%d %H:%M} {self.status}"

    @property
    def done(self) -> bool:
        return self.status not in (self.Status.QUEUED, self.Status.RUNNING)


def request_run(*, kind: str, actor) -> AuditRun:
    """Queue a verification or a checkpoint; the work runs on a worker after commit."""
    from ..tasks import run_audit

    if kind not in AuditRun.Kind.values:
        raise ValueError(f"Unknown run {kind!r}.")
    with transaction.atomic():
        run = AuditRun.objects.create(kind=kind, requested_by=actor)
        enqueue_on_commit(run_audit, run.pk)  # Redis down: the run waits, the page answers
    return run


def perform(run_id: int) -> AuditRun:
    """Do a queued run and record what it found (never raises on what it finds)."""
    from . import checkpoint
    from .verify import verify

    run = AuditRun.objects.get(pk=run_id)
    run.status, run.started_at = AuditRun.Status.RUNNING, timezone.now()
    run.save(update_fields=["status", "started_at"])
    try:
        if run.kind == AuditRun.Kind.VERIFY:
            _record_report(run, verify())
        else:
            written = checkpoint.write()
            run.status, run.checkpoint = AuditRun.Status.WRITTEN, written.name
            run.disputes, run.events = written.disputes, written.events
            run.summary = (
                f"Checkpoint of {written.disputes:,} disputes and {written.events:,} events "
                "written."
            )
    except Exception as exc:  # recorded for the page, and logged in full
        log.exception("case-history run %s failed", run_id)
        run.status, run.summary = AuditRun.Status.FAILED, f"The run failed: {exc}"
    run.finished_at = timezone.now()
    if run.seconds is None:
        run.seconds = (run.finished_at - run.started_at).total_seconds()
    run.save()
    return run


def _record_report(run, report) -> None:
    run.status = AuditRun.Status.INTACT if report.intact else AuditRun.Status.BROKEN
    run.disputes, run.events = report.disputes, report.events
    run.break_count = report.break_count
    run.breaks = [str(b) for b in report.breaks[:BREAKS_SHOWN]]
    run.checkpoint = report.checkpoint[:200]
    run.summary = report.summary()
    run.seconds = report.seconds
