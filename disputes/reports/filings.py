"""Filings derived from the case history: a transition that changed the stage and left the
dispute submitted (Astra filed with the network), with the deadlines in force just before it
(the previous event's snapshot) and the day the answered stage began (the last stage change, or
the opening, before it).

A filing is computed only from case-history events, which are append-only (PostgreSQL refuses
UPDATE and DELETE), so a ``ReportFiling`` row once written never goes stale. ``derive`` finds the
filings among a range of event ids that are not rows yet: on PostgreSQL by one statement that
inserts them, elsewhere (the SQLite demo) in Python, with the same result (a test holds them
together)."""

from django.conf import settings
from django.db import connection

from ..history.models import CaseEvent
from ..models import Dispute
from .facts import Filing, ops_date
from .models import ReportFiling

PG_STEP = 2_000_000

INSERT_FILINGS = """
INSERT INTO disputes_reportfiling (event_id, dispute_id, network, client_id, answered_stage,
    filed_stage, stage_started_on, filed_on, internal_due, network_due)
SELECT e.id, e.dispute_id, d.network, d.client_id, p.stage, e.stage,
    (s.created_at AT TIME ZONE %(zone)s)::date, (e.created_at AT TIME ZONE %(zone)s)::date,
    p.internal_due, p.network_due
FROM disputes_caseevent e
JOIN disputes_caseevent p ON p.dispute_id = e.dispute_id AND p.seq = e.seq - 1
JOIN disputes_dispute d ON d.id = e.dispute_id
CROSS JOIN LATERAL (
    SELECT q.created_at FROM disputes_caseevent q
    WHERE q.dispute_id = e.dispute_id AND q.seq < e.seq
      AND (q.kind = 'opened' OR (q.kind = 'transition' AND q.payload->>'from_stage' <> q.stage))
    ORDER BY q.seq DESC LIMIT 1
) s
WHERE e.id > %(since)s AND e.id <= %(upto)s AND e.kind = 'transition' AND e.state = 'submitted'
  AND e.payload->>'from_stage' <> e.stage
ON CONFLICT (event_id) DO NOTHING
RETURNING event_id, dispute_id, network, client_id, answered_stage, stage_started_on, filed_on,
    internal_due, network_due
"""


def insert_new(*, since: int, upto: int) -> list[Filing]:
    """Write the filings among events (since, upto] that are not rows yet; returns them."""
    if connection.vendor == "postgresql":
        found = []
        with connection.cursor() as cursor:
            for low in range(since, upto, PG_STEP):  # steps keep what comes back small
                high = min(upto, low + PG_STEP)
                cursor.execute(
                    INSERT_FILINGS, {"zone": settings.OPS_TIME_ZONE, "since": low, "upto": high}
                )
                found.extend(Filing(*row) for row in cursor.fetchall())
        return found
    found = derive(since=since, upto=upto)
    ReportFiling.objects.bulk_create(
        [ReportFiling(filed_stage=stage, **f._asdict()) for f, stage in found]
    )
    return [f for f, _stage in found]


def _is_stage_change(kind, stage, payload) -> bool:
    # as the SQL: a transition without from_stage is no stage change (NULL <> stage)
    from_stage = (payload or {}).get("from_stage")
    return kind == "transition" and from_stage is not None and from_stage != stage


def derive(*, since: int, upto: int | None = None, client_id=None) -> list[tuple[Filing, str]]:
    """(filing, filed stage) of every filing among events (since, upto] with no row yet, in
    Python: what the page adds past the watermark, and the refresh on SQLite."""
    events = CaseEvent.objects.order_by().filter(id__gt=since, kind="transition", state="submitted")
    if upto is not None:
        events = events.filter(id__lte=upto)
    if client_id:
        events = events.filter(dispute__client_id=client_id)
    candidates = [
        (pk, dispute_id, seq, stage)
        for pk, dispute_id, seq, stage, payload in events.values_list(
            "id", "dispute_id", "seq", "stage", "payload"
        )
        if _is_stage_change("transition", stage, payload)
    ]
    known = set(
        ReportFiling.objects.filter(event_id__in=[c[0] for c in candidates]).values_list(
            "event_id", flat=True
        )
    )
    candidates = [c for c in candidates if c[0] not in known]
    if not candidates:
        return []
    disputes = {c[1] for c in candidates}
    parties = {
        pk: (network, client)
        for pk, network, client in Dispute.objects.order_by()
        .filter(pk__in=disputes)
        .values_list("pk", "network", "client_id")
    }
    histories: dict[int, dict[int, tuple]] = {}
    rows = (
        CaseEvent.objects.order_by()
        .filter(dispute_id__in=disputes)
        .values_list("dispute_id", "seq", "kind", "stage", "payload", "created_at",
                     "internal_due", "network_due")
    )  # fmt: skip
    for dispute_id, seq, *rest in rows:
        histories.setdefault(dispute_id, {})[seq] = tuple(rest)
    found = []
    for pk, dispute_id, seq, stage in candidates:
        filing = _filing(pk, dispute_id, seq, histories[dispute_id], parties[dispute_id])
        if filing is not None:
            found.append((filing, stage))
    return found


def _filing(pk, dispute_id, seq, history, party) -> Filing | None:
    previous = history.get(seq - 1)
    began = next(
        (
            history[q][3]
            for q in range(seq - 1, 0, -1)
            if q in history and (history[q][0] == "opened" or _is_stage_change(*history[q][:3]))
        ),
        None,
    )
    if previous is None or began is None:
        return None  # as the SQL's joins: no previous event or stage start, no filing
    _kind, answered, _payload, _at, internal_due, network_due = previous
    filed_at = history[seq][3]
    return Filing(pk, dispute_id, *party, answered, ops_date(began), ops_date(filed_at),
                  internal_due, network_due)  # fmt: skip
