"""Which open disputes are owed a reminder or escalation not yet recorded: one query.

The sweep runs every 15 minutes and almost every run finds nothing new, so the question "is
anything owed?" is asked of PostgreSQL in one statement: the candidates (the range scan of the
open-disputes index on ``internal_due``), each one's most urgent threshold reached today, the
people ``services.plan`` would notify, and an anti-join on the notifications already recorded
(``notif_dispute_idx``). A sweep with nothing to do reads no dispute rows into Python.

Most runs need not even ask that: ``sweep_state`` reads, in one statement, a digest of
everything the answer depends on (the day, each candidate's clocks, state and assignee, who is
reachable, who leads, who turned reminders off) beside the digest the last complete sweep
stored (``SweepMark``). The same digest means the same answer, and that sweep recorded all of it.

The query mirrors ``services.plan``; it only chooses which disputes to lock. Under the lock,
``plan`` decides again on the row itself, so the query may name a dispute that is owed nothing
(it is then left alone) but must never miss one that is owed something (the ninety-day
simulation holds the two to the same reminders).
"""

import hashlib
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache
from weakref import WeakKeyDictionary

from django.db import connection

from . import thresholds
from .models import Kind, Notification, SweepMark

OWED_SQL = """
WITH people AS MATERIALIZED (
    SELECT
        ARRAY(
            SELECT ug.user_id FROM auth_user_groups ug
            JOIN auth_group g ON g.id = ug.group_id
            JOIN auth_user u ON u.id = ug.user_id
            WHERE g.name = %s AND u.is_active AND u.email <> ''
        ) AS leads,
        ARRAY(
            SELECT user_id FROM disputes_notificationsettings WHERE NOT reminders
        ) AS reminders_off
),
candidate AS (
    SELECT c.id, c.internal_due, c.network_due, a.id AS assignee_id,
        -- the internal threshold: from the table, else (due before the table) overdue
        COALESCE(t.name, CASE WHEN c.internal_due < %s THEN %s END) AS internal_name,
        COALESCE(t.fires_on, c.internal_due + 1) AS internal_fires_on
    FROM ({candidates}) c
    LEFT JOIN unnest(%s::date[], %s::text[], %s::date[]) AS t (internal_due, name, fires_on)
        ON t.internal_due = c.internal_due
    -- only a reachable assignee counts as one (People.by_id)
    LEFT JOIN auth_user a ON a.id = c.assignee_id AND a.is_active AND a.email <> ''
),
reached AS (
    SELECT *,
        -- the network's day outranks an internal threshold that fired the same day or earlier
        COALESCE(network_due >= internal_due AND network_due <= %s
            AND (internal_name IS NULL OR network_due >= internal_fires_on), false) AS network
    FROM candidate
),
current_threshold AS (
    SELECT id, assignee_id, internal_due,
        CASE WHEN network THEN 'network' ELSE 'internal' END AS deadline,
        CASE WHEN network THEN network_due ELSE internal_due END AS due_on,
        CASE WHEN network THEN %s ELSE internal_name END AS threshold,
        CASE WHEN network THEN network_due ELSE internal_fires_on END AS fires_on
    FROM reached
    WHERE network OR internal_name IS NOT NULL
),
flagged AS (
    -- thresholds.escalates
    SELECT id, assignee_id, deadline, due_on, threshold,
        threshold = %s OR fires_on > internal_due
            OR (assignee_id IS NULL AND threshold IN (%s, %s)) AS escalation
    FROM current_threshold
),
owed AS (
    -- the assignee: unless they turned reminders off (escalations cannot be)
    SELECT t.*, t.assignee_id AS user_id FROM flagged t, people p
    WHERE t.assignee_id IS NOT NULL
        AND (t.escalation OR NOT t.assignee_id = ANY(p.reminders_off))
    UNION ALL
    -- the ops leads: escalations, and reminders of unassigned disputes
    SELECT t.*, lead.id AS user_id
    FROM flagged t, people p, unnest(p.leads) AS lead (id)
    WHERE lead.id IS DISTINCT FROM t.assignee_id
        AND (t.escalation OR (t.assignee_id IS NULL AND NOT lead.id = ANY(p.reminders_off)))
)
SELECT DISTINCT o.id FROM owed o
WHERE NOT EXISTS (
    SELECT 1 FROM {notifications} n
    WHERE n.dispute_id = o.id AND n.kind IN (%s, %s) AND n.deadline = o.deadline
        AND n.due_on = o.due_on AND n.threshold = o.threshold
        AND n.recipient_key = 'user:' || o.user_id
)
ORDER BY o.id
"""


@lru_cache(maxsize=4)
def internal_table(today: date, days_before: tuple[int, ...]) -> tuple[list, list, list]:
    """(due dates, threshold names, fire dates): the most urgent internal threshold reached on
    ``today`` for each internal due date from yesterday to the horizon (None: none yet). Every
    earlier due date has reached "overdue", the day after it: the query says so itself."""
    dues, names, fires = [], [], []
    day, last = today - timedelta(1), thresholds.horizon(today, days_before)
    while day <= last:
        reached = thresholds.current(day, None, today, days_before)
        dues.append(day)
        names.append(reached.name if reached else None)
        fires.append(reached.fires_on if reached else None)
        day += timedelta(1)
    return dues, names, fires


