"""Tasks run on a real Celery worker consuming from Redis."""

import pytest
from celery.contrib.testing.worker import start_worker
from django.db import connection

from astra_ops.celery import app
from disputes.models import CaseEvent, Dispute
from disputes.tasks import recompute_deadlines, verify_audit_chains
from tests.factories import open_dispute

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def celery_worker():
    app.control.purge()
    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10) as worker:
        yield worker


def test_the_audit_verification_task_runs_on_a_worker_and_counts_breaks(celery_worker):
    dispute = open_dispute()
    assert verify_audit_chains.delay().get(timeout=30) == 0
    with connection.cursor() as cursor:
        cursor.execute("SET session_replication_role = replica")
        cursor.execute(
            f"""UPDATE {CaseEvent._meta.db_table} SET payload = '{{"comment": "forged"}}' """
            "WHERE dispute_id = %s",
            [dispute.pk],
        )
        cursor.execute("SET session_replication_role = origin")
    assert verify_audit_chains.delay().get(timeout=30) == 1


def test_the_deadline_recompute_runs_inside_a_prefork_worker():
    """A prefork child is daemonic and may not start a process pool of its own: the recompute
    runs in-process there, and records what it moved in each dispute's history."""
    dispute = open_dispute()
    with connection.cursor() as cursor:  # a deadline the rule tables would not give
        cursor.execute(
            f"UPDATE {Dispute._meta.db_table} SET network_due = network_due + 3 WHERE id = %s",
            [dispute.pk],
        )
    app.control.purge()
    with start_worker(
        app, pool="prefork", concurrency=1, perform_ping_check=False, shutdown_timeout=20
    ):
        assert recompute_deadlines.delay().get(timeout=60) == 1
    event = CaseEvent.objects.filter(dispute=dispute).order_by("-seq").first()
    assert (event.kind, event.system_actor) == ("deadline_changed", "Deadline recompute")
