"""Which reminder threshold a dispute has reached on a given day. Pure: dates in, no clock.

The thresholds of one pair of deadlines, in order of urgency: N banking days before the internal
due date (``REMINDER_DAYS_BEFORE``, default 5, 2, 1), the day of it, the day after it (overdue),
and the day of the network due date. A sweep sends only the most urgent threshold reached, so
after an outage a dispute gets one reminder, not the backlog.
"""

from dataclasses import dataclass
from datetime import date, timedelta

from calendar_rules import calendars

BEFORE, DUE_TODAY, OVERDUE, NETWORK_TODAY = "before", "due-today", "overdue", "network-today"


@dataclass(frozen=True, slots=True)
class Threshold:
    name: str  # "before-5", "due-today", "overdue", "network-today"
    deadline: str  # "internal" or "network" (notifications.models.Deadline)
    due_on: date
    fires_on: date
    rank: int

    @property
    def days_before(self) -> int:
        return int(self.name.split("-")[1]) if self.name.startswith(BEFORE) else 0

    def label(self) -> str:
        evidence = self.deadline == "evidence"
        if self.name.startswith(BEFORE):
            n = self.days_before
            of = "the evidence due date" if evidence else "the internal deadline"
            return f"{n} banking day{'' if n == 1 else 's'} before {of}"
        if evidence:
            return "Evidence overdue"
        if self.name == NETWORK_TODAY:
            # Dated, so a reminder sent after an outage does not say "today" of a past day.
            return f"Network deadline {self.due_on:%b} {self.due_on.day}"
        return {DUE_TODAY: "Internal deadline today", OVERDUE: "Past the internal deadline"}[
            self.name
        ]


def thresholds(internal_due: date, network_due: date | None, days_before) -> list[Threshold]:
    """Every threshold of these deadlines, least urgent first."""
    found = [
        Threshold(
            f"{BEFORE}-{n}",
            "internal",
            internal_due,
            calendars.FED.add_banking_days(internal_due, -n),
            rank,
        )
        for rank, n in enumerate(sorted(set(days_before), reverse=True))
    ]
    rank = len(found)
    found.append(Threshold(DUE_TODAY, "internal", internal_due, internal_due, rank))
    found.append(
        Threshold(OVERDUE, "internal", internal_due, internal_due + timedelta(1), rank + 1)
    )
    if network_due is not None and network_due >= internal_due:
        found.append(Threshold(NETWORK_TODAY, "network", network_due, network_due, rank + 2))
    return found


def current(
    internal_due: date | None, network_due: date | None, today: date, days_before
) -> Threshold | None:
    """The most urgent threshold reached on ``today``; None before the first one."""
    if internal_due is None:
        return None
    reached = [t for t in thresholds(internal_due, network_due, days_before) if t.fires_on <= today]
    return max(reached, key=lambda t: (t.fires_on, t.rank), default=None)


def escalates(threshold: Threshold, *, today: date, internal_due: date, assigned: bool) -> bool:
    """Overdue escalates to the ops leads; so does an unassigned dispute on its last day."""
    if threshold.name == OVERDUE or threshold.fires_on > internal_due:
        return True
    return not assigned and threshold.name in (DUE_TODAY, NETWORK_TODAY)


def horizon(today: date, days_before) -> date:
    """No internal due date later than this can have reached a threshold on ``today`` (a few
    calendar days of margin for due dates on closed days; ``current`` decides exactly)."""
    return calendars.FED.add_banking_days(today, max(days_before, default=0)) + timedelta(4)
