"""A file left "Importing" by a worker that died is imported again by the requeue sweep; a file a
live worker is importing is left to it. A worker holds a lease (``disputes.leases``) while it
imports; a second database session stands in for another worker, and closing it for its death
(PostgreSQL lets go of a dead session's locks)."""

from datetime import timedelta

import psycopg
import pytest
from django.db import connection
from django.utils import timezone

from disputes import leases
from disputes.intake import services
from disputes.intake.models import IntakeFile
from disputes.models import Dispute
from tests.intake.fixtures import two_batches
from tests.intake.test_nacha_import import acme  # noqa: F401 (a fixture)

# Every file here comes from ACME, the originator on file.
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("acme")]


@pytest.fixture
def other_worker():
    """Another worker's database session."""
    found = connection.settings_dict
    session = psycopg.connect(
        dbname=found["NAME"],
        host=found["HOST"] or None,
        port=found["PORT"] or None,
        user=found["USER"] or None,
        password=found["PASSWORD"] or None,
        autocommit=True,
    )
    yield session
    session.close()


@pytest.fixture
def published(monkeypatch):
    sent = []
    monkeypatch.setattr("astra_ops.celery.publish", lambda task, *args: sent.append(args) or True)
    return sent


def left_importing(minutes_ago: int) -> IntakeFile:
    """A file whose worker claimed it and died: its import's transaction rolled back, its status
    says "Importing"."""
    intake_file, _ = services.receive_file(
        kind=IntakeFile.Kind.NACHA, name="RET20261130.ach", content=two_batches().encode()
    )
    started = timezone.now() - timedelta(minutes=minutes_ago)
    IntakeFile.objects.filter(pk=intake_file.pk).update(
        status=IntakeFile.Status.RUNNING, started_at=started, created_at=started, done=120
    )
    return intake_file


def test_a_file_whose_worker_died_is_queued_again_and_imports(published):
    stuck = left_importing(minutes_ago=10)
    assert services.requeue_waiting() == 1
    assert published == [(stuck.pk,)]
    stuck.refresh_from_db()
    assert (stuck.status, stuck.done) == (IntakeFile.Status.PENDING, 0)  # "Waiting to import"
    imported = services.import_file(intake_file_id=stuck.pk)  # what the queued task runs
    assert imported.status == IntakeFile.Status.DONE, imported.error
    assert Dispute.objects.filter(network="nacha").count() == 3
    assert services.requeue_waiting() == 0  # imported once: nothing left to queue


def test_a_file_a_live_worker_is_importing_is_left_to_it(published, other_worker):
    busy = left_importing(minutes_ago=10)
    other_worker.execute("SELECT pg_advisory_lock(%s)", [leases._key("intake_file", busy.pk)])
    assert leases.alive("intake_file", busy.pk) is True
    assert services.requeue_waiting() == 0 and published == []
    # a second task for the same file (queued twice) does not import it beside the first
    again = services.import_file(intake_file_id=busy.pk)
    assert again.status == IntakeFile.Status.RUNNING
    assert not Dispute.objects.filter(network="nacha").exists()
    other_worker.close()  # the worker dies: its session, and the lease, go
    assert leases.alive("intake_file", busy.pk) is False
    assert services.requeue_waiting() == 1
    assert services.import_file(intake_file_id=busy.pk).status == IntakeFile.Status.DONE


def test_a_file_just_started_is_not_taken_for_dead(published):
    left_importing(minutes_ago=1)  # younger than the sweep's two minutes
    assert services.requeue_waiting() == 0 and published == []


@pytest.mark.parametrize("minutes_ago, requeued", [(29, 0), (31, 1)])
def test_without_leases_only_the_task_time_limit_tells(
    published, monkeypatch, minutes_ago, requeued
):
    """Where a lease cannot be asked (SQLite), an import running past the task's hard time
    limit (30 minutes: Celery has killed it by then) is the only sign of a dead worker."""
    monkeypatch.setattr(leases, "alive", lambda kind, pk: None)
    left_importing(minutes_ago=minutes_ago)
    assert services.requeue_waiting() == requeued
