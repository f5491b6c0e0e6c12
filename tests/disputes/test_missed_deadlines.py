"""The missed-deadline sweep: one of our windows that passed with no filing is recorded once,
in the case history and the missed-deadline table, and stays visible after the stage moves on."""

import io
import threading
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from calendar_rules import nacha
from disputes.choices import Network, Outcome, Stage
from disputes.history.verify import verify
from disputes.missed.services import SWEEP_ACTOR, record_missed_deadlines
from disputes.models import CaseEvent, Dispute, MissedDeadline, business_today
from tests.factories import act, open_dispute

pytestmark = pytest.mark.django_db


def late_nacha_return():
    """An R10 return that settled three weeks ago: the 5-banking-day dishonor window closed."""
    return open_dispute(
        network=Network.NACHA, code="R10", stage_started_on=business_today() - timedelta(days=21)
    )


def missed_events(dispute):
    return list(CaseEvent.objects.filter(dispute=dispute, kind="deadline_missed"))


def test_a_passed_dishonor_window_is_recorded_once_as_a_history_event():
    dispute = late_nacha_return()
    due = dispute.network_due
    assert due == nacha.dishonor_deadline(dispute.return_settled_on)
    assert record_missed_deadlines() == 1
    assert record_missed_deadlines() == 0  # a second sweep records nothing twice
    (event,) = missed_events(dispute)
    assert (event.actor_id, event.system_actor) == (None, SWEEP_ACTOR)
    assert event.payload["window"] == "dishonor"
    assert event.payload["network_due"] == due.isoformat()
    missed = MissedDeadline.objects.get(dispute=dispute)
    assert (missed.stage, missed.network_due, missed.event_seq) == (Stage.RETURN, due, event.seq)
    dispute.refresh_from_db()
    assert dispute.version == 1  # the dispute row did not change: no one's form goes stale
    assert verify().breaks == []


def test_nothing_is_missed_before_the_window_closes_or_on_a_counterparty_window(agent):
    dispute = open_dispute(network=Network.VISA, code="13.1")  # our response window runs
    answered = open_dispute(
        network=Network.VISA, code="13.1", stage_started_on=business_today() - timedelta(days=3)
    )
    act(dispute_id=answered.pk, name="claim", actor=agent, assignee=agent)
    act(
        dispute_id=answered.pk,
        name="visa_submit_dispute_response",
        actor=agent,
        on=business_today() - timedelta(days=2),
    )
    far_later = datetime.combine(business_today() + timedelta(days=29), time(12), ZoneInfo("UTC"))
    # 29 days on, the issuer's pre-arbitration window (ours: waiting) is still open, and so is
    # our 30-day response window of the other dispute; a day past its end it is missed.
    assert record_missed_deadlines(now=far_later) == 0
    dispute.refresh_from_db()
    after = datetime.combine(dispute.network_due + timedelta(days=1), time(12), ZoneInfo("UTC"))
    assert record_missed_deadlines(now=after) == 1
    assert missed_events(answered) == []


def test_a_closed_dispute_is_never_recorded(lead):
    dispute = late_nacha_return()
    act(dispute_id=dispute.pk, name="accept_liability", actor=lead, on=business_today())
    assert record_missed_deadlines() == 0
    assert missed_events(dispute) == []


def test_the_missed_deadline_shows_after_the_stage_moved_on(client, lead):
    dispute = late_nacha_return()
    due = dispute.network_due
    record_missed_deadlines()
    act(dispute_id=dispute.pk, name="record_expired", actor=lead, on=business_today())
    dispute.refresh_from_db()
    assert (dispute.stage, dispute.outcome) == (Stage.CLOSED, Outcome.EXPIRED)
    words = f"Missed dishonor deadline on {due:%b} {due.day}, {due.year}"
    client.force_login(lead)
    page = client.get(reverse("disputes:detail", args=[dispute.pk])).content.decode()
    assert words in page  # in the deadline panel
    assert "Deadline missed" in page  # and on the timeline
    queue = client.get(reverse("disputes:queue") + "?state=all").content.decode()
    assert f'title="{words}">Missed {due:%b} {due.day}' in queue
    assert verify().breaks == []


def test_the_command_sweeps_as_of_the_moment_it_is_given():
    dispute = late_nacha_return()
    before = dispute.network_due.isoformat()
    out = io.StringIO()
    call_command("record_missed_deadlines", "--now", before, stdout=out)
    assert out.getvalue().strip() == "Recorded 0 missed deadlines."
    call_command("record_missed_deadlines", stdout=out)
    assert out.getvalue().strip().endswith("Recorded 1 missed deadline.")
    with pytest.raises(CommandError, match="not a date"):
        call_command("record_missed_deadlines", "--now", "yesterday")


