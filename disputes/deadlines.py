"""Where a dispute meets the deadline engine: which window runs now, and storing its dates."""

import multiprocessing
from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from types import SimpleNamespace

from django.db.models import Max, Min

from calendar_rules import calendars, cutoffs, deadlines, rules

from . import states
from .choices import Party


@dataclass(frozen=True, slots=True)
class DeadlineLayers:
    """The dates that bound the window running now, earliest last in importance but first in
    urgency: the network's date (its rule, or the window a lead set for Astra), the processor's
    or sponsor bank's cut-off, and the internal target (the buffer counted back from the
    earlier of the two). Counterparty windows have no cut-off and no buffer."""

    deadline: deadlines.Deadline
    ours: bool
    confirmation: object = None  # confirmed_rules.models.RuleConfirmation in effect
    cutoff: cutoffs.Cutoff | None = None
    cutoff_due: date | None = None
    internal_due: date | None = None

    @property
    def binding_due(self) -> date:
        """The earliest outside date: the cut-off when it comes before the network's."""
        due = self.deadline.network_due
        return min(due, self.cutoff_due) if self.cutoff_due else due

    @property
    def explanation(self) -> str:
        d = self.deadline
        if not self.ours:
            return d.explanation
        text = d.network_sentence
        if self.cutoff_due:
            text += (
                f"; {self.cutoff.name.lower()} cut-off {self.cutoff.window_text} → "
                f"{self.cutoff_due}"
            )
        buffer = d.buffer_days
        if buffer:
            before = "the cut-off" if self.binding_due != d.network_due else "the network date"
            text += (
                f"; internal buffer {buffer} business day{'s' if buffer != 1 else ''} before "
                f"{before} → {self.internal_due}"
            )
        return text


def _confirmations(confirmations):
    if confirmations is not None:
        return confirmations
    from .confirmed_rules.selectors import ConfirmationIndex

    return ConfirmationIndex.load()


def current_layers(dispute, confirmations=None) -> DeadlineLayers | None:
    """The window running at the dispute's stage with its layers; None when no network clock
    runs (a closed case, an arbitration awaiting its ruling). ``confirmations`` is a
    ``ConfirmationIndex`` (loaded here when not given).

    Raises rules.RuleLookupError when the tables cannot count this window and no lead has set
    it (e.g. R90, whose time frame is not yet published)."""
    clock = states.clock_for(dispute.network, dispute.flow, dispute.stage)
    if clock is None:
        return None
    anchor = getattr(dispute, clock.anchor)
    if anchor is None:
        return None
    ours = clock.party == Party.ASTRA
    args = {
        "network": dispute.network,
        "code": dispute.reason_code,
        "stage": clock.rule_stage,
        "anchor": anchor,
        "buffers": None if ours else {clock.rule_stage: 0},
    }
    confirmations = _confirmations(confirmations)
    try:
        deadline = deadlines.compute(**args)
        rule_key = deadline.rule_key
    except rules.WindowNotPublished:
        deadline = None
        rule_key = rules.stage_rule(dispute.network, dispute.reason_code, clock.rule_stage).rule_key
    confirmation = confirmations.in_effect(rule_key, anchor) if confirmations else None
    override = confirmation.days if confirmation is not None else None
    if override is not None and (deadline is None or override != deadline.days):
        deadline = deadlines.compute(**args, window_days=override)
    if deadline is None:
        raise rules.WindowNotPublished(
            rules.stage_rule(dispute.network, dispute.reason_code, clock.rule_stage).unavailable
        )
    return _layered(deadline, ours, confirmation, clock.rule_stage, anchor)


def _layered(deadline, ours, confirmation, stage, anchor) -> DeadlineLayers:
    if not ours:
        return DeadlineLayers(deadline, ours, confirmation, internal_due=deadline.network_due)
    cutoff = cutoffs.cutoff_for(deadline.network, stage, anchor)
    cutoff_due = cutoff.due(anchor) if cutoff else None
    if cutoff_due is not None and cutoff_due >= deadline.network_due:
        cutoff, cutoff_due = None, None  # no earlier than the network's date: no layer
    layers = DeadlineLayers(deadline, ours, confirmation, cutoff, cutoff_due)
    buffer = deadline.buffer_days
    binding = layers.binding_due
    internal = calendars.FED.add_banking_days(binding, -buffer) if buffer else binding
    return DeadlineLayers(deadline, ours, confirmation, cutoff, cutoff_due, internal)


