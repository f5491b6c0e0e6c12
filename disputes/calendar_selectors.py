"""Reads for the deadline calendar and the iCalendar feed.

A calendar page costs one query per kind of deadline (internal, client evidence, network)
whatever the number of disputes: PostgreSQL counts the deadlines of each day and returns only
the first few of each (window functions), so a day with 5,000 deadlines sends 5 rows.
"""

from dataclasses import dataclass, field
from datetime import date, timedelta

from django.db.models import Count, F, Q, Window
from django.db.models.functions import RowNumber
from django.urls import reverse

from calendar_rules import calendars

from .choices import Network, Party
from .models import Dispute
from .templatetags.disputes_tags import money

# Kinds of deadline, in the order a day lists them; the field each is stored in.
KIND_FIELDS = {
    "internal": "internal_due",
    "client_evidence": "client_evidence_due",
    "network": "network_due",
}
KIND_LABELS = {"internal": "Internal due", "client_evidence": "Client evidence due"}
KIND_TAGS = {"internal": "INT", "client_evidence": "EVD", "network": "NET"}
FEED_ALL_LIMIT = 2000  # events in an all-disputes feed: calendar apps choke on more
FEED_ALL_PAST_DAYS = 14


def scoped_disputes(user, filters: dict):
    """Open disputes the user may read, narrowed by the calendar's filters."""
    disputes = Dispute.objects.for_user(user).open()
    if filters.get("network"):
        disputes = disputes.filter(network=filters["network"])
    if filters.get("client"):
        disputes = disputes.filter(client=filters["client"])
    if filters.get("state"):
        disputes = disputes.filter(state=filters["state"])
    assignee = filters.get("assignee")
    if assignee == "me":
        disputes = disputes.filter(assignee=user)
    elif assignee == "unassigned":
        disputes = disputes.filter(assignee__isnull=True)
    elif assignee:
        disputes = disputes.filter(assignee_id=assignee)
    return disputes


def kind_label(kind: str, network: str, due_party: str) -> str:
    """What a deadline is, in words: "Internal due", "Network due", "Issuer window ends"."""
    if kind != "network":
        return KIND_LABELS[kind]
    if due_party == Party.COUNTERPARTY:
        return "RDFI window ends" if network == Network.NACHA else "Issuer window ends"
    return "Network due"


@dataclass(frozen=True, slots=True)
class CalendarEntry:
    dispute_id: int
    case_id: str
    network: str
    reason_code: str
    amount: object
    currency: str
    client_name: str
    kind: str
    due_party: str
    day: date

    @property
    def label(self) -> str:
        return kind_label(self.kind, self.network, self.due_party)

    @property
    def tag(self) -> str:
        return KIND_TAGS[self.kind]

    @property
    def waiting(self) -> bool:
        return self.due_party == Party.COUNTERPARTY

    @property
    def network_label(self) -> str:
        return Network(self.network).label

    @property
    def amount_text(self) -> str:
        return money(self.amount, self.currency)

    @property
    def url(self) -> str:
        return reverse("disputes:detail", args=[self.dispute_id])

    def sort_key(self):
        return (list(KIND_FIELDS).index(self.kind), -self.amount, self.dispute_id)


@dataclass
class DayDeadlines:
    entries: list[CalendarEntry] = field(default_factory=list)
    total: int = 0


_ENTRY_COLUMNS = ("id", "case_id", "network", "reason_code", "amount", "currency", "client__name",
                  "due_party")  # fmt: skip


def deadlines_by_day(
    disputes, start: date, end: date, *, per_day: int, kinds=tuple(KIND_FIELDS)
) -> dict[date, DayDeadlines]:
    """For each day from ``start`` to ``end`` with deadlines: the first ``per_day`` of them
    (internal before client evidence before network, then largest amount first) and how many
    there are in all. One query per kind."""
    days: dict[date, DayDeadlines] = {}
    for kind in kinds:
        for row in _kind_rows(disputes, kind, start, end, per_day):
            *columns, day, day_total = row
            bucket = days.setdefault(day, DayDeadlines())
            bucket.entries.append(CalendarEntry(*columns, kind=kind, day=day))
            bucket.total += day_total
    for bucket in days.values():
        bucket.entries.sort(key=CalendarEntry.sort_key)
        del bucket.entries[per_day:]
    return days


