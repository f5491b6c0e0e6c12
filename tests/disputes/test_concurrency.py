"""Two people acting on one dispute at once, on two real PostgreSQL connections."""

import threading

import pytest
from django.db import connection, transaction

from disputes import services
from disputes.models import Dispute, business_today
from tests.factories import act, open_dispute

pytestmark = pytest.mark.django_db(transaction=True)


def _run_in_thread(target, *args):
    def wrapper():
        try:
            target(*args)
        finally:
            connection.close()  # each thread has its own connection

    thread = threading.Thread(target=wrapper)
    thread.start()
    return thread


def test_two_claims_at_once_exactly_one_wins(agent, agent2):
    dispute = open_dispute()
    seen_version = dispute.version
    barrier = threading.Barrier(2)
    outcomes = {}

    def claim(user):
        barrier.wait()
        try:
            act(
                dispute_id=dispute.pk,
                name="claim",
                actor=user,
                assignee=user,
                expected_version=seen_version,
            )
            outcomes[user.username] = "won"
        except services.StaleDispute as exc:
            outcomes[user.username] = str(exc)

    threads = [_run_in_thread(claim, agent), _run_in_thread(claim, agent2)]
    for thread in threads:
        thread.join(timeout=30)
    winners = [name for name, outcome in outcomes.items() if outcome == "won"]
    assert len(winners) == 1
    loser = next(outcome for outcome in outcomes.values() if outcome != "won")
    assert "changed while you were looking at it" in loser
    dispute.refresh_from_db()
    assert dispute.assignee.username == winners[0]
    assert dispute.version == seen_version + 1
    assert dispute.events.count() == 2


def test_the_second_writer_waits_for_the_first_and_then_is_refused(agent, agent2):
    dispute = open_dispute()
    seen_version = dispute.version
    lock_held = threading.Event()
    release = threading.Event()
    second = {}

    def first_writer():
        with transaction.atomic():
            Dispute.objects.select_for_update().get(pk=dispute.pk)
            lock_held.set()
            release.wait(timeout=10)
            act(
                dispute_id=dispute.pk,
                name="visa_submit_dispute_response",
                actor=agent,
                on=business_today(),
                expected_version=seen_version,
            )

    def second_writer():
        lock_held.wait(timeout=10)
        try:
            act(
                dispute_id=dispute.pk,
                name="accept_liability",
                actor=None,
                on=business_today(),
                expected_version=seen_version,
            )
            second["result"] = "won"
        except services.StaleDispute as exc:
            second["result"] = str(exc)

    one = _run_in_thread(first_writer)
    two = _run_in_thread(second_writer)
    lock_held.wait(timeout=10)
    two.join(timeout=1)
    assert two.is_alive(), "the second writer should be waiting on the row lock"
    release.set()
    one.join(timeout=30)
    two.join(timeout=30)
    assert "changed while you were looking at it" in second["result"]
    dispute.refresh_from_db()
    assert dispute.stage == "dispute_response"
    assert [t.act for t in dispute.events.all()] == [
        "open",
        "visa_submit_dispute_response",
    ]


def test_without_a_version_the_late_writer_is_told_the_stage_moved(agent, agent2):
    dispute = open_dispute()
    act(
        dispute_id=dispute.pk,
        name="visa_submit_dispute_response",
        actor=agent,
        on=business_today(),
    )
    with pytest.raises(services.TransitionRefused, match="dispute response"):
        act(
            dispute_id=dispute.pk,
            name="visa_submit_dispute_response",
            actor=agent2,
            on=business_today(),
        )
