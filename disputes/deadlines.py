"""Where a dispute meets the deadline engine: which window runs now, and storing its dates."""

import multiprocessing
from collections import Counter
from dataclasses import dataclass, field
from types import SimpleNamespace

from django.db.models import Max, Min

from calendar_rules import calendars, deadlines, rules

from . import states
from .choices import Party


def current_deadline(dispute) -> deadlines.Deadline | None:
    """The window running at the dispute's stage, computed from the rule tables; None when no
    network clock runs (a closed case, an arbitration awaiting its ruling). The internal buffer
    applies to our own windows only: the counterparty's we just watch.

    Raises rules.RuleLookupError when the tables cannot count this window (e.g. R90, whose time
    frame is not yet published)."""
    clock = states.clock_for(dispute.network, dispute.flow, dispute.stage)
    if clock is None:
        return None
    anchor = getattr(dispute, clock.anchor)
    if anchor is None:
        return None
    return deadlines.compute(
        network=dispute.network,
        code=dispute.reason_code,
        stage=clock.rule_stage,
        anchor=anchor,
        buffers=None if clock.party == Party.ASTRA else {clock.rule_stage: 0},
    )


def apply_deadline(dispute) -> deadlines.Deadline | None:
    """Set the dispute's due dates, rule and explanation from its current stage (not saved).

    Where the tables cannot count the window, the dates are cleared and the explanation says
    why, so the queue shows "no network clock" with the reason instead of a made-up date."""
    clock = states.clock_for(dispute.network, dispute.flow, dispute.stage)
    try:
        deadline = current_deadline(dispute)
    except (rules.RuleLookupError, calendars.CalendarRangeError) as exc:
        deadline, why = None, f"No deadline computed: {exc}"
    else:
        why = ""
    if deadline is None:
        dispute.network_due = dispute.internal_due = None
        dispute.due_party = dispute.deadline_rule = dispute.rules_version = ""
        dispute.deadline_explanation = why
        return None
    dispute.network_due = deadline.network_due
    # The internal buffer only applies to our own windows; theirs we just watch.
    dispute.internal_due = deadline.internal_due if clock.party == "astra" else deadline.network_due
    dispute.due_party = clock.party
    dispute.deadline_rule = deadline.rule_key
    dispute.rules_version = deadline.rules_version
    dispute.deadline_explanation = deadline.explanation
    return deadline


# --- recomputing every open dispute after a rule-table change -----------------------------------

RECOMPUTE_FIELDS = (
    "network_due",
    "internal_due",
    "due_party",
    "deadline_rule",
    "rules_version",
    "deadline_explanation",
)
# A row is rewritten when its deadline would read differently; a new tables version alone does
# not rewrite it: the version stored is the one its deadline was computed with.
COMPARED_FIELDS = tuple(f for f in RECOMPUTE_FIELDS if f != "rules_version")
_READ_FIELDS = (
    "id",
    "version",
    "network",
    "reason_code",
    "stage",
    "stage_started_on",
    "return_settled_on",
    *RECOMPUTE_FIELDS,
)


class _Snapshot:
    """An open dispute as read for recomputation: just the columns the clocks need."""

    __slots__ = (*_READ_FIELDS, "flow", "old")

    def __init__(self, values):
        for name, value in zip(_READ_FIELDS, values, strict=True):
            setattr(self, name, value)
        self.flow = states.flow_of(self.network, self.reason_code)


@dataclass
class RecomputeReport:
    checked: int = 0
    changed: int = 0  # rows whose stored deadline fields differ from the tables' answer
    moved: int = 0  # of those, rows whose network or internal due date moved
    written: int = 0  # rows updated (0 on a dry run)
    skipped: int = 0  # changed by someone else between our read and our write: left alone
    moves: Counter = field(default_factory=Counter)  # (rule, days moved) → disputes
    samples: list = field(default_factory=list)  # a few (case id, old due, new due, rule)


