"""What the reports keep beside the disputes: one row per filing, derived from the case history,
and the record of weekly KPI e-mails sent.

``ReportFiling`` rows are derived only from case-history events, which are append-only: a row once
written is exact for ever. ``disputes.reports.filings.refresh`` adds the rows of events recorded
since the last refresh (see there for how none is missed)."""

from django.conf import settings
from django.db import models
from django.utils import timezone


class ReportFiling(models.Model):
    """A response Astra filed with the network (a stage change that left the dispute submitted),
    with the deadlines in force just before it: the previous event's snapshot."""

    event = models.OneToOneField(
        "disputes.CaseEvent", on_delete=models.PROTECT, primary_key=True, related_name="+"
    )
    dispute = models.ForeignKey(
        "disputes.Dispute", on_delete=models.PROTECT, related_name="+", db_index=False
    )
    network = models.CharField(max_length=12)
    client_id = models.BigIntegerField()
    answered_stage = models.CharField(max_length=32, help_text="The stage the filing answered")
    filed_stage = models.CharField(max_length=32)
    stage_started_on = models.DateField(help_text="When the answered stage began (ops time zone)")
    filed_on = models.DateField(help_text="The filing's date in the ops time zone")
    internal_due = models.DateField(null=True, blank=True)
    network_due = models.DateField(null=True, blank=True)

    class Meta:
        app_label = "disputes"
        indexes = [models.Index(fields=["filed_on", "network"], name="report_filing_day_idx")]

    def __str__(self):
        return f"Filing {self.event_id} on {self.filed_on}"

    @property
    def met_internal(self) -> bool | None:
        return None if self.internal_due is None else self.filed_on <= self.internal_due

    @property
    def met_network(self) -> bool | None:
        return None if self.network_due is None else self.filed_on <= self.network_due


class ReportRefresh(models.Model):
    """The highest case-history event id the filings have been derived up to (one row)."""

    last_event_id = models.BigIntegerField(default=0)
    refreshed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        app_label = "disputes"

    def __str__(self):
        return f"Filings derived up to event {self.last_event_id}"


class WeeklyKpiSend(models.Model):
    """One weekly KPI e-mail sent to one person: the unique constraint makes the send once."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    week_start = models.DateField()
    sent_at = models.DateTimeField(default=timezone.now)

    class Meta:
        app_label = "disputes"
        constraints = [
            models.UniqueConstraint(fields=["user", "week_start"], name="uniq_weekly_kpi_send")
        ]

    def __str__(self):
        return f"Weekly KPIs of {self.week_start} to user {self.user_id}"
