"""What the queue's indexes cost the writes: ``benchmark_queue --write-cost``.

Each round times, on the same disputes, three workloads with every index in place and with a
set of indexes dropped, side by side:

- ``recompute_open_deadlines`` over a sample of open disputes whose stored dates were moved
  first (so every one of them is rewritten, with its ``deadline_changed`` event);
- claims of unassigned new disputes (``services.claim``);
- closings (``services.accept_liability``), which move a dispute from the open indexes to the
  closed ones.

A variant runs in one transaction that drops its indexes (PostgreSQL drops an index inside a
transaction and brings it back on rollback), does the work and rolls back, so every variant and
every round starts from the same rows. The variants take turns within a round; the report gives
each one's median over the rounds and its ratio to the run with every index.
"""

import os
import re
import statistics
import time
from dataclasses import dataclass

from django.db import connection, transaction
from django.db.models import Q

from disputes import services
from disputes.choices import OPEN_WORK_STATES, WorkState
from disputes.deadlines import recompute_open_deadlines
from disputes.models import Dispute, business_today

# Added for the closed and "open or closed" views (migration queue_closed_indexes).
CLOSED_VIEW_INDEXES = (
    "dispute_closed_netdue_idx",
    "dispute_closed_received_idx",
    "dispute_closed_amount_idx",
    "dispute_closed_case_idx",
    "dispute_closed_network_idx",
    "dispute_closed_reason_idx",
    "dispute_closed_client_idx",
    "dispute_closed_assignee_idx",
)


# Widened to carry the views' columns (migration queue_view_columns_in_sort_indexes): the
# "as before" variant puts them back as they were, (sort key, id) alone.
WIDENED_OPEN_INDEXES = (
    "dispute_open_due_idx",
    "dispute_open_netdue_idx",
    "dispute_open_received_idx",
    "dispute_open_amount_idx",
    "dispute_open_case_idx",
    "dispute_open_network_idx",
    "dispute_open_reason_idx",
    "dispute_open_stage_idx",
    "dispute_open_state_idx",
    "dispute_open_client_idx",
    "dispute_open_assignee_idx",
)


@dataclass(frozen=True)
class Variant:
    """Indexes dropped, and indexes rebuilt without their INCLUDE columns, for one run."""

    dropped: tuple[str, ...] = ()
    narrowed: tuple[str, ...] = ()


class _Rollback(Exception):
    pass


@dataclass
class Workload:
    recompute_ids: list[int]
    claim_ids: list[tuple[int, int]]  # (id, version)
    close_ids: list[tuple[int, int]]


def queue_sort_indexes() -> tuple[str, ...]:
    """Every index of the queue's sorts and views on the dispute table (open and closed)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname FROM pg_indexes WHERE tablename = %s "
            "AND (indexname LIKE 'dispute\\_open\\_%%' OR indexname LIKE 'dispute\\_closed\\_%%')",
            [Dispute._meta.db_table],
        )
        found = {name for (name,) in cursor.fetchall()}
    return tuple(sorted(found | set(CLOSED_VIEW_INDEXES)))


def pick(batch: int, slots: int) -> list[Workload]:
    """``slots`` workloads of ``batch`` disputes each, no dispute in two of them, each spread
    over the whole table: open ones with a deadline to recompute, new unassigned ones to claim,
    open ones to close. Each run gets its own disputes, so no run passes the row versions and
    index entries an earlier, rolled-back run left on the same rows."""
    count = batch * slots
    open_due = Dispute.objects.filter(state__in=OPEN_WORK_STATES, internal_due__isnull=False)
    recompute_ids = _spread(open_due.values_list("id", flat=True), count)
    new = Dispute.objects.filter(state=WorkState.NEW, assignee__isnull=True)
    new = new.exclude(id__in=recompute_ids)
    others = Dispute.objects.filter(state__in=[WorkState.IN_REVIEW, WorkState.SUBMITTED])
    others = others.exclude(id__in=recompute_ids)
    claim_ids = _spread(new.values_list("id", "version"), count)
    close_ids = _spread(others.values_list("id", "version"), count)
    return [
        Workload(recompute_ids[slot::slots], claim_ids[slot::slots], close_ids[slot::slots])
        for slot in range(slots)
    ]


def _spread(rows, count: int) -> list:
    """``count`` rows evenly spaced through ``rows`` in id order (the same ones every run)."""
    found = list(rows.order_by("id"))
    step = max(1, len(found) // max(count, 1))
    return found[::step][:count]


def _backend_seconds() -> float:
    """CPU seconds this connection's PostgreSQL backend has used (when the database runs on this
    machine; 0 otherwise): with this process's own, the work's CPU time, which a busy machine
    changes far less than wall-clock time."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        (pid,) = cursor.fetchone()
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class _Clock:
    """Wall-clock and CPU time (this process and its database backend) of each part."""

    def __init__(self):
        self.timings: dict[str, tuple[float, float]] = {}

    def start(self):
        self.wall, self.cpu = time.perf_counter(), time.process_time() + _backend_seconds()

    def stop(self, part: str):
        cpu = time.process_time() + _backend_seconds() - self.cpu
        self.timings[part] = (time.perf_counter() - self.wall, cpu)


