"""The dispute domain: clients, the disputed transaction, the dispute and its audit trail."""

import re
import secrets
from dataclasses import dataclass
from datetime import date
from functools import cached_property
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.db.models.functions import Coalesce, Least
from django.urls import reverse
from django.utils import timezone
from django_fsm import FSMField, FSMModelMixin

from calendar_rules import calendars, nacha, rules

from . import states
from .choices import (
    OPEN_WORK_STATES,
    RAILS_BY_NETWORK,
    Network,
    Outcome,
    Party,
    Rail,
    ReferenceKind,
    SecCode,
    Stage,
    TransactionType,
    WorkState,
)

MONEY = {"max_digits": 18, "decimal_places": 2}
RETURN_TIMELINESS_UNKNOWN = "Not known: original entry not on file."


def business_today() -> date:
    """Today's date in the operations time zone: the date deadlines are compared with."""
    return timezone.localdate(timezone.now(), timezone=ZoneInfo(settings.OPS_TIME_ZONE))


@dataclass(frozen=True, slots=True)
class Urgency:
    label: str
    level: str  # overdue, today, soon, near, ok, waiting, none (CSS: .urgency-<level>)


class Client(models.Model):
    """Astra's business customer: the merchant, platform or ACH originator behind a dispute."""

    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=80, unique=True)
    cs_owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="owned_clients",
        verbose_name="Customer Success owner",
    )
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class ClientContact(models.Model):
    """A person at the client whom Customer Success asks for evidence."""

    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="contacts")
    name = models.CharField(max_length=200)
    email = models.EmailField()
    role = models.CharField(max_length=100, blank=True)
    receives_evidence_requests = models.BooleanField(default=True)

    class Meta:
        ordering = ["client", "name"]
        constraints = [
            models.UniqueConstraint(fields=["client", "email"], name="uniq_contact_email")
        ]

    def __str__(self):
        return f"{self.name} <{self.email}>"


class AchCompany(models.Model):
    """An ACH Company Identification under which a client originates entries."""

    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="ach_companies")
    company_id = models.CharField(
        "company identification", max_length=10, unique=True, help_text="Batch header field 5"
    )
    company_name = models.CharField(max_length=16)

    class Meta:
        ordering = ["company_id"]
        verbose_name = "ACH company identification"

    def __str__(self):
        return f"{self.company_id} ({self.company_name})"


