"""What the weekly digest says to each role. Selectors: they read, they never write.

* ops agents: their disputes due in the next 7 and 14 days by day, overdue first, those
  awaiting evidence, and last week's outcomes;
* ops leads: the team by assignee, client and network (due this week, overdue, won, lost,
  win rate) with the change from the week before;
* Customer Success: their clients' open evidence requests and the clients slow to answer.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from functools import lru_cache
from urllib.parse import urlencode

from django.conf import settings
from django.db.models import Count, Q

from disputes.choices import Network, Outcome, Party, WorkState
from disputes.filters import person_name
from disputes.models import Dispute
from disputes.templatetags.disputes_tags import money

from .models import NotificationSettings
from .people import CUSTOMER_SUCCESS, DIGEST_ROLES, OPS_AGENT, OPS_LEAD, digest_role, reachable
from .services import REMINDED_STATES, ops_date, week_of

ROLE_TITLES = {
    OPS_AGENT: "Your disputes this week",
    OPS_LEAD: "The team this week",
    CUSTOMER_SUCCESS: "Evidence requests this week",
}
OURS = ~Q(due_party=Party.COUNTERPARTY) & Q(internal_due__isnull=False)


def digest_recipients():
    """People with a digest role and an address who have not turned the digest off."""
    off = NotificationSettings.objects.filter(weekly_digest=False).values("user_id")
    return (
        reachable()
        .filter(groups__name__in=DIGEST_ROLES)
        .exclude(pk__in=off)
        .distinct()
        .order_by("pk")
    )


def queue_url(**params) -> str:
    return f"{settings.SITE_URL}/disputes/?{urlencode(params)}"


@dataclass(frozen=True)
class Line:
    """One dispute as a digest line."""

    url: str
    case: str
    client: str
    amount: str
    what: str
    due: date | None
    urgency: str
    level: str


def line(dispute, today: date, *, what: str = "") -> Line:
    urgency = dispute.urgency(today)
    return Line(
        url=f"{settings.SITE_URL}{dispute.get_absolute_url()}",
        case=f"{dispute.get_network_display()} {dispute.case_id}",
        client=dispute.client.name,
        amount=money(dispute.amount, dispute.currency),
        what=what or dispute.get_stage_display(),
        due=dispute.internal_due,
        urgency=urgency.label,
        level=urgency.level,
    )


@dataclass
class Digest:
    user: object
    role: str
    today: date
    week_of: date
    now: datetime
    title: str
    greeting: str
    sections: list = field(default_factory=list)
    deadlines: list = field(default_factory=list)  # (day, summary, url) for the .ics
    queue_link: str = ""

    @property
    def subject(self) -> str:
        return f"{self.title} · week of {self.week_of:%b} {self.week_of.day}"


@dataclass
class Section:
    title: str
    empty: str
    link: str = ""
    link_label: str = ""
    groups: list = field(default_factory=list)  # [(heading, [Line])]
    table: dict | None = None  # {"columns": [...], "rows": [[...]]}
    note: str = ""

    @property
    def is_empty(self) -> bool:
        return not any(lines for _h, lines in self.groups) and not (
            self.table and self.table["rows"]
        )


def build(user, *, now: datetime) -> Digest | None:
    """The digest ``user`` would receive at ``now``; None for a person with no digest role."""
    role = digest_role(user)
    if role is None:
        return None
    today = ops_date(now)
    digest = Digest(
        user=user,
        role=role,
        today=today,
        week_of=week_of(today),
        now=now,
        title=ROLE_TITLES[role],
        greeting=f"Good morning, {user.first_name or person_name(user)}.",
    )
    if role == OPS_LEAD:  # every lead of one run reads the same team
        digest.sections, digest.deadlines, digest.queue_link = _team_view(
            today, digest.week_of, now, settings.OPS_TIME_ZONE, settings.SITE_URL
        )
    else:
        {OPS_AGENT: _agent, CUSTOMER_SUCCESS: _customer_success}[role](digest)
    return digest


# --- ops agents -------------------------------------------------------------------------------


def _mine(user):
    return Dispute.objects.filter(assignee=user).select_related("client")


def _by_day(disputes, today) -> list:
    days = defaultdict(list)
    for d in disputes:
        days[d.internal_due].append(line(d, today))
    return [(f"{day:%A, %b} {day.day}", lines) for day, lines in sorted(days.items())]


def _agent(digest: Digest) -> None:
    user, today = digest.user, digest.today
    working = _mine(user).filter(OURS, state__in=REMINDED_STATES)
    overdue = list(working.filter(internal_due__lt=today).order_by("internal_due", "pk")[:50])
    soon = list(
        working.filter(internal_due__gte=today, internal_due__lte=today + timedelta(13)).order_by(
            "internal_due", "pk"
        )
    )
    week = [d for d in soon if d.internal_due < today + timedelta(7)]
    later = [d for d in soon if d.internal_due >= today + timedelta(7)]
    digest.sections.append(
        Section(
            "Overdue",
            "Nothing overdue.",
            queue_url(assignee="me", due="overdue"),
            "Open your overdue disputes",
            [("Past the internal deadline", [line(d, today) for d in overdue])],
        )
    )
    digest.sections.append(
        Section(
            "Due in the next 7 days",
            "Nothing due in the next 7 days.",
            queue_url(assignee="me", due="week"),
            "Open this week's disputes",
            _by_day(week, today),
        )
    )
    digest.sections.append(
        Section("Due in 8 to 14 days", "Nothing due in 8 to 14 days.", groups=_by_day(later, today))
    )
    waiting = (
        _mine(user)
        .filter(state=WorkState.AWAITING_EVIDENCE)
        .order_by("internal_due", "pk")[:50]  # the (assignee, state, internal_due) index
    )
    digest.sections.append(
        Section(
            "Awaiting evidence",
            "No dispute is waiting for evidence.",
            queue_url(assignee="me", state=WorkState.AWAITING_EVIDENCE),
            "Open disputes awaiting evidence",
            [("Client evidence due", [_evidence_line(d, today) for d in waiting])],
        )
    )
    digest.sections.append(_outcomes(_mine(user), digest))
    digest.deadlines = [(d.internal_due, _ics_summary(d), line(d, today).url) for d in week]
    digest.queue_link = queue_url(assignee="me")


def _evidence_line(d, today) -> Line:
    due = d.client_evidence_due
    what = f"Evidence due {due:%b} {due.day}" if due else "Evidence requested"
    return line(d, today, what=what)


def _ics_summary(d) -> str:
    amount = money(d.amount, d.currency)
    return f"Due: {d.get_network_display()} {d.case_id} · {d.client.name} · {amount}"


def _outcomes(disputes, digest: Digest) -> Section:
    start, end = _last_week(digest)
    closed = list(
        disputes.filter(state=WorkState.CLOSED, closed_at__gte=start, closed_at__lt=end).order_by(
            "closed_at", "pk"
        )[:50]
    )
    lines = [line(d, digest.today, what=d.get_outcome_display()) for d in closed]
    won = sum(d.outcome == Outcome.WON for d in closed)
    lost = sum(d.outcome == Outcome.LOST for d in closed)
    recovered = sum((d.recovered_amount or Decimal(0)) for d in closed if d.outcome == Outcome.WON)
    note = f"{won} won, {lost} lost, {money(recovered)} recovered." if closed else ""
    return Section(
        "Last week's outcomes",
        "No dispute closed last week.",
        queue_url(assignee="me", state="closed"),
        "Open closed disputes",
        [("Closed", lines)],
        note=note,
    )


def _last_week(digest: Digest) -> tuple[datetime, datetime]:
    from zoneinfo import ZoneInfo

    zone = ZoneInfo(settings.OPS_TIME_ZONE)
    monday = datetime.combine(digest.week_of, datetime.min.time(), tzinfo=zone)
    return monday - timedelta(7), monday


# --- ops leads --------------------------------------------------------------------------------


def _rate(won: int, lost: int) -> str:
    return f"{round(100 * won / (won + lost))}%" if won + lost else "—"


def _change(now: int, before: int) -> str:
    delta = now - before
    return "±0" if delta == 0 else f"{delta:+d}"


@lru_cache(maxsize=16)
def _team_counts(dimension: str, today: date, monday: date, zone: str, run: datetime) -> tuple:
    """(key, due this week, overdue, won, lost, won the week before, lost the week before) per
    value of ``dimension``. Cached per run (every digest of one run has the same ``run`` time):
    each lead's digest of a run shows the same team."""
    from zoneinfo import ZoneInfo

    start = datetime.combine(monday, datetime.min.time(), tzinfo=ZoneInfo(zone))
    last, before = start - timedelta(7), start - timedelta(14)
    working = OURS & Q(state__in=REMINDED_STATES)
    rows = (
        Dispute.objects.filter(
            (working & Q(internal_due__lte=monday + timedelta(6)))
            | Q(closed_at__gte=before, closed_at__lt=start)
        )
        .values(dimension)
        .annotate(
            due=Count(
                "pk",
                filter=working
                & Q(internal_due__gte=today, internal_due__lte=monday + timedelta(6)),
            ),
            overdue=Count("pk", filter=working & Q(internal_due__lt=today)),
            won=Count(
                "pk", filter=Q(outcome=Outcome.WON, closed_at__gte=last, closed_at__lt=start)
            ),
            lost=Count(
                "pk", filter=Q(outcome=Outcome.LOST, closed_at__gte=last, closed_at__lt=start)
            ),
            won_before=Count(
                "pk", filter=Q(outcome=Outcome.WON, closed_at__gte=before, closed_at__lt=last)
            ),
            lost_before=Count(
                "pk", filter=Q(outcome=Outcome.LOST, closed_at__gte=before, closed_at__lt=last)
            ),
        )
        .order_by(dimension)
    )
    return tuple(
        (
            r[dimension],
            r["due"],
            r["overdue"],
            r["won"],
            r["lost"],
            r["won_before"],
            r["lost_before"],
        )
        for r in rows
    )


