"""Reads for the dispute page: the dispute itself, its timeline, related disputes and the
explanation of its deadline.

The timeline reads the dispute's case history (``disputes.history``): every event, newest
first, each described by its kind's registered ``describe`` function. A new kind of event plugs
in by registering its kind; the page renders every entry the same way.
"""

from dataclasses import dataclass, field
from datetime import date, datetime

from django.db.models import Q

from calendar_rules import calendars, nacha, presentation, rules

from .choices import Network, Party, Rail
from .deadlines import current_layers
from .history import KINDS, Described
from .missed import selectors as missed
from .models import CaseEvent, Dispute

RELATED_LIMIT = 25


def dispute_for_page(pk: int) -> Dispute:
    """The dispute with everything its header needs in one query (raises Dispute.DoesNotExist)."""
    return Dispute.objects.select_related("client", "transaction", "assignee").get(pk=pk)


def display_name(user) -> str:
    if user is None:
        return "System"
    return user.get_full_name() or user.get_username()


def reason_family(dispute: Dispute) -> str:
    """Where the reason code sits in its network's table, in words: "Category 13 ·
    Collaboration flow", "Fraud", "Unauthorized return" ("" when it would repeat the name)."""
    reason = dispute.reason
    if dispute.network == Network.VISA:
        return f"Category {reason.category} · {reason.flow.capitalize()} flow"
    if dispute.network == Network.NACHA:
        return f"{(reason.return_class or 'other').capitalize()} return"
    family = (reason.category or "").replace("_", " ").capitalize()
    return "" if family.lower() == reason.name.lower() else family


def entry_mismatch(dispute: Dispute) -> str:
    """NACHA: why the return code does not fit the returned entry's SEC code ("" when it fits).
    A return that arrives in a file is flagged with this, never refused."""
    if dispute.network != Network.NACHA:
        return ""
    return nacha.entry_mismatch(
        dispute.reason_code, dispute.transaction.sec_code, on=dispute.received_on
    )


# --- the timeline ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TimelineEntry:
    """One thing that happened to a dispute, as the timeline shows it.

    ``kind`` names the source (``transition``, ``note`` …) and is the entry's CSS modifier;
    ``rank`` orders entries of one instant (higher first); ``changes`` are "from → to" lines
    and ``facts`` (label, value) pairs such as the network date of an event.
    """

    kind: str
    at: datetime
    actor: str
    title: str
    body: str = ""
    changes: tuple[str, ...] = ()
    facts: tuple[tuple[str, str], ...] = ()
    rank: int = 0


def _describe(event, dispute) -> Described:
    kind = KINDS.get(event.kind)
    if kind is None:
        return Described(title=event.kind.replace("_", " ").capitalize())
    if kind.describe is None:
        payload = event.payload
        return Described(title=kind.label, body=payload.get("comment") or payload.get("body", ""))
    return kind.describe(event, dispute)


def event_actor(event) -> str:
    return display_name(event.actor) if event.actor_id else (event.system_actor or "System")


def timeline(dispute: Dispute) -> list[TimelineEntry]:
    """Everything that happened to the dispute, newest first, from its case history."""
    events = CaseEvent.objects.filter(dispute_id=dispute.pk).select_related("actor")
    entries = []
    for event in events.order_by("-seq"):
        described = _describe(event, dispute)
        entries.append(
            TimelineEntry(
                kind=event.kind.replace("_", "-"),
                at=event.created_at,
                actor=event_actor(event),
                title=described.title,
                body=described.body,
                changes=described.changes,
                facts=described.facts,
                rank=event.seq,
            )
        )
    return entries


# --- related disputes -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RelatedDispute:
    dispute: Dispute
    relation: str  # "Same transaction", "Same card ··4242", "Same account ··6789"


def related_disputes(dispute: Dispute, limit: int = RELATED_LIMIT) -> list[RelatedDispute]:
    """Other disputes on the same transaction, or of the same client on the same card or bank
    account (``Transaction.account_fingerprint``), newest first, in one query."""
    same = Q(transaction_id=dispute.transaction_id)
    fingerprint = dispute.transaction.account_fingerprint
    if fingerprint:
        # One join through the transactions with this card or account (the dispute's own among
        # them when it is the client's): an OR of the two reads every dispute at 1 M rows.
        same_account = Q(
            transaction__client_id=dispute.client_id,
            transaction__account_fingerprint=fingerprint,
        )
        same = (
            same_account
            if dispute.transaction.client_id == dispute.client_id
            else same | same_account
        )
    rows = (
        Dispute.objects.filter(same)
        .exclude(pk=dispute.pk)
        .select_related("transaction")
        .order_by("-received_on", "-id")[:limit]
    )
    return [RelatedDispute(row, _relation(dispute, row)) for row in rows]


def _relation(dispute: Dispute, other: Dispute) -> str:
    if other.transaction_id == dispute.transaction_id:
        return "Same transaction"
    noun = "account" if other.transaction.rail == Rail.ACH else "card"
    last4 = other.transaction.account_last4
    return f"Same {noun} ··{last4}" if last4 else f"Same {noun}"


# --- the deadline, explained ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DeadlineRow:
    kind: str  # client_evidence, internal, cutoff, network
    label: str
    due: date
    note: str  # the rule of this layer, in words
    relative: str = ""  # "in 6 days · 4 business days", "today", "3 days ago"
    past: bool = False
    drives: bool = False  # the earliest date still ahead: it sets the urgency