class Transaction(models.Model):
    """The payment under dispute, on whichever rail it moved."""

    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="transactions")
    rail = models.CharField(max_length=20, choices=Rail.choices)
    transaction_type = models.CharField(max_length=20, choices=TransactionType.choices)
    sec_code = models.CharField(
        "SEC code", max_length=3, choices=SecCode.choices, blank=True, help_text="ACH only"
    )
    reference_kind = models.CharField(max_length=20, choices=ReferenceKind.choices)
    network_reference = models.CharField(
        max_length=64, help_text="ARN, network transaction id or ACH trace number"
    )
    account_last4 = models.CharField(
        max_length=4, blank=True, help_text="Last four digits of the card or bank account"
    )
    account_fingerprint = models.CharField(
        max_length=64,
        blank=True,
        help_text="Keyed hash of the full card or account number, to find related disputes",
    )
    ach_company_id = models.CharField(max_length=10, blank=True)
    amount = models.DecimalField(**MONEY)
    currency = models.CharField(max_length=3, default="USD")
    transaction_date = models.DateField()
    settlement_date = models.DateField(
        help_text="Card: the transaction processing date (CSBD). ACH: the settlement date."
    )
    description = models.CharField(max_length=200, blank=True)
    original_entry_on_file = models.BooleanField(
        default=True,
        db_default=True,
        help_text=(
            "False for an ACH entry known only from its return: its dates are then the "
            "return's, not the original entry's, and say nothing about timeliness"
        ),
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [
            models.Index(fields=["network_reference"], name="txn_reference_idx"),
            # Related disputes: equality only (db_index would add a second, pattern index).
            models.Index(fields=["account_fingerprint"], name="txn_fingerprint_idx"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="txn_amount_positive"),
        ]

    def __str__(self):
        return f"{self.get_reference_kind_display()} {self.network_reference}"


# --- what the queue sorts and searches on (disputes.selectors; the indexes in Dispute.Meta) ---

OPEN_DISPUTE = Q(state__in=OPEN_WORK_STATES)


def choice_rank(field: str, values) -> models.Case:
    """An integer that orders a choice field in workflow order instead of by its stored value.
    The queue sorts by it and an index holds it: reorder only together with a migration."""
    return models.Case(
        *(
            models.When(**{field: value}, then=models.Value(rank))
            for rank, value in enumerate(values)
        ),
        default=models.Value(len(values)),
        output_field=models.IntegerField(),
    )


STATE_RANK = choice_rank("state", WorkState.values)
STAGE_RANK = choice_rank("stage", Stage.values)

# Closed disputes: each queue sort has an index over these as well as one over open disputes
# (Dispute.Meta.indexes). A dispute enters them once, when it closes, so neither the deadline
# recomputation nor the transitions of open disputes write to them.
CLOSED_DISPUTE = Q(state=WorkState.CLOSED)

# The move is ours and its deadline is set: the due windows count these (disputes.filters).
OUR_MOVE = Q(internal_due__isnull=False) & ~Q(due_party=Party.COUNTERPARTY)


def _earlier(a, b):
    """The earlier of two dates, either of which may be empty (LEAST, the same on SQLite)."""
    return Least(Coalesce(a, b), Coalesce(b, a))


# The first day an open dispute counts as overdue: our internal due when the move is ours, or,
# awaiting evidence, the client's evidence deadline, whichever is earlier; empty when neither
# applies. "Overdue" is OVERDUE_SINCE < today, one range of an index (Dispute.Meta).
OVERDUE_SINCE = _earlier(
    models.Case(models.When(OUR_MOVE, then=models.F("internal_due"))),
    models.Case(
        models.When(state=WorkState.AWAITING_EVIDENCE, then=models.F("client_evidence_due"))
    ),
)


class DisputeQuerySet(models.QuerySet):
    def open(self):
        return self.filter(state__in=OPEN_WORK_STATES)

    def for_user(self, user):
        """Every role may read every dispute; what it may do is decided per transition."""
        return self if user.has_perm("disputes.view_dispute") else self.none()


# The columns the built-in views filter on (state, assignee, the due windows and "Overdue"),
# carried by each open sort index (``Dispute.Meta.indexes``).
VIEW_COLUMNS = ("state", "assignee", "internal_due", "due_party", "client_evidence_due")


def _open_sort_index(name: str, *keys, also=()) -> models.Index:
    """An open-disputes index on ``keys`` (field names or expressions) that also carries the
    views' columns (and ``also``), so a view's filters are read from the index."""
    fields = [key for key in keys if isinstance(key, str)]
    include = [c for c in (*VIEW_COLUMNS, *also) if c not in fields]
    if len(fields) == len(keys):
        return models.Index(fields=fields, condition=OPEN_DISPUTE, include=include, name=name)
    return models.Index(*keys, condition=OPEN_DISPUTE, include=include, name=name)


class Dispute(FSMModelMixin, states.DisputeStateMachines, models.Model):
    """One dispute under one network's state machine.

    ``stage`` and ``state`` are protected FSM fields: they change only through
    ``disputes.services``, which writes an event to the dispute's case history
    (``disputes.history``) for every act.
    """

    network = models.CharField(max_length=12, choices=Network.choices)
    case_id = models.CharField("network case id", max_length=40)
    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="disputes")
    transaction = models.ForeignKey(Transaction, on_delete=models.PROTECT, related_name="disputes")
    # Copied from the transaction so the queue filters without a join.
    rail = models.CharField(max_length=20, choices=Rail.choices)
    reason_code = models.CharField(max_length=8)
    stage = FSMField(max_length=32, choices=Stage.choices, protected=True)
    state = FSMField(
        max_length=20, choices=WorkState.choices, default=WorkState.NEW, protected=True
    )
    amount = models.DecimalField("disputed amount", **MONEY)
    currency = models.CharField(max_length=3, default="USD")

    received_on = models.DateField(help_text="The date the dispute reached Astra")
    stage_started_on = models.DateField(
        help_text="Network processing date of the current stage: its clock counts from here"
    )
    alt_anchor_date = models.DateField(
        null=True,
        blank=True,
        help_text="Expected receipt or delivery date, for rules with an alternative anchor",
    )
    return_settled_on = models.DateField(
        null=True, blank=True, help_text="NACHA: settlement date of the return entry"
    )
    dishonor_code = models.CharField(max_length=3, blank=True)
    contest_code = models.CharField(max_length=3, blank=True)
    reinitiation_count = models.PositiveSmallIntegerField(default=0)

    # Filled by the deadline engine (calendar_rules) whenever the stage changes.
    network_due = models.DateField(null=True, blank=True)
    internal_due = models.DateField(null=True, blank=True)
    client_evidence_due = models.DateField(null=True, blank=True)
    due_party = models.CharField(max_length=12, choices=Party.choices, blank=True)
    deadline_rule = models.CharField(max_length=64, blank=True)
    rules_version = models.CharField(max_length=16, blank=True)
    deadline_explanation = models.TextField(blank=True)

    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="assigned_disputes",
    )
    outcome = models.CharField(max_length=12, choices=Outcome.choices, blank=True)
    recovered_amount = models.DecimalField(null=True, blank=True, **MONEY)
    opened_at = models.DateTimeField(default=timezone.now)
    first_touched_at = models.DateTimeField(null=True, blank=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(default=timezone.now)
    version = models.PositiveIntegerField(
        default=1, help_text="Bumped on every change; a save on a stale version is refused"
    )

    objects = DisputeQuerySet.as_manager()

    class Meta:
        ordering = ["internal_due", "id"]
        constraints = [
            models.UniqueConstraint(fields=["network", "case_id"], name="uniq_network_case_id"),
            models.CheckConstraint(condition=Q(amount__gt=0), name="dispute_amount_positive"),
            models.CheckConstraint(
                condition=Q(state=WorkState.CLOSED, stage=Stage.CLOSED)
                | (~Q(state=WorkState.CLOSED) & ~Q(stage=Stage.CLOSED)),
                name="dispute_closed_together",
            ),
        ]
        indexes = [
            # A work state's disputes by due date (the awaiting-evidence and submitted views and
            # their counts); closed disputes by id.
            models.Index(fields=["state", "internal_due", "id"], name="dispute_queue_idx"),
            # The queue (disputes.selectors.for_queue) pages by keyset: one partial index per
            # sort over open disputes, (sort key, id), so any page is a short range scan. Each
            # also carries the columns the built-in views filter on (``VIEW_COLUMNS``), so a
            # view read in any sort ("Overdue" by amount, "Submitted" by assignee) is filtered
            # from the index alone (an index-only scan), never row by row from the table.
            _open_sort_index("dispute_open_due_idx", "internal_due", "id"),
            _open_sort_index("dispute_open_netdue_idx", "network_due", "id"),
            _open_sort_index("dispute_open_received_idx", "received_on", "id"),
            _open_sort_index("dispute_open_amount_idx", "amount", "id"),
            _open_sort_index("dispute_open_case_idx", "case_id", "id"),
            _open_sort_index("dispute_open_network_idx", "network", "rail", "id"),
            _open_sort_index("dispute_open_reason_idx", "reason_code", "id"),
            _open_sort_index("dispute_open_stage_idx", STAGE_RANK, "id", also=["stage"]),
            _open_sort_index("dispute_open_state_idx", STATE_RANK, "id"),
            _open_sort_index("dispute_open_client_idx", "client", "id"),
            _open_sort_index("dispute_open_assignee_idx", "assignee", "id"),
            # The same sorts over closed disputes (and a client's or a person's closed disputes
            # by id): the closed view reads these, and "open or closed" merges the two
            # index-ordered streams (disputes.selectors, disputes.export). Closed disputes by
            # due date come from dispute_queue_idx, (state, internal_due, id); by stage or state
            # (the same on every closed dispute) from the primary key, in id order.
            models.Index(
                fields=["network_due", "id"],
                condition=CLOSED_DISPUTE,
                name="dispute_closed_netdue_idx",
            ),
            models.Index(
                fields=["received_on", "id"],
                condition=CLOSED_DISPUTE,
                name="dispute_closed_received_idx",
            ),
            models.Index(
                fields=["amount", "id"], condition=CLOSED_DISPUTE, name="dispute_closed_amount_idx"
            ),
            models.Index(
                fields=["case_id", "id"], condition=CLOSED_DISPUTE, name="dispute_closed_case_idx"
            ),
            models.Index(
                fields=["network", "rail", "id"],
                condition=CLOSED_DISPUTE,
                name="dispute_closed_network_idx",
            ),
            models.Index(
                fields=["reason_code", "id"],
                condition=CLOSED_DISPUTE,
                name="dispute_closed_reason_idx",
            ),
            models.Index(
                fields=["client", "id"], condition=CLOSED_DISPUTE, name="dispute_closed_client_idx"
            ),
            models.Index(
                fields=["assignee", "id"],
                condition=CLOSED_DISPUTE,
                name="dispute_closed_assignee_idx",
            ),
            # A client's or a person's open disputes, most urgent first (filters, "My queue").
            models.Index(
                fields=["client", "internal_due", "id"],
                condition=OPEN_DISPUTE,
                name="dispute_open_client_due_idx",
            ),
            models.Index(
                fields=["assignee", "internal_due", "id"],
                condition=OPEN_DISPUTE,
                name="dispute_open_mine_due_idx",
            ),
            # The due windows ("today", "within 3 business days", "this week", …) of our own
            # deadlines: counted and paged from the index alone, whatever the table's order.
            models.Index(
                fields=["internal_due", "id"],
                condition=OPEN_DISPUTE & OUR_MOVE,
                name="dispute_open_ours_due_idx",
            ),
            # "Overdue": one range of OVERDUE_SINCE, counted from the index alone.
            models.Index(
                OVERDUE_SINCE,
                "id",
                condition=OPEN_DISPUTE,
                include=["state", "internal_due", "due_party", "client_evidence_due"],
                name="dispute_open_overdue_idx",
            ),
            # Search by case id prefix, any state: dispute_case_search_idx on
            # UPPER(case_id) text_pattern_ops, PostgreSQL only (migration 0003 creates it).
        ]
        permissions = [
            ("claim_dispute", "Can claim a dispute"),
            ("assign_dispute", "Can assign disputes to others"),
            ("work_dispute", "Can take ops transitions on a dispute"),
            ("accept_liability", "Can accept liability or record expiry"),
            ("request_evidence", "Can request and receive evidence"),
            ("upload_evidence", "Can upload evidence"),
            ("add_note", "Can add a note to a dispute"),
            ("export_disputes", "Can export disputes"),
            ("view_reports", "Can view reports"),
            ("verify_audit", "Can verify the audit trail"),
            ("unlock_logins", "Can lift sign-in lockouts"),
        ]

    def __str__(self):
        return f"{self.get_network_display()} {self.case_id}"

    def get_absolute_url(self):
        return reverse("disputes:detail", args=[self.pk])

    # --- rules of one row --------------------------------------------------------------------

    @cached_property
    def reason(self):
        """The reason code's row in the network rule table."""
        return rules.reason_code(self.network, self.reason_code)

    @property
    def flow(self) -> str:
        return states.flow_of(self.network, self.reason_code)

    @property
    def is_open(self) -> bool:
        return self.state != WorkState.CLOSED

    def business_today(self) -> date:
        return business_today()

    def is_overdue(self, today: date) -> bool:
        return self.is_open and self.internal_due is not None and self.internal_due < today

    def return_timeliness(self):
        """NACHA: whether the return arrived within its time frame and, if late, the R68
        dishonor deadline (calendar_rules.nacha). None for card disputes, or before the return
        has settled. When the original entry is not on file its settlement date is unknown, so
        timeliness is not known either (status ``undetermined``): never guessed from the
        return's own dates."""
        if self.network != Network.NACHA or self.return_settled_on is None:
            return None
        if not self.transaction.original_entry_on_file:
            return nacha.ReturnTimeliness(
                self.reason_code,
                "undetermined",
                None,
                self.return_settled_on,
                None,
                None,
                RETURN_TIMELINESS_UNKNOWN,
                original_known=False,
            )
        try:
            return nacha.check_return_timeliness(
                self.reason_code,
                original_settlement=self.transaction.settlement_date,
                return_settlement=self.return_settled_on,
            )
        except (rules.RuleLookupError, calendars.CalendarRangeError, OverflowError):
            return None

    def urgency(self, today: date) -> "Urgency":
        """How pressing the dispute is, in a few words that fit one line of the queue ("3 days
        overdue", "Due today", "2 banking days") and a level the pages colour by."""
        if not self.is_open:
            return Urgency(self.get_outcome_display() or "Closed", "none")
        if (
            self.state == WorkState.AWAITING_EVIDENCE
            and self.client_evidence_due is not None
            and self.client_evidence_due < today
        ):
            return Urgency("Evidence overdue", "overdue")
        if self.internal_due is None or self.network_due is None:
            return Urgency("No network clock", "none")
        on = f"{self.network_due:%b} {self.network_due.day}"
        if self.due_party == Party.COUNTERPARTY:
            who = "RDFI" if self.network == Network.NACHA else "Issuer"
            if self.network_due < today:
                # Their silence is usually our win, but someone has to record it.
                return Urgency(f"{who} window closed", "near")
            return Urgency(f"Waiting until {on}", "waiting")
        if self.network_due < today:
            return Urgency("Missed network date", "overdue")
        if self.internal_due < today:
            late = (today - self.internal_due).days
            return Urgency(f"{late} day{'s' if late != 1 else ''} overdue", "overdue")
        if self.internal_due == today:
            return Urgency("Due today", "today")
        try:
            left = calendars.FED.banking_days_between(today, self.internal_due)
        except calendars.CalendarRangeError:  # past the banking calendar: far off
            return Urgency(f"Due {self.internal_due:%b} {self.internal_due.day}", "ok")
        noun = "banking day" if left == 1 else "banking days"
        level = "soon" if left < 2 else "near" if left <= 5 else "ok"
        return Urgency(f"{left} {noun}", level)

    def clean(self):
        errors = {}
        try:
            rules.reason_code(self.network, self.reason_code, on=self.received_on)
        except rules.RuleLookupError as exc:
            errors["reason_code"] = str(exc)
        if self.rail and self.network and self.rail not in RAILS_BY_NETWORK[self.network]:
            errors["rail"] = f"A {self.get_network_display()} dispute cannot be on {self.rail}."
        if errors:
            raise ValidationError(errors)


FEED_TOKEN = re.compile(r"[A-Za-z0-9_-]{1,64}")


class CalendarFeed(models.Model):
    """A user's private iCalendar feed of deadlines. The token in its URL is the only credential,
    so it can be rotated (revoking the old URL) at any time."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="calendar_feed"
    )
    token = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    last_fetched_at = models.DateTimeField(null=True, blank=True)

    def __str__(self):
        return f"Calendar feed of {self.user}"

    @staticmethod
    def new_token() -> str:
        return secrets.token_urlsafe(32)

    @staticmethod
    def is_well_formed(token: str) -> bool:
        """Whether ``token`` could be one ``new_token`` made (URL-safe base64, at most 64
        characters), so a NUL byte or any other junk in a URL never reaches the database."""
        return FEED_TOKEN.fullmatch(token) is not None

    @classmethod
    def revoke_for(cls, user) -> int:
        """Delete the user's feed link for good (a new one must be created); returns how many."""
        deleted, _by_model = cls.objects.filter(user=user).delete()
        return deleted


# Models of the feature packages belong to this app.
from .confirmed_rules.models import RuleConfirmation  # noqa: E402, F401
from .evidence.bundles.models import Bundle, BundleVersion  # noqa: E402, F401
from .evidence.models import (  # noqa: E402, F401
    ChecklistOverride,
    EvidenceItem,
    EvidenceRequest,
    RebuttalLetter,
)
from .history.models import CaseEvent  # noqa: E402, F401
from .history.runs import AuditRun  # noqa: E402, F401
from .intake.models import (  # noqa: E402, F401
    ChangeNotice,
    IdempotentRequest,
    IntakeFile,
    MerchantAccount,
    ReviewFlag,
    TransactionVolume,
    UnmatchedOriginator,
)
from .missed.models import MissedDeadline  # noqa: E402, F401
from .notifications.models import Notification, NotificationSettings, SweepMark  # noqa: E402, F401
from .reports.models import (  # noqa: E402, F401
    ReportCase,
    ReportDay,
    ReportFiling,
    ReportRefresh,
    WeeklyKpiSend,
)
