"""Celery tasks: thin adapters over services and selectors, each returning a count."""

import logging

from celery import shared_task

from .deadlines import recompute_open_deadlines
from .history import checkpoint
from .history.verify import verify

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


# The intake's tasks live in their package; importing them here registers them with workers.
from .intake.tasks import import_intake_file  # noqa: E402, F401
