"""Permissions, stage groups and the conditions transitions carry: plain functions of the
dispute, so the graph can be drawn and a refusal explained."""

from calendar_rules import calendars, nacha

from ..choices import Network, Party, Stage, WorkState

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
    deadline = dishonor_deadline(dispute)
    return deadline is not None and dispute.business_today() <= deadline


def dishonor_deadline(dispute):
    """The last day to dishonor the return, or None when its settlement date is unknown or
    outside the banking calendar (a date the window cannot be counted from)."""
    if dispute.return_settled_on is None:
        return None
    try:
        return nacha.dishonor_deadline(dispute.return_settled_on)
    except (calendars.CalendarRangeError, OverflowError):
        return None


def requires_wsud(dispute) -> bool:
    """A WSUD copy exists only for the codes that need one (R05, R07, R10, R11, R37, R51, R53),
    on the entries those codes are for (R10 on a consumer entry, R05 on a corporate one)."""
    return is_nacha(dispute) and dispute.reason.wsud_applies(dispute.transaction.sec_code)


def reinitiation(dispute) -> nacha.Reinitiation:
    """Whether the entry may be reinitiated today, and why (R01/R09, twice, 180 days)."""
    try:
        return nacha.reinitiation_allowed(
            dispute.reason_code,
            dispute.transaction.settlement_date,
            dispute.business_today(),
            dispute.reinitiation_count,
        )
    except OverflowError:  # a settlement date at the end of time: 180 days on do not exist
        return nacha.Reinitiation(False, "the original settlement date is not a usable date")


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
