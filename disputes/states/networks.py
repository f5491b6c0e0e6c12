"""The network machines (``stage``): Visa (two flows), Mastercard, NACHA, and the endings."""

from datetime import date

from django_fsm import transition

from ..choices import Outcome, Party, Stage
from .conditions import (
    DECIDABLE_STAGES,
    NACHA_CONTEST_CODES,
    NACHA_DISHONOR_CODES,
    OPEN_STAGES,
    P_ACCEPT,
    P_WORK,
    is_mastercard,
    is_mastercard_prearbitration_optional,
    is_nacha,
    is_visa_allocation,
    is_visa_collaboration,
    may_reinitiate,
    our_deadline_passed,
    requires_wsud,
    within_dishonor_window,
)


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