def owed_dispute_ids(candidates, *, today: date, days_before: tuple[int, ...]) -> list[int]:
    """The ids of the ``candidates`` (a Dispute queryset) owed a reminder or escalation that is
    not yet recorded, on PostgreSQL, in one query."""
    from .people import OPS_LEAD

    inner, inner_params = _candidates_sql(candidates)
    params = [
        OPS_LEAD,
        today,
        thresholds.OVERDUE,
        *inner_params,
        *internal_table(today, tuple(days_before)),
        today,
        thresholds.NETWORK_TODAY,
        thresholds.OVERDUE,
        thresholds.DUE_TODAY,
        thresholds.NETWORK_TODAY,
        Kind.REMINDER.value,
        Kind.ESCALATION.value,
    ]
    sql = OWED_SQL.format(candidates=inner, notifications=Notification._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [row[0] for row in cursor.fetchall()]


def _candidates_sql(candidates) -> tuple[str, tuple]:
    return candidates.values(
        "id", "internal_due", "network_due", "assignee_id"
    ).query.sql_with_params()


SWEEP_STATE_SQL = """
SELECT
    md5(concat_ws('|', %s::text,
        (SELECT string_agg(concat_ws(':', c.id, c.state, c.internal_due,
                COALESCE(c.network_due::text, '-'), COALESCE(c.assignee_id::text, '-')),
            ',' ORDER BY c.id)
         FROM ({candidates}) c),
        (SELECT string_agg(u.id::text, ',' ORDER BY u.id) FROM auth_user u
         WHERE u.is_active AND u.email <> ''),
        (SELECT string_agg(ug.user_id::text, ',' ORDER BY ug.user_id) FROM auth_user_groups ug
         JOIN auth_group g ON g.id = ug.group_id WHERE g.name = %s),
        (SELECT string_agg(user_id::text, ',' ORDER BY user_id)
         FROM disputes_notificationsettings WHERE NOT reminders)
    )),
    (SELECT fingerprint FROM {marks} WHERE name = %s),
    EXISTS ({requests}),
    -- services.redispatch_pending: recorded, unsent, unclaimed (or its claim expired)
    EXISTS (SELECT 1 FROM {notifications}
            WHERE sent_at IS NULL AND created_at < %s
                AND (claimed_at IS NULL OR claimed_at < %s))
"""
MARK = "reminders"


@dataclass(frozen=True)
class SweepState:
    fingerprint: str
    unchanged: bool  # the last complete sweep saw the same: nothing new to record
    requests_near_due: bool  # open evidence requests near their due date: chasers to decide
    pending: bool  # recorded notifications waiting for a hand-over


@lru_cache(maxsize=4)
def _compiled(today: date, days_before: tuple[int, ...]) -> tuple[str, tuple, tuple]:
    """The statement and its day-bound parameters, compiled once a day: the ORM builds the
    candidate and evidence-request queries, so their filters are written in one place only."""
    from .chasers import _open_requests
    from .services import reminder_candidates

    candidates, candidate_params = (
        reminder_candidates(today)
        .values("id", "state", "internal_due", "network_due", "assignee_id")
        .query.sql_with_params()
    )
    requests, request_params = _open_requests(today=today).values("pk").query.sql_with_params()
    sql = SWEEP_STATE_SQL.format(
        candidates=candidates,
        requests=requests,
        marks=SweepMark._meta.db_table,
        notifications=Notification._meta.db_table,
    )
    return sql, candidate_params, request_params


def sweep_state(*, today: date, now: datetime, stale: datetime, days_before) -> SweepState:
    """One statement: whether anything can be owed that the last complete sweep did not see,
    whether chasers have requests to look at, and whether anything waits to be handed over."""
    from .people import OPS_LEAD

    days_before = tuple(days_before)
    sql, candidate_params, request_params = _compiled(today, days_before)
    params = [
        f"{today} {days_before}",
        *candidate_params,
        OPS_LEAD,
        MARK,
        *request_params,
        now,
        stale,
    ]
    with connection.cursor() as cursor:
        execute_prepared(cursor, sql, params)
        fingerprint, mark, requests, pending = cursor.fetchone()
    return SweepState(fingerprint, fingerprint == mark, requests, pending)


_prepared: "WeakKeyDictionary[object, set[str]]" = WeakKeyDictionary()


def execute_prepared(cursor, sql: str, params) -> None:
    """Run ``sql`` as a statement prepared once per database connection. Any query on the
    disputes table costs ~2 ms to plan (the queue's 28 partial indexes are each weighed), ten
    times what the sweep's look takes to run; a sweep every 15 minutes on a long-lived connection
    (the command, a worker with persistent connections) plans it once."""
    name = "astra_" + hashlib.md5(sql.encode(), usedforsecurity=False).hexdigest()[:16]
    done = _prepared.setdefault(connection.connection, set())
    if name not in done:
        numbered = iter(range(1, len(params) + 1))
        cursor.execute(f"PREPARE {name} AS " + re.sub("%s", lambda _m: f"${next(numbered)}", sql))
        done.add(name)
    cursor.execute(f"EXECUTE {name} ({', '.join(['%s'] * len(params))})", params)


def remember(state: SweepState, *, now: datetime) -> None:
    """Store the digest a sweep decided on, once it has recorded all it found owed."""
    if not state.unchanged:
        SweepMark.objects.update_or_create(
            name=MARK, defaults={"fingerprint": state.fingerprint, "swept_at": now}
        )