TEAM_COLUMNS = ["", "Due this week", "Overdue", "Won", "Lost", "Win rate", "vs last week"]


def _team_table(dimension: str, digest: Digest, names: dict, link) -> dict:
    rows = []
    for key, due, overdue, won, lost, won_b, lost_b in _team_counts(
        dimension, digest.today, digest.week_of, settings.OPS_TIME_ZONE, digest.now
    ):
        rate_now, rate_before = _rate(won, lost), _rate(won_b, lost_b)
        trend = f"won {_change(won, won_b)}, lost {_change(lost, lost_b)} (was {rate_before})"
        rows.append(
            {
                "name": names.get(key, "Unassigned" if key is None else str(key)),
                "url": link(key),
                "cells": [due, overdue, won, lost, rate_now, trend],
                "overdue": overdue,
            }
        )
    rows.sort(key=lambda r: (-r["overdue"], -r["cells"][0], r["name"]))
    return {"columns": TEAM_COLUMNS, "rows": rows}


@lru_cache(maxsize=4)
def _team_view(today: date, monday: date, now: datetime, zone: str, site: str) -> tuple:
    """(sections, deadlines, queue link) of the leads' digest, built once per run: every digest
    of one run has the same ``now``. The sections are only read after this."""
    digest = Digest(None, OPS_LEAD, today, monday, now, "", "")
    _lead(digest)
    return digest.sections, digest.deadlines, digest.queue_link


