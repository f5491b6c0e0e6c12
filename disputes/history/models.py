"""The case history: one append-only, keyed hash chain of events per dispute.

Every act on a dispute (opening, transitions, claims, notes, evidence, requests, bundles,
reminders, deadline changes, imports, missed deadlines) is one ``CaseEvent`` row, written in the
same database transaction as the act by ``disputes.history.record_event``. Each row carries a
snapshot of the dispute as the act left it (stage, state, outcome, assignee, version and the
deadlines in force), so "was it filed on time?" can be rebuilt from the history alone and the
verifier can compare the dispute row with what its last event says.

``row_hash`` is an HMAC (key from the environment, never from the database) over the row's
content and the previous row's hash: a rewritten and re-hashed chain is detected without the
key. PostgreSQL refuses UPDATE, DELETE and TRUNCATE on the table (trigger, migration 0004).
"""

from django.conf import settings
from django.db import models
from django.utils import timezone


class AppendOnlyQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise TypeError("The case history is append-only: events are never updated.")

    def delete(self):
        raise TypeError("The case history is append-only: events are never deleted.")


class CaseEvent(models.Model):
    # No index of its own: uniq_case_event_seq (dispute, seq) leads with the dispute.
    dispute = models.ForeignKey(
        "disputes.Dispute", on_delete=models.PROTECT, related_name="events", db_index=False
    )
    seq = models.PositiveIntegerField()
    kind = models.CharField(max_length=48)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="Empty when the system acted",
    )
    system_actor = models.CharField(
        max_length=64, blank=True, help_text="Which process acted, when the system did"
    )
    created_at = models.DateTimeField(default=timezone.now)
    payload = models.JSONField(default=dict, blank=True)
    # The dispute as this event left it.
    stage = models.CharField(max_length=32)
    state = models.CharField(max_length=20)
    outcome = models.CharField(max_length=12, blank=True)
    assignee_id = models.BigIntegerField(null=True, blank=True)
    version = models.PositiveIntegerField()
    network_due = models.DateField(null=True, blank=True)
    internal_due = models.DateField(null=True, blank=True)
    client_evidence_due = models.DateField(null=True, blank=True)
    deadline_rule = models.CharField(max_length=64, blank=True)
    prev_hash = models.CharField(max_length=64, blank=True)
    row_hash = models.CharField(max_length=64)

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        app_label = "disputes"
        ordering = ["dispute", "seq"]
        constraints = [
            models.UniqueConstraint(fields=["dispute", "seq"], name="uniq_case_event_seq"),
        ]
        indexes = [
            # The missed-deadlines report, by time. Only these events are ever looked up by
            # kind: an index of every event's kind would cost each insert and a large load for
            # nothing.
            models.Index(
                fields=["created_at"],
                name="case_event_missed_idx",
                condition=models.Q(kind="deadline_missed"),
            )
        ]

    def __str__(self):
        return f"{self.dispute_id}#{self.seq} {self.kind}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise TypeError("The case history is append-only: events are never updated.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise TypeError("The case history is append-only: events are never deleted.")

    # --- reading the payload ---------------------------------------------------------------

    @property
    def act(self) -> str:
        """The act recorded: a transition's name, "open" for the opening, else the kind."""
        return self.payload.get("act") or {"opened": "open"}.get(self.kind, self.kind)

    @property
    def comment(self) -> str:
        return self.payload.get("comment", "")

    @property
    def params(self) -> dict:
        return self.payload.get("params", {})
