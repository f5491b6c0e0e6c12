from django.conf import settings
from django.db import models
from django.utils import timezone


class RuleConfirmation(models.Model):
    """One lead's word on one rule row (``visa:13.1:dispute_response``): append-only.

    ``days`` is the window Astra uses from ``effective_from`` on (None: the table's window is
    confirmed as it stands). The newest confirmation in effect on a window's start date wins.
    ``moved`` and ``moves`` record what the recompute that followed changed.
    """

    rule_key = models.CharField(max_length=64, db_index=True)
    days = models.PositiveSmallIntegerField(null=True, blank=True)
    table_days = models.PositiveSmallIntegerField(null=True, blank=True)
    table_confidence = models.CharField(max_length=12)
    rules_version = models.CharField(max_length=16)
    source_document = models.CharField(max_length=200)
    effective_from = models.DateField()
    comment = models.TextField(blank=True)
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    confirmed_at = models.DateTimeField(default=timezone.now)
    checked = models.PositiveIntegerField(default=0)
    moved = models.PositiveIntegerField(default=0)
    moves = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["-confirmed_at", "-id"]
        permissions = [("confirm_rules", "Can confirm rule-table rows or set their window")]

    def __str__(self):
        return f"{self.rule_key} from {self.effective_from}"

    @property
    def is_override(self) -> bool:
        return self.days is not None and self.days != self.table_days
