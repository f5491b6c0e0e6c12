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


class WorkStateMachine:
    """Transitions of ``state``: the ops team's own progress on a case."""

    @transition(
        field="state",
        source=WorkState.NEW,
        target=WorkState.IN_REVIEW,
        permission=P_CLAIM,
        custom={"label": "Claim", "party": None},
    )
    @transition(
        field="state",
        source=[
            WorkState.IN_REVIEW,
            WorkState.AWAITING_EVIDENCE,
            WorkState.READY_TO_SUBMIT,
            WorkState.SUBMITTED,
        ],
        target=None,
        permission=P_CLAIM,
        custom={"label": "Claim", "party": None},
    )
    def claim(self, *, assignee):
        self.assignee = assignee

    @transition(
        field="state",
        source=WorkState.NEW,
        target=WorkState.IN_REVIEW,
        permission=P_ASSIGN,
        custom={"label": "Assign", "party": None, "needs_assignee": True},
    )
    @transition(
        field="state",
        source=[
            WorkState.IN_REVIEW,
            WorkState.AWAITING_EVIDENCE,
            WorkState.READY_TO_SUBMIT,
            WorkState.SUBMITTED,
        ],
        target=None,
        permission=P_ASSIGN,
        custom={"label": "Assign", "party": None, "needs_assignee": True},
    )
    def assign(self, *, assignee):
        self.assignee = assignee

    @transition(
        field="state",
        source=[WorkState.NEW, WorkState.IN_REVIEW, WorkState.READY_TO_SUBMIT],
        target=WorkState.AWAITING_EVIDENCE,
        permission=P_EVIDENCE,
        custom={"label": "Request evidence", "party": None},
    )
    def request_evidence(self):
        pass

    @transition(
        field="state",
        source=WorkState.AWAITING_EVIDENCE,
        target=WorkState.IN_REVIEW,
        permission=P_EVIDENCE,
        custom={"label": "Evidence received", "party": None},
    )
    def receive_evidence(self):
        pass

    @transition(
        field="state",
        source=[WorkState.IN_REVIEW, WorkState.AWAITING_EVIDENCE],
        target=WorkState.READY_TO_SUBMIT,
        permission=P_WORK,
        custom={"label": "Mark ready to submit", "party": None},
    )
    def mark_ready(self):
        pass

    @transition(
        field="state",
        source=WorkState.READY_TO_SUBMIT,
        target=WorkState.IN_REVIEW,
        permission=P_WORK,
        custom={"label": "Back to review", "party": None},
    )
    def back_to_review(self):
        pass

    # Internal: moved only by the stage transitions below, never offered as a button.
    @transition(
        field="state",
        source=[*OPEN_WORK_STATES],
        target=WorkState.SUBMITTED,
        custom={"internal": True},
    )
    def _work_submitted(self):
        pass

    @transition(
        field="state",
        source=[*OPEN_WORK_STATES],
        target=RETURN_VALUE(WorkState.NEW, WorkState.IN_REVIEW),
        custom={"internal": True},
    )
    def _work_reopened(self):
        return _reopened_state(self)

    @transition(
        field="state",
        source=[*OPEN_WORK_STATES],
        target=WorkState.CLOSED,
        custom={"internal": True},
    )
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


def _stage(label, party, **extra):
    return {"label": label, "party": party, "needs_date": True, **extra}


