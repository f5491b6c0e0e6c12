"""Every legal transition of every flow, the illegal ones refused, and the audit row of each."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied

from disputes import services
from disputes.choices import Network, Outcome, Stage, WorkState
from disputes.history.verify import verify
from disputes.models import CaseEvent, Dispute, business_today
from tests.factories import act, open_dispute, satisfy_checklist

pytestmark = pytest.mark.django_db

TODAY = business_today


def step(dispute, name, actor, **params):
    if name == "mark_ready":
        satisfy_checklist(dispute, actor)
    if services.transition_custom(dispute, name).get("needs_date"):
        params.setdefault("on", TODAY())
    return act(dispute_id=dispute.pk, name=name, actor=actor, **params)


# (network, code, [(transition, stage after, state after)]) — each flow's path from entry to end
FLOWS = {
    "visa collaboration": (
        Network.VISA,
        "13.1",
        [
            ("claim", Stage.DISPUTE, WorkState.IN_REVIEW),
            ("request_evidence", Stage.DISPUTE, WorkState.AWAITING_EVIDENCE),
            ("receive_evidence", Stage.DISPUTE, WorkState.IN_REVIEW),
            ("mark_ready", Stage.DISPUTE, WorkState.READY_TO_SUBMIT),
            ("visa_submit_dispute_response", Stage.DISPUTE_RESPONSE, WorkState.SUBMITTED),
            ("visa_receive_pre_arbitration", Stage.PRE_ARBITRATION, WorkState.IN_REVIEW),
            (
                "visa_submit_pre_arbitration_response",
                Stage.PRE_ARBITRATION_RESPONSE,
                WorkState.SUBMITTED,
            ),
            ("visa_receive_arbitration", Stage.ARBITRATION, WorkState.IN_REVIEW),
            ("record_won", Stage.CLOSED, WorkState.CLOSED),
        ],
    ),
    "visa allocation": (
        Network.VISA,
        "10.4",
        [
            ("claim", Stage.DISPUTE, WorkState.IN_REVIEW),
            ("visa_file_pre_arbitration", Stage.PRE_ARBITRATION, WorkState.SUBMITTED),
            (
                "visa_receive_pre_arbitration_response",
                Stage.PRE_ARBITRATION_RESPONSE,
                WorkState.IN_REVIEW,
            ),
            ("visa_file_arbitration", Stage.ARBITRATION, WorkState.SUBMITTED),
            ("record_lost", Stage.CLOSED, WorkState.CLOSED),
        ],
    ),
    "mastercard with pre-arbitration": (
        Network.MASTERCARD,
        "4853",
        [
            ("claim", Stage.CHARGEBACK, WorkState.IN_REVIEW),
            ("mc_submit_second_presentment", Stage.SECOND_PRESENTMENT, WorkState.SUBMITTED),
            ("mc_receive_pre_arbitration", Stage.PRE_ARBITRATION, WorkState.IN_REVIEW),
            (
                "mc_submit_pre_arbitration_response",
                Stage.PRE_ARBITRATION_RESPONSE,
                WorkState.SUBMITTED,
            ),
            ("mc_receive_arbitration", Stage.ARBITRATION, WorkState.IN_REVIEW),
            ("record_won", Stage.CLOSED, WorkState.CLOSED),
        ],
    ),
    "mastercard straight to arbitration": (
        Network.MASTERCARD,
        "4808",
        [
            ("claim", Stage.CHARGEBACK, WorkState.IN_REVIEW),
            ("mc_submit_second_presentment", Stage.SECOND_PRESENTMENT, WorkState.SUBMITTED),
            ("mc_receive_arbitration", Stage.ARBITRATION, WorkState.IN_REVIEW),
            ("record_lost", Stage.CLOSED, WorkState.CLOSED),
        ],
    ),
    "nacha dishonor and contest": (
        Network.NACHA,
        "R10",
        [
            ("claim", Stage.RETURN, WorkState.IN_REVIEW),
            ("nacha_request_wsud", Stage.WSUD_REQUESTED, WorkState.SUBMITTED),
            ("nacha_receive_wsud", Stage.WSUD_RECEIVED, WorkState.IN_REVIEW),
            ("nacha_dishonor", Stage.DISHONOR, WorkState.SUBMITTED),
            ("nacha_receive_contest", Stage.CONTEST, WorkState.IN_REVIEW),
            ("record_lost", Stage.CLOSED, WorkState.CLOSED),
        ],
    ),
    "nacha reinitiation": (
        Network.NACHA,
        "R01",
        [
            ("claim", Stage.RETURN, WorkState.IN_REVIEW),
            ("nacha_reinitiate", Stage.REINITIATED, WorkState.SUBMITTED),
            ("nacha_receive_return", Stage.RETURN, WorkState.IN_REVIEW),
            ("nacha_reinitiate", Stage.REINITIATED, WorkState.SUBMITTED),
            ("record_won", Stage.CLOSED, WorkState.CLOSED),
        ],
    ),
}

PARAMS = {"nacha_dishonor": {"code": "R68"}, "nacha_receive_contest": {"code": "R73"}}


@pytest.mark.parametrize("flow", FLOWS, ids=list(FLOWS))
def test_every_transition_of_a_flow_moves_stage_and_state_and_writes_its_audit_row(flow, lead):
    network, code, path = FLOWS[flow]
    dispute = open_dispute(network=network, code=code)
    satisfy_checklist(dispute, lead)  # "mark ready" needs the required evidence on file
    first = CaseEvent.objects.filter(dispute=dispute).count() + 1
    for seq, (name, stage, state) in enumerate(path, start=first):
        params = dict(PARAMS.get(name, {}))
        if name == "claim":
            params["assignee"] = lead
        dispute = step(dispute, name, lead, comment=f"step {name}", **params)
        dispute.refresh_from_db()
        assert (dispute.stage, dispute.state) == (stage, state), name
        row = CaseEvent.objects.get(dispute=dispute, seq=seq)
        assert (row.act, row.stage, row.state, row.actor) == (name, stage, state, lead)
        assert row.comment == f"step {name}"
    assert dispute.closed_at is not None
    report = verify([dispute.pk])
    assert (report.events, report.breaks) == (len(path) + first - 1, [])


def test_proof_of_authorization_is_provided_then_the_return_arrives(lead):
    dispute = open_dispute(network=Network.NACHA, code="R10")
    dispute = Dispute.objects.get(pk=dispute.pk)
    # A dispute may open at "proof requested": the RDFI asked before returning.
    proof = services.open_dispute(
        client=dispute.client,
        transaction_record=dispute.transaction,
        network=Network.NACHA,
        case_id="POA-1",
        reason_code="R10",
        amount=Decimal("10.00"),
        currency="USD",
        received_on=TODAY(),
        stage_started_on=TODAY(),
        actor=None,
        stage=Stage.AUTHORIZATION_PROOF_REQUESTED,
    )
    proof = step(proof, "nacha_provide_authorization_proof", lead)
    assert proof.stage == Stage.AUTHORIZATION_PROOF_PROVIDED
    proof = step(proof, "nacha_receive_return", lead)
    assert proof.stage == Stage.RETURN
    assert proof.return_settled_on == TODAY()


@pytest.mark.parametrize(
    ("outcome", "name"),
    [
        (Outcome.ACCEPTED, "accept_liability"),
        (Outcome.WITHDRAWN, "record_withdrawn"),
        (Outcome.LOST, "record_lost"),
    ],
)
def test_an_entry_stage_dispute_can_end_accepted_withdrawn_or_lost(outcome, name, lead):
    dispute = open_dispute(network=Network.MASTERCARD, code="4837", amount=Decimal("80.00"))
    dispute = step(dispute, name, lead)
    assert (dispute.stage, dispute.state, dispute.outcome) == (
        Stage.CLOSED,
        WorkState.CLOSED,
        outcome,
    )
    expected = Decimal("80.00") if outcome == Outcome.WITHDRAWN else Decimal("0")
    assert dispute.recovered_amount == expected


def test_a_win_cannot_be_recorded_before_we_responded(lead):
    dispute = open_dispute(network=Network.VISA, code="13.1")
    with pytest.raises(services.TransitionRefused, match="not possible while the dispute is at"):
        step(dispute, "record_won", lead)


def test_expiry_is_refused_while_our_window_is_open(lead):
    dispute = open_dispute(network=Network.VISA, code="13.1")
    with pytest.raises(services.TransitionRefused, match="has not closed yet"):
        step(dispute, "record_expired", lead)


def test_expiry_is_recorded_once_our_window_has_passed(lead):
    dispute = open_dispute(
        network=Network.VISA, code="13.1", stage_started_on=TODAY() - timedelta(days=45)
    )
    assert dispute.network_due < TODAY()
    dispute = step(dispute, "record_expired", lead)
    assert dispute.outcome == Outcome.EXPIRED


def test_a_collaboration_transition_is_refused_on_an_allocation_code(lead):
    dispute = open_dispute(network=Network.VISA, code="10.4")
    with pytest.raises(services.TransitionRefused, match="does not apply"):
        step(dispute, "visa_submit_dispute_response", lead)


def test_another_networks_transition_is_refused(lead):
    dispute = open_dispute(network=Network.VISA, code="13.1")
    with pytest.raises(services.TransitionRefused):
        step(dispute, "mc_submit_second_presentment", lead)


def test_mastercard_arbitration_without_pre_arbitration_is_refused_where_it_is_required(lead):
    dispute = open_dispute(network=Network.MASTERCARD, code="4837")
    dispute = step(dispute, "mc_submit_second_presentment", lead)
    with pytest.raises(services.TransitionRefused, match="pre-arbitration is required for 4837"):
        step(dispute, "mc_receive_arbitration", lead)


def test_no_dishonor_after_the_dishonor_window(lead):
    settled = TODAY() - timedelta(days=14)
    dispute = open_dispute(network=Network.NACHA, code="R01", stage_started_on=settled)
    with pytest.raises(services.TransitionRefused, match="dishonor window has closed"):
        step(dispute, "nacha_dishonor", lead, code="R68")


def test_a_dishonor_needs_a_dishonor_code(lead):
    dispute = open_dispute(network=Network.NACHA, code="R01")
    with pytest.raises(services.TransitionRefused, match="R73 is not a dishonor code"):
        step(dispute, "nacha_dishonor", lead, code="R73")
    dispute.refresh_from_db()
    assert dispute.stage == Stage.RETURN
    assert dispute.events.count() == 1


def test_only_r01_and_r09_may_be_reinitiated(lead):
    dispute = open_dispute(network=Network.NACHA, code="R02")
    with pytest.raises(services.TransitionRefused, match="may be reinitiated only after the cause"):
        step(dispute, "nacha_reinitiate", lead)


def test_a_third_reinitiation_is_refused(lead):
    dispute = open_dispute(network=Network.NACHA, code="R09")
    for _ in range(2):
        dispute = step(dispute, "nacha_reinitiate", lead)
        dispute = step(dispute, "nacha_receive_return", lead)
    assert dispute.reinitiation_count == 2
    with pytest.raises(services.TransitionRefused, match="at most 2 times"):
        step(dispute, "nacha_reinitiate", lead)


def test_reinitiation_is_refused_after_180_days(lead):
    dispute = open_dispute(
        network=Network.NACHA, code="R01", settlement_date=TODAY() - timedelta(days=181)
    )
    with pytest.raises(services.TransitionRefused, match="past the 180-day limit"):
        step(dispute, "nacha_reinitiate", lead)


def test_a_closed_dispute_takes_no_further_transition(lead):
    dispute = open_dispute(network=Network.VISA, code="13.1")
    dispute = step(dispute, "accept_liability", lead)
    for name in ("claim", "visa_submit_dispute_response", "record_lost"):
        with pytest.raises(services.TransitionRefused):
            step(dispute, name, lead, **({"assignee": lead} if name == "claim" else {}))


def test_internal_transitions_cannot_be_called_through_the_service(lead):
    dispute = open_dispute()
    with pytest.raises(services.TransitionRefused, match="not a dispute transition"):
        act(dispute_id=dispute.pk, name="_work_closed", actor=lead)


def test_a_stage_change_recomputes_the_deadline(lead):
    dispute = open_dispute(network=Network.VISA, code="13.1", stage_started_on=TODAY())
    assert dispute.deadline_rule == "visa:13.1:dispute_response"
    assert dispute.network_due == TODAY() + timedelta(days=30)
    dispute = step(dispute, "visa_submit_dispute_response", lead)
    assert dispute.deadline_rule == "visa:13.1:pre_arbitration"
    assert dispute.due_party == "counterparty"
    # Their window carries no internal buffer, and the sentence says so.
    assert dispute.internal_due == dispute.network_due
    assert "no internal buffer" in dispute.deadline_explanation
    dispute = step(dispute, "visa_receive_pre_arbitration", lead)
    assert dispute.deadline_rule == "visa:13.1:pre_arbitration_response"
    assert dispute.due_party == "astra"
    assert dispute.internal_due < dispute.network_due


# --- permissions ------------------------------------------------------------------------------


def test_customer_success_cannot_take_ops_transitions(cs_user):
    dispute = open_dispute()
    with pytest.raises(PermissionDenied):
        step(dispute, "visa_submit_dispute_response", cs_user)
    assert Dispute.objects.get(pk=dispute.pk).stage == Stage.DISPUTE


def test_customer_success_can_request_evidence(cs_user):
    dispute = open_dispute()
    dispute = step(dispute, "request_evidence", cs_user)
    assert dispute.state == WorkState.AWAITING_EVIDENCE


def test_compliance_is_read_only(compliance):
    dispute = open_dispute()
    for name, params in (
        ("claim", {"assignee": compliance}),
        ("request_evidence", {}),
        ("accept_liability", {}),
    ):
        with pytest.raises(PermissionDenied):
            step(dispute, name, compliance, **params)
    assert services.available_transitions(dispute=dispute, user=compliance) == []


def test_an_agent_cannot_assign_others_or_accept_liability(agent, agent2):
    dispute = open_dispute()
    with pytest.raises(PermissionDenied):
        step(dispute, "assign", agent, assignee=agent2)
    with pytest.raises(PermissionDenied):
        step(dispute, "accept_liability", agent)


def test_a_lead_assigns_to_an_agent(lead, agent):
    dispute = open_dispute()
    dispute = step(dispute, "assign", lead, assignee=agent)
    assert (dispute.assignee, dispute.state) == (agent, WorkState.IN_REVIEW)
    row = dispute.events.last()
    assert (row.kind, row.assignee_id) == ("assigned", agent.pk)


def test_available_transitions_follow_the_role(agent, lead):
    dispute = open_dispute(network=Network.VISA, code="13.1")
    agent_names = {t["name"] for t in services.available_transitions(dispute=dispute, user=agent)}
    lead_names = {t["name"] for t in services.available_transitions(dispute=dispute, user=lead)}
    assert "visa_submit_dispute_response" in agent_names
    assert "accept_liability" not in agent_names
    assert {"accept_liability", "assign"} <= lead_names
    assert "mc_submit_second_presentment" not in lead_names
    assert not any(name.startswith("_") for name in lead_names)


def test_the_system_acts_without_a_user():
    dispute = open_dispute()
    dispute = act(dispute_id=dispute.pk, name="record_withdrawn", actor=None, on=TODAY())
    assert dispute.events.last().actor is None


def test_protected_fields_cannot_be_assigned_directly():
    dispute = open_dispute()
    with pytest.raises(AttributeError):
        dispute.stage = Stage.CLOSED


def test_bulk_assignment_reports_each_refusal(lead, agent):
    open_one = open_dispute()
    closed = open_dispute()
    step(closed, "accept_liability", lead)
    done, refused = services.assign_disputes(
        dispute_ids=[open_one.pk, closed.pk, 999999],
        assignee=agent,
        actor=lead,
        expected_versions={open_one.pk: 1, closed.pk: 2},
    )
    assert done == [open_one.pk]
    assert set(refused) == {closed.pk, 999999}


def test_a_wsud_copy_is_only_requested_for_codes_that_have_one(lead):
    dispute = open_dispute(network=Network.NACHA, code="R01")
    with pytest.raises(services.TransitionRefused, match="R01 returns carry no WSUD"):
        step(dispute, "nacha_request_wsud", lead)


def test_a_late_return_says_it_can_be_dishonored_with_r68():
    settled = TODAY() - timedelta(days=10)
    dispute = open_dispute(
        network=Network.NACHA, code="R01", stage_started_on=TODAY(), settlement_date=settled
    )
    verdict = dispute.return_timeliness()
    assert verdict.untimely
    assert verdict.dishonor_code == "R68"
    assert verdict.dishonor_due > TODAY()


def test_a_return_in_time_is_timely_and_card_disputes_have_no_verdict():
    settled = TODAY() - timedelta(days=1)
    dispute = open_dispute(
        network=Network.NACHA, code="R10", stage_started_on=TODAY(), settlement_date=settled
    )
    assert dispute.return_timeliness().timely
    assert open_dispute(network=Network.VISA, code="13.1").return_timeliness() is None


@pytest.mark.parametrize(
    ("internal", "network", "party", "label", "level"),
    [
        (0, 30, "astra", "Due today", "today"),
        (-1, 0, "astra", "Past internal · network due today", "overdue"),
        (-2, 1, "astra", "Past internal · network due tomorrow", "overdue"),
        (-3, -1, "astra", "Past network deadline", "overdue"),
        (5, 5, "counterparty", "Waiting on issuer until", "waiting"),
        (-1, -1, "counterparty", "Issuer window closed", "near"),
    ],
)
def test_urgency_says_in_words_what_is_due(internal, network, party, label, level):
    today = TODAY()
    dispute = Dispute(
        network=Network.VISA,
        internal_due=today + timedelta(days=internal),
        network_due=today + timedelta(days=network),
        due_party=party,
    )
    urgency = dispute.urgency(today)
    assert urgency.label.startswith(label)
    assert urgency.level == level
