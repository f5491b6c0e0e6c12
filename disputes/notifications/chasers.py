"""Evidence-request chasers: 2 and 1 banking days before a request's due date to the client's
Customer Success owner and to the person asked (the client contact or a colleague), and once
overdue to the dispute's owner (its assignee, else whoever made the request).

Same rules as the deadline reminders: the most urgent threshold reached only, each recorded once
per (request, due date, threshold, recipient), an event in the dispute's history, delivery after
commit; nothing once the request is answered or the dispute submitted or closed."""

from datetime import date, timedelta

from calendar_rules import calendars
from disputes.evidence.models import EvidenceRequest, RequestStatus

from .models import Kind, Notification
from .services import REMINDED_STATES, Planned, record
from .thresholds import Threshold

CHASE_DAYS_BEFORE = (2, 1)
OVERDUE = "overdue"


def chase_threshold(due_on: date, today: date) -> Threshold | None:
    """The most urgent chaser threshold of a request due ``due_on`` reached on ``today``."""
    found = [
        Threshold(f"before-{n}", "evidence", due_on, calendars.FED.add_banking_days(due_on, -n), i)
        for i, n in enumerate(CHASE_DAYS_BEFORE)
    ]
    found.append(Threshold(OVERDUE, "evidence", due_on, due_on + timedelta(1), len(found)))
    reached = [t for t in found if t.fires_on <= today]
    return max(reached, key=lambda t: (t.fires_on, t.rank), default=None)


def _open_requests(dispute_ids=None, *, today: date):
    horizon = calendars.FED.add_banking_days(today, max(CHASE_DAYS_BEFORE)) + timedelta(4)
    requests = EvidenceRequest.objects.filter(
        status=RequestStatus.OPEN,
        due_on__lte=horizon,
        dispute__state__in=REMINDED_STATES,
    ).select_related("contact", "colleague", "requested_by", "dispute__client__cs_owner")
    if dispute_ids is not None:
        requests = requests.filter(dispute_id__in=list(dispute_ids))
    return requests


def plan_request(request, *, today: date, people) -> list[Planned]:
    reached = chase_threshold(request.due_on, today)
    if reached is None:
        return []
    dispute = request.dispute
    if reached.name == OVERDUE:
        owner = people.by_id.get(dispute.assignee_id) or people.by_id.get(request.requested_by_id)
        return [Planned(Kind.CHASER, reached, user=owner, subject_id=request.pk)] if owner else []
    planned = []
    cs_owner = people.by_id.get(dispute.client.cs_owner_id)
    if cs_owner is not None and people.wants_reminders(cs_owner.pk):
        planned.append(Planned(Kind.CHASER, reached, user=cs_owner, subject_id=request.pk))
    if request.contact_id and request.contact.email:
        contact = request.contact
        planned.append(Planned(Kind.CHASER, reached, contact=contact, subject_id=request.pk))
    colleague = people.by_id.get(request.colleague_id)
    if colleague is not None and colleague != cs_owner and people.wants_reminders(colleague.pk):
        planned.append(Planned(Kind.CHASER, reached, user=colleague, subject_id=request.pk))
    return planned


def _missing(disputes, *, today, people) -> dict:
    """What each dispute's open requests are owed and not yet recorded (disputes locked)."""
    states = {d.pk: d.state for d in disputes}
    requests = [
        r
        for r in _open_requests(states, today=today)
        if states.get(r.dispute_id) in REMINDED_STATES
    ]
    done = set(
        Notification.objects.filter(
            kind=Kind.CHASER, subject_id__in=[r.pk for r in requests]
        ).values_list("subject_id", "due_on", "threshold", "recipient_key")
    )
    missing: dict = {}
    for request in requests:
        for p in plan_request(request, today=today, people=people):
            t = p.threshold
            if (request.pk, t.due_on, t.name, p.recipient_key) not in done:
                missing.setdefault(request.dispute_id, []).append(p)
    return missing


def send_evidence_chasers(*, now, today, people, dispatch) -> int:
    """Record and dispatch every chaser due; returns how many were recorded."""
    if not _open_requests(today=today).exists():  # the usual sweep: one indexed look
        return 0
    requests = list(_open_requests(today=today))
    if not requests:
        return 0
    owed = _missing_unlocked(requests, today=today, people=people)
    rows = record(_missing, owed, now=now, today=today, people=people, dispatch=dispatch)
    return len(rows)


def _missing_unlocked(requests, *, today, people) -> set[int]:
    """The disputes with a chaser owed, read without locks: only a list of what to lock."""
    done = set(
        Notification.objects.filter(
            kind=Kind.CHASER, subject_id__in=[r.pk for r in requests]
        ).values_list("subject_id", "due_on", "threshold", "recipient_key")
    )
    return {
        r.dispute_id
        for r in requests
        for p in plan_request(r, today=today, people=people)
        if (r.pk, p.threshold.due_on, p.threshold.name, p.recipient_key) not in done
    }
