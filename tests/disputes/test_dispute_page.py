"""The dispute page: what each role sees and may do, transitions (plain and HTMX), refusals,
the timeline, notes and related disputes."""

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse

from disputes import services
from disputes.choices import Network, Outcome, Stage, WorkState
from disputes.models import CaseEvent, Dispute, business_today
from tests.factories import ClientFactory, TransactionFactory, act, open_dispute, satisfy_checklist

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


def page(client, user, dispute):
    client.force_login(user)
    return client.get(reverse("disputes:detail", args=[dispute.pk]))


def post_transition(client, dispute, name, headers=None, **data):
    data.setdefault("version", dispute.version)
    url = reverse("disputes:transition", args=[dispute.pk, name])
    return client.post(url, data, **(headers or {}))


def transition_buttons(response) -> set[str]:
    return set(re.findall(r'data-transition="([a-z_]+)"', response.content.decode()))


# --- what the page shows --------------------------------------------------------------------


def test_the_header_shows_reason_deadlines_rule_and_urgency(client, agent):
    dispute = open_dispute(network=Network.VISA, code="13.1")
    response = page(client, agent, dispute)
    assert response.status_code == 200
    html = response.content.decode()
    assert "Merchandise/Services Not Received" in html
    assert "Collaboration flow" in html
    assert "$125.00" in html
    assert dispute.client.name in html
    assert "Internal target" in html and "Network due" in html
    assert "Visa 13.1 dispute response" in html and dispute.rules_version in html
    assert "Card processor cut-off" in html  # 18 days before Visa's 30
    assert "Earliest: sets the urgency" in html
    assert dispute.deadline_explanation.split(" → ")[0] in html
    assert "Astra must respond" in html
    assert dispute.urgency(business_today()).label in html


@pytest.mark.parametrize(
    ("network", "code", "family"),
    [
        (Network.VISA, "10.4", "Category 10 · Allocation flow"),
        (Network.MASTERCARD, "4837", "Fraud"),
        (Network.NACHA, "R10", "Unauthorized return"),
    ],
)
def test_the_header_says_where_the_reason_code_sits(client, agent, network, code, family):
    dispute = open_dispute(network=network, code=code)
    assert f'<span class="muted">· {family}</span>' in page(client, agent, dispute).content.decode()


def test_a_counterparty_window_says_who_we_wait_on(client, lead):
    dispute = open_dispute()
    act(
        dispute_id=dispute.pk, name="visa_submit_dispute_response", actor=lead,
        on=business_today(),
    )  # fmt: skip
    html = page(client, lead, dispute).content.decode()
    assert "Waiting on the issuer" in html
    assert "The issuer&#x27;s window ends" in html
    assert "Internal due" not in html


def test_a_nacha_return_says_whether_it_was_timely(client, lead):
    settled = business_today() - timedelta(days=10)
    dispute = open_dispute(
        network=Network.NACHA, code="R01", stage_started_on=business_today(),
        settlement_date=settled,
    )  # fmt: skip
    html = page(client, lead, dispute).content.decode()
    assert "Late return" in html
    assert "R68" in html


def test_an_agent_gets_claim_and_network_buttons(client, agent):
    dispute = open_dispute()
    buttons = transition_buttons(page(client, agent, dispute))
    assert {"claim", "visa_submit_dispute_response", "record_lost"} <= buttons
    assert "assign" not in buttons
    assert "accept_liability" not in buttons


def test_a_lead_gets_assign_with_a_choice_of_people(client, lead, agent):
    dispute = open_dispute()
    response = page(client, lead, dispute)
    assert {"assign", "accept_liability"} <= transition_buttons(response)
    assert f'<option value="{agent.pk}">{agent.get_full_name()}</option>' in (
        response.content.decode()
    )


def test_claim_is_not_offered_on_a_dispute_already_yours(client, agent):
    dispute = open_dispute()
    act(dispute_id=dispute.pk, name="claim", actor=agent, assignee=agent)
    assert "claim" not in transition_buttons(page(client, agent, dispute))


