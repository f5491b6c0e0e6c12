"""Tasks run on a real Celery worker consuming from Redis."""

import pytest
from celery.contrib.testing.worker import start_worker
from django.db import connection

from astra_ops.celery import app
from disputes.models import DisputeTransition
from disputes.tasks import verify_audit_chains
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
            f"UPDATE {DisputeTransition._meta.db_table} SET comment = 'forged' "
            "WHERE dispute_id = %s",
            [dispute.pk],
        )
        cursor.execute("SET session_replication_role = origin")
    assert verify_audit_chains.delay().get(timeout=30) == 1
