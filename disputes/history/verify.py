"""Checking the case history: every chain intact, every dispute row what its last event says,
and nothing removed since the last signed checkpoint.

What each check catches:
* the keyed hash (``chain.row_hash``): an edited row, a forged row, a rewritten and re-hashed
  chain (the key is not in the database);
* sequence and ``prev_hash`` links: a deleted or reordered row inside a chain;
* the dispute row against its last event's snapshot: a dispute edited behind the services' back
  (set closed/won with no event), a deleted last event, a deleted whole history;
* the latest checkpoint (``checkpoint.py``): deleted last rows, deleted trails, truncation,
  deleted disputes, a history cut back to an earlier consistent state.
"""

import multiprocessing
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

from . import SNAPSHOT_FIELDS, chain

# A report keeps the first breaks it finds in detail and counts the rest: an emptied table at a
# million disputes is a million breaks, and a person reads the first few and the totals.
BREAKS_KEPT = 1000


@dataclass(frozen=True)
class ChainBreak:
    dispute_id: int | None
    seq: int | None
    problem: str

    def __str__(self):
        where = "history" if self.dispute_id is None else f"dispute {self.dispute_id}"
        if self.seq is not None:
            where += f" event {self.seq}"
        return f"{where}: {self.problem}"


class _Breaks(list):
    """The breaks found, in detail up to BREAKS_KEPT; ``total`` counts them all."""

    def __init__(self, *args):
        super().__init__(*args)
        self.total = len(self)

    def append(self, chain_break):
        self.total += 1
        if len(self) < BREAKS_KEPT:
            super().append(chain_break)

    def extend(self, other):
        for chain_break in other:
            self.append(chain_break)
        self.total += getattr(other, "total", len(other)) - len(other)

    def __reduce__(self):  # to and from worker processes, with the count
        return _restore_breaks, (list(self), self.total)


def _restore_breaks(kept, total):
    breaks = _Breaks(kept)
    breaks.total = total
    return breaks


@dataclass
class VerifyReport:
    disputes: int = 0
    events: int = 0
    breaks: list[ChainBreak] = field(default_factory=_Breaks)
    checkpoint: str = ""  # the checkpoint compared against, or "" when none exists
    checkpoint_events: int | None = None  # what that checkpoint recorded
    checkpoint_disputes: int | None = None
    seconds: float = 0.0
    workers: int = 1

    @property
    def intact(self) -> bool:
        return not self.breaks

    @property
    def break_count(self) -> int:
        """Every break found, including those not kept in detail."""
        return getattr(self.breaks, "total", len(self.breaks))

    def summary(self) -> str:
        """The verdict in one sentence."""
        against = f" against checkpoint {self.checkpoint}" if self.checkpoint else ""
        counted = f"{_count(self.events, 'event')} of {_count(self.disputes, 'dispute')}"
        if self.intact:
            return f"{counted} verified{against}: every case history intact."
        return f"{_count(self.break_count, 'break')} in {counted}{against}."


def _count(number: int, noun: str) -> str:
    return f"{number:,} {noun}{'' if number == 1 else 's'}"


_EVENT_FIELDS = (*chain.CONTENT_FIELDS, "prev_hash", "row_hash")
_DISPUTE_FIELDS = ("id", *SNAPSHOT_FIELDS)


def _events(dispute_ids, chunk_size, id_range=None) -> Iterator[dict]:
    from .models import CaseEvent

    rows = CaseEvent.objects.order_by("dispute_id", "seq")
    if dispute_ids is not None:
        rows = rows.filter(dispute_id__in=list(dispute_ids))
    if id_range is not None:
        rows = rows.filter(dispute_id__gte=id_range[0], dispute_id__lte=id_range[1])
    for values in rows.values_list(*_EVENT_FIELDS).iterator(chunk_size=chunk_size):
        yield dict(zip(_EVENT_FIELDS, values, strict=True))


