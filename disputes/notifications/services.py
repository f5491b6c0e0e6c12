"""The reminder sweep, the weekly digest and delivery.

A sweep asks "which notifications are due and not yet recorded?", records each in
``Notification`` (unique per dispute, deadline, due date, threshold and recipient, or per
recipient and week) together with an event in the dispute's history, and hands the ids to
``dispatch`` after commit. Delivery claims a row before sending, so a row queued twice is sent
once. Running a sweep twice sends nothing twice; a sweep killed halfway leaves whole chunks
recorded and the next run records the rest and re-dispatches what was recorded but not sent.
"""

import json
import logging
from collections.abc import Callable, Iterable
from contextlib import suppress
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from itertools import islice
from smtplib import SMTPException
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F, Q
from django.utils import timezone

from disputes import history
from disputes.choices import Party, WorkState
from disputes.history.models import CaseEvent
from disputes.models import Dispute

from . import owed as owed_queries
from . import thresholds
from .models import Kind, Notification
from .people import People

log = logging.getLogger(__name__)

SWEEP_ACTOR = "Reminder sweep"
EVENT_KINDS = {
    Kind.REMINDER: "reminder_sent",
    Kind.ESCALATION: "escalation_sent",
    Kind.CHASER: "evidence_chaser_sent",
}
CHUNK = 250
CLAIM_EXPIRES = timedelta(minutes=10)
# Reminders stop once our filing is in (submitted) or the dispute is closed.
REMINDED_STATES = (
    WorkState.NEW,
    WorkState.IN_REVIEW,
    WorkState.AWAITING_EVIDENCE,
    WorkState.READY_TO_SUBMIT,
)


def batched(items, size):
    iterator = iter(items)
    while chunk := tuple(islice(iterator, size)):
        yield chunk


def ops_date(moment: datetime) -> date:
    return timezone.localtime(moment, ZoneInfo(settings.OPS_TIME_ZONE)).date()


def days_before() -> tuple[int, ...]:
    return tuple(settings.REMINDER_DAYS_BEFORE)


@dataclass
class SweepReport:
    owed: int = 0  # disputes found owed something, before locking them
    disputes: int = 0
    reminders: int = 0
    escalations: int = 0
    chasers: int = 0
    redispatched: int = 0

    @property
    def recorded(self) -> int:
        return self.reminders + self.escalations + self.chasers


# --- deciding ---------------------------------------------------------------------------------


def reminder_candidates(today: date):
    """Open disputes on our clock whose internal due date is near or past: a range scan of the
    partial index on (internal_due, id) of open disputes, so the cost follows the number due."""
    return (
        Dispute.objects.filter(
            state__in=REMINDED_STATES,
            internal_due__isnull=False,
            internal_due__lte=thresholds.horizon(today, days_before()),
        )
        .exclude(due_party=Party.COUNTERPARTY)
        .order_by()
    )


@dataclass(frozen=True, slots=True)
class Planned:
    """One notification a sweep means to record: to a user, or to a client contact."""

    kind: str
    threshold: thresholds.Threshold
    user: object = None
    contact: object = None
    subject_id: int | None = None  # evidence chasers: the request

    @property
    def recipient_key(self) -> str:
        return f"user:{self.user.pk}" if self.user else f"contact:{self.contact.pk}"

    @property
    def name(self) -> str:
        if self.user:
            return self.user.get_full_name() or self.user.get_username()
        return f"{self.contact.name} (client contact)"

    def row(self, *, dispute_id: int, now) -> Notification:
        t = self.threshold
        row = Notification(
            kind=self.kind,
            dispute_id=dispute_id,
            deadline=t.deadline,
            due_on=t.due_on,
            threshold=t.name,
            recipient_key=self.recipient_key,
            recipient=self.user,
            email=(self.user or self.contact).email,
            subject_id=self.subject_id,
            created_at=now,
        )
        row.planned = self
        return row


