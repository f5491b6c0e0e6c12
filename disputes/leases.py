"""Leases on background work: is the process working on a file or a render still alive?

A worker holds a PostgreSQL session-level advisory lock on the job (a kind and an id) while it
works. A worker that dies (killed, out of memory, its machine gone) loses its connection, and
PostgreSQL lets go of the lock with it; a job still marked as running whose lock nobody holds
was left by a dead worker, and the sweep that requeues waiting work can take it up again. The
lock also keeps a second worker off a job that is being worked on.

SQLite (the demo) has no such locks: ``held`` always grants the lease and ``alive`` cannot tell,
so callers there fall back on time (a job running longer than its task's hard time limit was
killed by Celery).
"""

from contextlib import contextmanager

from django.db import connection

# One namespace per kind of job, in the high bits of the lock's 64-bit key.
KINDS = {"intake_file": 1, "bundle_version": 2}


def _key(kind: str, pk: int) -> int:
    return (KINDS[kind] << 48) + int(pk)


@contextmanager
def held(kind: str, pk: int):
    """Take the lease on a job for the block; yields True when this process holds it, False
    when another live process does (then the caller leaves the job alone)."""
    if connection.vendor != "postgresql":
        yield True
        return
    key = _key(kind, pk)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s)", [key])
        (taken,) = cursor.fetchone()
    if not taken:
        yield False
        return
    try:
        yield True
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [key])


def alive(kind: str, pk: int) -> bool | None:
    """Whether a live process holds the job's lease; None where that cannot be known (SQLite).
    Asked from the process that holds it, the answer is False: a sweep never runs inside a
    worker's own job."""
    if connection.vendor != "postgresql":
        return None
    key = _key(kind, pk)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s)", [key])
        (free,) = cursor.fetchone()
        if free:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [key])
    return not free
