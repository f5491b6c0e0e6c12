"""Reads for the deadline calendar and the iCalendar feed.

A calendar page costs two queries per kind of deadline (internal, network) whatever the number
of disputes: one counts the deadlines of each day, one returns only the first few of each day,
so a day with 5,000 deadlines sends 4 rows.
"""

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.db import connection
from django.db.models import Count, F, Q, Window
from django.db.models.expressions import RawSQL
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
# The calendar shows internal and network deadlines (both dates are indexed on open disputes);
# the feed also carries the client-evidence date of each dispute it lists.
CALENDAR_KINDS = ("internal", "network")
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
    def amount_short(self) -> str:
        """The amount for a crowded month cell, rounded to whole units ("$1,291" for
        1,290.50; the exact amount is in the entry's title and in the week view)."""
        text = money(Decimal(self.amount).quantize(Decimal(1), ROUND_HALF_UP), self.currency)
        head, dot, tail = text.partition(".")
        return head + tail.lstrip("0") if dot else text

    @property
    def url(self) -> str:
        return reverse("disputes:detail", args=[self.dispute_id])

    def sort_key(self):
        return (CALENDAR_KINDS.index(self.kind), self.dispute_id)


@dataclass
class DayDeadlines:
    entries: list[CalendarEntry] = field(default_factory=list)
    by_kind: dict[str, int] = field(default_factory=dict)  # kind → deadlines that day

    @property
    def total(self) -> int:
        return sum(self.by_kind.values())


_ENTRY_COLUMNS = ("id", "case_id", "network", "reason_code", "amount", "currency", "client__name",
                  "due_party")  # fmt: skip


def deadlines_by_day(disputes, start: date, end: date, *, per_day: int) -> dict[date, DayDeadlines]:
    """For each day from ``start`` to ``end`` with deadlines: how many there are of each kind,
    and the first ``per_day`` of them (internal before network, then in the order the disputes
    arrived). Two queries per kind whatever the number of disputes."""
    days: dict[date, DayDeadlines] = {}
    for kind in CALENDAR_KINDS:
        rows = _of_kind(disputes, kind).filter(**{f"{KIND_FIELDS[kind]}__range": (start, end)})
        for day, count in _count_per_day(rows, KIND_FIELDS[kind]):
            days.setdefault(day, DayDeadlines()).by_kind[kind] = count
        for day, *columns, due_party in _first_per_day(rows, KIND_FIELDS[kind], start, end,
                                                       per_day):  # fmt: skip
            entry = CalendarEntry(*columns, kind=kind, due_party=due_party, day=day)
            days[day].entries.append(entry)
    for bucket in days.values():
        bucket.entries.sort(key=CalendarEntry.sort_key)
        del bucket.entries[per_day:]
    return days


def _of_kind(disputes, kind: str):
    if kind == "internal":
        # On the counterparty's windows the internal date is just their date: shown once.
        return disputes.exclude(due_party=Party.COUNTERPARTY)
    return disputes


def _count_per_day(rows, column: str):
    return (
        rows.order_by().values_list(column).annotate(count=Count("id")).values_list(column, "count")
    )


def _first_per_day(rows, column: str, start: date, end: date, per_day: int):
    """(day, *_ENTRY_COLUMNS) of the first ``per_day`` disputes due each day.

    PostgreSQL walks each day's slice of the open-disputes index and stops after ``per_day``
    rows (a LATERAL join over the days), so a day with 10,000 deadlines costs 4 rows. Other
    databases (the SQLite demo) number every row of the range with a window function."""
    ordered = rows.order_by("id").values_list(*_ENTRY_COLUMNS)
    if connection.vendor != "postgresql":
        numbered = ordered.annotate(
            rank=Window(RowNumber(), partition_by=[F(column)], order_by=[F("id").asc()])
        ).filter(rank__lte=per_day)
        return [
            (row[-2], *row[:-2]) for row in numbered.values_list(*_ENTRY_COLUMNS, column, "rank")
        ]
    inner = ordered.filter(**{column: RawSQL("days.day", ())})[:per_day]
    sql, params = inner.query.sql_with_params()
    query = (
        "SELECT days.day, first.* FROM (SELECT generate_series(%s::date, %s::date, "
        "interval '1 day')::date AS day) AS days "
        f"CROSS JOIN LATERAL ({sql}) AS first"
    )
    with connection.cursor() as cursor:
        cursor.execute(query, [start, end, *params])
        return cursor.fetchall()


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


# --- one day's list, paged ------------------------------------------------------------------

DAY_PAGE_SIZE = 50


@dataclass(frozen=True, slots=True)
class DayRow:
    """One deadline of the day's list: the dispute (with client and assignee) and its kind."""

    dispute: Dispute
    kind: str

    @property
    def label(self) -> str:
        return kind_label(self.kind, self.dispute.network, self.dispute.due_party)

    @property
    def tag(self) -> str:
        return KIND_TAGS[self.kind]

    @property
    def waiting(self) -> bool:
        return self.dispute.due_party == Party.COUNTERPARTY


def day_page(disputes, day: date, page: int, *, size: int | None = None):
    """Page ``page`` (from 1) of the day's deadlines, internal ones first, each kind in the
    order the disputes arrived; (rows, total). A page is at most three queries whatever the
    day holds: the two counts and the rows of at most two kinds."""
    size = size or DAY_PAGE_SIZE
    kinds = [
        (kind, _of_kind(disputes, kind).filter(**{KIND_FIELDS[kind]: day}))
        for kind in CALENDAR_KINDS
    ]
    counts = [rows.count() for _kind, rows in kinds]
    offset, rows = (page - 1) * size, []
    for (kind, queryset), count in zip(kinds, counts, strict=True):
        if offset >= count:
            offset -= count
            continue
        wanted = size - len(rows)
        chosen = queryset.select_related("client", "assignee").order_by("id")
        rows += [DayRow(d, kind) for d in chosen[offset : offset + wanted]]
        offset = 0
        if len(rows) >= size:
            break
    return rows, sum(counts)


def overdue_count(disputes, today: date, cap: int = 1000) -> int:
    """Open disputes whose internal date has passed (ours, not the counterparty's), up to
    ``cap``: the calendar carries them onto today."""
    late = _of_kind(disputes, "internal").filter(internal_due__lt=today)
    return late[:cap].count()
