"""Claiming one dispute and assigning many from the queue: through the services, refusals
reported per dispute, with and without HTMX."""

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from disputes.choices import WorkState
from disputes.models import CaseEvent, Dispute
from tests.disputes.test_queue import make_dispute
from tests.factories import act, open_dispute

CLAIM = reverse("disputes:queue_claim")
ASSIGN = reverse("disputes:queue_assign")
HTMX = {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "queue-notice"}


def claim(client, user, dispute, *, version=None, return_to="", **extra):
    client.force_login(user)
    data = {"claim": dispute.pk, f"version-{dispute.pk}": version or dispute.version}
    return client.post(CLAIM, {**data, "return_to": return_to}, **extra)


def assign(client, user, disputes, *, action="assign", assignee=None, return_to="", **extra):
    client.force_login(user)
    data = {"dispute": [d.pk for d in disputes], "action": action, "return_to": return_to}
    data.update({f"version-{d.pk}": d.version for d in disputes})
    if assignee is not None:
        data["assignee"] = assignee.pk
    return client.post(ASSIGN, data, **extra)


def got_there_first(dispute, someone):
    act(dispute_id=dispute.pk, name="claim", actor=someone, assignee=someone)


def messages_of(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


# --- claiming one -------------------------------------------------------------------------------


@pytest.mark.django_db
def test_agent_claims_an_unassigned_dispute_and_returns_to_the_same_queue(client, agent):
    dispute = open_dispute()
    response = claim(client, agent, dispute, return_to="network=visa&sort=-amount&bogus=1")
    assert response.status_code == 302
    assert response["Location"] == "/disputes/?network=visa&sort=-amount"
    assert messages_of(response) == [f"You claimed {dispute.case_id}."]
    dispute.refresh_from_db()
    assert (dispute.assignee, dispute.state) == (agent, WorkState.IN_REVIEW)
    row = CaseEvent.objects.filter(dispute=dispute).order_by("-seq").first()
    assert (row.act, row.actor, row.state) == ("claim", agent, WorkState.IN_REVIEW)


@pytest.mark.django_db
def test_htmx_claim_answers_with_the_row_and_the_notice(client, agent):
    dispute = open_dispute()
    response = claim(client, agent, dispute, **HTMX)
    html = response.content.decode()
    assert response.status_code == 200
    assert html.startswith(f'<tr id="dispute-{dispute.pk}" class="row-changed row-changed-success"')
    assert ">You</td>" in html
    assert 'id="queue-notice"' in html and 'hx-swap-oob="true"' in html
    assert f"You claimed {dispute.case_id}." in html


@pytest.mark.django_db
def test_claiming_a_dispute_that_changed_meanwhile_is_refused(client, agent, agent2):
    dispute = open_dispute()
    shown_version = dispute.version
    got_there_first(dispute, agent2)
    response = claim(client, agent, dispute, version=shown_version, **HTMX)
    html = response.content.decode()
    assert "row-changed-error" in html
    assert "changed while you were looking at it" in html
    assert agent2.get_full_name() in html  # the row now shows who has it
    dispute.refresh_from_db()
    assert dispute.assignee == agent2


@pytest.mark.django_db
def test_a_refused_claim_without_javascript_comes_back_as_an_error_message(client, agent, agent2):
    dispute = open_dispute()
    shown_version = dispute.version
    got_there_first(dispute, agent2)
    response = claim(client, agent, dispute, version=shown_version)
    assert response.status_code == 302
    assert "changed while you were looking at it" in messages_of(response)[0]


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["cs_user", "compliance"])
def test_roles_without_claim_permission_cannot_claim(client, request, role):
    dispute = open_dispute()
    response = claim(client, request.getfixturevalue(role), dispute)
    assert response.status_code == 403
    dispute.refresh_from_db()
    assert dispute.assignee is None


@pytest.mark.django_db
def test_claiming_a_missing_dispute_is_not_found(client, agent):
    client.force_login(agent)
    assert client.post(CLAIM, {"claim": "999999"}).status_code == 404
    assert client.post(CLAIM, {"claim": "nope"}).status_code == 404


@pytest.mark.django_db
def test_claim_only_takes_posts(client, agent):
    client.force_login(agent)
    assert client.get(CLAIM).status_code == 405


# --- assigning many ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_lead_assigns_selected_disputes_to_an_agent(client, lead, agent):
    disputes = [open_dispute() for _ in range(3)]
    response = assign(client, lead, disputes, assignee=agent, return_to="assignee=unassigned")
    assert response["Location"] == "/disputes/?assignee=unassigned"
    assert messages_of(response) == [f"Assigned 3 disputes to {agent.get_full_name()}."]
    for dispute in disputes:
        dispute.refresh_from_db()
        assert (dispute.assignee, dispute.state) == (agent, WorkState.IN_REVIEW)
        last = CaseEvent.objects.filter(dispute=dispute).order_by("-seq").first()
        assert (last.act, last.actor) == ("assign", lead)


@pytest.mark.django_db
def test_each_refusal_is_reported_with_its_case_id(client, lead, agent):
    fine = open_dispute()
    closed = make_dispute(state=WorkState.CLOSED, case_id="CLOSED-1")
    response = assign(client, lead, [fine, closed], assignee=agent)
    notes = messages_of(response)
    assert notes[0] == f"Assigned 1 dispute to {agent.get_full_name()}."
    assert notes[1].startswith("CLOSED-1: Assign is not possible while the dispute is at closed")
    closed.refresh_from_db()
    assert closed.assignee is None


