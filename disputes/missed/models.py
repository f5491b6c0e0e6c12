from django.db import models
from django.utils import timezone


class MissedDeadline(models.Model):
    """One of our windows that passed with no filing: recorded once per dispute, stage and
    network due date (the unique constraint makes a repeated sweep record nothing twice).
    The case history holds the same fact as a ``deadline_missed`` event, written in the same
    transaction."""

    dispute = models.ForeignKey(
        "disputes.Dispute", on_delete=models.PROTECT, related_name="missed_deadlines"
    )
    stage = models.CharField(max_length=32, help_text="The stage whose window we missed")
    window = models.CharField(max_length=32, help_text="The rule table's stage: our filing")
    network_due = models.DateField(help_text="The last day the network would have accepted it")
    internal_due = models.DateField(null=True, blank=True)
    deadline_rule = models.CharField(max_length=64, blank=True)
    recorded_at = models.DateTimeField(default=timezone.now)
    event_seq = models.PositiveIntegerField(help_text="The deadline_missed event's number")

    class Meta:
        app_label = "disputes"
        ordering = ["dispute", "network_due"]
        constraints = [
            models.UniqueConstraint(
                fields=["dispute", "stage", "network_due"], name="uniq_missed_deadline"
            ),
        ]

    def __str__(self):
        return f"{self.dispute_id} missed {self.window} due {self.network_due}"
