"""Ninety simulated days of sweeps over disputes that open, get claimed, get submitted and close:
every reminder the rules call for is recorded and delivered exactly once, none after a dispute
is submitted or closed, and a sweep killed halfway is made whole by the next one."""

import random
from collections import Counter
from datetime import date, datetime, time, timedelta
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
from disputes.notifications.models import Notification
from tests.factories import ClientFactory, act, open_dispute

pytestmark = pytest.mark.django_db

NY = ZoneInfo("America/New_York")
START = date(2026, 3, 2)
DAYS = 90
# A sweep's outcome changes only when the date turns or a dispute changes (acts at noon): the
# 15-minute sweeps in between are these two, repeated to no effect.
SWEEP_TIMES = (time(0, 10), time(15, 0))


def moment(day, at):
    return datetime.combine(day, at, tzinfo=NY)


def back(day, n):
    """``n`` banking days before ``day``, counted by walking the calendar (the oracle's own)."""
    while n:
        day -= timedelta(1)
        n -= calendars.FED.is_banking_day(day)
    return day


def expected_now(dispute, today, agent, lead) -> set:
    """What the rules say this dispute is owed at ``today`` (the oracle)."""
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
    escalation = name == "overdue" or fires_on > due
    assigned = dispute.assignee_id == agent.pk
    keys = set()
    if assigned:
        keys.add((dispute.pk, name, due_on, agent.username))
    if escalation or not assigned:
        if not assigned and name in ("due-today", "network-today"):
            escalation = True
        keys.add((dispute.pk, name, due_on, lead.username))
    return keys


def test_ninety_days_of_sweeps_send_every_reminder_once(
    agent, lead, django_capture_on_commit_callbacks, monkeypatch
):
    rng = random.Random(11)
    client = ClientFactory()
    opening = sorted(START + timedelta(rng.randrange(0, 70)) for _ in range(120))
    plans, expected, closed_at = {}, set(), {}
    kill_from, killed = START + timedelta(30), False
    for offset in range(DAYS):
        today = START + timedelta(offset)
        for at in SWEEP_TIMES:
            with time_machine.travel(moment(today, at), tick=False):
                if at == SWEEP_TIMES[0] and today >= kill_from and not killed:
                    killed = _killed_sweep(monkeypatch, django_capture_on_commit_callbacks)
                with django_capture_on_commit_callbacks(execute=True):
                    services.send_deadline_reminders()
                for d in Dispute.objects.all():
                    expected |= expected_now(d, today, agent, lead)
            if at == SWEEP_TIMES[0]:
                with time_machine.travel(moment(today, time(12)), tick=False):
                    while opening and opening[0] == today:
                        opening.pop(0)
                        d = open_dispute(client=client, stage_started_on=today)
                        plans[d.pk] = _plan(rng, today)
                    _act_for_the_day(plans, today, agent, lead, closed_at)

    recorded = set(
        Notification.objects.values_list("dispute_id", "threshold", "due_on", "recipient__username")
    )
    assert killed
    assert recorded == expected
    delivered = Counter(m.extra_headers["X-Astra-Notification"] for m in mail.outbox)
    assert len(delivered) == len(recorded) and set(delivered.values()) == {1}
    assert not Notification.objects.filter(sent_at__isnull=True).exists()
    for pk, when in closed_at.items():
        assert not Notification.objects.filter(dispute_id=pk, created_at__gt=when).exists()
    assert verify().breaks == []


class Killed(BaseException):
    pass


def _killed_sweep(monkeypatch, capture) -> bool:
    """A sweep that dies after its first chunk commits, then one whose hand-over is lost; the
    regular sweep that follows must make both whole. False if nothing was due to kill."""
    monkeypatch.setattr(services, "CHUNK", 2)

    def die(index):
        raise Killed

    try:
        with capture(execute=True):
            services.send_deadline_reminders(after_chunk=die)
    except Killed:
        pass
    else:
        monkeypatch.setattr(services, "CHUNK", 250)
        return False
    pending = Notification.objects.filter(sent_at__isnull=True).count()
    with capture(execute=True):  # recorded, never handed over
        report = services.send_deadline_reminders(dispatch=lambda ids: None)
    assert report.recorded > 0 and pending == 0
    monkeypatch.setattr(services, "CHUNK", 250)
    return True


def _plan(rng, today):
    """(day claimed or None, day submitted or None, day closed or None)."""
    claim = today + timedelta(rng.randrange(0, 12)) if rng.random() < 0.6 else None
    end = today + timedelta(rng.randrange(3, 40))
    return claim, end if rng.random() < 0.4 else None, end if rng.random() < 0.5 else None


def _claim(pk, agent):
    version = Dispute.objects.values_list("version", flat=True).get(pk=pk)
    disputes_services.claim(dispute_id=pk, actor=agent, expected_version=version)


def _act_for_the_day(plans, today, agent, lead, closed_at):
    for pk, (claim, submit, close) in plans.items():
        if today not in (claim, submit, close):
            continue
        state = Dispute.objects.values_list("state", flat=True).get(pk=pk)
        if claim == today and state == WorkState.NEW:
            _claim(pk, agent)
        if close == today and state != WorkState.CLOSED:
            act(dispute_id=pk, name="accept_liability", actor=lead, on=today)
            closed_at[pk] = moment(today, time(12))
        elif submit == today and state in (WorkState.NEW, WorkState.IN_REVIEW):
            if state == WorkState.NEW:
                _claim(pk, agent)
            override_checklist(dispute_id=pk, actor=lead, reason="Filed without the documents")
            act(dispute_id=pk, name="mark_ready", actor=agent)
            act(dispute_id=pk, name="visa_submit_dispute_response", actor=agent, on=today)
            closed_at[pk] = moment(today, time(12))