def plan(dispute, *, today: date, people: People) -> list[Planned]:
    """The notifications a dispute is owed today (recorded or not): its most urgent threshold, to
    the assignee or the ops leads, escalated to the leads when overdue or still unassigned."""
    if dispute.state not in REMINDED_STATES or dispute.due_party == Party.COUNTERPARTY:
        return []
    reached = thresholds.current(dispute.internal_due, dispute.network_due, today, days_before())
    if reached is None:
        return []
    assignee = people.by_id.get(dispute.assignee_id)
    escalation = thresholds.escalates(
        reached, today=today, internal_due=dispute.internal_due, assigned=assignee is not None
    )
    planned = []
    if assignee is not None and (escalation or people.wants_reminders(assignee.pk)):
        planned.append(Planned(Kind.REMINDER, reached, assignee))
    for lead in people.leads:
        if lead is assignee:
            continue
        if escalation:
            planned.append(Planned(Kind.ESCALATION, reached, lead))
        elif assignee is None and people.wants_reminders(lead.pk):
            planned.append(Planned(Kind.REMINDER, reached, lead))
    return planned


def _key(dispute_id: int, p: Planned) -> tuple:
    t = p.threshold
    return (dispute_id, t.deadline, t.due_on, t.name, p.recipient_key)


def _recorded_keys(dispute_ids) -> set:
    rows = Notification.objects.filter(
        dispute_id__in=list(dispute_ids), kind__in=(Kind.REMINDER, Kind.ESCALATION)
    ).values_list("dispute_id", "deadline", "due_on", "threshold", "recipient_key")
    return set(rows)


def owed_dispute_ids(today: date) -> list[int]:
    """The open disputes owed a reminder or escalation not yet recorded (to lock and decide on
    again): one query on PostgreSQL, so a sweep with nothing to do stays cheap."""
    if connection.vendor == "postgresql":
        return owed_queries.owed_dispute_ids(
            reminder_candidates(today), today=today, days_before=days_before()
        )
    return sorted(_missing(reminder_candidates(today), today=today, people=People.load()))


def _missing(disputes, *, today, people) -> dict[int, list[Planned]]:
    plans = {d.pk: plan(d, today=today, people=people) for d in disputes}
    plans = {pk: p for pk, p in plans.items() if p}
    done = _recorded_keys(plans)
    missing = {pk: [p for p in ps if _key(pk, p) not in done] for pk, ps in plans.items()}
    return {pk: ps for pk, ps in missing.items() if ps}


# --- recording --------------------------------------------------------------------------------


def _heads(dispute_ids) -> dict[int, tuple[int, str]]:
    if connection.vendor != "postgresql":  # the demo's SQLite: one query per dispute
        return {pk: history.head(pk) for pk in dispute_ids}
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT DISTINCT ON (dispute_id) dispute_id, seq, row_hash FROM "
            f"{CaseEvent._meta.db_table} WHERE dispute_id = ANY(%s) ORDER BY dispute_id, seq DESC",
            [list(dispute_ids)],
        )
        return {row[0]: (row[1], row[2]) for row in cursor.fetchall()}


def _event_payload(dispute, planned: list[Planned]) -> dict:
    t = planned[0].threshold
    return {
        "threshold": t.name,
        "threshold_label": t.label(),
        "deadline": t.deadline,
        "due_on": t.due_on,
        "recipients": [p.name for p in planned],
    }


def _events(disputes: dict, rows: list[Notification], now) -> list[dict]:
    """One event per dispute and kind (a reminder to the assignee, an escalation to the leads),
    linked to each dispute's chain head. The callers hold the disputes' row locks."""
    grouped: dict[tuple[int, str], list[Planned]] = {}
    for row in rows:
        grouped.setdefault((row.dispute_id, row.kind), []).append(row.planned)
    heads = _heads({pk for pk, _kind in grouped})
    events = []
    for (pk, kind), planned in sorted(grouped.items()):
        seq, prev_hash = heads.get(pk, (0, ""))
        row = history.event_row(
            dispute=disputes[pk],
            seq=seq + 1,
            kind=EVENT_KINDS[kind],
            system_actor=SWEEP_ACTOR,
            payload=_event_payload(disputes[pk], planned),
            at=now,
        )
        heads[pk] = (seq + 1, history.chain.link([row], prev_hash))
        events.append(row)
    return events


def _write_events(rows: list[dict]) -> None:
    """Write linked event rows: COPY on PostgreSQL (as the deadline recompute does)."""
    if connection.vendor != "postgresql":
        CaseEvent.objects.bulk_create([CaseEvent(**row) for row in rows])
        return
    fields = [f.attname for f in CaseEvent._meta.concrete_fields if f.attname != "id"]
    sql = f"COPY {CaseEvent._meta.db_table} ({', '.join(fields)}) FROM STDIN"
    with connection.cursor() as cursor, cursor.cursor.copy(sql) as copy:
        for row in rows:
            copy.write_row([json.dumps(row[f]) if f == "payload" else row[f] for f in fields])


