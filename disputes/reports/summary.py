"""The report summaries, derived from the case history up to a watermark, and read exactly.

How they stay exact
-------------------
Every act on a dispute is an event in its case history, written in the act's own transaction
(``disputes.services``), and the history is append-only. So the disputes whose figures may have
changed since event id W are exactly those with an event after W, and nothing is added to the
write path: no trigger, no extra write per act.

* The watermark is an id below which every event is committed (``settled_event_id``): ids are
  drawn before a transaction commits, so the highest id visible is not enough. On PostgreSQL the
  refresh takes a SHARE lock on the events for an instant, which waits for the transactions
  writing events to finish (at most ``LOCK_WAIT``; a writer arriving meanwhile waits as long),
  reads the highest id, and lets go: every later event gets a higher id. When writers do not
  finish in time the refresh leaves the watermark where it was and tries again at the next run.
  SQLite runs one writer at a time, so its highest id is settled as read.
* ``refresh()`` (``python manage.py refresh_reports``; Celery beat every 5 minutes) takes the
  disputes with an event after W, recomputes their facts (``ReportCase``) from their rows now,
  and moves the daily sums (``ReportDay``) by the new facts' contributions minus the old ones;
  the filings among those events become ``ReportFiling`` rows and add theirs. Facts, filings,
  sums and the new watermark commit in one transaction, so the sums are always the sums of the
  stored facts and filings.
* ``Figures`` (what a page reads, in one snapshot) takes the sums as committed and, for the
  disputes with an event after W, replaces the contributions of their stored facts by those of
  their facts computed now, and adds the filings not derived yet. A page therefore counts every
  event committed before it reads, whether the refresh ran a second or a day ago.
* ``refresh(full=True)`` (``refresh_reports --full``) derives the summaries again from every
  dispute, as from watermark 0: after a bulk load that bypassed the services, or to check. On
  PostgreSQL that derivation is done in SQL (``rebuild``), which rewrites only the rows that
  differ; elsewhere the summaries are emptied and derived in Python.

A single client's figures are summed from that client's stored facts and filings by the same
``contributions`` (``disputes.reports.facts``), then corrected the same way."""

import logging
from contextlib import contextmanager
from dataclasses import dataclass

from django.db import OperationalError, connection, transaction
from django.db.models import Max

from ..history.models import CaseEvent
from ..models import Dispute
from . import filings, rebuild
from .facts import KEY, LIVE_COLUMNS, VALUES, Fact, Sums, fact_of
from .models import ReportCase, ReportDay, ReportFiling, ReportRefresh

log = logging.getLogger(__name__)
LOCK_WAIT = "200ms"
CHUNK = 5_000
# From scratch on PostgreSQL the summaries are derived by a few statements over whole tables
# (``rebuild``) instead of in Python chunk by chunk: the same rows, as a test holds.
IN_SQL_FROM_SCRATCH = True
FACT_FIELDS = ("dispute_id", *Fact._fields[1:])


def live_facts(dispute_ids) -> list[Fact]:
    """The facts of these disputes as their rows say now."""
    rows = Dispute.objects.order_by().filter(pk__in=dispute_ids).values_list(*LIVE_COLUMNS)
    return [fact_of(row) for row in rows]


def stored_facts(dispute_ids) -> list[Fact]:
    rows = ReportCase.objects.filter(dispute_id__in=dispute_ids).values_list(*FACT_FIELDS)
    return [Fact(*row) for row in rows]


def touched_since(event_id: int, upto: int | None = None) -> list[int]:
    """The disputes with an event after ``event_id`` (up to ``upto``), in id order."""
    events = CaseEvent.objects.order_by().filter(id__gt=event_id)
    if upto is not None:
        events = events.filter(id__lte=upto)
    return sorted(set(events.values_list("dispute_id", flat=True).distinct()))


@dataclass
class Refreshed:
    watermark: int
    disputes: int
    filings: int
    sums_changed: int


