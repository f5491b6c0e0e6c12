"""Filings derived from the case history, kept in ``ReportFiling`` so a quarter's deadline
figures read a few thousand rows instead of rebuilding millions of events.

Exact by construction: a row is computed only from case-history events, which are append-only
(PostgreSQL refuses UPDATE and DELETE), so a row once written never goes stale. What could go
wrong is a missing row. Each refresh derives every filing among the events after
``last_event_id - SLACK``: an event whose transaction committed after a higher id was already
read (ids are drawn before commit) is still picked up, and ``INSERT … ON CONFLICT DO NOTHING``
makes overlapping refreshes harmless. ``refresh_reports --full`` re-derives everything."""

from django.conf import settings
from django.db import connection, transaction

from .models import ReportRefresh

# Events written between drawing an id and committing: far more than any transaction holds.
SLACK = 1_000

# A filing: a transition that changed the stage and left the dispute submitted (Astra filed
# with the network). The previous event holds the deadlines in force just before it; the last
# stage change (or the opening) before it, when the answered stage began.
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
"""


def refresh(*, full: bool = False) -> int:
    """Add the filings recorded since the last refresh; returns how many rows were added."""
    with transaction.atomic():
        with connection.cursor() as cursor:
            # one refresher at a time; others skip (the running one covers their events)
            cursor.execute("SELECT pg_try_advisory_xact_lock(771301)")
            if not cursor.fetchone()[0]:
                return 0
            state, _ = ReportRefresh.objects.select_for_update().get_or_create(pk=1)
            cursor.execute("SELECT coalesce(max(id), 0) FROM disputes_caseevent")
            upto = cursor.fetchone()[0]
            if upto == state.last_event_id and not full:
                return 0  # nothing recorded since: the window is re-read with the next event
            since = 0 if full else max(0, state.last_event_id - SLACK)
            cursor.execute(
                INSERT_FILINGS, {"zone": settings.OPS_TIME_ZONE, "since": since, "upto": upto}
            )
            added = cursor.rowcount
        if upto != state.last_event_id:
            ReportRefresh.objects.filter(pk=1).update(last_event_id=upto)
        return added
