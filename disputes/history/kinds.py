"""The core event kinds and how each reads on the timeline. Feature packages register their own
kinds the same way (``register_kind`` in their module, imported when the app is ready)."""

from contextlib import suppress
from datetime import date
from decimal import Decimal, InvalidOperation

from ..choices import Outcome, Stage, WorkState
from . import Described, register_kind


def label_of(choices, value: str) -> str:
    try:
        return choices(value).label
    except ValueError:
        return value or "—"


def day(value) -> str:
    """An ISO date from a payload as people read it: "Mar 4, 2026"."""
    if not value:
        return "none"
    with suppress(TypeError, ValueError):
        value = date.fromisoformat(str(value))
        return f"{value:%b} {value.day}, {value.year}"
    return str(value)


PARAM_LABELS = {
    "on": "Network date",
    "code": "Code",
    "recovered_amount": "Recovered",
    "stage_started_on": "Stage started",
}
HIDDEN_PARAMS = {"assignee", "assignee_name"}


def param_facts(params: dict, currency: str) -> tuple[tuple[str, str], ...]:
    from ..templatetags.disputes_tags import money

    facts = []
    for key, value in (params or {}).items():
        if key in HIDDEN_PARAMS or value in (None, ""):
            continue
        if key == "recovered_amount":
            with suppress(InvalidOperation, TypeError):
                value = money(Decimal(value), currency)
        elif key in ("on", "stage_started_on"):
            value = day(value)
        facts.append((PARAM_LABELS.get(key, key.replace("_", " ").capitalize()), str(value)))
    return tuple(facts)


def _changes(event) -> tuple[str, ...]:
    payload = event.payload
    changes = []
    from_stage, from_state = payload.get("from_stage", ""), payload.get("from_state", "")
    if from_stage != event.stage:
        changes.append(f"Stage: {label_of(Stage, from_stage)} → {label_of(Stage, event.stage)}")
    if from_state != event.state:
        changes.append(
            f"State: {label_of(WorkState, from_state)} → {label_of(WorkState, event.state)}"
        )
    if event.outcome and event.stage == Stage.CLOSED:
        changes.append(f"Outcome: {label_of(Outcome, event.outcome)}")
    return tuple(changes)


def describe_opened(event, dispute) -> Described:
    facts = param_facts(event.payload.get("params", {}), dispute.currency)
    source = event.payload.get("source")
    if source:
        facts = (*facts, ("Source", source))
    return Described(
        title="Dispute opened",
        body=event.payload.get("comment", ""),
        changes=(
            f"Opened at {label_of(Stage, event.stage).lower()}, "
            f"{label_of(WorkState, event.state).lower()}",
        ),
        facts=facts,
    )


def describe_transition(event, dispute) -> Described:
    payload = event.payload
    return Described(
        title=payload.get("label") or "State changed",
        body=payload.get("comment", ""),
        changes=_changes(event),
        facts=param_facts(payload.get("params", {}), dispute.currency),
    )


def describe_assignment(event, dispute) -> Described:
    payload = event.payload
    who = payload.get("assignee_name") or "nobody"
    title = f"Claimed by {who}" if event.kind == "claimed" else f"Assigned to {who}"
    facts = ()
    if payload.get("previous_assignee_name"):
        facts = (("Previously", payload["previous_assignee_name"]),)
    return Described(
        title=title, body=payload.get("comment", ""), changes=_changes(event), facts=facts
    )


def describe_note(event, dispute) -> Described:
    return Described(title="Note", body=event.payload.get("body", ""))


def describe_deadline_changed(event, dispute) -> Described:
    payload = event.payload
    changes = []
    for key, name in (("network_due", "Network due"), ("internal_due", "Internal due")):
        old, new = payload.get(f"old_{key}"), payload.get(key)
        if old != new:
            changes.append(f"{name}: {day(old)} → {day(new)}")
    facts = []
    if payload.get("old_rule") != payload.get("rule"):
        facts.append(("Rule", f"{payload.get('old_rule') or 'none'} → {payload.get('rule')}"))
    elif payload.get("rule"):
        facts.append(("Rule", payload["rule"]))
    if payload.get("rules_version"):
        facts.append(("Rule tables", payload["rules_version"]))
    return Described(
        title="Deadline recomputed",
        body=payload.get("reason", ""),
        changes=tuple(changes),
        facts=tuple(facts),
    )


def describe_deadline_missed(event, dispute) -> Described:
    payload = event.payload
    window = (payload.get("window") or "").replace("_", " ")
    if not window:
        window = label_of(Stage, payload.get("stage", event.stage)).lower()
    return Described(
        title="Deadline missed",
        body=(
            f"Our {window} window closed on {day(payload.get('network_due'))} "
            f"at the stage “{label_of(Stage, payload.get('stage', event.stage))}”, "
            "with no filing recorded."
        ),
        facts=(("Rule", payload.get("rule", "")),) if payload.get("rule") else (),
    )


register_kind("opened", "Dispute opened", describe=describe_opened)
register_kind("transition", "State changed", describe=describe_transition)
register_kind("claimed", "Claimed", describe=describe_assignment)
register_kind("assigned", "Assigned", describe=describe_assignment)
register_kind("note_added", "Note added", describe=describe_note)
register_kind(
    "deadline_changed", "Deadline recomputed", describe=describe_deadline_changed, system_only=True
)
register_kind(
    "deadline_missed", "Deadline missed", describe=describe_deadline_missed, system_only=True
)
