"""The dispute state machines (django-fsm-2).

A dispute has two state fields:

* ``stage``: where the network cycle is. One machine per network (and, for Visa, per flow),
  declared below as transition mixins on the one ``Dispute`` model; each transition's conditions
  name the network and flow it belongs to, so a Visa dispute never offers a NACHA transition.
* ``state``: where the ops team is with the case (new, in review, awaiting evidence, ready to
  submit, submitted, closed). Filing our side of a network stage marks the work submitted; the
  counterparty escalating reopens it; every ending closes it.

Transition methods only change fields on the instance; they never touch the database or send
anything. ``disputes.services`` is the only caller: it checks permissions, saves inside a
transaction and writes the audit row.

Each stage transition carries ``custom`` metadata used by the service and the pages:
``label`` (the button), ``party`` (whose act it records: ``astra`` or ``counterparty``),
``needs_date`` (the network processing date of the event is asked for), ``codes`` (a NACHA
dishonor or contest code is asked for), ``outcome`` (for endings).

The diagrams, flow by flow, are in the README ("State machines").
"""

from dataclasses import dataclass
from datetime import date

from django_fsm import RETURN_VALUE, transition

from calendar_rules import nacha, rules

from .choices import OPEN_WORK_STATES, Network, Outcome, Party, Stage, WorkState

P_CLAIM = "disputes.claim_dispute"
P_ASSIGN = "disputes.assign_dispute"
P_WORK = "disputes.work_dispute"
P_EVIDENCE = "disputes.request_evidence"
P_ACCEPT = "disputes.accept_liability"

OPEN_STAGES = [s for s in Stage.values if s != Stage.CLOSED]
# Stages at which a dispute first reaches us: nothing of ours is pending a decision yet.
ENTRY_STAGES = [
    Stage.DISPUTE,
    Stage.CHARGEBACK,
    Stage.RETURN,
    Stage.AUTHORIZATION_PROOF_REQUESTED,
]
DECIDABLE_STAGES = [s for s in OPEN_STAGES if s not in ENTRY_STAGES]

NACHA_DISHONOR_CODES = ("R61", "R67", "R68", "R69", "R70")
NACHA_CONTEST_CODES = ("R71", "R72", "R73", "R74", "R75", "R76", "R77")


# --- conditions: plain functions of the instance, so the graph can be drawn ---------------------


def is_visa_collaboration(dispute) -> bool:
    return dispute.network == Network.VISA and dispute.flow == "collaboration"


def is_visa_allocation(dispute) -> bool:
    return dispute.network == Network.VISA and dispute.flow == "allocation"


def is_mastercard(dispute) -> bool:
    return dispute.network == Network.MASTERCARD


def is_mastercard_prearbitration_optional(dispute) -> bool:
    return is_mastercard(dispute) and dispute.reason.prearbitration_optional


def is_nacha(dispute) -> bool:
    return dispute.network == Network.NACHA


def within_dishonor_window(dispute) -> bool:
    """No dishonor after the dishonor window (Nacha: 5 banking days after the return settled;
    the figure comes from the rule table)."""
    if dispute.return_settled_on is None:
        return False
    return dispute.business_today() <= nacha.dishonor_deadline(dispute.return_settled_on)


def requires_wsud(dispute) -> bool:
    """A WSUD copy exists only for the codes that need one (R05, R07, R10, R11, R37, R51, R53)."""
    return is_nacha(dispute) and dispute.reason.wsud_required


def reinitiation(dispute) -> nacha.Reinitiation:
    """Whether the entry may be reinitiated today, and why (R01/R09, twice, 180 days)."""
    return nacha.reinitiation_allowed(
        dispute.reason_code,
        dispute.transaction.settlement_date,
        dispute.business_today(),
        dispute.reinitiation_count,
    )


def may_reinitiate(dispute) -> bool:
    return is_nacha(dispute) and reinitiation(dispute).allowed


def our_deadline_passed(dispute) -> bool:
    """Expiry is only recorded once the window we owed a response in has closed."""
    return (
        dispute.due_party == Party.ASTRA
        and dispute.network_due is not None
        and dispute.network_due < dispute.business_today()
    )