def run_variant(workload: Workload, lead, variant: Variant) -> dict:
    """(wall, CPU) seconds each workload took with the variant's indexes dropped or narrowed
    (built again, before the clock starts, without their INCLUDE columns); nothing kept."""
    clock = _Clock()
    try:
        with transaction.atomic():
            with connection.cursor() as cursor:
                for name in variant.dropped:
                    cursor.execute(f'DROP INDEX IF EXISTS "{name}"')
                # Every variant writes into open sort indexes built afresh here, narrowed or
                # not: an index in place for the whole run would carry the dead entries of
                # every rolled-back run before it (no vacuum runs between them), a rebuilt one
                # none, and the comparison would be of their ages, not their columns.
                for name in WIDENED_OPEN_INDEXES:
                    if name in variant.dropped:
                        continue
                    cursor.execute("SELECT pg_get_indexdef(to_regclass(%s))", [name])
                    (definition,) = cursor.fetchone()
                    if definition is None:
                        continue
                    cursor.execute(f'DROP INDEX "{name}"')
                    if name in variant.narrowed:
                        definition = re.sub(r" INCLUDE \([^)]*\)", "", definition)
                    cursor.execute(definition)
                # Move the stored dates so the recomputation has every sampled dispute to write.
                cursor.execute(
                    f"UPDATE {Dispute._meta.db_table} SET internal_due = internal_due - 1, "
                    "network_due = network_due - 1 WHERE id = ANY(%s)",
                    [workload.recompute_ids],
                )
            clock.start()
            report = recompute_open_deadlines(where=Q(id__in=workload.recompute_ids))
            clock.stop("recompute")
            assert report.written == len(workload.recompute_ids), report
            clock.start()
            for pk, version in workload.claim_ids:
                services.claim(dispute_id=pk, actor=lead, expected_version=version)
            clock.stop("claim")
            today = business_today()
            clock.start()
            for pk, version in workload.close_ids:
                services.accept_liability(
                    dispute_id=pk, actor=lead, expected_version=version, on=today
                )
            clock.stop("close")
            raise _Rollback
    except _Rollback:
        pass
    return clock.timings


def measure(workloads: list[Workload], lead, variants: dict[str, tuple], rounds: int, write):
    """Each variant once per round, on disputes of its own, the order of the variants turning
    from round to round, after one round that warms the caches and is not counted; returns
    {variant: {workload: [(wall, CPU)…]}}."""
    names = list(variants)
    found = {name: {} for name in names}
    for round_number in range(rounds + 1):
        turn = round_number % len(names)
        for name in names[turn:] + names[:turn]:
            slot = round_number * len(names) + names.index(name)
            timings = run_variant(workloads[slot], lead, variants[name])
            if round_number == 0:
                continue
            for part, figures in timings.items():
                found[name].setdefault(part, []).append(figures)
            write(
                f"  round {round_number}, {name}: "
                + ", ".join(
                    f"{part} {wall:.2f} s (CPU {cpu:.2f})" for part, (wall, cpu) in timings.items()
                )
            )
    return found


def summary(found: dict, workload: Workload, write) -> None:
    """Each workload's median wall-clock and CPU time per variant, and how much slower it is
    with every index than without the variant's ones."""
    baseline = next(iter(found))
    sizes = {
        "recompute": len(workload.recompute_ids),
        "claim": len(workload.claim_ids),
        "close": len(workload.close_ids),
    }
    write(
        f"\n{'workload':<10} {'variant':<36} {'wall s':>7} {'CPU s':>7} {'CPU ms/row':>10} "
        f"{'slower with all: wall':>22} {'CPU':>6}"
    )
    for part, size in sizes.items():
        wall_all = statistics.median(w for w, _c in found[baseline][part])
        cpu_all = statistics.median(c for _w, c in found[baseline][part])
        for name, parts in found.items():
            wall = statistics.median(w for w, _c in parts[part])
            cpu = statistics.median(c for _w, c in parts[part])
            per_row = 1000 * cpu / max(size, 1)
            write(
                f"{part:<10} {name:<36} {wall:>7.3f} {cpu:>7.3f} {per_row:>10.2f} "
                f"{100 * (wall_all / wall - 1):>21.1f}% {100 * (cpu_all / cpu - 1):>5.1f}%"
            )