def _kind_rows(disputes, kind: str, start: date, end: date, per_day: int):
    column = KIND_FIELDS[kind]
    rows = disputes.filter(**{f"{column}__range": (start, end)})
    if kind == "internal":
        # On the counterparty's windows the internal date is just their date: shown once.
        rows = rows.exclude(due_party=Party.COUNTERPARTY)
    by_day = {"partition_by": [F(column)]}
    return (
        rows.annotate(
            rank=Window(RowNumber(), order_by=[F("amount").desc(), F("id").asc()], **by_day),
            day_total=Window(Count("id"), **by_day),
        )
        .filter(rank__lte=per_day)
        .values_list(*_ENTRY_COLUMNS, column, "day_total")
    )


# --- the grid -------------------------------------------------------------------------------


@dataclass
class CalendarDay:
    day: date
    in_period: bool
    is_today: bool
    closure: str
    deadlines: DayDeadlines

    @property
    def is_weekend(self) -> bool:
        return self.day.weekday() >= 5

    @property
    def more(self) -> int:
        return self.deadlines.total - len(self.deadlines.entries)


@dataclass(frozen=True, slots=True)
class Period:
    view: str  # month or week
    anchor: date
    start: date  # first day shown (a Monday)
    end: date  # last day shown (a Sunday)
    first: date  # first day of the month or week itself
    last: date
    previous: date
    next: date

    @property
    def title(self) -> str:
        if self.view == "month":
            return f"{self.first:%B %Y}"
        if self.first.month == self.last.month:
            return f"{self.first:%b} {self.first.day}–{self.last.day}, {self.last.year}"
        return (
            f"{self.first:%b} {self.first.day} – {self.last:%b} {self.last.day}, {self.last.year}"
        )

    def days(self):
        day = self.start
        while day <= self.end:
            yield day
            day += timedelta(days=1)


def period(view: str, anchor: date) -> Period:
    """The month or the Monday-to-Sunday week holding ``anchor``, padded to whole weeks."""
    if view == "week":
        first = anchor - timedelta(days=anchor.weekday())
        last = first + timedelta(days=6)
        return Period(
            view, anchor, first, last, first, last, first - timedelta(7), last + timedelta(1)
        )
    first = anchor.replace(day=1)
    next_month = (first + timedelta(days=32)).replace(day=1)
    last = next_month - timedelta(days=1)
    previous = (first - timedelta(days=1)).replace(day=1)
    start = first - timedelta(days=first.weekday())
    end = last + timedelta(days=6 - last.weekday())
    return Period(view, anchor, start, end, first, last, previous, next_month)


def calendar_weeks(
    the_period: Period, deadlines: dict[date, DayDeadlines], today: date
) -> list[list[CalendarDay]]:
    """The period's days in weeks, each with its deadlines, today and any Fed closure."""
    days = [
        CalendarDay(
            day=day,
            in_period=the_period.first <= day <= the_period.last,
            is_today=day == today,
            closure=calendars.FED.closure_name(day),
            deadlines=deadlines.get(day, DayDeadlines()),
        )
        for day in the_period.days()
    ]
    return [days[i : i + 7] for i in range(0, len(days), 7)]


# --- the feed -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FeedDeadline:
    dispute: Dispute
    kind: str
    day: date

    @property
    def label(self) -> str:
        return kind_label(self.kind, self.dispute.network, self.dispute.due_party)


def feed_deadlines(user, *, everything: bool, today: date) -> list[FeedDeadline]:
    """The deadlines of the user's own open disputes (assigned to them), or with
    ``everything`` of every open dispute they may read: the next ``FEED_ALL_LIMIT`` from two
    weeks ago on. One query."""
    disputes = Dispute.objects.for_user(user).open().select_related("client")
    if everything:
        since = today - timedelta(days=FEED_ALL_PAST_DAYS)
        disputes = disputes.filter(
            Q(internal_due__gte=since)
            | Q(network_due__gte=since)
            | Q(client_evidence_due__gte=since)
        ).order_by("internal_due", "id")[:FEED_ALL_LIMIT]
    else:
        disputes = disputes.filter(assignee=user).order_by("internal_due", "id")
    out = []
    for dispute in disputes:
        for kind, column in KIND_FIELDS.items():
            day = getattr(dispute, column)
            if day is None or (kind == "internal" and dispute.due_party == Party.COUNTERPARTY):
                continue
            out.append(FeedDeadline(dispute, kind, day))
    return out