@pytest.mark.django_db
def test_htmx_assign_answers_with_the_notice_and_each_row_out_of_band(client, lead, agent):
    fine = open_dispute()
    closed = make_dispute(state=WorkState.CLOSED, case_id="CLOSED-2")
    response = assign(client, lead, [fine, closed], assignee=agent, **HTMX)
    html = response.content.decode()
    assert html.startswith('<div class="msg msg-success">Assigned 1 dispute to')
    assert "<strong>CLOSED-2</strong>: Assign is not possible" in html
    assert (
        f'<tr id="dispute-{fine.pk}" class="row-changed row-changed-success" hx-swap-oob="true"'
        in html
    )
    assert f'<tr id="dispute-{closed.pk}"' in html


@pytest.mark.django_db
def test_agent_claims_selected_disputes(client, agent):
    disputes = [open_dispute() for _ in range(2)]
    response = assign(client, agent, disputes, action="claim")
    assert messages_of(response) == ["You claimed 2 disputes."]
    assert set(Dispute.objects.values_list("assignee", flat=True)) == {agent.pk}


@pytest.mark.django_db
def test_agent_cannot_assign_to_someone_else(client, agent, agent2):
    dispute = open_dispute()
    response = assign(client, agent, [dispute], assignee=agent2)
    assert response.status_code == 403
    dispute.refresh_from_db()
    assert dispute.assignee is None


@pytest.mark.django_db
@pytest.mark.parametrize("action", ["assign", "claim"])
def test_compliance_cannot_assign_or_claim_selected(client, compliance, agent, action):
    dispute = open_dispute()
    response = assign(client, compliance, [dispute], action=action, assignee=agent)
    assert response.status_code == 403


@pytest.mark.django_db
def test_assignee_must_be_someone_who_may_claim(client, lead, cs_user):
    dispute = open_dispute()
    response = assign(client, lead, [dispute], assignee=cs_user)
    assert messages_of(response) == ["Choose whom to assign them to."]
    dispute.refresh_from_db()
    assert dispute.assignee is None


@pytest.mark.django_db
def test_assigning_nothing_asks_for_a_selection(client, lead, agent):
    response = assign(client, lead, [], assignee=agent, **HTMX)
    assert "Select at least one dispute." in response.content.decode()


@pytest.mark.django_db
def test_claim_selected_does_not_take_over_a_dispute_claimed_meanwhile(client, agent, agent2):
    taken, free = open_dispute(), open_dispute()
    seen = {d.pk: d.version for d in (taken, free)}
    got_there_first(taken, agent2)
    client.force_login(agent)
    response = client.post(
        ASSIGN,
        {
            "dispute": [taken.pk, free.pk],
            "action": "claim",
            **{f"version-{pk}": version for pk, version in seen.items()},
        },
    )
    notes = messages_of(response)
    assert notes[0] == "You claimed 1 dispute."
    assert "changed while you were looking at it" in notes[1]
    taken.refresh_from_db()
    free.refresh_from_db()
    assert (taken.assignee, free.assignee) == (agent2, agent)


@pytest.mark.django_db
def test_a_bulk_assign_without_the_versions_seen_is_refused(client, lead, agent):
    dispute = open_dispute()
    client.force_login(lead)
    data = {"dispute": [dispute.pk], "action": "assign", "assignee": agent.pk}
    notes = messages_of(client.post(ASSIGN, data))
    assert notes[0] == f"Assigned 0 disputes to {agent.get_full_name()}."
    assert "did not say which version" in notes[1]
    dispute.refresh_from_db()
    assert dispute.assignee is None


@pytest.mark.django_db
def test_a_claim_with_a_missing_or_malformed_version_is_refused(client, agent):
    dispute = open_dispute()
    client.force_login(agent)
    for version in (None, "", "x1", "-1"):
        data = {"claim": dispute.pk}
        if version is not None:
            data[f"version-{dispute.pk}"] = version
        client.post(CLAIM, data)
        dispute.refresh_from_db()
        assert dispute.assignee is None, version


@pytest.mark.django_db
def test_htmx_assign_redraws_the_view_counts_and_the_matched_count(client, lead, agent):
    disputes = [open_dispute() for _ in range(3)]
    response = assign(
        client, lead, disputes[:2], assignee=agent, return_to="assignee=unassigned", **HTMX
    )
    html = response.content.decode()
    assert 'aria-label="Queue views" hx-swap-oob="true"' in html
    # One dispute is still unassigned: the current view's count says so.
    assert '<span id="queue-matched-count" hx-swap-oob="true">1 dispute</span>' in html


@pytest.mark.django_db
def test_taking_over_a_dispute_someone_holds_names_them_and_asks_to_confirm(client, agent, agent2):
    dispute = open_dispute()
    got_there_first(dispute, agent2)
    dispute.refresh_from_db()
    client.force_login(agent)
    page = client.get(reverse("disputes:detail", args=[dispute.pk])).content.decode()
    holder = agent2.get_full_name() or agent2.username
    assert f"Take over from {holder}" in page and f"{holder} holds this dispute" in page
    url = reverse("disputes:transition", args=[dispute.pk, "claim"])
    refused = client.post(url, {"version": dispute.version})
    assert refused.status_code == 422
    assert Dispute.objects.get(pk=dispute.pk).assignee == agent2
    taken = client.post(url, {"version": dispute.version, "take_over": "on"})
    assert taken.status_code == 302
    assert Dispute.objects.get(pk=dispute.pk).assignee == agent