class VisaMachine:
    """Visa Claims Resolution, from the acquirer's side.

    Collaboration (categories 12, 13): dispute → dispute response → issuer pre-arbitration →
    pre-arbitration response → arbitration.
    Allocation (categories 10, 11): dispute → acquirer pre-arbitration → issuer response →
    arbitration.
    """

    @transition(
        field="stage",
        source=Stage.DISPUTE,
        target=Stage.DISPUTE_RESPONSE,
        conditions=[is_visa_collaboration],
        permission=P_WORK,
        custom=_stage("Submit dispute response", Party.ASTRA),
    )
    def visa_submit_dispute_response(self, *, on: date):
        self._astra_filed(on)

    @transition(
        field="stage",
        source=Stage.DISPUTE_RESPONSE,
        target=Stage.PRE_ARBITRATION,
        conditions=[is_visa_collaboration],
        permission=P_WORK,
        custom=_stage("Record issuer pre-arbitration", Party.COUNTERPARTY),
    )
    def visa_receive_pre_arbitration(self, *, on: date):
        self._counterparty_filed(on)

    @transition(
        field="stage",
        source=Stage.PRE_ARBITRATION,
        target=Stage.PRE_ARBITRATION_RESPONSE,
        conditions=[is_visa_collaboration],
        permission=P_WORK,
        custom=_stage("Submit pre-arbitration response", Party.ASTRA),
    )
    def visa_submit_pre_arbitration_response(self, *, on: date):
        self._astra_filed(on)

    @transition(
        field="stage",
        source=Stage.PRE_ARBITRATION_RESPONSE,
        target=Stage.ARBITRATION,
        conditions=[is_visa_collaboration],
        permission=P_WORK,
        custom=_stage("Record issuer arbitration filing", Party.COUNTERPARTY),
    )
    def visa_receive_arbitration(self, *, on: date):
        self._counterparty_filed(on)

    @transition(
        field="stage",
        source=Stage.DISPUTE,
        target=Stage.PRE_ARBITRATION,
        conditions=[is_visa_allocation],
        permission=P_WORK,
        custom=_stage("File pre-arbitration", Party.ASTRA),
    )
    def visa_file_pre_arbitration(self, *, on: date):
        self._astra_filed(on)

    @transition(
        field="stage",
        source=Stage.PRE_ARBITRATION,
        target=Stage.PRE_ARBITRATION_RESPONSE,
        conditions=[is_visa_allocation],
        permission=P_WORK,
        custom=_stage("Record issuer pre-arbitration response", Party.COUNTERPARTY),
    )
    def visa_receive_pre_arbitration_response(self, *, on: date):
        self._counterparty_filed(on)

    @transition(
        field="stage",
        source=Stage.PRE_ARBITRATION_RESPONSE,
        target=Stage.ARBITRATION,
        conditions=[is_visa_allocation],
        permission=P_WORK,
        custom=_stage("File arbitration", Party.ASTRA),
    )
    def visa_file_arbitration(self, *, on: date):
        self._astra_filed(on)


class MastercardMachine:
    """Mastercard dispute resolution (post-July 2020), from the acquirer's side.

    first chargeback → second presentment → pre-arbitration → pre-arbitration response →
    arbitration case → ruling. Pre-arbitration is optional for the codes the rule table flags
    (4808, 4870, 4871): there the issuer may go straight to arbitration.
    """

    @transition(
        field="stage",
        source=Stage.CHARGEBACK,
        target=Stage.SECOND_PRESENTMENT,
        conditions=[is_mastercard],
        permission=P_WORK,
        custom=_stage("Submit second presentment", Party.ASTRA),
    )
    def mc_submit_second_presentment(self, *, on: date):
        self._astra_filed(on)

    @transition(
        field="stage",
        source=Stage.SECOND_PRESENTMENT,
        target=Stage.PRE_ARBITRATION,
        conditions=[is_mastercard],
        permission=P_WORK,
        custom=_stage("Record issuer pre-arbitration", Party.COUNTERPARTY),
    )
    def mc_receive_pre_arbitration(self, *, on: date):
        self._counterparty_filed(on)

    @transition(
        field="stage",
        source=Stage.PRE_ARBITRATION,
        target=Stage.PRE_ARBITRATION_RESPONSE,
        conditions=[is_mastercard],
        permission=P_WORK,
        custom=_stage("Reject pre-arbitration", Party.ASTRA),
    )
    def mc_submit_pre_arbitration_response(self, *, on: date):
        self._astra_filed(on)

    @transition(
        field="stage",
        source=Stage.PRE_ARBITRATION_RESPONSE,
        target=Stage.ARBITRATION,
        conditions=[is_mastercard],
        permission=P_WORK,
        custom=_stage("Record arbitration case", Party.COUNTERPARTY),
    )
    @transition(
        field="stage",
        source=Stage.SECOND_PRESENTMENT,
        target=Stage.ARBITRATION,
        conditions=[is_mastercard_prearbitration_optional],
        permission=P_WORK,
        custom=_stage("Record arbitration case", Party.COUNTERPARTY),
    )
    def mc_receive_arbitration(self, *, on: date):
        self._counterparty_filed(on)