def test_customer_success_gets_no_ops_buttons_but_the_note_form(client, cs_user):
    dispute = open_dispute()
    response = page(client, cs_user, dispute)
    buttons = transition_buttons(response)
    assert buttons <= {"request_evidence", "receive_evidence"}
    assert "claim" not in buttons and "visa_submit_dispute_response" not in buttons
    assert reverse("disputes:add_note", args=[dispute.pk]) in response.content.decode()


def test_compliance_sees_the_dispute_without_buttons_or_note_form(client, compliance):
    dispute = open_dispute()
    response = page(client, compliance, dispute)
    assert response.status_code == 200
    assert transition_buttons(response) == set()
    assert reverse("disputes:add_note", args=[dispute.pk]) not in response.content.decode()
    assert "Nothing your role can do" in response.content.decode()


def test_signed_out_visitors_are_sent_to_login(client):
    dispute = open_dispute()
    response = client.get(reverse("disputes:detail", args=[dispute.pk]))
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


def test_an_unknown_dispute_is_404(client, agent):
    client.force_login(agent)
    assert client.get(reverse("disputes:detail", args=[999999])).status_code == 404


def test_a_closed_dispute_shows_its_outcome_and_no_actions(client, lead):
    dispute = open_dispute()
    act(dispute_id=dispute.pk, name="accept_liability", actor=lead, on=business_today())
    response = page(client, lead, dispute)
    html = response.content.decode()
    assert "Liability accepted" in html
    assert transition_buttons(response) == set()
    assert "This dispute is closed." in html


# --- taking a transition --------------------------------------------------------------------


def test_a_plain_post_claims_and_redirects_back_with_a_message(client, agent):
    dispute = open_dispute()
    client.force_login(agent)
    response = post_transition(client, dispute, "claim", comment="Mine")
    assert response.status_code == 302
    assert response.url == dispute.get_absolute_url()
    assert "Claim: done." in client.get(response.url).content.decode()
    dispute.refresh_from_db()
    assert (dispute.assignee, dispute.state) == (agent, WorkState.IN_REVIEW)
    row = dispute.events.order_by("-seq").first()
    assert (row.act, row.actor, row.comment) == ("claim", agent, "Mine")


def test_an_htmx_post_returns_the_updated_page_body(client, agent):
    dispute = open_dispute()
    client.force_login(agent)
    response = post_transition(client, dispute, "claim", headers=HTMX)
    assert response.status_code == 200
    html = response.content.decode()
    assert html.lstrip().startswith('<div id="dispute-page"')
    assert "<html" not in html
    assert "Claim: done." in html
    assert "In review" in html
    assert f'name="version" value="{dispute.version + 1}"' in html
    assert "claim" not in transition_buttons(response)


def test_a_network_event_records_its_date_and_comment(client, agent):
    dispute = open_dispute()
    filed_on = business_today() - timedelta(days=1)
    client.force_login(agent)
    response = post_transition(
        client, dispute, "visa_submit_dispute_response", on=filed_on.isoformat(),
        comment="Proof of delivery attached",
    )  # fmt: skip
    assert response.status_code == 302
    dispute.refresh_from_db()
    assert dispute.stage == Stage.DISPUTE_RESPONSE
    assert dispute.stage_started_on == filed_on
    row = dispute.events.order_by("-seq").first()
    assert row.params == {"on": filed_on.isoformat()}
    assert row.comment == "Proof of delivery attached"


def test_the_network_date_defaults_to_today(client, agent):
    dispute = open_dispute()
    client.force_login(agent)
    post_transition(client, dispute, "visa_submit_dispute_response")
    dispute.refresh_from_db()
    assert dispute.stage_started_on == business_today()


