"""What the intake keeps: the files imported, notifications of change, review flags, disputes
whose originator or merchant matched no client, merchant ids, transaction volumes, and the
responses the API gave to requests with an Idempotency-Key."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from ..choices import Rail, TransactionType

MONEY = {"max_digits": 18, "decimal_places": 2}


class IntakeFile(models.Model):
    """One file handed to the intake. The same bytes of the same kind are imported once: a
    second upload finds the first (unique sha256 among files not refused)."""

    class Kind(models.TextChoices):
        NACHA = "nacha", "NACHA return file"
        CARD = "card_csv", "Card dispute report"
        VOLUMES = "volumes", "Transaction volumes"

    class Status(models.TextChoices):
        PENDING = "pending", "Waiting to import"
        RUNNING = "running", "Importing"
        DONE = "done", "Imported"
        FAILED = "failed", "Refused"

    kind = models.CharField(max_length=12, choices=Kind.choices)
    source = models.CharField(max_length=40, blank=True, help_text="Card reports: the mapping")
    name = models.CharField("file name", max_length=200)
    sha256 = models.CharField(max_length=64)
    size = models.PositiveIntegerField(default=0)
    content = models.BinaryField(editable=False)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.PENDING)
    error = models.TextField(blank=True, help_text="Why the file was refused: line and field")
    error_line = models.PositiveIntegerField(null=True, blank=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    total = models.PositiveIntegerField(default=0, help_text="Entries or rows in the file")
    done = models.PositiveIntegerField(default=0, help_text="Entries or rows applied so far")
    summary = models.JSONField(default=dict, blank=True)

    class Meta:
        app_label = "disputes"
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "sha256"],
                condition=~Q(status="failed"),
                name="uniq_intake_file_content",
            )
        ]
        permissions = [("import_files", "Can import dispute and volume files")]

    def __str__(self):
        return f"{self.get_kind_display()} {self.name}"

    SUMMARY_LABELS = {
        "opened": "disputes opened",
        "already_imported": "already imported",
        "dishonored": "dishonored",
        "contested": "contested",
        "change_notices": "notifications of change",
        "flagged": "flagged for review",
        "unmatched": "without a client",
        "not_disputes": "zero-amount returns skipped",
        "disputes_touched": "disputes touched",
        "created": "days created",
        "updated": "days updated",
        "unchanged": "days unchanged",
    }

    @property
    def summary_items(self) -> list[tuple[str, int]]:
        """What the import changed, in words, leaving out what is zero."""
        return [
            (self.SUMMARY_LABELS.get(key, key.replace("_", " ")), value)
            for key, value in (self.summary or {}).items()
            if value
        ]

    @property
    def summary_text(self) -> str:
        return ", ".join(f"{value:,} {label}" for label, value in self.summary_items)

    @property
    def progress_percent(self) -> int:
        if self.status == self.Status.DONE:
            return 100
        return int(100 * self.done / self.total) if self.total else 0


class ReviewFlag(models.Model):
    """An imported entry someone should look at: a return code that does not fit its entry, or
    a dishonor or contest the dispute could not take."""

    dispute = models.ForeignKey("disputes.Dispute", on_delete=models.CASCADE, related_name="flags")
    intake_file = models.ForeignKey(IntakeFile, on_delete=models.PROTECT, related_name="flags")
    line = models.PositiveIntegerField()
    reason = models.TextField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        app_label = "disputes"
        ordering = ["-created_at", "id"]

    def __str__(self):
        return f"Line {self.line}: {self.reason}"


class UnmatchedOriginator(models.Model):
    """A dispute imported for an ACH company identification or a merchant id that no client
    holds. The dispute is open at once (its clock runs regardless); ops choose the client."""

    class IdKind(models.TextChoices):
        ACH_COMPANY = "ach_company", "ACH company identification"
        MERCHANT = "merchant", "Merchant id"

    dispute = models.OneToOneField(
        "disputes.Dispute", on_delete=models.CASCADE, related_name="unmatched_originator"
    )
    id_kind = models.CharField(max_length=12, choices=IdKind.choices)
    identifier = models.CharField(max_length=40)
    name = models.CharField(max_length=200, blank=True)
    intake_file = models.ForeignKey(IntakeFile, on_delete=models.PROTECT, related_name="+")
    line = models.PositiveIntegerField()
    created_at = models.DateTimeField(default=timezone.now)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    resolved_client = models.ForeignKey(
        "disputes.Client", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        app_label = "disputes"
        ordering = ["created_at", "id"]
        indexes = [
            models.Index(
                fields=["created_at", "id"],
                condition=Q(resolved_at__isnull=True),
                name="unmatched_open_idx",
            )
        ]

    def __str__(self):
        return f"{self.get_id_kind_display()} {self.identifier}"


class ChangeNotice(models.Model):
    """A notification of change (addenda 98): the RDFI's correction for the client's next
    entries. Recorded for the client, never a dispute."""

    client = models.ForeignKey(
        "disputes.Client", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    company_id = models.CharField("company identification", max_length=10)
    company_name = models.CharField(max_length=16, blank=True)
    code = models.CharField("change code", max_length=3)
    original_trace = models.CharField("original trace number", max_length=15)
    rdfi = models.CharField("receiving DFI", max_length=8)
    corrected_data = models.CharField(max_length=29)
    account_last4 = models.CharField(max_length=4, blank=True)
    individual_name = models.CharField(max_length=22, blank=True)
    sec_code = models.CharField("SEC code", max_length=3)
    received_on = models.DateField()
    intake_file = models.ForeignKey(IntakeFile, on_delete=models.PROTECT, related_name="+")
    line = models.PositiveIntegerField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        app_label = "disputes"
        ordering = ["-received_on", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["original_trace", "code", "corrected_data"], name="uniq_change_notice"
            )
        ]

    def __str__(self):
        return f"{self.code} for {self.original_trace}"


class MerchantAccount(models.Model):
    """A merchant id under which a processor reports a client's card disputes."""

    client = models.ForeignKey(
        "disputes.Client", on_delete=models.CASCADE, related_name="merchant_accounts"
    )
    merchant_id = models.CharField(max_length=40, unique=True)
    name = models.CharField(max_length=200, blank=True)

    class Meta:
        app_label = "disputes"
        ordering = ["merchant_id"]

    def __str__(self):
        return self.merchant_id