def _reopened_state(dispute, *args, **kwargs) -> str:
    return WorkState.IN_REVIEW if dispute.assignee_id else WorkState.NEW


# --- the machines -------------------------------------------------------------------------------


_ASSIGNABLE = [
    WorkState.IN_REVIEW,
    WorkState.AWAITING_EVIDENCE,
    WorkState.READY_TO_SUBMIT,
    WorkState.SUBMITTED,
]


def _work(source, target, permission=None, label=None, **custom):
    """A transition of ``state``; without a label it is internal (never a button)."""
    meta = {"label": label, "party": None, **custom} if label else {"internal": True}
    return transition(
        field="state", source=source, target=target, permission=permission, custom=meta
    )


class WorkStateMachine:
    """Transitions of ``state``: the ops team's own progress on a case."""

    # Taking a new case puts it in review; re-assigning leaves the work state as it is.
    @_work(WorkState.NEW, WorkState.IN_REVIEW, P_CLAIM, "Claim")
    @_work(_ASSIGNABLE, None, P_CLAIM, "Claim")
    def claim(self, *, assignee):
        self.assignee = assignee

    @_work(WorkState.NEW, WorkState.IN_REVIEW, P_ASSIGN, "Assign", needs_assignee=True)
    @_work(_ASSIGNABLE, None, P_ASSIGN, "Assign", needs_assignee=True)
    def assign(self, *, assignee):
        self.assignee = assignee

    @_work(
        [WorkState.NEW, WorkState.IN_REVIEW, WorkState.READY_TO_SUBMIT],
        WorkState.AWAITING_EVIDENCE,
        P_EVIDENCE,
        "Request evidence",
    )
    def request_evidence(self):
        pass

    @_work(WorkState.AWAITING_EVIDENCE, WorkState.IN_REVIEW, P_EVIDENCE, "Evidence received")
    def receive_evidence(self):
        pass

    @_work(
        [WorkState.IN_REVIEW, WorkState.AWAITING_EVIDENCE],
        WorkState.READY_TO_SUBMIT,
        P_WORK,
        "Mark ready to submit",
    )
    def mark_ready(self):
        pass

    @_work(WorkState.READY_TO_SUBMIT, WorkState.IN_REVIEW, P_WORK, "Back to review")
    def back_to_review(self):
        pass

    # Internal: moved only by the stage transitions below, never offered as a button.
    @_work([*OPEN_WORK_STATES], WorkState.SUBMITTED)
    def _work_submitted(self):
        pass

    @_work([*OPEN_WORK_STATES], RETURN_VALUE(WorkState.NEW, WorkState.IN_REVIEW))
    def _work_reopened(self):
        return _reopened_state(self)

    @_work([*OPEN_WORK_STATES], WorkState.CLOSED)
    def _work_closed(self):
        pass


class StageMixin:
    """Helpers the network machines share: what a stage change does to the rest of the case."""

    def _astra_filed(self, on: date):
        self._work_submitted()
        self.stage_started_on = on

    def _counterparty_filed(self, on: date):
        self._work_reopened()
        self.stage_started_on = on

    def _close(self, outcome: str, on: date, recovered_amount=None):
        self._work_closed()
        self.outcome = outcome
        self.stage_started_on = on
        if recovered_amount is None:
            recovered_amount = self.amount if outcome in (Outcome.WON, Outcome.WITHDRAWN) else 0
        self.recovered_amount = recovered_amount


def _network(source, target, conditions, permission, label, party, **extra):
    """A transition of ``stage``: a network event, dated by its network processing date."""
    return transition(
        field="stage",
        source=source,
        target=target,
        conditions=conditions,
        permission=permission,
        custom={"label": label, "party": party, "needs_date": True, **extra},
    )


