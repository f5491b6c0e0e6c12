"""What the reports keep beside the disputes: summaries derived from the case history up to a
watermark event id, and the record of weekly KPI e-mails sent.

* ``ReportCase``: one row per dispute, the facts the reports count (denormalised from the
  dispute and its transaction) as of the last refresh;
* ``ReportFiling``: one row per filing, derived from case-history events (append-only: a row
  once written is exact for ever);
* ``ReportDay``: the daily sums of both, per measure and per the keys the page groups by;
* ``ReportRefresh``: the watermark, the highest event id the summaries were refreshed up to.

``disputes.reports.summary`` keeps them and says how they stay exact."""

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
        indexes = [
            models.Index(fields=["filed_on", "network"], name="report_filing_day_idx"),
            models.Index(
                fields=["client_id", "filed_on"],
                include=[
                    "network",
                    "answered_stage",
                    "stage_started_on",
                    "internal_due",
                    "network_due",
                ],
                name="report_filing_client_idx",
            ),
            # filings made after the network due date, newest first (the late filings' list)
            models.Index(
                fields=["filed_on", "event"],
                condition=models.Q(filed_on__gt=models.F("network_due")),
                name="report_filing_late_idx",
            ),
        ]

    def __str__(self):
        return f"Filing {self.event_id} on {self.filed_on}"

    @property
    def met_internal(self) -> bool | None:
        return None if self.internal_due is None else self.filed_on <= self.internal_due

    @property
    def met_network(self) -> bool | None:
        return None if self.network_due is None else self.filed_on <= self.network_due


class ReportCase(models.Model):
    """The facts of one dispute the reports count, as of the last refresh. Spans are Fed banking
    days from the opening (ops time zone); None while the moment has not come."""

    dispute = models.OneToOneField(
        "disputes.Dispute", on_delete=models.CASCADE, primary_key=True, related_name="+"
    )
    network = models.CharField(max_length=12)
    client_id = models.BigIntegerField()
    rail = models.CharField(max_length=20)
    transaction_type = models.CharField(max_length=20)
    reason_code = models.CharField(max_length=8)
    currency = models.CharField(max_length=3)
    amount = models.DecimalField(max_digits=18, decimal_places=2)
    recovered_amount = models.DecimalField(max_digits=18, decimal_places=2, null=True)
    outcome = models.CharField(max_length=12, blank=True)
    is_open = models.BooleanField()
    received_on = models.DateField()
    transaction_date = models.DateField()
    closed_on = models.DateField(null=True)
    to_first_touch = models.IntegerField(null=True)
    to_submission = models.IntegerField(null=True)
    to_decision = models.IntegerField(null=True)

    class Meta:
        app_label = "disputes"
        # One client's report: each measure grouped from an index alone (disputes.reports.
        # client_sums): received and open, made in the period, closed in the period.
        indexes = [
            models.Index(
                fields=["client_id", "received_on"],
                include=["network", "rail", "transaction_type", "reason_code", "is_open"],
                name="report_case_client_recv_idx",
            ),
            models.Index(
                fields=["client_id", "transaction_date"],
                include=["network", "rail", "transaction_type", "reason_code"],
                name="report_case_client_txn_idx",
            ),
            models.Index(
                fields=["client_id", "closed_on"],
                include=[
                    "network",
                    "outcome",
                    "currency",
                    "amount",
                    "recovered_amount",
                    "to_first_touch",
                    "to_submission",
                    "to_decision",
                ],
                name="report_case_client_closed_idx",
            ),
        ]

    def __str__(self):
        return f"Report facts of dispute {self.dispute_id}"


class ReportDay(models.Model):
    """Sums of one measure on one day for one key: what a quarter's page reads instead of a
    million disputes. ``client_id`` 0 is every client together (the measures counted per client
    carry the client's id). Unused keys are "" (and -1 for ``span``)."""

    measure = models.CharField(max_length=20)
    day = models.DateField()
    network = models.CharField(max_length=12)
    client_id = models.BigIntegerField(default=0)
    rail = models.CharField(max_length=20, default="")
    transaction_type = models.CharField(max_length=20, default="")
    reason_code = models.CharField(
        max_length=16, default="", help_text="For NACHA returns per client: the return class"
    )
    outcome = models.CharField(max_length=12, default="")
    currency = models.CharField(max_length=3, default="")
    stage = models.CharField(max_length=32, default="")
    span = models.IntegerField(default=-1, help_text="Fed banking days, for the speed measures")
    count = models.BigIntegerField(default=0)
    amount = models.DecimalField(max_digits=20, decimal_places=2, default=0)
    recovered = models.DecimalField(max_digits=20, decimal_places=2, default=0)
    with_internal_due = models.BigIntegerField(default=0)
    met_internal_due = models.BigIntegerField(default=0)
    with_network_due = models.BigIntegerField(default=0)
    met_network_due = models.BigIntegerField(default=0)

    class Meta:
        app_label = "disputes"
        constraints = [
            models.UniqueConstraint(
                fields=["measure", "day", "network", "client_id", "rail", "transaction_type",
                        "reason_code", "outcome", "currency", "stage", "span"],
                name="uniq_report_day_key",
            )
        ]  # fmt: skip

    def __str__(self):
        return f"{self.measure} on {self.day}: {self.count}"


class ReportRefresh(models.Model):
    """The watermark: the highest case-history event id the summaries are derived up to."""

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
