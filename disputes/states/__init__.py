"""The dispute state machines (django-fsm-2).

A dispute has two state fields:

* ``stage``: where the network cycle is. One machine per network (and, for Visa, per flow),
  declared as transition mixins (``states.networks``) on the one ``Dispute`` model; each
  transition's conditions name the network and flow it belongs to, so a Visa dispute never
  offers a NACHA transition.
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

from .clocks import STAGE_CLOCKS, Clock, clock_for, entry_stage, flow_of
from .conditions import (
    DECIDABLE_STAGES,
    ENTRY_STAGES,
    NACHA_CONTEST_CODES,
    NACHA_DISHONOR_CODES,
    OPEN_STAGES,
    P_ACCEPT,
    P_ASSIGN,
    P_CLAIM,
    P_EVIDENCE,
    P_WORK,
    is_mastercard,
    is_mastercard_prearbitration_optional,
    is_nacha,
    is_visa_allocation,
    is_visa_collaboration,
    may_reinitiate,
    our_deadline_passed,
    reinitiation,
    requires_wsud,
    within_dishonor_window,
)
from .networks import EndingMachine, MastercardMachine, NachaMachine, StageMixin, VisaMachine
from .work import WorkStateMachine


class DisputeStateMachines(
    StageMixin, WorkStateMachine, VisaMachine, MastercardMachine, NachaMachine, EndingMachine
):
    """Everything the ``Dispute`` model inherits from this module."""


__all__ = [
    "DECIDABLE_STAGES",
    "ENTRY_STAGES",
    "NACHA_CONTEST_CODES",
    "NACHA_DISHONOR_CODES",
    "OPEN_STAGES",
    "P_ACCEPT",
    "P_ASSIGN",
    "P_CLAIM",
    "P_EVIDENCE",
    "P_WORK",
    "STAGE_CLOCKS",
    "Clock",
    "DisputeStateMachines",
    "clock_for",
    "entry_stage",
    "flow_of",
    "is_mastercard",
    "is_mastercard_prearbitration_optional",
    "is_nacha",
    "is_visa_allocation",
    "is_visa_collaboration",
    "may_reinitiate",
    "our_deadline_passed",
    "reinitiation",
    "requires_wsud",
    "within_dishonor_window",
]