class VisaMachine:
    """Visa Claims Resolution, from the acquirer's side.

    Collaboration (categories 12, 13): dispute → dispute response → issuer pre-arbitration →
    pre-arbitration response → arbitration.
    Allocation (categories 10, 11): dispute → acquirer pre-arbitration → issuer response →
    arbitration.
    """

    @_network(
        Stage.DISPUTE,
        Stage.DISPUTE_RESPONSE,
        [is_visa_collaboration],
        P_WORK,
        "Submit dispute response",
        Party.ASTRA,
    )
    def visa_submit_dispute_response(self, *, on: date):
        self._astra_filed(on)

    @_network(
        Stage.DISPUTE_RESPONSE,
        Stage.PRE_ARBITRATION,
        [is_visa_collaboration],
        P_WORK,
        "Record issuer pre-arbitration",
        Party.COUNTERPARTY,
    )
    def visa_receive_pre_arbitration(self, *, on: date):
        self._counterparty_filed(on)

    @_network(
        Stage.PRE_ARBITRATION,
        Stage.PRE_ARBITRATION_RESPONSE,
        [is_visa_collaboration],
        P_WORK,
        "Submit pre-arbitration response",
        Party.ASTRA,
    )
    def visa_submit_pre_arbitration_response(self, *, on: date):
        self._astra_filed(on)

    @_network(
        Stage.PRE_ARBITRATION_RESPONSE,
        Stage.ARBITRATION,
        [is_visa_collaboration],
        P_WORK,
        "Record issuer arbitration filing",
        Party.COUNTERPARTY,
    )
    def visa_receive_arbitration(self, *, on: date):
        self._counterparty_filed(on)

    @_network(
        Stage.DISPUTE,
        Stage.PRE_ARBITRATION,
        [is_visa_allocation],
        P_WORK,
        "File pre-arbitration",
        Party.ASTRA,
    )
    def visa_file_pre_arbitration(self, *, on: date):
        self._astra_filed(on)

    @_network(
        Stage.PRE_ARBITRATION,
        Stage.PRE_ARBITRATION_RESPONSE,
        [is_visa_allocation],
        P_WORK,
        "Record issuer pre-arbitration response",
        Party.COUNTERPARTY,
    )
    def visa_receive_pre_arbitration_response(self, *, on: date):
        self._counterparty_filed(on)

    @_network(
        Stage.PRE_ARBITRATION_RESPONSE,
        Stage.ARBITRATION,
        [is_visa_allocation],
        P_WORK,
        "File arbitration",
        Party.ASTRA,
    )
    def visa_file_arbitration(self, *, on: date):
        self._astra_filed(on)


class MastercardMachine:
    """Mastercard dispute resolution (post-July 2020), from the acquirer's side.

    first chargeback → second presentment → pre-arbitration → pre-arbitration response →
    arbitration case → ruling. Pre-arbitration is optional for the codes the rule table flags
    (4808, 4870, 4871): there the issuer may go straight to arbitration.
    """

    @_network(
        Stage.CHARGEBACK,
        Stage.SECOND_PRESENTMENT,
        [is_mastercard],
        P_WORK,
        "Submit second presentment",
        Party.ASTRA,
    )
    def mc_submit_second_presentment(self, *, on: date):
        self._astra_filed(on)

    @_network(
        Stage.SECOND_PRESENTMENT,
        Stage.PRE_ARBITRATION,
        [is_mastercard],
        P_WORK,
        "Record issuer pre-arbitration",
        Party.COUNTERPARTY,
    )
    def mc_receive_pre_arbitration(self, *, on: date):
        self._counterparty_filed(on)

    @_network(
        Stage.PRE_ARBITRATION,
        Stage.PRE_ARBITRATION_RESPONSE,
        [is_mastercard],
        P_WORK,
        "Reject pre-arbitration",
        Party.ASTRA,
    )
    def mc_submit_pre_arbitration_response(self, *, on: date):
        self._astra_filed(on)

    @_network(
        Stage.PRE_ARBITRATION_RESPONSE,
        Stage.ARBITRATION,
        [is_mastercard],
        P_WORK,
        "Record arbitration case",
        Party.COUNTERPARTY,
    )
    @_network(
        Stage.SECOND_PRESENTMENT,
        Stage.ARBITRATION,
        [is_mastercard_prearbitration_optional],
        P_WORK,
        "Record arbitration case",
        Party.COUNTERPARTY,
    )
    def mc_receive_arbitration(self, *, on: date):
        self._counterparty_filed(on)


