"""Which rule-table window runs while a dispute sits at each network stage."""

from dataclasses import dataclass

from calendar_rules import rules

from ..choices import Network, Party, Stage


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


def flow_of(network: str, code: str) -> str:
    """The flow a dispute follows: Visa's comes from the code's category in the rule table
    (allocation or collaboration); Mastercard and NACHA have one flow each."""
    if network == Network.VISA:
        return rules.reason_code(network, code).flow
    return "chargeback" if network == Network.MASTERCARD else "return"
