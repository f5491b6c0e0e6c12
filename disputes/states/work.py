"""The work-state machine (``state``): the ops team's own progress on a case."""

from django_fsm import RETURN_VALUE, transition

from ..choices import OPEN_WORK_STATES, WorkState
from .conditions import P_ASSIGN, P_CLAIM, P_EVIDENCE, P_WORK, _reopened_state

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
