"""The audit trail is append-only and tamper-evident."""

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, transaction

from disputes import services
from disputes.audit import verify_chains
from disputes.models import DisputeTransition, business_today
from disputes.tasks import verify_audit_chains
from tests.factories import open_dispute

pytestmark = pytest.mark.django_db


@pytest.fixture
def worked_dispute(lead):
    dispute = open_dispute()
    services.transition_dispute(dispute_id=dispute.pk, name="claim", actor=lead, assignee=lead)
    services.transition_dispute(
        dispute_id=dispute.pk,
        name="visa_submit_dispute_response",
        actor=lead,
        on=business_today(),
        comment="Delivery proof sent",
    )
    return dispute


def _tamper(sql, params):
    """Change audit rows behind the application's back, as an attacker with SQL access would."""
    table = DisputeTransition._meta.db_table
    with connection.cursor() as cursor:
        # A superuser can switch triggers off for its session: the append-only trigger is
        # a guard against mistakes, the hash chain is what detects a determined edit.
        cursor.execute("SET session_replication_role = replica")
        cursor.execute(sql.format(table=table), params)
        cursor.execute("SET session_replication_role = origin")


def test_each_row_chains_to_the_one_before(worked_dispute):
    rows = list(DisputeTransition.objects.filter(dispute=worked_dispute))
    assert [r.seq for r in rows] == [1, 2, 3]
    assert rows[0].prev_hash == ""
    assert rows[1].prev_hash == rows[0].row_hash
    assert rows[2].prev_hash == rows[1].row_hash
    assert verify_chains() == (3, [])


def test_an_edited_comment_is_detected(worked_dispute):
    _tamper(
        "UPDATE {table} SET comment = %s WHERE dispute_id = %s AND seq = 3",
        ["nothing sent", worked_dispute.pk],
    )
    _checked, breaks = verify_chains()
    assert [(b.seq, b.problem) for b in breaks] == [(3, "content does not match its hash")]


def test_a_deleted_row_is_detected(worked_dispute):
    _tamper("DELETE FROM {table} WHERE dispute_id = %s AND seq = 2", [worked_dispute.pk])
    _checked, breaks = verify_chains()
    assert {b.problem for b in breaks} == {"expected row 2", "does not follow the row before"}


def test_the_verify_command_fails_on_a_broken_chain(worked_dispute):
    _tamper(
        "UPDATE {table} SET to_state = 'closed' WHERE dispute_id = %s AND seq = 2",
        [worked_dispute.pk],
    )
    with pytest.raises(CommandError, match="1 break"):
        call_command("verify_audit_chain")


def test_the_verify_command_reports_an_intact_trail(worked_dispute, capsys):
    call_command("verify_audit_chain", dispute=[worked_dispute.pk])
    assert "OK: 3 audit rows verified" in capsys.readouterr().out


def test_the_nightly_task_returns_the_number_of_breaks(worked_dispute):
    assert verify_audit_chains() == 0
    _tamper(
        "UPDATE {table} SET actor_id = NULL WHERE dispute_id = %s AND seq = 3", [worked_dispute.pk]
    )
    assert verify_audit_chains() == 1


def test_the_application_cannot_edit_or_delete_audit_rows(worked_dispute):
    row = DisputeTransition.objects.filter(dispute=worked_dispute).first()
    row.comment = "changed"
    with pytest.raises(TypeError):
        row.save()
    with pytest.raises(TypeError):
        row.delete()
    with pytest.raises(TypeError):
        DisputeTransition.objects.filter(dispute=worked_dispute).update(comment="x")
    with pytest.raises(TypeError):
        DisputeTransition.objects.filter(dispute=worked_dispute).delete()


def test_postgresql_refuses_updates_and_deletes_of_audit_rows(worked_dispute):
    table = DisputeTransition._meta.db_table
    for sql in (f"UPDATE {table} SET comment = 'x'", f"DELETE FROM {table}"):
        with (
            pytest.raises(DatabaseError, match="append-only"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(sql)
    assert DisputeTransition.objects.filter(dispute=worked_dispute).count() == 3