class NachaMachine:
    """NACHA returns, from the ODFI's side.

    return received (R-code) → review → accept the loss, or dishonor (R61, R67–R70) →
    contested dishonored return (R71–R77) → closed. Proof of authorization requested →
    provided; WSUD copy requested → received. R01/R09 may be reinitiated (twice, 180 days).
    """

    @_network(
        Stage.AUTHORIZATION_PROOF_REQUESTED,
        Stage.AUTHORIZATION_PROOF_PROVIDED,
        [is_nacha],
        P_WORK,
        "Provide proof of authorization",
        Party.ASTRA,
    )
    def nacha_provide_authorization_proof(self, *, on: date):
        self._astra_filed(on)

    @_network(
        [
            Stage.AUTHORIZATION_PROOF_PROVIDED,
            Stage.AUTHORIZATION_PROOF_REQUESTED,
            Stage.REINITIATED,
        ],
        Stage.RETURN,
        [is_nacha],
        P_WORK,
        "Record return",
        Party.COUNTERPARTY,
    )
    def nacha_receive_return(self, *, on: date):
        self._counterparty_filed(on)
        self.return_settled_on = on

    @_network(
        Stage.RETURN,
        Stage.WSUD_REQUESTED,
        [is_nacha, requires_wsud],
        P_WORK,
        "Request WSUD copy",
        Party.ASTRA,
    )
    def nacha_request_wsud(self, *, on: date):
        self._astra_filed(on)

    @_network(
        Stage.WSUD_REQUESTED,
        Stage.WSUD_RECEIVED,
        [is_nacha],
        P_WORK,
        "Record WSUD copy received",
        Party.COUNTERPARTY,
    )
    def nacha_receive_wsud(self, *, on: date):
        self._counterparty_filed(on)

    @_network(
        [Stage.RETURN, Stage.WSUD_RECEIVED],
        Stage.DISHONOR,
        [is_nacha, within_dishonor_window],
        P_WORK,
        "Dishonor return",
        Party.ASTRA,
        codes=NACHA_DISHONOR_CODES,
    )
    def nacha_dishonor(self, *, on: date, code: str):
        if code not in NACHA_DISHONOR_CODES:
            raise ValueError(f"{code} is not a dishonor code ({', '.join(NACHA_DISHONOR_CODES)})")
        self._astra_filed(on)
        self.dishonor_code = code

    @_network(
        Stage.DISHONOR,
        Stage.CONTEST,
        [is_nacha],
        P_WORK,
        "Record contested dishonor",
        Party.COUNTERPARTY,
        codes=NACHA_CONTEST_CODES,
    )
    def nacha_receive_contest(self, *, on: date, code: str):
        if code not in NACHA_CONTEST_CODES:
            raise ValueError(f"{code} is not a contest code ({', '.join(NACHA_CONTEST_CODES)})")
        self._counterparty_filed(on)
        self.contest_code = code

    @_network(
        Stage.RETURN,
        Stage.REINITIATED,
        [is_nacha, may_reinitiate],
        P_WORK,
        "Reinitiate entry",
        Party.ASTRA,
    )
    def nacha_reinitiate(self, *, on: date):
        self._astra_filed(on)
        self.reinitiation_count += 1


class EndingMachine:
    """Every flow can end won, lost, accepted, expired or withdrawn."""

    @_network(
        DECIDABLE_STAGES,
        Stage.CLOSED,
        [],
        P_WORK,
        "Record win",
        None,
        outcome=Outcome.WON,
    )
    def record_won(self, *, on: date, recovered_amount=None):
        self._close(Outcome.WON, on, recovered_amount)

    @_network(
        OPEN_STAGES,
        Stage.CLOSED,
        [],
        P_WORK,
        "Record loss",
        None,
        outcome=Outcome.LOST,
    )
    def record_lost(self, *, on: date):
        self._close(Outcome.LOST, on)

    @_network(
        OPEN_STAGES,
        Stage.CLOSED,
        [],
        P_ACCEPT,
        "Accept liability",
        None,
        outcome=Outcome.ACCEPTED,
    )
    def accept_liability(self, *, on: date):
        self._close(Outcome.ACCEPTED, on)

    @_network(
        OPEN_STAGES,
        Stage.CLOSED,
        [our_deadline_passed],
        P_ACCEPT,
        "Record expiry",
        None,
        outcome=Outcome.EXPIRED,
    )
    def record_expired(self, *, on: date):
        self._close(Outcome.EXPIRED, on)

    @_network(
        OPEN_STAGES,
        Stage.CLOSED,
        [],
        P_WORK,
        "Record withdrawal",
        None,
        outcome=Outcome.WITHDRAWN,
    )
    def record_withdrawn(self, *, on: date):
        self._close(Outcome.WITHDRAWN, on)


