"""The history kinds of notifications: a reminder or an escalation sent about a dispute."""

from disputes.history import Described, register_kind
from disputes.history.kinds import day


def _describe(title):
    def describe(event, dispute) -> Described:
        payload = event.payload
        recipients = ", ".join(payload.get("recipients", [])) or "nobody"
        return Described(
            title=title,
            body=payload.get("threshold_label", ""),
            facts=(
                (
                    "Deadline",
                    f"{payload.get('deadline', '').capitalize()} · {day(payload.get('due_on'))}",
                ),
                ("Sent to", recipients),
            ),
        )

    return describe


register_kind(
    "reminder_sent", "Reminder sent", describe=_describe("Reminder sent"), system_only=True
)
register_kind(
    "escalation_sent",
    "Escalated to the ops leads",
    describe=_describe("Escalated to the ops leads"),
    system_only=True,
)
register_kind(
    "evidence_chaser_sent",
    "Evidence chaser sent",
    describe=_describe("Evidence chaser sent"),
    system_only=True,
)