def _lead(digest: Digest) -> None:
    from django.contrib.auth import get_user_model

    from disputes.models import Client

    people = {u.pk: u for u in get_user_model().objects.all()}
    clients = {c.pk: c for c in Client.objects.all()}
    digest.sections.append(
        Section(
            "By assignee",
            "No work due and no outcomes.",
            queue_url(due="week"),
            "Open the team's week",
            table=_team_table(
                "assignee",
                digest,
                {pk: person_name(u) for pk, u in people.items()},
                lambda pk: (
                    queue_url(assignee=people[pk].get_username())
                    if pk in people
                    else queue_url(assignee="unassigned")
                ),
            ),
        )
    )
    digest.sections.append(
        Section(
            "By client",
            "No work due and no outcomes.",
            table=_team_table(
                "client",
                digest,
                {pk: c.name for pk, c in clients.items()},
                lambda pk: queue_url(client=clients[pk].slug) if pk in clients else queue_url(),
            ),
        )
    )
    digest.sections.append(
        Section(
            "By network",
            "No work due and no outcomes.",
            table=_team_table(
                "network",
                digest,
                dict(Network.choices),
                lambda key: queue_url(network=key),
            ),
        )
    )
    overdue = list(
        Dispute.objects.filter(OURS, state__in=REMINDED_STATES, internal_due__lt=digest.today)
        .select_related("client")
        .order_by("internal_due", "pk")[:20]
    )
    digest.sections.insert(
        0,
        Section(
            "Most overdue",
            "Nothing overdue.",
            queue_url(due="overdue"),
            "Open every overdue dispute",
            [("Past the internal deadline", [line(d, digest.today) for d in overdue])],
        ),
    )
    week = (
        Dispute.objects.filter(
            OURS,
            state__in=REMINDED_STATES,
            internal_due__gte=digest.today,
            internal_due__lte=digest.week_of + timedelta(6),
        )
        .select_related("client")
        .order_by("internal_due", "pk")[:200]
    )
    digest.deadlines = [(d.internal_due, _ics_summary(d), line(d, digest.today).url) for d in week]
    digest.queue_link = queue_url(due="week")