def recompute_open_deadlines(
    *, dry_run: bool = False, chunk_size: int = 20000, workers: int = 2
) -> RecomputeReport:
    """Recompute the deadline of every open dispute from the current rule tables.

    Writes only rows whose stored fields differ, and only if the dispute's stage and version
    are still the ones read (a compare-and-set: a transition landing meanwhile wins, and has
    computed its own deadline). Each rewritten dispute gets a ``deadline_changed`` event in its
    case history (old and new dates and rule), in the same transaction, and a new version.
    Returns what moved.

    On PostgreSQL the id range is split between ``workers`` processes: the cost is the
    database rewriting rows and their queue indexes, which one backend does on one core."""
    from django.db import connection, connections

    from .choices import OPEN_WORK_STATES
    from .models import Dispute

    bounds = Dispute.objects.filter(state__in=OPEN_WORK_STATES).aggregate(
        first=Min("id"), last=Max("id")
    )
    if bounds["first"] is None:
        return RecomputeReport()
    slices = _id_slices(bounds["first"], bounds["last"], 4 * workers)
    # Other processes cannot see rows of a transaction still open here; and a daemonic process
    # (a Celery prefork worker) may not have children.
    daemonic = multiprocessing.current_process().daemon
    if connection.vendor != "postgresql" or workers < 2 or connection.in_atomic_block or daemonic:
        parts = [_recompute_slice(s, dry_run, chunk_size) for s in slices]
    else:
        connections.close_all()  # each process opens its own
        with multiprocessing.get_context("fork").Pool(workers) as pool:
            parts = pool.starmap(_recompute_slice, [(s, dry_run, chunk_size) for s in slices])
    return _merge(parts)