def _record_chunk(dispute_ids, *, now, today, people, missing=None) -> list[Notification]:
    """Lock the disputes, decide again on what the locked rows say, record what is missing."""
    with transaction.atomic():
        locked = {
            d.pk: d
            for d in Dispute.objects.select_for_update(of=("self",))
            .filter(pk__in=list(dispute_ids))
            .order_by("pk")
        }
        missing = (missing or _missing)(locked.values(), today=today, people=people)
        rows = [p.row(dispute_id=pk, now=now) for pk, ps in missing.items() for p in ps]
        Notification.objects.bulk_create(rows)
        _write_events(_events(locked, rows, now))
    return rows


def send_deadline_reminders(
    *,
    now: datetime | None = None,
    dispatch: Callable[[list[int]], object] | None = None,
    after_chunk: Callable[[int], object] | None = None,
) -> SweepReport:
    """Record every deadline reminder and escalation due at ``now`` that is not yet recorded,
    and dispatch each after its chunk commits. Returns what was recorded; sends none twice."""
    now = now or timezone.now()
    dispatch = dispatch or deliver_now
    today, report = ops_date(now), SweepReport()
    state = _sweep_state(today, now)  # None: not on PostgreSQL, look at everything
    people = None
    if state is None or not state.unchanged:
        owed = owed_dispute_ids(today)
        report.owed = len(owed)
        people = People.load() if owed else None
        for index, chunk in enumerate(batched(owed, CHUNK)):
            rows = record(_missing, chunk, now=now, today=today, people=people, dispatch=dispatch)
            report.disputes += len({r.dispute_id for r in rows})
            report.reminders += sum(r.kind == Kind.REMINDER for r in rows)
            report.escalations += sum(r.kind == Kind.ESCALATION for r in rows)
            if after_chunk:
                after_chunk(index)
        if state is not None:
            owed_queries.remember(state, now=now)
    if state is None or state.requests_near_due:
        people = people or People.load()
        report.chasers = _chasers(now=now, today=today, people=people, dispatch=dispatch)
    if state is None or state.pending:
        report.redispatched = redispatch_pending(dispatch=dispatch, now=now)
    return report


def _sweep_state(today: date, now: datetime):
    if connection.vendor != "postgresql":
        return None
    stale = timezone.now() - CLAIM_EXPIRES
    return owed_queries.sweep_state(today=today, now=now, stale=stale, days_before=days_before())


def _chasers(*, now, today, people, dispatch) -> int:
    from . import chasers

    return chasers.send_evidence_chasers(now=now, today=today, people=people, dispatch=dispatch)


def record(missing_of, dispute_ids, *, now, today, people, dispatch) -> list[Notification]:
    """Record, chunk by chunk under the disputes' row locks, what ``missing_of`` says is owed;
    dispatch each chunk after it commits."""
    recorded = []
    for chunk in batched(sorted(dispute_ids), CHUNK):
        rows = _record_chunk(chunk, now=now, today=today, people=people, missing=missing_of)
        ids = [r.pk for r in rows]
        if ids:
            transaction.on_commit(lambda ids=ids: dispatch(ids))
        recorded += rows
    return recorded


def redispatch_pending(*, dispatch, now=None) -> int:
    """Hand over again what was recorded but never delivered (a sweep killed between commit and
    dispatch, a worker lost with its task). Delivery's claim keeps a double hand-over single."""
    stale = timezone.now() - CLAIM_EXPIRES
    ids = list(
        Notification.objects.filter(sent_at__isnull=True)
        .filter(Q(claimed_at__isnull=True) | Q(claimed_at__lt=stale))
        .filter(created_at__lt=now or timezone.now())  # not what this very sweep recorded
        .values_list("pk", flat=True)[:5000]
    )
    if ids:
        transaction.on_commit(lambda: dispatch(ids))
    return len(ids)


# --- delivering -------------------------------------------------------------------------------

TRANSIENT = (SMTPException, OSError)


def claim(notification_id: int) -> bool:
    """Take the right to send this notification; False if it is sent or being sent."""
    return bool(
        Notification.objects.filter(_unclaimed(), pk=notification_id, sent_at__isnull=True).update(
            claimed_at=timezone.now(), attempts=F("attempts") + 1
        )
    )


def _unclaimed():
    return Q(claimed_at__isnull=True) | Q(claimed_at__lt=timezone.now() - CLAIM_EXPIRES)