# --- Customer Success -------------------------------------------------------------------------


def _open_requests(user):
    """Open evidence requests this person made or that are for clients they look after."""
    from disputes.evidence.models import EvidenceRequest, RequestStatus
    from disputes.models import Client

    owned = list(Client.objects.filter(cs_owner=user).values_list("pk", flat=True))
    return EvidenceRequest.objects.filter(
        Q(requested_by=user) | Q(dispute__client_id__in=owned), status=RequestStatus.OPEN
    )


def _request_line(request, today) -> Line:
    due = request.due_on
    asked = request.recipient_name() or "the client"
    return line(request.dispute, today, what=f"Evidence due {due:%b} {due.day} · asked {asked}")


def _customer_success(digest: Digest) -> None:
    user, today = digest.user, digest.today
    requests = list(
        _open_requests(user)
        .select_related("dispute__client", "contact", "colleague")
        .order_by("due_on", "pk")[:100]
    )
    late = [r for r in requests if r.due_on < today]
    open_ = [r for r in requests if r.due_on >= today]
    digest.sections.append(
        Section(
            "Open evidence requests",
            "No open evidence request.",
            queue_url(state=WorkState.AWAITING_EVIDENCE),
            "Open disputes awaiting evidence",
            [
                ("Past their due date", [_request_line(r, today) for r in late]),
                ("Still within their due date", [_request_line(r, today) for r in open_]),
            ],
        )
    )
    digest.sections.append(_slow_clients(user, today))
    digest.deadlines = [
        (r.due_on, f"Evidence due: {_ics_summary(r.dispute)[5:]}", line(r.dispute, today).url)
        for r in open_
        if r.due_on <= digest.week_of + timedelta(6)
    ]
    digest.queue_link = queue_url(state=WorkState.AWAITING_EVIDENCE)


def _slow_clients(user, today) -> Section:
    """Clients with requests past their due date, most late first."""
    rows = (
        _open_requests(user)
        .values("dispute__client__name", "dispute__client__slug")
        .annotate(waiting=Count("pk"), late=Count("pk", filter=Q(due_on__lt=today)))
        .filter(late__gt=0)
        .order_by("-late", "-waiting", "dispute__client__name")[:10]
    )
    table = {
        "columns": ["Client", "Requests open", "Past their due date"],
        "rows": [
            {
                "name": r["dispute__client__name"],
                "url": queue_url(
                    client=r["dispute__client__slug"], state=WorkState.AWAITING_EVIDENCE
                ),
                "cells": [r["waiting"], r["late"]],
                "overdue": r["late"],
            }
            for r in rows
        ],
    }
    return Section("Clients slow to answer", "Every client is answering in time.", table=table)