def _disputes(dispute_ids, chunk_size, id_range=None) -> Iterator[dict]:
    from ..models import Dispute

    rows = Dispute.objects.order_by("id")
    if dispute_ids is not None:
        rows = rows.filter(id__in=list(dispute_ids))
    if id_range is not None:
        rows = rows.filter(id__range=id_range)
    for values in rows.values_list(*_DISPUTE_FIELDS).iterator(chunk_size=chunk_size):
        yield dict(zip(_DISPUTE_FIELDS, values, strict=True))


def _check_chain(dispute_id, rows, secret, breaks) -> dict | None:
    """Check one dispute's events in order; returns the last event (or None)."""
    prev_hash, last = "", None
    for expected_seq, row in enumerate(rows, start=1):
        if row["seq"] != expected_seq:
            breaks.append(ChainBreak(dispute_id, row["seq"], f"expected event {expected_seq}"))
        if row["prev_hash"] != prev_hash:
            breaks.append(ChainBreak(dispute_id, row["seq"], "does not follow the event before"))
        if chain.row_hash(row["prev_hash"], row, secret) != row["row_hash"]:
            breaks.append(
                ChainBreak(
                    dispute_id,
                    row["seq"],
                    "content does not match its hash (edited, forged, or re-hashed without "
                    "this installation's key)",
                )
            )
        prev_hash, last = row["row_hash"], row
    return last


def _check_row(dispute, last, breaks) -> None:
    if last is None:
        breaks.append(ChainBreak(dispute["id"], None, "has no history"))
        return
    differ = [name for name in SNAPSHOT_FIELDS if dispute[name] != last[name]]
    if differ:
        fields = ", ".join(name.removesuffix("_id") for name in differ)
        breaks.append(
            ChainBreak(
                dispute["id"],
                last["seq"],
                f"the dispute's {fields} is not what its last event says",
            )
        )


def _grouped(events: Iterator[dict]) -> Iterator[tuple[int, list[dict]]]:
    current, rows = None, []
    for row in events:
        if row["dispute_id"] != current:
            if rows:
                yield current, rows
            current, rows = row["dispute_id"], []
        rows.append(row)
    if rows:
        yield current, rows


def _load_checkpoint(report):
    from . import checkpoint

    try:
        found = checkpoint.latest()
    except checkpoint.CheckpointInvalid as exc:
        report.breaks.append(ChainBreak(None, None, str(exc)))
        return None
    if found is not None:
        report.checkpoint = f"{found.name} ({found.disputes} disputes, {found.events} events)"
        report.checkpoint_disputes, report.checkpoint_events = found.disputes, found.events
    return found


def _check_against_checkpoint(dispute_id, rows, saved, breaks) -> None:
    length, head = saved
    if len(rows) < length:
        breaks.append(
            ChainBreak(
                dispute_id,
                len(rows) + 1 if rows else None,
                f"{length - len(rows)} event(s) removed since the checkpoint",
            )
        )
    elif not rows[length - 1]["row_hash"].startswith(head):
        breaks.append(ChainBreak(dispute_id, length, "history rewritten since the checkpoint"))


def verify(
    dispute_ids=None, *, chunk_size: int = 5000, use_checkpoint: bool = True, workers: int = 2
):
    """Check every chain (or those of ``dispute_ids``) against its dispute row and, when one
    exists, the latest checkpoint. Returns a VerifyReport; never raises on what it finds.

    On PostgreSQL a full check splits the dispute ids between ``workers`` processes (the cost
    is hashing in Python, one core each); inside a transaction, a Celery prefork worker or on
    SQLite it runs in this process."""
    from django.db import connection, connections

    started = time.monotonic()
    report = VerifyReport()
    saved = _load_checkpoint(report) if use_checkpoint else None
    saved_heads = saved.heads if saved else {}
    slices = _slices(saved_heads, workers) if dispute_ids is None else [None]
    in_process = (
        len(slices) < 2
        or connection.vendor != "postgresql"
        or connection.in_atomic_block
        or multiprocessing.current_process().daemon
    )
    _CONTEXT.update(dispute_ids=dispute_ids, chunk_size=chunk_size, saved_heads=saved_heads)
    if in_process:
        parts = [_verify_slice(id_range) for id_range in slices]
    else:
        report.workers = workers
        connections.close_all()  # each process opens its own
        with multiprocessing.get_context("fork").Pool(workers) as pool:
            parts = pool.map(_verify_slice, slices)
    _CONTEXT.clear()
    for part in parts:
        report.disputes += part.disputes
        report.events += part.events
        report.breaks.extend(part.breaks)
    if saved is not None and dispute_ids is None:
        _check_totals(report, saved)
    report.seconds = time.monotonic() - started
    return report


