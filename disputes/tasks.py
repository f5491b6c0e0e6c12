"""Celery tasks: thin adapters over services and selectors, each returning a count."""

import logging

from celery import shared_task

from .deadlines import recompute_open_deadlines
from .history import checkpoint
from .history.verify import verify
from .missed.services import record_missed_deadlines as _record_missed_deadlines

log = logging.getLogger(__name__)


@shared_task(time_limit=60 * 60, soft_time_limit=59 * 60)
def verify_audit_chains() -> int:
    """Verify every case history against its dispute row and the latest checkpoint; when
    everything is intact, write a new signed checkpoint. Returns the number of breaks (logged).
    A broken history is never checkpointed: the next check still compares against the last
    good one."""
    report = verify()
    for chain_break in report.breaks:
        log.error("case history broken: %s", chain_break)
    log.info(
        "case histories verified: %s events of %s disputes, %s breaks",
        report.events,
        report.disputes,
        len(report.breaks),
    )
    if report.intact:
        written = checkpoint.write()
        log.info("checkpoint %s written", written.name)
    return len(report.breaks)


@shared_task(time_limit=30 * 60, soft_time_limit=29 * 60)
def recompute_deadlines() -> int:
    """Recompute every open dispute's deadline from the rule tables; returns disputes written.
    Runs in-process inside a worker (a prefork child may not fork a pool of its own)."""
    report = recompute_open_deadlines()
    log.info("deadlines recomputed: %s checked, %s written", report.checked, report.written)
    return report.written


@shared_task(time_limit=30 * 60, soft_time_limit=29 * 60)
def record_missed_deadlines() -> int:
    """Record each of our windows that passed with no filing, once; returns how many. Safe
    to repeat and to run late (a sweep over state)."""
    recorded = _record_missed_deadlines()
    log.info("missed deadlines recorded: %s", recorded)
    return recorded


@shared_task(time_limit=60 * 60, soft_time_limit=59 * 60)
def run_audit(run_id: int) -> int:
    """A verification or checkpoint asked for from the case-history page; returns the number
    of breaks found (0 for a checkpoint)."""
    from .history.runs import perform

    return perform(run_id).break_count or 0


# Tasks of the feature packages live in them; imported here so the worker registers them.
from .evidence.tasks import expire_evidence_requests  # noqa: E402, F401
from .intake.tasks import import_intake_file  # noqa: E402, F401
from .notifications import tasks as notification_tasks  # noqa: E402, F401
from .reports import tasks as report_tasks  # noqa: E402, F401