def relative_day(due: date, today: date) -> str:
    """How far ``due`` is from ``today``, in calendar days and (ahead) Fed business days."""
    days = (due - today).days
    if days == 0:
        return "today"
    if days < 0:
        return f"{-days} day{'s' if days != -1 else ''} ago"
    try:
        business = calendars.FED.banking_days_between(today, due)
    except calendars.CalendarRangeError:  # a date past the banking calendar: days only
        return f"in {days} day{'s' if days != 1 else ''}"
    return f"in {days} day{'s' if days != 1 else ''} · {business} banking day" + (
        "s" if business != 1 else ""
    )


@dataclass
class DeadlinePanel:
    """The dispute's deadlines as the page explains them: one row per layer."""

    rows: list[DeadlineRow] = field(default_factory=list)
    who_acts: str = ""
    waiting: bool = False
    explanation: str = ""
    rule_label: str = ""  # "Visa 13.1 dispute response"
    rule_anchor: str = ""  # the /rules/ page's anchor of the code
    rule_key: str = ""
    rules_version: str = ""
    confidence: str = ""
    confidence_words: str = ""
    doubt: str = ""  # for a GK/open row no lead has confirmed, in words
    confirmation: object = None  # RuleConfirmation in effect
    earliest_filing: date | None = None
    rules_moved_to: date | None = None  # today's tables give another network date
    return_verdict: object = None  # NACHA: calendar_rules.nacha.ReturnTimeliness
    entry_warning: str = ""  # NACHA: the return code does not fit the entry
    missed: list[str] = field(default_factory=list)  # "Missed dishonor deadline on Dec 3, 2026"


def counterparty_name(dispute: Dispute) -> str:
    return "the RDFI" if dispute.network == Network.NACHA else "the issuer"


def deadline_panel(dispute: Dispute, today: date) -> DeadlinePanel:
    """The stored deadline fields in words, layer by layer (network rule, processor or bank
    cut-off, internal buffer, client evidence), how sure the rule is or who confirmed it, and
    whether today's tables would give another date."""
    waiting = dispute.due_party == Party.COUNTERPARTY
    panel = DeadlinePanel(
        waiting=waiting,
        explanation=dispute.deadline_explanation,
        rule_key=dispute.deadline_rule,
        rules_version=dispute.rules_version,
        entry_warning=entry_mismatch(dispute),
    )
    if dispute.due_party == Party.ASTRA:
        panel.who_acts = "Astra must respond"
    elif waiting:
        panel.who_acts = f"Waiting on {counterparty_name(dispute)}"
    layers = _layers(dispute) if dispute.is_open and dispute.network_due else None
    rows = _deadline_rows(dispute, waiting, layers)
    ahead = [row for row in rows if row[2] >= today]
    first = min(ahead, key=lambda row: row[2]) if dispute.is_open and ahead else None
    panel.rows = [
        DeadlineRow(
            *row, relative=relative_day(row[2], today), past=row[2] < today, drives=row is first
        )
        for row in rows
    ]
    if layers is not None:
        _add_rule_details(dispute, panel, layers)
    if dispute.is_open:
        panel.return_verdict = dispute.return_timeliness()
    panel.missed = [missed.in_words(m) for m in missed.missed_of(dispute.pk)]
    return panel


def _layers(dispute: Dispute):
    try:
        return current_layers(dispute)
    except (rules.RuleLookupError, calendars.CalendarRangeError, OverflowError):
        # A stored date the tables cannot count from (outside the banking calendar) adds nothing.
        return None


def _anchor_label(deadline) -> str:
    return rules.network_table(deadline.network).anchors.get(deadline.anchor_event, "")


def _deadline_rows(dispute: Dispute, waiting: bool, layers) -> list[tuple[str, str, date, str]]:
    rows = []
    if dispute.client_evidence_due:
        rows.append(
            (
                "client_evidence",
                "Client evidence due",
                dispute.client_evidence_due,
                "The date we asked the client to send evidence by",
            )
        )
    if dispute.internal_due and not waiting:
        note = "Our target, before the network's date"
        if layers is not None and layers.deadline.buffer_days:
            buffer = layers.deadline.buffer_days
            before = layers.cutoff.label.lower() if layers.cutoff_due else "network date"
            note = f"{buffer} banking day{'s' if buffer != 1 else ''} before the {before}"
        rows.append(("internal", "Internal target", dispute.internal_due, note))
    if layers is not None and layers.cutoff_due and not waiting:
        cutoff = layers.cutoff
        rows.append(
            (
                "cutoff",
                cutoff.label,
                layers.cutoff_due,
                f"{cutoff.window_text} from the {_anchor_label(layers.deadline)} · {cutoff.source}",
            )
        )
    if dispute.network_due:
        if waiting:
            label = f"{counterparty_name(dispute).capitalize()}'s window ends"
            note = "Their silence after this date is our win"
        else:
            label, note = "Network due", "Last day the network accepts our response"
        if layers is not None:
            d = layers.deadline
            unit = f"{d.day_unit} day{'s' if d.days != 1 else ''}"
            note = f"{d.label}: {d.days} {unit} from the {_anchor_label(d)}"
            if d.overridden:
                note += " (window set for Astra)"
        rows.append(("network", label, dispute.network_due, note))
    return rows


def _add_rule_details(dispute: Dispute, panel: DeadlinePanel, layers) -> None:
    deadline = layers.deadline
    panel.rule_label = deadline.label
    panel.rule_anchor = presentation.anchor_id(deadline.network, deadline.rule_key.split(":")[1])
    panel.confidence = deadline.confidence
    panel.confidence_words = presentation.confidence_words(deadline.confidence)
    panel.confirmation = layers.confirmation
    if layers.confirmation is None:
        panel.doubt = presentation.DOUBTS.get(deadline.confidence, "")
    panel.earliest_filing = deadline.earliest_filing_date
    if deadline.network_due != dispute.network_due:
        panel.rules_moved_to = deadline.network_due
