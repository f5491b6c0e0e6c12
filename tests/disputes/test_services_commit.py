"""Side effects run after commit and never on rollback; refusals come in one order with one
status map; a claim without the version the user saw never succeeds."""

import threading

import pytest
from django.db import connection, transaction
from django.test import Client
from django.urls import reverse

from disputes import history, services
from disputes.models import Dispute
from tests.factories import open_dispute


@pytest.fixture
def note_subscriber():
    """A function subscribed to notes, as a mailer would be; unsubscribed afterwards."""
    calls = []

    def on_note(event):
        calls.append((event.dispute_id, event.payload["body"], connection.in_atomic_block))

    history.on_event("note_added")(on_note)
    yield calls
    history.KINDS["note_added"].subscribers.remove(on_note)


@pytest.mark.django_db(transaction=True)
def test_a_subscriber_runs_after_commit(agent, note_subscriber):
    dispute = open_dispute()
    with transaction.atomic():
        services.add_note(dispute_id=dispute.pk, author=agent, body="Called the client.")
        assert note_subscriber == []  # not while the transaction is open
    assert note_subscriber == [(dispute.pk, "Called the client.", False)]


@pytest.mark.django_db(transaction=True)
def test_a_subscriber_never_runs_when_the_act_rolls_back(agent, note_subscriber):
    dispute = open_dispute()
    with pytest.raises(RuntimeError), transaction.atomic():
        services.add_note(dispute_id=dispute.pk, author=agent, body="Never kept.")
        raise RuntimeError("the rest of the act failed")
    assert note_subscriber == []
    assert not Dispute.objects.get(pk=dispute.pk).events.filter(kind="note_added").exists()


@pytest.mark.django_db
def test_why_not_answers_409_then_403_then_422(agent, cs_user):
    dispute = Dispute.objects.get(pk=open_dispute().pk)
    stale = dispute.version - 1
    # Changed meanwhile comes first, whoever asks and whatever the act.
    refusal = services.why_not(
        dispute=dispute, name="visa_submit_dispute_response", actor=cs_user, expected_version=stale
    )
    assert isinstance(refusal, services.StaleDispute)
    assert services.http_status(refusal) == 409
    # Then the role: customer success may not file.
    refusal = services.why_not(
        dispute=dispute,
        name="visa_submit_dispute_response",
        actor=cs_user,
        expected_version=dispute.version,
    )
    assert isinstance(refusal, services.RoleRefused)
    assert services.http_status(refusal) == 403
    # Then the rules: an agent may file, but not an arbitration at the dispute stage.
    refusal = services.why_not(
        dispute=dispute,
        name="visa_receive_arbitration",
        actor=agent,
        expected_version=dispute.version,
    )
    assert isinstance(refusal, services.TransitionRefused)
    assert services.http_status(refusal) == 422
    assert "not possible while the dispute is at dispute" in str(refusal)
    # A person who does not say which version they saw is refused as changed meanwhile.
    refusal = services.why_not(dispute=dispute, name="claim", actor=agent, expected_version=None)
    assert services.http_status(refusal) == 409
    assert (
        services.why_not(
            dispute=dispute, name="claim", actor=agent, expected_version=dispute.version
        )
        is None
    )


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("version", [None, "", "abc"], ids=["missing", "empty", "malformed"])
def test_two_claims_without_a_version_cannot_both_succeed(agent, agent2, version):
    dispute = open_dispute()
    barrier = threading.Barrier(2)
    statuses = []

    def claim(user):
        try:
            browser = Client()
            browser.force_login(user)
            data = {"claim": dispute.pk}
            if version is not None:
                data[f"version-{dispute.pk}"] = version
            barrier.wait()
            statuses.append(browser.post(reverse("disputes:queue_claim"), data).status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=claim, args=(u,)) for u in (agent, agent2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert len(statuses) == 2 and 500 not in statuses
    dispute.refresh_from_db()
    assert dispute.assignee is None  # neither claim took it
    assert dispute.events.count() == 1