def current_deadline(dispute, confirmations=None) -> deadlines.Deadline | None:
    """The network rule's deadline of the window running now (see ``current_layers``)."""
    layers = current_layers(dispute, confirmations)
    return layers.deadline if layers else None


def apply_deadline(dispute, confirmations=None) -> DeadlineLayers | None:
    """Set the dispute's due dates, rule and explanation from its current stage (not saved).

    Where the tables cannot count the window, the dates are cleared and the explanation says
    why, so the queue shows "no network clock" with the reason instead of a made-up date."""
    clock = states.clock_for(dispute.network, dispute.flow, dispute.stage)
    try:
        layers = current_layers(dispute, confirmations)
    except (rules.RuleLookupError, calendars.CalendarRangeError) as exc:
        layers, why = None, f"No deadline computed: {_reason(exc)}"
    else:
        why = ""
    if layers is None:
        dispute.network_due = dispute.internal_due = None
        dispute.due_party = dispute.deadline_rule = dispute.rules_version = ""
        dispute.deadline_explanation = why
        return None
    deadline = layers.deadline
    dispute.network_due = deadline.network_due
    dispute.internal_due = layers.internal_due
    dispute.due_party = clock.party
    dispute.deadline_rule = deadline.rule_key
    dispute.rules_version = deadline.rules_version
    dispute.deadline_explanation = layers.explanation
    return layers


def _reason(exc: Exception) -> str:
    """The refusal in a reader's words (the rule tables' messages name the rule key)."""
    text = str(exc)
    return text[0].lower() + text[1:] if text else "the rule tables cannot count this window"


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
    *, dry_run: bool = False, chunk_size: int = 20000, workers: int = 2, where=None
) -> RecomputeReport:
    """Recompute the deadline of every open dispute from the current rule tables.

    Writes only rows whose stored fields differ, and only if the dispute's stage and version
    are still the ones read (a compare-and-set: a transition landing meanwhile wins, and has
    computed its own deadline). Each rewritten dispute gets a ``deadline_changed`` event in its
    case history (old and new dates and rule), in the same transaction, and a new version.
    Returns what moved. ``where`` (a ``Q``) narrows the disputes looked at, e.g. to those of
    one rule after a lead confirmed it.

    On PostgreSQL the id range is split between ``workers`` processes: the cost is the
    database rewriting rows and their queue indexes, which one backend does on one core."""
    from django.db import connection, connections

    from .choices import OPEN_WORK_STATES
    from .models import Dispute

    scope = Dispute.objects.filter(state__in=OPEN_WORK_STATES)
    if where is not None:
        scope = scope.filter(where)
    bounds = scope.aggregate(first=Min("id"), last=Max("id"))
    if bounds["first"] is None:
        return RecomputeReport()
    slices = _id_slices(bounds["first"], bounds["last"], 4 * workers)
    # Other processes cannot see rows of a transaction still open here; and a daemonic process
    # (a Celery prefork worker) may not have children.
    daemonic = multiprocessing.current_process().daemon
    if connection.vendor != "postgresql" or workers < 2 or connection.in_atomic_block or daemonic:
        parts = [_recompute_slice(s, dry_run, chunk_size, where) for s in slices]
    else:
        connections.close_all()  # each process opens its own
        with multiprocessing.get_context("fork").Pool(workers) as pool:
            parts = pool.starmap(
                _recompute_slice, [(s, dry_run, chunk_size, where) for s in slices]
            )
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


def _recompute_slice(id_range, dry_run, chunk_size, where=None) -> RecomputeReport:
    from .choices import OPEN_WORK_STATES
    from .confirmed_rules.selectors import ConfirmationIndex
    from .models import Dispute

    report = RecomputeReport()
    confirmations = ConfirmationIndex.load()
    open_rows = Dispute.objects.filter(state__in=OPEN_WORK_STATES, id__range=id_range)
    if where is not None:
        open_rows = open_rows.filter(where)
    open_rows = open_rows.order_by("id").values_list(*_READ_FIELDS)
    pending = []
    for values in open_rows.iterator(chunk_size=chunk_size):
        report.checked += 1
        snapshot = _Snapshot(values)
        before = tuple(getattr(snapshot, f) for f in COMPARED_FIELDS)
        apply_deadline(snapshot, confirmations)
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