def test_the_sweep_runs_every_hour_on_beat():
    entry = next(
        e
        for e in settings.CELERY_BEAT_SCHEDULE.values()
        if e["task"] == "disputes.tasks.record_missed_deadlines"
    )
    assert entry["schedule"].minute == {7}  # every hour, at minute 7
    assert entry["schedule"].hour == set(range(24))


def test_a_sweep_that_read_a_dispute_before_it_was_filed_records_nothing(agent):
    """The sweep re-checks each dispute under its row lock: one filed (or recomputed) since
    the sweep's read is left alone."""
    from disputes.missed.services import record_missed_deadline

    dispute = open_dispute(network=Network.VISA, code="13.1")
    after = datetime.combine(dispute.network_due + timedelta(days=1), time(12), ZoneInfo("UTC"))
    act(dispute_id=dispute.pk, name="claim", actor=agent, assignee=agent)
    act(
        dispute_id=dispute.pk, name="visa_submit_dispute_response", actor=agent, on=business_today()
    )
    assert not record_missed_deadline(dispute_id=dispute.pk, today=after.date(), now=after)
    assert Dispute.objects.get(pk=dispute.pk).missed_deadlines.count() == 0


def test_the_sweep_records_in_batches_each_dispute_once_on_its_own_chain(agent):
    """Batches of two over five disputes (one with a longer history): each event goes on its
    own dispute's chain, numbered after its last event, with its missed-deadline row."""
    disputes = [late_nacha_return() for _ in range(5)]
    act(dispute_id=disputes[2].pk, name="claim", actor=agent, assignee=agent)
    assert record_missed_deadlines(batch=2) == 5
    assert record_missed_deadlines(batch=2) == 0
    for dispute in disputes:
        (event,) = missed_events(dispute)
        assert event.seq == CaseEvent.objects.filter(dispute=dispute).count()
        missed = MissedDeadline.objects.get(dispute=dispute)
        assert (missed.event_seq, missed.network_due) == (event.seq, dispute.network_due)
    assert missed_events(disputes[2])[0].seq == 3  # opened, claimed, missed
    assert verify().breaks == []


def test_a_dispute_closed_after_the_sweep_read_it_is_left_alone_in_its_batch(lead):
    """The sweep re-checks each dispute of a batch under the batch's row locks."""
    from disputes.missed.services import business_date, candidates, record_missed_batch

    late, closed = late_nacha_return(), late_nacha_return()
    now = timezone.now()
    ids = candidates(business_date(now))
    assert ids == [late.pk, closed.pk]
    act(dispute_id=closed.pk, name="accept_liability", actor=lead, on=business_today())
    assert record_missed_batch(dispute_ids=ids, today=business_date(now), now=now) == 1
    assert len(missed_events(late)) == 1
    assert missed_events(closed) == []
    assert not MissedDeadline.objects.filter(dispute=closed).exists()


def test_a_batch_read_before_another_sweep_recorded_it_records_nothing_twice():
    """Two sweeps read the same candidates; the one that locks second finds them recorded."""
    from disputes.missed.services import business_date, candidates, record_missed_batch

    disputes = [late_nacha_return() for _ in range(3)]
    now = timezone.now()
    ids = candidates(business_date(now))
    assert record_missed_batch(dispute_ids=ids, today=business_date(now), now=now) == 3
    assert record_missed_batch(dispute_ids=ids, today=business_date(now), now=now) == 0
    assert all(len(missed_events(d)) == 1 for d in disputes)
    assert MissedDeadline.objects.count() == 3
    assert verify().breaks == []


@pytest.mark.django_db(transaction=True)
def test_two_sweeps_at_once_record_each_missed_deadline_once():
    """Two sweeps on two connections over the same disputes, in batches that overlap."""
    disputes = [late_nacha_return() for _ in range(12)]
    barrier = threading.Barrier(2)
    recorded = []

    def sweep(batch):
        try:
            barrier.wait(timeout=10)
            recorded.append(record_missed_deadlines(batch=batch))
        finally:
            connection.close()  # each thread has its own connection

    threads = [threading.Thread(target=sweep, args=(n,)) for n in (3, 5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sum(recorded) == 12 and len(recorded) == 2
    assert all(len(missed_events(d)) == 1 for d in disputes)
    assert MissedDeadline.objects.count() == 12
    assert verify().breaks == []