class DisputeStateMachines(
    StageMixin, WorkStateMachine, VisaMachine, MastercardMachine, NachaMachine, EndingMachine
):
    """Everything the ``Dispute`` model inherits from this module."""


# --- which clock runs at each stage -------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Clock:
    """The rule-table stage whose window runs while a dispute sits at a network stage.

    ``anchor`` names the dispute attribute holding the date the window counts from.
    ``party`` says whose move it is: Astra's windows are deadlines; the counterparty's are the
    dates after which their silence is our win.
    """

    rule_stage: str
    anchor: str
    party: str


_COLLABORATION = {
    Stage.DISPUTE: Clock("dispute_response", "stage_started_on", Party.ASTRA),
    Stage.DISPUTE_RESPONSE: Clock("pre_arbitration", "stage_started_on", Party.COUNTERPARTY),
    Stage.PRE_ARBITRATION: Clock("pre_arbitration_response", "stage_started_on", Party.ASTRA),
    Stage.PRE_ARBITRATION_RESPONSE: Clock("arbitration", "stage_started_on", Party.COUNTERPARTY),
}
_ALLOCATION = {
    Stage.DISPUTE: Clock("pre_arbitration", "stage_started_on", Party.ASTRA),
    Stage.PRE_ARBITRATION: Clock(
        "pre_arbitration_response", "stage_started_on", Party.COUNTERPARTY
    ),
    Stage.PRE_ARBITRATION_RESPONSE: Clock("arbitration", "stage_started_on", Party.ASTRA),
}
_MASTERCARD = {
    Stage.CHARGEBACK: Clock("second_presentment", "stage_started_on", Party.ASTRA),
    Stage.SECOND_PRESENTMENT: Clock("pre_arbitration", "stage_started_on", Party.COUNTERPARTY),
    Stage.PRE_ARBITRATION: Clock("pre_arbitration_response", "stage_started_on", Party.ASTRA),
    Stage.PRE_ARBITRATION_RESPONSE: Clock("arbitration", "stage_started_on", Party.COUNTERPARTY),
}
_NACHA = {
    Stage.AUTHORIZATION_PROOF_REQUESTED: Clock(
        "authorization_proof", "stage_started_on", Party.ASTRA
    ),
    # The dishonor window runs from the return's settlement, whatever happens meanwhile.
    Stage.RETURN: Clock("dishonor", "return_settled_on", Party.ASTRA),
    Stage.WSUD_REQUESTED: Clock("wsud_copy", "stage_started_on", Party.COUNTERPARTY),
    Stage.WSUD_RECEIVED: Clock("dishonor", "return_settled_on", Party.ASTRA),
    Stage.DISHONOR: Clock("contest", "stage_started_on", Party.COUNTERPARTY),
}
STAGE_CLOCKS = {
    (Network.VISA, "collaboration"): _COLLABORATION,
    (Network.VISA, "allocation"): _ALLOCATION,
    (Network.MASTERCARD, "chargeback"): _MASTERCARD,
    (Network.NACHA, "return"): _NACHA,
}


def clock_for(network: str, flow: str, stage: str) -> Clock | None:
    """The window running at this stage, or None where no network clock runs (e.g. a ruling)."""
    return STAGE_CLOCKS.get((network, flow), {}).get(stage)


def entry_stage(network: str) -> str:
    return {
        Network.VISA: Stage.DISPUTE,
        Network.MASTERCARD: Stage.CHARGEBACK,
        Network.NACHA: Stage.RETURN,
    }[network]


def reason_flow(network: str, code: str) -> str:
    """The flow a reason code follows (Visa allocation/collaboration; one flow elsewhere)."""
    return rules.reason_code(network, code).flow