def _id_slices(first: int, last: int, count: int) -> list[tuple[int, int]]:
    step = max(1, (last - first + count) // count)
    return [(start, min(start + step - 1, last)) for start in range(first, last + 1, step)]


def _merge(parts) -> RecomputeReport:
    report = RecomputeReport()
    for part in parts:
        for name in ("checked", "changed", "moved", "written", "skipped"):
            setattr(report, name, getattr(report, name) + getattr(part, name))
        report.moves.update(part.moves)
        report.samples.extend(part.samples[: 20 - len(report.samples)])
    return report


def _recompute_slice(id_range, dry_run, chunk_size) -> RecomputeReport:
    from .choices import OPEN_WORK_STATES
    from .models import Dispute

    report = RecomputeReport()
    open_rows = (
        Dispute.objects.filter(state__in=OPEN_WORK_STATES, id__range=id_range)
        .order_by("id")
        .values_list(*_READ_FIELDS)
    )
    pending = []
    for values in open_rows.iterator(chunk_size=chunk_size):
        report.checked += 1
        snapshot = _Snapshot(values)
        before = tuple(getattr(snapshot, f) for f in COMPARED_FIELDS)
        apply_deadline(snapshot)
        after = tuple(getattr(snapshot, f) for f in COMPARED_FIELDS)
        if before == after:
            continue
        report.changed += 1
        _record_move(report, values, snapshot)
        snapshot.old = dict(zip(_READ_FIELDS, values, strict=True))
        pending.append(snapshot)
        if len(pending) >= chunk_size and not dry_run:
            _write(pending, report)
            pending = []
    if pending and not dry_run:
        _write(pending, report)
    return report


def _record_move(report, values, snapshot) -> None:
    old = dict(zip(_READ_FIELDS, values, strict=True))
    if (old["network_due"], old["internal_due"]) == (snapshot.network_due, snapshot.internal_due):
        return
    report.moved += 1
    new_due = snapshot.network_due
    shift = (new_due - old["network_due"]).days if old["network_due"] and new_due else None
    report.moves[(snapshot.deadline_rule or old["deadline_rule"], shift)] += 1
    if len(report.samples) < 20:
        report.samples.append((snapshot.id, old["network_due"], new_due, snapshot.deadline_rule))


RECOMPUTE_ACTOR = "Deadline recompute"


def _change_payload(s) -> dict:
    old = s.old
    return {
        "reason": f"Recomputed from the rule tables (version {s.rules_version or 'none'}).",
        "old_network_due": old["network_due"],
        "network_due": s.network_due,
        "old_internal_due": old["internal_due"],
        "internal_due": s.internal_due,
        "old_rule": old["deadline_rule"],
        "rule": s.deadline_rule,
        "rules_version": s.rules_version,
    }


def _write(snapshots, report) -> None:
    from django.db import connection

    if connection.vendor != "postgresql":
        _write_each(snapshots, report)
    else:
        _write_copy(snapshots, report)


def _write_each(snapshots, report) -> None:
    """Row by row, through the history's own writer (SQLite, the demo)."""
    from django.db import transaction
    from django.utils import timezone

    from . import history
    from .models import Dispute

    for s in snapshots:
        with transaction.atomic():
            dispute = Dispute.objects.select_for_update().filter(pk=s.id).first()
            if dispute is None or (dispute.version, dispute.stage) != (s.version, s.stage):
                report.skipped += 1
                continue
            for name in RECOMPUTE_FIELDS:
                setattr(dispute, name, getattr(s, name))
            dispute.version += 1
            dispute.updated_at = timezone.now()
            dispute.save(update_fields=[*RECOMPUTE_FIELDS, "version", "updated_at"])
            history.record_event(
                dispute=dispute,
                kind="deadline_changed",
                system_actor=RECOMPUTE_ACTOR,
                payload=_change_payload(s),
            )
            report.written += 1


def _write_copy(snapshots, report) -> None:
    """PostgreSQL: COPY the new values into a temp table, update with a compare-and-set,
    then COPY one linked event per updated dispute, all in one transaction."""
    from django.db import connection, transaction

    from .models import Dispute

    table = Dispute._meta.db_table
    columns = ", ".join(RECOMPUTE_FIELDS)
    with transaction.atomic(), connection.cursor() as cursor:
        # Safe to lose on a crash: the recompute is idempotent, a second run writes it again.
        cursor.execute("SET LOCAL synchronous_commit = off")
        cursor.execute(
            "CREATE TEMP TABLE IF NOT EXISTS recompute_deadlines ("
            "id bigint, version integer, stage varchar(32), network_due date, "
            "internal_due date, due_party varchar(12), deadline_rule varchar(64), "
            "rules_version varchar(16), deadline_explanation text) ON COMMIT DROP"
        )
        with cursor.cursor.copy(
            f"COPY recompute_deadlines (id, version, stage, {columns}) FROM STDIN"
        ) as copy:
            for s in snapshots:
                copy.write_row(
                    (s.id, s.version, s.stage, *(getattr(s, f) for f in RECOMPUTE_FIELDS))
                )
        assignments = ", ".join(f"{f} = r.{f}" for f in RECOMPUTE_FIELDS)
        snapshot_columns = ", ".join(f"d.{f}" for f in _SNAPSHOT_COLUMNS)
        cursor.execute(
            f"UPDATE {table} AS d SET {assignments}, version = d.version + 1, "
            "updated_at = now() FROM recompute_deadlines AS r "
            "WHERE d.id = r.id AND d.version = r.version AND d.stage = r.stage "
            f"RETURNING d.id, {snapshot_columns}"
        )
        updated = {row[0]: dict(zip(_SNAPSHOT_COLUMNS, row[1:], strict=True)) for row in cursor}
        report.written += len(updated)
        report.skipped += len(snapshots) - len(updated)
        _copy_events(cursor, [s for s in snapshots if s.id in updated], updated)


_SNAPSHOT_COLUMNS = (
    "stage",
    "state",
    "outcome",
    "assignee_id",
    "version",
    "network_due",
    "internal_due",
    "client_evidence_due",
    "deadline_rule",
)


def _copy_events(cursor, snapshots, updated) -> None:
    """One ``deadline_changed`` event per updated dispute, linked to its chain's head (the
    UPDATE holds the rows' locks, so no other writer can append meanwhile)."""
    import json

    from django.utils import timezone

    from . import history
    from .models import CaseEvent

    if not snapshots:
        return
    cursor.execute(
        f"SELECT DISTINCT ON (dispute_id) dispute_id, seq, row_hash FROM "
        f"{CaseEvent._meta.db_table} WHERE dispute_id = ANY(%s) ORDER BY dispute_id, seq DESC",
        [[s.id for s in snapshots]],
    )
    heads = {dispute_id: (seq, row_hash) for dispute_id, seq, row_hash in cursor.fetchall()}
    now = timezone.now()
    secret = history.chain.key()
    fields = [f.attname for f in CaseEvent._meta.concrete_fields if f.attname != "id"]
    copy_sql = f"COPY {CaseEvent._meta.db_table} ({', '.join(fields)}) FROM STDIN"
    with cursor.cursor.copy(copy_sql) as copy:
        for s in snapshots:
            seq, prev_hash = heads.get(s.id, (0, ""))
            row = history.event_row(
                dispute=SimpleNamespace(pk=s.id, **updated[s.id]),
                seq=seq + 1,
                kind="deadline_changed",
                system_actor=RECOMPUTE_ACTOR,
                payload=_change_payload(s),
                at=now,
            )
            history.chain.link([row], prev_hash, secret)
            copy.write_row([json.dumps(row[f]) if f == "payload" else row[f] for f in fields])