class TransactionVolume(models.Model):
    """How many transactions a client made on a day, per rail and type, and for how much: the
    denominators of dispute and return rates."""

    client = models.ForeignKey("disputes.Client", on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    rail = models.CharField(max_length=20, choices=Rail.choices)
    transaction_type = models.CharField(max_length=20, choices=TransactionType.choices)
    count = models.PositiveBigIntegerField()
    amount = models.DecimalField(**MONEY)
    currency = models.CharField(max_length=3, default="USD")
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        app_label = "disputes"
        ordering = ["-day", "client", "rail", "transaction_type"]
        constraints = [
            models.UniqueConstraint(
                fields=["client", "day", "rail", "transaction_type"], name="uniq_volume_day"
            ),
            models.CheckConstraint(condition=Q(amount__gte=0), name="volume_amount_not_negative"),
        ]
        indexes = [
            # a period's volumes for the reports' denominators, from the index alone
            models.Index(
                fields=["day"],
                include=["client", "rail", "transaction_type", "count"],
                name="volume_day_report_idx",
            ),
        ]

    def __str__(self):
        return f"{self.day} {self.rail} {self.transaction_type}: {self.count}"


class IdempotentRequest(models.Model):
    """The first response to an API request sent with an Idempotency-Key: a retry gets it back."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    method = models.CharField(max_length=8)
    path = models.CharField(max_length=300)
    fingerprint = models.CharField(max_length=64, help_text="sha256 of the request body")
    status_code = models.PositiveSmallIntegerField()
    body = models.JSONField(default=dict)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        app_label = "disputes"
        constraints = [models.UniqueConstraint(fields=["user", "key"], name="uniq_idempotency_key")]

    def __str__(self):
        return self.key