class NachaMachine:
    """NACHA returns, from the ODFI's side.

    return received (R-code) → review → accept the loss, or dishonor (R61, R67–R70) →
    contested dishonored return (R71–R77) → closed. Proof of authorization requested →
    provided; WSUD copy requested → received. R01/R09 may be reinitiated (twice, 180 days).
    """

    @transition(
        field="stage",
        source=Stage.AUTHORIZATION_PROOF_REQUESTED,
        target=Stage.AUTHORIZATION_PROOF_PROVIDED,
        conditions=[is_nacha],
        permission=P_WORK,
        custom=_stage("Provide proof of authorization", Party.ASTRA),
    )
    def nacha_provide_authorization_proof(self, *, on: date):
        self._astra_filed(on)

    @transition(
        field="stage",
        source=[
            Stage.AUTHORIZATION_PROOF_PROVIDED,
            Stage.AUTHORIZATION_PROOF_REQUESTED,
            Stage.REINITIATED,
        ],
        target=Stage.RETURN,
        conditions=[is_nacha],
        permission=P_WORK,
        custom=_stage("Record return", Party.COUNTERPARTY),
    )
    def nacha_receive_return(self, *, on: date):
        self._counterparty_filed(on)
        self.return_settled_on = on

    @transition(
        field="stage",
        source=Stage.RETURN,
        target=Stage.WSUD_REQUESTED,
        conditions=[is_nacha, requires_wsud],
        permission=P_WORK,
        custom=_stage("Request WSUD copy", Party.ASTRA),
    )
    def nacha_request_wsud(self, *, on: date):
        self._astra_filed(on)

    @transition(
        field="stage",
        source=Stage.WSUD_REQUESTED,
        target=Stage.WSUD_RECEIVED,
        conditions=[is_nacha],
        permission=P_WORK,
        custom=_stage("Record WSUD copy received", Party.COUNTERPARTY),
    )
    def nacha_receive_wsud(self, *, on: date):
        self._counterparty_filed(on)

    @transition(
        field="stage",
        source=[Stage.RETURN, Stage.WSUD_RECEIVED],
        target=Stage.DISHONOR,
        conditions=[is_nacha, within_dishonor_window],
        permission=P_WORK,
        custom=_stage("Dishonor return", Party.ASTRA, codes=NACHA_DISHONOR_CODES),
    )
    def nacha_dishonor(self, *, on: date, code: str):
        if code not in NACHA_DISHONOR_CODES:
            raise ValueError(f"{code} is not a dishonor code ({', '.join(NACHA_DISHONOR_CODES)})")
        self._astra_filed(on)
        self.dishonor_code = code

    @transition(
        field="stage",
        source=Stage.DISHONOR,
        target=Stage.CONTEST,
        conditions=[is_nacha],
        permission=P_WORK,
        custom=_stage("Record contested dishonor", Party.COUNTERPARTY, codes=NACHA_CONTEST_CODES),
    )
    def nacha_receive_contest(self, *, on: date, code: str):
        if code not in NACHA_CONTEST_CODES:
            raise ValueError(f"{code} is not a contest code ({', '.join(NACHA_CONTEST_CODES)})")
        self._counterparty_filed(on)
        self.contest_code = code

    @transition(
        field="stage",
        source=Stage.RETURN,
        target=Stage.REINITIATED,
        conditions=[is_nacha, may_reinitiate],
        permission=P_WORK,
        custom=_stage("Reinitiate entry", Party.ASTRA),
    )
    def nacha_reinitiate(self, *, on: date):
        self._astra_filed(on)
        self.reinitiation_count += 1


class EndingMachine:
    """Every flow can end won, lost, accepted, expired or withdrawn."""

    @transition(
        field="stage",
        source=DECIDABLE_STAGES,
        target=Stage.CLOSED,
        permission=P_WORK,
        custom=_stage("Record win", None, outcome=Outcome.WON),
    )
    def record_won(self, *, on: date, recovered_amount=None):
        self._close(Outcome.WON, on, recovered_amount)

    @transition(
        field="stage",
        source=OPEN_STAGES,
        target=Stage.CLOSED,
        permission=P_WORK,
        custom=_stage("Record loss", None, outcome=Outcome.LOST),
    )
    def record_lost(self, *, on: date):
        self._close(Outcome.LOST, on)

    @transition(
        field="stage",
        source=OPEN_STAGES,
        target=Stage.CLOSED,
        permission=P_ACCEPT,
        custom=_stage("Accept liability", None, outcome=Outcome.ACCEPTED),
    )
    def accept_liability(self, *, on: date):
        self._close(Outcome.ACCEPTED, on)

    @transition(
        field="stage",
        source=OPEN_STAGES,
        target=Stage.CLOSED,
        conditions=[our_deadline_passed],
        permission=P_ACCEPT,
        custom=_stage("Record expiry", None, outcome=Outcome.EXPIRED),
    )
    def record_expired(self, *, on: date):
        self._close(Outcome.EXPIRED, on)

    @transition(
        field="stage",
        source=OPEN_STAGES,
        target=Stage.CLOSED,
        permission=P_WORK,
        custom=_stage("Record withdrawal", None, outcome=Outcome.WITHDRAWN),
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