def test_a_win_records_the_recovered_amount(client, lead):
    dispute = open_dispute()
    act(
        dispute_id=dispute.pk, name="visa_submit_dispute_response", actor=lead,
        on=business_today(),
    )  # fmt: skip
    dispute.refresh_from_db()
    client.force_login(lead)
    response = post_transition(
        client, dispute, "record_won", recovered_amount="100.00", comment="Issuer reversed"
    )
    assert response.status_code == 302
    dispute.refresh_from_db()
    assert (dispute.outcome, dispute.recovered_amount) == (Outcome.WON, Decimal("100.00"))


def test_a_lead_assigns_a_dispute_to_an_agent(client, lead, agent):
    dispute = open_dispute()
    client.force_login(lead)
    response = post_transition(client, dispute, "assign", assignee=agent.pk)
    assert response.status_code == 302
    dispute.refresh_from_db()
    assert dispute.assignee == agent


def test_a_nacha_dishonor_asks_for_a_dishonor_code(client, lead):
    dispute = open_dispute(network=Network.NACHA, code="R01", stage_started_on=business_today())
    html = page(client, lead, dispute).content.decode()
    assert 'name="code"' in html
    assert '<option value="R67">R67</option>' in html


# --- refusals -------------------------------------------------------------------------------


def test_a_stale_version_is_refused_with_409_and_says_so(client, agent, agent2):
    dispute = open_dispute()
    loaded_version = dispute.version
    act(dispute_id=dispute.pk, name="claim", actor=agent2, assignee=agent2)
    client.force_login(agent)
    response = post_transition(client, dispute, "claim", headers=HTMX, version=loaded_version)
    assert response.status_code == 409
    assert "changed while you were looking at it" in response.content.decode()
    dispute.refresh_from_db()
    assert dispute.assignee == agent2
    assert dispute.events.count() == 2


def test_a_stale_plain_post_shows_the_whole_page_with_the_message(client, agent, agent2):
    dispute = open_dispute()
    loaded_version = dispute.version
    act(dispute_id=dispute.pk, name="claim", actor=agent2, assignee=agent2)
    client.force_login(agent)
    response = post_transition(client, dispute, "visa_submit_dispute_response",
                               version=loaded_version)  # fmt: skip
    assert response.status_code == 409
    assert "<html" in response.content.decode()
    assert "changed while you were looking at it" in response.content.decode()


def test_customer_success_posting_an_ops_transition_is_refused_403(client, cs_user):
    dispute = open_dispute()
    client.force_login(cs_user)
    response = post_transition(client, dispute, "claim", headers=HTMX)
    assert response.status_code == 403
    assert "Your role may not take “Claim”" in response.content.decode()
    dispute.refresh_from_db()
    assert (dispute.state, dispute.assignee) == (WorkState.NEW, None)
    assert dispute.events.count() == 1


def test_compliance_posting_a_network_event_is_refused_403(client, compliance):
    dispute = open_dispute()
    client.force_login(compliance)
    response = post_transition(client, dispute, "visa_submit_dispute_response")
    assert response.status_code == 403
    assert Dispute.objects.get(pk=dispute.pk).stage == Stage.DISPUTE


def test_a_refused_transition_says_why_with_422(client, lead):
    dispute = open_dispute()  # our window is still open: expiry cannot be recorded
    client.force_login(lead)
    response = post_transition(client, dispute, "record_expired", headers=HTMX, comment="x")
    assert response.status_code == 422
    assert "our response window has not closed yet" in response.content.decode()
    assert Dispute.objects.get(pk=dispute.pk).state == WorkState.NEW


def test_a_dishonor_after_the_window_is_refused_even_without_a_code(client, lead):
    settled = business_today() - timedelta(days=14)
    dispute = open_dispute(network=Network.NACHA, code="R01", stage_started_on=settled)
    client.force_login(lead)
    response = post_transition(client, dispute, "nacha_dishonor", headers=HTMX)
    assert response.status_code == 422
    assert "dishonor window has closed" in response.content.decode()