_CONTEXT: dict = {}  # what forked workers inherit: the checkpoint's heads, the options


def _slices(saved_heads, workers) -> list:
    """Dispute id ranges covering every dispute, every event and every checkpointed id."""
    from django.db.models import Max, Min

    from ..models import Dispute
    from .models import CaseEvent

    bounds = [
        *Dispute.objects.aggregate(Min("id"), Max("id")).values(),
        *CaseEvent.objects.aggregate(Min("dispute_id"), Max("dispute_id")).values(),
    ]
    if saved_heads:
        bounds += [min(saved_heads), max(saved_heads)]
    known = [b for b in bounds if b is not None]
    if not known or workers < 2:
        return [None]
    first, last = min(known), max(known)
    count = 4 * workers
    step = max(1, (last - first + count) // count)
    return [(start, min(start + step - 1, last)) for start in range(first, last + 1, step)]


def _verify_slice(id_range):
    """Check the chains of one id range (None: all, or the ids asked for)."""
    dispute_ids = _CONTEXT["dispute_ids"]
    chunk_size = _CONTEXT["chunk_size"]
    saved_heads = _CONTEXT["saved_heads"]
    report = VerifyReport()
    secret = chain.key()
    seen = set()
    chains = _grouped(_events(dispute_ids, chunk_size, id_range))
    pending = next(chains, None)
    for dispute in _disputes(dispute_ids, chunk_size, id_range):
        report.disputes += 1
        dispute_id = dispute["id"]
        while pending is not None and pending[0] < dispute_id:
            _orphans(report, pending)
            pending = next(chains, None)
        rows = []
        if pending is not None and pending[0] == dispute_id:
            rows, pending = pending[1], next(chains, None)
        report.events += len(rows)
        last = _check_chain(dispute_id, rows, secret, report.breaks)
        _check_row(dispute, last, report.breaks)
        if dispute_id in saved_heads:
            seen.add(dispute_id)
            _check_against_checkpoint(dispute_id, rows, saved_heads[dispute_id], report.breaks)
    while pending is not None:
        _orphans(report, pending)
        pending = next(chains, None)
    if dispute_ids is None:
        _check_removed(report, saved_heads, seen, id_range)
    return report


def _orphans(report, pending) -> None:
    report.events += len(pending[1])
    report.breaks.append(ChainBreak(pending[0], None, "events of a dispute that does not exist"))


def _check_removed(report, saved_heads, seen, id_range) -> None:
    """Disputes the checkpoint saw (in this id range) that no longer exist."""
    if id_range is None:
        missing = sorted(set(saved_heads) - seen)
    else:
        low, high = id_range
        missing = sorted(d for d in saved_heads if low <= d <= high and d not in seen)
    for dispute_id in missing:
        report.breaks.append(ChainBreak(dispute_id, None, "dispute removed since the checkpoint"))


def _check_totals(report, saved) -> None:
    if report.events < saved.events:
        emptied = report.events == 0
        report.breaks.append(
            ChainBreak(
                None,
                None,
                (
                    "the history is empty: the table was emptied (TRUNCATE) or every trail "
                    "deleted since "
                    if emptied
                    else f"{saved.events - report.events} fewer events than "
                )
                + f"the checkpoint of {saved.created_at} recorded "
                f"({report.events} now, {saved.events} then)",
            )
        )