def claim_many(ids) -> list[int]:
    """Claim every one of ``ids`` nobody has sent or is sending; returns those claimed."""
    with transaction.atomic():
        claimed = list(
            Notification.objects.select_for_update(skip_locked=True)
            .filter(_unclaimed(), pk__in=list(ids), sent_at__isnull=True)
            .values_list("pk", flat=True)
        )
        Notification.objects.filter(pk__in=claimed).update(
            claimed_at=timezone.now(), attempts=F("attempts") + 1
        )
    return claimed


def _loaded(ids):
    return (
        Notification.objects.filter(pk__in=list(ids))
        .select_related("dispute__client", "dispute__assignee", "recipient")
        .prefetch_related("recipient__groups")  # the digest's role
    )


def _send(notification, connection) -> None:
    """Send a claimed notification and mark it sent; a transient failure releases the claim."""
    from . import emails

    try:
        emails.message_for(notification, connection=connection).send()
    except TRANSIENT as exc:
        Notification.objects.filter(pk=notification.pk).update(
            claimed_at=None, last_error=str(exc)[:300]
        )
        raise
    Notification.objects.filter(pk=notification.pk).update(sent_at=timezone.now(), last_error="")


def deliver(notification_id: int, *, connection=None) -> bool:
    """Send one notification if nobody has; True when this call sent it. A transient failure
    (SMTP down) releases the claim and is raised, for the task to retry with backoff."""
    if not claim(notification_id):
        return False
    _send(_loaded([notification_id]).get(), connection)
    return True


def deliver_now(ids: Iterable[int]) -> int:
    """Deliver in this process (the command, the demo), claiming a hundred at a time: what
    cannot go now stays pending for the next sweep to hand over again."""
    from django.core.mail import get_connection

    ids = list(ids)
    if not ids:
        return 0
    sent, mail = 0, get_connection()
    with suppress(*TRANSIENT):  # if it stays down, each delivery records its own failure
        mail.open()
    try:
        for chunk in batched(ids, 100):
            for notification in _loaded(claim_many(chunk)).order_by("pk"):
                try:
                    _send(notification, mail)
                    sent += 1
                except TRANSIENT as exc:
                    log.warning("notification %s not delivered: %s", notification.pk, exc)
    finally:
        with suppress(*TRANSIENT):
            mail.close()
    return sent


def deliver_via_worker(ids: Iterable[int]) -> None:
    """Queue one delivery task per notification; with the broker down, deliver here instead."""
    from kombu.exceptions import OperationalError

    from .tasks import deliver_notification

    ids = list(ids)
    try:
        for pk in ids:
            deliver_notification.apply_async((pk,), retry=False)
    except OperationalError as exc:
        log.warning("broker unavailable (%s): delivering in this process", exc)
        deliver_now(ids)


# --- the weekly digest ------------------------------------------------------------------------


def week_of(today: date) -> date:
    return today - timedelta(days=today.weekday())


def send_weekly_digest(
    *, now: datetime | None = None, dispatch: Callable[[list[int]], object] | None = None
) -> int:
    """Record this week's digest for every person with a digest role who wants one and has not
    had it; dispatch them after commit. Returns how many were recorded (at most one per person
    per week, however often this runs)."""
    from .digest import digest_recipients

    now = now or timezone.now()
    dispatch = dispatch or deliver_now
    monday = week_of(ops_date(now))
    done = set(
        Notification.objects.filter(kind=Kind.DIGEST, week_of=monday).values_list(
            "recipient_key", flat=True
        )
    )
    rows = [
        Notification(
            kind=Kind.DIGEST,
            week_of=monday,
            recipient_key=f"user:{user.pk}",
            recipient=user,
            email=user.email,
            created_at=now,
        )
        for user in digest_recipients()
        if f"user:{user.pk}" not in done
    ]
    with transaction.atomic():
        Notification.objects.bulk_create(rows, ignore_conflicts=True)
    ids = list(
        Notification.objects.filter(
            kind=Kind.DIGEST, week_of=monday, sent_at__isnull=True, claimed_at__isnull=True
        ).values_list("pk", flat=True)
    )
    transaction.on_commit(lambda: dispatch(ids))
    # the weekly KPI e-mail of ops leads and compliance goes out in the same run (once a week)
    from disputes.reports.weekly import last_complete_week, send_weekly_kpis

    send_weekly_kpis(week_start=last_complete_week(ops_date(now)))
    return len(rows)