def test_an_act_that_does_not_exist_is_not_found(client, lead):
    dispute = open_dispute()
    client.force_login(lead)
    for name in ("_work_closed", "delete", "claim/../assign"):
        url = f"/disputes/{dispute.pk}/transition/{name}/"
        assert client.post(url, {"version": dispute.version}).status_code == 404


def test_closing_without_a_comment_is_422_with_the_field_error(client, lead):
    dispute = open_dispute()
    client.force_login(lead)
    response = post_transition(client, dispute, "record_lost", headers=HTMX)
    assert response.status_code == 422
    html = response.content.decode()
    assert "This field is required." in html
    assert re.search(r'<details class="action" open data-transition="record_lost"', html)
    assert Dispute.objects.get(pk=dispute.pk).state == WorkState.NEW


def test_a_network_date_in_the_future_is_refused(client, agent):
    dispute = open_dispute()
    client.force_login(agent)
    tomorrow = business_today() + timedelta(days=1)
    response = post_transition(
        client, dispute, "visa_submit_dispute_response", on=tomorrow.isoformat()
    )
    assert response.status_code == 422
    assert "cannot be in the future" in response.content.decode()
    assert Dispute.objects.get(pk=dispute.pk).stage == Stage.DISPUTE


def test_a_get_of_a_transition_url_is_not_allowed(client, agent):
    dispute = open_dispute()
    client.force_login(agent)
    url = reverse("disputes:transition", args=[dispute.pk, "claim"])
    assert client.get(url).status_code == 405


# --- timeline and notes ---------------------------------------------------------------------


def test_the_timeline_lists_transitions_and_notes_newest_first(client, agent):
    dispute = open_dispute()
    act(dispute_id=dispute.pk, name="claim", actor=agent, assignee=agent, comment="first")
    services.add_note(dispute_id=dispute.pk, author=agent, body="second, a note")
    satisfy_checklist(dispute, agent)
    act(dispute_id=dispute.pk, name="mark_ready", actor=agent, comment="third")
    html = page(client, agent, dispute).content.decode()
    timeline = html[html.index('class="timeline"') :]
    positions = [timeline.index(text) for text in ("third", "second, a note", "first",
                                                    "Dispute opened")]  # fmt: skip
    assert positions == sorted(positions)
    assert "State: In review → Ready to submit" in timeline


def test_the_timeline_names_the_system_when_no_one_acted(client, agent):
    dispute = open_dispute(actor=None)
    html = page(client, agent, dispute).content.decode()
    assert re.search(r'class="tl-actor muted">System<', html)


def test_customer_success_adds_a_note_with_a_plain_post(client, cs_user):
    dispute = open_dispute()
    client.force_login(cs_user)
    url = reverse("disputes:add_note", args=[dispute.pk])
    response = client.post(url, {"body": "Client sent the tracking number"})
    assert response.status_code == 302
    note = CaseEvent.objects.get(dispute=dispute, kind="note_added")
    assert (note.actor, note.payload) == (cs_user, {"body": "Client sent the tracking number"})


def test_a_note_added_with_htmx_appears_in_the_returned_timeline(client, agent):
    dispute = open_dispute()
    client.force_login(agent)
    url = reverse("disputes:add_note", args=[dispute.pk])
    response = client.post(url, {"body": "Called the client"}, **HTMX)
    assert response.status_code == 200
    assert "Called the client" in response.content.decode()
    assert "Note added." in response.content.decode()


def test_an_empty_note_is_refused_with_422(client, agent):
    dispute = open_dispute()
    client.force_login(agent)
    response = client.post(reverse("disputes:add_note", args=[dispute.pk]), {"body": "  "})
    assert response.status_code == 422
    assert not CaseEvent.objects.filter(kind="note_added").exists()


def test_compliance_cannot_add_a_note(client, compliance):
    dispute = open_dispute()
    client.force_login(compliance)
    response = client.post(reverse("disputes:add_note", args=[dispute.pk]), {"body": "hi"})
    assert response.status_code == 403
    assert not CaseEvent.objects.filter(kind="note_added").exists()


