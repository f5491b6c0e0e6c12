"""Reads for the dispute page: the dispute itself, its timeline, related disputes and the
explanation of its deadline.

The timeline is one newest-first list merged from *sources*: functions registered with
``@timeline_source`` that each turn one kind of record (transitions, notes; later evidence and
reminders) into ``TimelineEntry`` rows with one query. A new kind plugs in by registering a
source; the page renders every entry the same way.
"""

from collections.abc import Callable, Iterable
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from django.db.models import Q

from calendar_rules import calendars, rules

from .choices import Network, Party, Rail, Stage, WorkState
from .deadlines import current_deadline
from .models import Dispute, DisputeTransition, Note
from .templatetags.disputes_tags import money

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


TimelineSource = Callable[[Dispute], Iterable[TimelineEntry]]
TIMELINE_SOURCES: list[TimelineSource] = []


def timeline_source(source: TimelineSource) -> TimelineSource:
    """Register a source of timeline entries (one query per source)."""
    TIMELINE_SOURCES.append(source)
    return source


def timeline(dispute: Dispute) -> list[TimelineEntry]:
    """Everything that happened to the dispute, newest first."""
    entries = [entry for source in TIMELINE_SOURCES for entry in source(dispute)]
    entries.sort(key=lambda entry: (entry.at, entry.rank), reverse=True)
    return entries


def _label(choices, value: str) -> str:
    try:
        return choices(value).label
    except ValueError:
        return value or "—"


FACT_LABELS = {
    "on": "Network date",
    "code": "Code",
    "assignee_name": "Assignee",
    "recovered_amount": "Recovered",
    "stage_started_on": "Stage started",
}
HIDDEN_FACTS = {"assignee"}  # the id; its name is shown


def _facts(details: dict, currency: str) -> tuple[tuple[str, str], ...]:
    facts = []
    for key, value in details.items():
        if key in HIDDEN_FACTS or value in (None, ""):
            continue
        if key == "recovered_amount":
            with suppress(InvalidOperation, TypeError):
                value = money(Decimal(value), currency)
        facts.append((FACT_LABELS.get(key, key.replace("_", " ").capitalize()), str(value)))
    return tuple(facts)


def _changes(row: DisputeTransition) -> tuple[str, ...]:
    if not row.from_stage and not row.from_state:
        return (
            f"Opened at {_label(Stage, row.to_stage).lower()}, "
            f"{_label(WorkState, row.to_state).lower()}",
        )
    changes = []
    if row.from_stage != row.to_stage:
        changes.append(f"Stage: {_label(Stage, row.from_stage)} → {_label(Stage, row.to_stage)}")
    if row.from_state != row.to_state:
        changes.append(
            f"State: {_label(WorkState, row.from_state)} → {_label(WorkState, row.to_state)}"
        )
    return tuple(changes)


@timeline_source
def transition_entries(dispute: Dispute) -> Iterable[TimelineEntry]:
    rows = DisputeTransition.objects.filter(dispute_id=dispute.pk).select_related("actor")
    for row in rows:
        yield TimelineEntry(
            kind="transition",
            at=row.created_at,
            actor=display_name(row.actor),
            title=row.label,
            body=row.comment,
            changes=_changes(row),
            facts=_facts(row.details, dispute.currency),
            rank=row.seq,
        )


@timeline_source
def note_entries(dispute: Dispute) -> Iterable[TimelineEntry]:
    for note in Note.objects.filter(dispute_id=dispute.pk).select_related("author"):
        yield TimelineEntry(
            kind="note", at=note.created_at, actor=display_name(note.author), title="Note",
            body=note.body,
        )  # fmt: skip


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
    kind: str  # internal, network, client_evidence
    label: str
    due: date
    note: str
    relative: str = ""  # "in 6 days · 4 business days", "today", "3 days ago"
    past: bool = False


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
    return f"in {days} day{'s' if days != 1 else ''} · {business} business day" + (
        "s" if business != 1 else ""
    )


@dataclass
class DeadlinePanel:
    """The dispute's deadlines as the page explains them."""

    rows: list[DeadlineRow] = field(default_factory=list)
    who_acts: str = ""
    waiting: bool = False
    explanation: str = ""
    rule_key: str = ""
    rules_version: str = ""
    rule_note: str = ""
    earliest_filing: date | None = None
    rules_moved_to: date | None = None  # today's tables give another network date
    return_verdict: object = None  # NACHA: calendar_rules.nacha.ReturnTimeliness


def counterparty_name(dispute: Dispute) -> str:
    return "the RDFI" if dispute.network == Network.NACHA else "the issuer"


def deadline_panel(dispute: Dispute, today: date) -> DeadlinePanel:
    """The stored deadline fields in words, plus what the rule table adds (its note, the
    earliest filing date) and whether today's tables would give another date."""
    waiting = dispute.due_party == Party.COUNTERPARTY
    panel = DeadlinePanel(
        waiting=waiting,
        explanation=dispute.deadline_explanation,
        rule_key=dispute.deadline_rule,
        rules_version=dispute.rules_version,
    )
    if dispute.due_party == Party.ASTRA:
        panel.who_acts = "Astra must respond"
    elif waiting:
        panel.who_acts = f"Waiting on {counterparty_name(dispute)}"
    panel.rows = [
        DeadlineRow(*row, relative=relative_day(row[2], today), past=row[2] < today)
        for row in _deadline_rows(dispute, waiting)
    ]
    if dispute.is_open and dispute.network_due:
        _add_rule_details(dispute, panel)
    if dispute.is_open:
        panel.return_verdict = dispute.return_timeliness()
    return panel


def _deadline_rows(dispute: Dispute, waiting: bool) -> list[tuple[str, str, date, str]]:
    rows = []
    if dispute.client_evidence_due:
        rows.append(
            (
                "client_evidence",
                "Client evidence due",
                dispute.client_evidence_due,
                "What we asked the client to send by",
            )
        )
    if dispute.internal_due and not waiting:
        rows.append(
            ("internal", "Internal due", dispute.internal_due, "Our target, before the network's")
        )
    if dispute.network_due:
        if waiting:
            label = f"{counterparty_name(dispute).capitalize()}'s window ends"
            note = "Their silence after this date is our win"
        else:
            label, note = "Network due", "Last day the network accepts our response"
        rows.append(("network", label, dispute.network_due, note))
    return rows


def _add_rule_details(dispute: Dispute, panel: DeadlinePanel) -> None:
    try:
        deadline = current_deadline(dispute)
    except (rules.RuleLookupError, calendars.CalendarRangeError, OverflowError):
        # A stored date the tables cannot count from (outside the banking calendar) adds nothing.
        return
    if deadline is None:
        return
    panel.rule_note = deadline.note
    panel.earliest_filing = deadline.earliest_filing_date
    if deadline.network_due != dispute.network_due:
        panel.rules_moved_to = deadline.network_due
