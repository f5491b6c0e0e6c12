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

from collections.abc import Iterator
from dataclasses import dataclass, field

from . import SNAPSHOT_FIELDS, chain


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


@dataclass
class VerifyReport:
    disputes: int = 0
    events: int = 0
    breaks: list[ChainBreak] = field(default_factory=list)
    checkpoint: str = ""  # the checkpoint compared against, or "" when none exists

    @property
    def intact(self) -> bool:
        return not self.breaks


_EVENT_FIELDS = (*chain.CONTENT_FIELDS, "prev_hash", "row_hash")
_DISPUTE_FIELDS = ("id", *SNAPSHOT_FIELDS)


def _events(dispute_ids, chunk_size) -> Iterator[dict]:
    from .models import CaseEvent

    rows = CaseEvent.objects.order_by("dispute_id", "seq")
    if dispute_ids is not None:
        rows = rows.filter(dispute_id__in=list(dispute_ids))
    for values in rows.values_list(*_EVENT_FIELDS).iterator(chunk_size=chunk_size):
        yield dict(zip(_EVENT_FIELDS, values, strict=True))


def _disputes(dispute_ids, chunk_size) -> Iterator[dict]:
    from ..models import Dispute

    rows = Dispute.objects.order_by("id")
    if dispute_ids is not None:
        rows = rows.filter(id__in=list(dispute_ids))
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
            breaks.append(ChainBreak(dispute_id, row["seq"], "content does not match its hash"))
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


def verify(dispute_ids=None, *, chunk_size: int = 5000, use_checkpoint: bool = True):
    """Check every chain (or those of ``dispute_ids``) against its dispute row and, when one
    exists, the latest checkpoint. Returns a VerifyReport; never raises on what it finds."""
    report = VerifyReport()
    secret = chain.key()
    saved = _load_checkpoint(report) if use_checkpoint else None
    saved_heads = saved.heads if saved else {}
    seen = set()
    chains = _grouped(_events(dispute_ids, chunk_size))
    pending = next(chains, None)
    for dispute in _disputes(dispute_ids, chunk_size):
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
    if saved is not None and dispute_ids is None:
        _check_totals(report, saved, seen)
    return report


def _orphans(report, pending) -> None:
    report.events += len(pending[1])
    report.breaks.append(ChainBreak(pending[0], None, "events of a dispute that does not exist"))


def _check_totals(report, saved, seen) -> None:
    missing = sorted(set(saved.heads) - seen)
    for dispute_id in missing[:100]:
        report.breaks.append(ChainBreak(dispute_id, None, "dispute removed since the checkpoint"))
    if len(missing) > 100:
        report.breaks.append(
            ChainBreak(
                None, None, f"{len(missing) - 100} more disputes removed since the checkpoint"
            )
        )
    if report.events < saved.events:
        report.breaks.append(
            ChainBreak(
                None,
                None,
                f"{saved.events - report.events} fewer events than the checkpoint of "
                f"{saved.created_at} recorded ({report.events} now, {saved.events} then)",
            )
        )
