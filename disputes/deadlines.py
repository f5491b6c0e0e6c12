"""Where a dispute meets the deadline engine: which window runs now, and storing its dates."""

from calendar_rules import deadlines, rules

from . import states


def current_deadline(dispute) -> deadlines.Deadline | None:
    """The window running at the dispute's stage, computed from the rule tables; None when no
    network clock runs (a closed case, an arbitration awaiting its ruling).

    Raises rules.RuleLookupError when the tables cannot count this window (e.g. R90, whose time
    frame is not yet published)."""
    clock = states.clock_for(dispute.network, dispute.flow, dispute.stage)
    if clock is None:
        return None
    anchor = getattr(dispute, clock.anchor)
    if anchor is None:
        return None
    return deadlines.compute(
        network=dispute.network,
        code=dispute.reason_code,
        stage=clock.rule_stage,
        anchor=anchor,
    )


def apply_deadline(dispute) -> deadlines.Deadline | None:
    """Set the dispute's due dates, rule and explanation from its current stage (not saved).

    Where the tables cannot count the window, the dates are cleared and the explanation says
    why, so the queue shows "no network clock" with the reason instead of a made-up date."""
    clock = states.clock_for(dispute.network, dispute.flow, dispute.stage)
    try:
        deadline = current_deadline(dispute)
    except rules.RuleLookupError as exc:
        deadline, why = None, f"No deadline computed: {exc}"
    else:
        why = ""
    if deadline is None:
        dispute.network_due = dispute.internal_due = None
        dispute.due_party = dispute.deadline_rule = dispute.rules_version = ""
        dispute.deadline_explanation = why
        return None
    dispute.network_due = deadline.network_due
    # The internal buffer only applies to our own windows; theirs we just watch.
    dispute.internal_due = deadline.internal_due if clock.party == "astra" else deadline.network_due
    dispute.due_party = clock.party
    dispute.deadline_rule = deadline.rule_key
    dispute.rules_version = deadline.rules_version
    dispute.deadline_explanation = deadline.explanation
    return deadline