def refresh(*, full: bool = False) -> Refreshed:
    """Bring the summaries up to the newest event (see the module's docstring). One refresher
    at a time: a second one waits for the first and then re-reads only its slack."""
    upto = settled_event_id()
    with transaction.atomic():
        state, _ = ReportRefresh.objects.select_for_update().get_or_create(pk=1)
        if upto is None or upto < state.last_event_id:
            log.info("events still being written: the report watermark stays for this run")
            return Refreshed(state.last_event_id, 0, 0, 0)
        since = 0 if full else state.last_event_id
        if since == 0 and connection.vendor == "postgresql" and IN_SQL_FROM_SCRATCH:
            disputes, added, changed = rebuild.derive(upto=upto)
            state.last_event_id = upto
            state.save(update_fields=["last_event_id", "refreshed_at"])
            return Refreshed(upto, disputes, added, changed)
        if full:
            _empty()
        if since == 0:  # from scratch: every dispute (each has its opening event)
            disputes = list(Dispute.objects.order_by("pk").values_list("pk", flat=True))
        else:
            disputes = touched_since(since, upto)
        sums = Sums()
        for start in range(0, len(disputes), CHUNK):
            chunk = disputes[start : start + CHUNK]
            old, new = stored_facts(chunk), live_facts(chunk)
            sums.add_facts(old, -1)
            sums.add_facts(new)
            _store_facts(chunk, old, new)
        added = filings.insert_new(since=since, upto=upto)
        sums.add_filings(added)
        changed = apply(sums)
        state.last_event_id = upto
        state.save(update_fields=["last_event_id", "refreshed_at"])
    return Refreshed(upto, len(disputes), len(added), changed)


def _empty() -> None:
    ReportDay.objects.all().delete()
    ReportCase.objects.all().delete()
    ReportFiling.objects.all().delete()


def settled_event_id() -> int | None:
    """The highest event id below which every event is committed (see the module's docstring),
    or None when the transactions writing events did not finish within ``LOCK_WAIT``."""

    def highest():
        return CaseEvent.objects.aggregate(top=Max("id"))["top"] or 0

    if connection.vendor != "postgresql":
        return highest()
    try:
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute(f"SET LOCAL lock_timeout = '{LOCK_WAIT}'")
                cursor.execute("LOCK TABLE disputes_caseevent IN SHARE MODE")
            return highest()
    except OperationalError:
        return None


def _store_facts(chunk, old: list[Fact], new: list[Fact]) -> None:
    if old:
        ReportCase.objects.filter(dispute_id__in=chunk).delete()
    ReportCase.objects.bulk_create(
        [ReportCase(**dict(zip(FACT_FIELDS, f, strict=True))) for f in new], batch_size=CHUNK
    )


def apply(sums: Sums) -> int:
    """Add ``sums`` to ``ReportDay``: rows created, moved, or deleted when they fall to zero.
    Returns how many rows changed."""
    changes = [(k, v) for k, v in sums.items() if any(v)]
    days = sorted({k[1] for k, _v in changes})
    existing = {}
    for start in range(0, len(days), 100):
        rows = ReportDay.objects.filter(
            day__in=days[start : start + 100], measure__in={k[0] for k, _v in changes}
        )
        existing.update({tuple(getattr(r, f) for f in KEY): r for r in rows})
    create, update, delete = [], [], []
    for k, values in changes:
        row = existing.get(k)
        if row is None:
            create.append(ReportDay(**dict(zip(KEY, k, strict=True)),
                                    **dict(zip(VALUES, values, strict=True))))  # fmt: skip
            continue
        for name, value in zip(VALUES, values, strict=True):
            setattr(row, name, getattr(row, name) + value)
        (delete if not any(getattr(row, n) for n in VALUES) else update).append(row)
    ReportDay.objects.bulk_create(create, batch_size=CHUNK)
    ReportDay.objects.bulk_update(update, VALUES, batch_size=1_000)
    for start in range(0, len(delete), 1_000):
        ReportDay.objects.filter(pk__in=[r.pk for r in delete[start : start + 1_000]]).delete()
    return len(create) + len(update) + len(delete)


def watermark() -> int:
    return ReportRefresh.objects.filter(pk=1).values_list("last_event_id", flat=True).first() or 0


def pending(*, since: int, client_id=None) -> tuple[Sums, list]:
    """What the stored summaries miss: the change of every dispute with an event after
    ``since`` (its facts now minus its stored facts) and the filings not derived yet."""
    disputes = touched_since(since)
    if client_id:
        disputes = list(
            Dispute.objects.order_by()
            .filter(pk__in=disputes, client_id=client_id)
            .values_list("pk", flat=True)
        )
    sums = Sums()
    for start in range(0, len(disputes), CHUNK):
        chunk = disputes[start : start + CHUNK]
        sums.add_facts(stored_facts(chunk), -1)
        sums.add_facts(live_facts(chunk))
    new_filings = [f for f, _stage in filings.derive(since=since, client_id=client_id)]
    sums.add_filings(new_filings)
    return sums, new_filings


@contextmanager
def one_snapshot():
    """Read the summaries, the facts and the disputes in one snapshot: on PostgreSQL a
    repeatable-read transaction (a refresh committing halfway through a page would otherwise be
    counted half). Inside a transaction already open, that transaction decides."""
    if connection.in_atomic_block:
        yield
        return
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        yield