# --- related disputes -----------------------------------------------------------------------


def test_related_disputes_are_those_on_the_same_transaction_or_card_of_the_client(client, agent):
    acme, other_client = ClientFactory(), ClientFactory()
    dispute = open_dispute(client=acme, account_fingerprint="fp-1")
    same_transaction = services.open_dispute(
        client=acme, transaction_record=dispute.transaction, network=Network.VISA,
        case_id="SAME-TXN", reason_code="10.4", amount=Decimal("20.00"), currency="USD",
        received_on=business_today(), stage_started_on=business_today(), actor=None,
    )  # fmt: skip
    same_card = open_dispute(client=acme, account_fingerprint="fp-1")
    other_card = open_dispute(client=acme, account_fingerprint="fp-2")
    other_clients_card = open_dispute(client=other_client, account_fingerprint="fp-1")
    html = page(client, agent, dispute).content.decode()
    related = html[html.index('id="related-heading"') :]
    assert same_transaction.case_id in related and "Same transaction" in related
    assert same_card.case_id in related and "Same card ··4242" in related
    assert other_card.case_id not in related
    assert other_clients_card.case_id not in related
    assert dispute.case_id not in related


def test_an_ach_dispute_relates_by_bank_account(client, agent):
    acme = ClientFactory()
    dispute = open_dispute(network=Network.NACHA, code="R10", client=acme,
                           account_fingerprint="acct", account_last4="6789")  # fmt: skip
    open_dispute(network=Network.NACHA, code="R01", client=acme, account_fingerprint="acct",
                 account_last4="6789")  # fmt: skip
    assert "Same account ··6789" in page(client, agent, dispute).content.decode()


# --- cost -----------------------------------------------------------------------------------


def test_the_page_costs_a_fixed_number_of_queries(
    client, lead, agent, django_assert_max_num_queries
):
    acme = ClientFactory()
    dispute = open_dispute(client=acme, account_fingerprint="fp")
    for _ in range(5):
        open_dispute(client=acme, account_fingerprint="fp")
    act(dispute_id=dispute.pk, name="claim", actor=agent, assignee=agent)
    for i in range(5):
        services.add_note(dispute_id=dispute.pk, author=agent, body=f"note {i}")
    client.force_login(lead)
    url = reverse("disputes:detail", args=[dispute.pk])
    # session, user, permissions ×2, dispute, audit rows, notes, related disputes, groups
    # (top bar), assignable users, confirmed rules, assignees' names; the evidence panel: items,
    # requests, checklist override, client contacts, colleagues, letter version; the bundle panel:
    # bundle, versions, items: the same with 5 or 500 notes, related disputes or evidence files
    with django_assert_max_num_queries(20):
        response = client.get(url)
    assert response.status_code == 200


def test_the_transaction_panel_shows_the_reference_and_card(client, agent):
    txn = TransactionFactory(network_reference="74000000000000000000001", account_last4="1881")
    dispute = services.open_dispute(
        client=txn.client, transaction_record=txn, network=Network.VISA, case_id="V-1",
        reason_code="13.1", amount=Decimal("9.99"), currency="USD",
        received_on=business_today(), stage_started_on=business_today(), actor=None,
    )  # fmt: skip
    html = page(client, agent, dispute).content.decode()
    assert "74000000000000000000001" in html
    assert "··1881" in html


def test_every_audit_row_is_on_the_timeline(client, lead):
    dispute = open_dispute()
    satisfy_checklist(dispute, lead)
    for name in ("claim", "mark_ready", "back_to_review"):
        params = {"assignee": lead} if name == "claim" else {}
        act(dispute_id=dispute.pk, name=name, actor=lead, **params)
    html = page(client, lead, dispute).content.decode()
    assert html.count('class="tl tl-') == CaseEvent.objects.filter(dispute=dispute).count()
