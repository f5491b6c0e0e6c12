"""Ninety simulated days of the 15-minute sweep (8,640 sweeps) over 200 disputes that open, get
claimed, are answered, come back at pre-arbitration, are won, lost, accepted, withdrawn or left to
expire: every reminder the rules call for is recorded and delivered exactly once, none once a
dispute is submitted or closed, and a sweep killed halfway is made whole by the next ones."""

import random
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cache
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core import mail

from calendar_rules import calendars
from disputes import services as disputes_services
from disputes.choices import Party, WorkState
from disputes.evidence.services import override_checklist
from disputes.history.verify import verify
from disputes.models import Dispute
from disputes.notifications import services
from disputes.notifications.models import Notification, NotificationSettings
from tests.factories import ClientFactory, act, open_dispute

pytestmark = pytest.mark.django_db

NY = ZoneInfo("America/New_York")
START = datetime(2026, 3, 2, tzinfo=NY)  # a Monday, 00:00 ops time; DST starts on day 6
DAYS, DISPUTES = 90, 200
STEP = timedelta(minutes=15)
SWEEPS = DAYS * 24 * 60 // 15
KILL_DAY = 30


@cache
def back(day, n):
    """``n`` banking days before ``day``, counted by walking the calendar (the oracle's own)."""
    while n:
        day -= timedelta(1)
        n -= calendars.FED.is_banking_day(day)
    return day


@dataclass
class Team:
    names: dict  # user id -> username
    leads: list  # usernames
    reminders_off: set  # usernames


def owed_now(dispute, today, team: Team) -> set:
    """What the rules say this dispute is owed on ``today`` (the oracle): the most urgent
    threshold reached, to the assignee or the leads, escalated when overdue or unassigned on
    its last day; reminders (never escalations) only to those who want them."""
    if dispute.state in (WorkState.SUBMITTED, WorkState.CLOSED) or dispute.internal_due is None:
        return set()
    if dispute.due_party == Party.COUNTERPARTY:
        return set()
    due, net = dispute.internal_due, dispute.network_due
    fired = [(back(due, n), i, f"before-{n}", due) for i, n in enumerate((5, 2, 1))]
    fired += [(due, 3, "due-today", due), (due + timedelta(1), 4, "overdue", due)]
    if net and net >= due:
        fired.append((net, 5, "network-today", net))
    reached = [f for f in fired if f[0] <= today]
    if not reached:
        return set()
    fires_on, _rank, name, due_on = max(reached)
    assignee = team.names.get(dispute.assignee_id)
    escalation = name == "overdue" or fires_on > due
    escalation |= assignee is None and name in ("due-today", "network-today")
    to = {assignee} if assignee and (escalation or assignee not in team.reminders_off) else set()
    for lead in team.leads:
        if lead != assignee and (escalation or (not assignee and lead not in team.reminders_off)):
            to.add(lead)
    return {(dispute.pk, name, due_on, person) for person in to}


@dataclass
class Life:
    """What happens to one dispute: (day, slot of the day, act) in order."""

    opens: tuple
    steps: list = field(default_factory=list)


def life(rng: random.Random) -> Life:
    day = rng.randrange(0, 70)
    at = lambda d: (d, rng.randrange(32, 72))  # noqa: E731  (08:00 to 18:00)
    plan = Life(opens=at(day))
    if rng.random() < 0.7:
        plan.steps.append((*at(day + rng.randrange(0, 9)), "claim"))
    path = rng.choices(["respond", "accept", "withdraw", "expire", "open"], [9, 4, 3, 2, 2])[0]
    if path == "respond":
        filed = day + rng.randrange(6, 26)  # some after their internal date
        plan.steps.append((*at(filed), "respond"))
        if rng.random() < 0.5:
            back_on = filed + rng.randrange(3, 15)
            plan.steps.append((*at(back_on), "pre_arbitration"))
            plan.steps.append((*at(back_on + rng.randrange(3, 22)), "respond_pre_arbitration"))
        plan.steps.append((*at(plan.steps[-1][0] + rng.randrange(4, 15)), "decide"))
    elif path == "accept":
        plan.steps.append((*at(day + rng.randrange(3, 35)), "accept"))
    elif path == "withdraw":
        plan.steps.append((*at(day + rng.randrange(2, 30)), "withdraw"))
    elif path == "expire":
        plan.steps.append((*at(day + rng.randrange(36, 48)), "expire"))
    return plan


class Acts:
    """The acts of the simulation, each through the named services."""

    def __init__(self, agents, lead):
        self.agents, self.lead = agents, lead

    def __call__(self, pk, name, today):
        dispute = Dispute.objects.get(pk=pk)
        agent = next((a for a in self.agents if a.pk == dispute.assignee_id), self.agents[pk % 2])
        if dispute.state == WorkState.CLOSED:
            return None
        if name == "claim":
            if dispute.assignee_id is None:
                version = dispute.version
                disputes_services.claim(dispute_id=pk, actor=agent, expected_version=version)
        elif name == "respond":
            self._file(dispute, agent, "visa_submit_dispute_response", today)
        elif name == "pre_arbitration":
            act(dispute_id=pk, name="visa_receive_pre_arbitration", actor=agent, on=today)
        elif name == "respond_pre_arbitration":
            self._file(dispute, agent, "visa_submit_pre_arbitration_response", today)
        elif name == "decide":
            outcome = "record_won" if pk % 3 else "record_lost"
            act(dispute_id=pk, name=outcome, actor=agent, on=today)
        elif name == "accept":
            act(dispute_id=pk, name="accept_liability", actor=self.lead, on=today)
        elif name == "withdraw":
            act(dispute_id=pk, name="record_withdrawn", actor=agent, on=today)
        elif name == "expire":
            act(dispute_id=pk, name="record_expired", actor=self.lead, on=today)
        return Dispute.objects.values_list("state", flat=True).get(pk=pk)

    def _file(self, dispute, agent, name, today):
        if dispute.state not in (WorkState.NEW, WorkState.IN_REVIEW):
            return
        if dispute.assignee_id is None:
            disputes_services.claim(
                dispute_id=dispute.pk, actor=agent, expected_version=dispute.version
            )
        override_checklist(dispute_id=dispute.pk, actor=self.lead, reason="Filed as it stands")
        act(dispute_id=dispute.pk, name="mark_ready", actor=agent)
        act(dispute_id=dispute.pk, name=name, actor=agent, on=today)


@pytest.fixture
def team(agent, agent2, lead):
    """Two agents, one of whom turned reminders off (escalations still reach them), one lead."""
    NotificationSettings.objects.create(user=agent2, reminders=False)
    return Team({u.pk: u.username for u in (agent, agent2, lead)}, ["lead"], {"agent2"})


def test_ninety_days_of_sweeps_send_every_reminder_once(
    agent, agent2, lead, team, django_capture_on_commit_callbacks, monkeypatch
):
    rng = random.Random(11)
    client = ClientFactory()
    lives = [life(rng) for _ in range(DISPUTES)]
    agenda = {}  # slot -> [(life index, act)]
    for n, plan in enumerate(lives):
        for day, slot, name in [(*plan.opens, "open"), *plan.steps]:
            agenda.setdefault(day * 96 + slot, []).append((n, name))
    acts, ids, expected, ended_at = Acts([agent, agent2], lead), {}, set(), {}
    today, killed = None, None
    with time_machine.travel(START, tick=False) as clock:
        for sweep in range(SWEEPS):
            moment = (START.astimezone(ZoneInfo("UTC")) + sweep * STEP).astimezone(NY)
            changed = None if moment.date() != today else set()  # None: every dispute
            today = moment.date()
            clock.move_to(moment - timedelta(minutes=7))  # acts land between two sweeps
            for n, name in agenda.get(sweep, ()):
                if name == "open":
                    ids[n] = open_dispute(client=client, stage_started_on=today).pk
                elif n in ids and acts(ids[n], name, today) in (WorkState.SUBMITTED, "closed"):
                    ended_at[ids[n]] = moment - timedelta(minutes=7)
                if n in ids and changed is not None:
                    changed.add(ids[n])
            clock.move_to(moment)
            if changed is None or changed:  # the oracle looks at what changed since the last
                disputes = Dispute.objects.all()
                for d in disputes if changed is None else disputes.filter(pk__in=changed):
                    expected |= owed_now(d, today, team)
            if killed is None and (moment.date() - START.date()).days >= KILL_DAY:
                killed = _killed_sweep(monkeypatch, django_capture_on_commit_callbacks, expected)
                if killed:
                    continue  # the regular sweep 15 minutes later makes it whole
            with django_capture_on_commit_callbacks(execute=True):
                services.send_deadline_reminders()

    recorded = set(
        Notification.objects.values_list("dispute_id", "threshold", "due_on", "recipient__username")
    )
    assert killed
    assert len(ids) == DISPUTES
    assert Dispute.objects.filter(state=WorkState.CLOSED).count() > DISPUTES // 2
    assert recorded == expected
    assert {k[1] for k in recorded} >= {"before-5", "before-2", "before-1", "overdue"}
    delivered = Counter(m.extra_headers["X-Astra-Notification"] for m in mail.outbox)
    assert len(delivered) == len(recorded) and set(delivered.values()) == {1}
    assert not Notification.objects.filter(sent_at__isnull=True).exists()
    for pk, when in ended_at.items():
        late = Notification.objects.filter(dispute_id=pk, created_at__gt=when)
        # a dispute answered and then brought back at pre-arbitration is owed its new dates
        assert not late.exclude(due_on__gt=when.date()).exists()
    assert verify().breaks == []


class Killed(BaseException):
    pass


def _killed_sweep(monkeypatch, capture, expected) -> bool:
    """A sweep that dies after its first chunk of two disputes commits, then one that records
    the rest but whose hand-over is lost; the regular sweeps after them must make both whole.
    False (and nothing swept) when fewer than three disputes are owed: try the next sweep."""
    recorded = lambda: set(  # noqa: E731
        Notification.objects.values_list("dispute_id", "threshold", "due_on", "recipient__username")
    )
    owed = {k[0] for k in expected - recorded()}
    if len(owed) < 3:
        return False
    monkeypatch.setattr(services, "CHUNK", 2)

    def die(index):
        raise Killed

    with pytest.raises(Killed), capture(execute=True):
        services.send_deadline_reminders(after_chunk=die)
    assert len({k[0] for k in expected - recorded()}) == len(owed) - 2  # halfway
    with capture(execute=True):  # recorded, never handed over
        report = services.send_deadline_reminders(dispatch=lambda ids: None)
    monkeypatch.setattr(services, "CHUNK", 250)
    assert report.recorded > 0 and expected <= recorded()
    assert Notification.objects.filter(sent_at__isnull=True).count() == report.recorded
    return True
