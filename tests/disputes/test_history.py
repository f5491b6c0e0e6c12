"""The case history under attack, on PostgreSQL.

Each attack is made as someone with database access would make it: the append-only trigger
switched off for the session (``session_replication_role = replica``, or ``ALTER TABLE …
DISABLE TRIGGER``), rows edited, deleted, re-hashed or forged with SQL. ``verify_audit_chain``
must then exit non-zero and say what broke. What the command prints for each attack is printed
here too (``pytest -s`` shows it)."""

import gzip
import hashlib
import io
import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, transaction

from disputes import history, services
from disputes.history import chain, checkpoint
from disputes.history.verify import verify
from disputes.models import CaseEvent, Dispute, business_today
from tests.factories import act, open_dispute

pytestmark = pytest.mark.django_db

EVENTS = CaseEvent._meta.db_table
DISPUTES = Dispute._meta.db_table


@pytest.fixture
def worked(agent):
    """A Visa dispute claimed, noted and answered: five events."""
    dispute = open_dispute()
    act(dispute_id=dispute.pk, name="claim", actor=agent, assignee=agent)
    services.add_note(dispute_id=dispute.pk, author=agent, body="Receipt and tracking attached.")
    act(dispute_id=dispute.pk, name="request_evidence", actor=agent)
    act(
        dispute_id=dispute.pk,
        name="visa_submit_dispute_response",
        actor=agent,
        on=business_today(),
    )
    return Dispute.objects.get(pk=dispute.pk)


def run_verify(*args) -> tuple[int, str]:
    """(exit status, everything printed) of ``manage.py verify_audit_chain``."""
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("verify_audit_chain", *args, stdout=out, stderr=err)
    except CommandError as exc:
        printed = err.getvalue() + f"CommandError: {exc}\n"
        print(printed)
        return exc.returncode, printed
    printed = err.getvalue() + out.getvalue()
    print(printed)
    return 0, printed


def settle_foreign_keys() -> None:
    """Check the test transaction's deferred foreign keys now: PostgreSQL refuses TRUNCATE and
    ALTER TABLE on a table with checks still pending (a committed session has none)."""
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")


def tamper(sql: str, params=()) -> None:
    """Run SQL as an attacker who switched the table's triggers off for the session."""
    settle_foreign_keys()
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL session_replication_role = replica")
        cursor.execute(sql, params)
        cursor.execute("SET LOCAL session_replication_role = origin")


def events_of(dispute) -> list[dict]:
    fields = [f.attname for f in CaseEvent._meta.concrete_fields]
    return list(CaseEvent.objects.filter(dispute=dispute).order_by("seq").values(*fields))


# --- the chain as written --------------------------------------------------------------------


def test_each_event_links_to_the_one_before_with_the_keyed_hash(worked):
    events = events_of(worked)
    assert [e["seq"] for e in events] == [1, 2, 3, 4, 5]
    assert [e["kind"] for e in events] == [
        "opened",
        "claimed",
        "note_added",
        "transition",
        "transition",
    ]
    prev = ""
    for event in events:
        assert event["prev_hash"] == prev
        assert event["row_hash"] == chain.row_hash(prev, event)
        assert (
            event["row_hash"]
            != hashlib.sha256(prev.encode() + b"|" + chain.content(event)).hexdigest()
        )  # keyed: plain SHA-256 is not the hash
        prev = event["row_hash"]
    assert (events[-1]["stage"], events[-1]["version"]) == (worked.stage, worked.version)
    status, printed = run_verify()
    assert status == 0
    assert "OK: 5 events of 1 dispute verified: every case history intact." in printed


def test_the_application_refuses_to_update_or_delete_an_event(worked):
    event = worked.events.last()
    with pytest.raises(TypeError, match="append-only"):
        event.save()
    with pytest.raises(TypeError, match="append-only"):
        event.delete()
    with pytest.raises(TypeError, match="append-only"):
        CaseEvent.objects.filter(pk=event.pk).update(kind="forged")
    with pytest.raises(TypeError, match="append-only"):
        CaseEvent.objects.filter(pk=event.pk).delete()


@pytest.mark.parametrize(
    "sql",
    [
        f"UPDATE {EVENTS} SET kind = 'forged'",
        f"DELETE FROM {EVENTS}",
        f"TRUNCATE {EVENTS} CASCADE",
    ],
    ids=["update", "delete", "truncate"],
)
def test_the_trigger_refuses_update_delete_and_truncate_from_a_normal_session(worked, sql):
    settle_foreign_keys()
    with connection.cursor() as cursor:
        # The test settings ask for maintenance so the suite can empty tables; a normal
        # session does not.
        cursor.execute("SET LOCAL astra.history_maintenance = off")
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            cursor.execute(sql)
    assert worked.events.count() == 5


# --- attacks ---------------------------------------------------------------------------------


def test_an_edited_event_is_reported(worked):
    tamper(
        f"""UPDATE {EVENTS} SET payload = '{{"body": "No receipt was ever sent."}}' """
        "WHERE dispute_id = %s AND seq = 3",
        [worked.pk],
    )
    status, printed = run_verify()
    assert status != 0
    assert f"BROKEN dispute {worked.pk} event 3: content does not match its hash" in printed


def test_an_edit_with_the_trigger_disabled_on_the_table_is_reported(worked):
    settle_foreign_keys()
    with connection.cursor() as cursor:
        cursor.execute(f"ALTER TABLE {EVENTS} DISABLE TRIGGER USER")
        cursor.execute(
            # backdate the claim by three days
            f"UPDATE {EVENTS} SET created_at = created_at - interval '3 days' "
            "WHERE dispute_id = %s AND seq = 2",
            [worked.pk],
        )
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute(f"ALTER TABLE {EVENTS} ENABLE TRIGGER USER")
    status, printed = run_verify()
    assert status != 0
    assert f"dispute {worked.pk} event 2: content does not match its hash" in printed


def _rewrite(dispute, rehash) -> None:
    """Change the note's text, then re-hash the whole chain with ``rehash(prev, row)``."""
    events = events_of(dispute)
    events[2]["payload"] = {"body": "Client did not answer."}
    prev = ""
    for event in events:
        event["prev_hash"] = prev
        event["row_hash"] = prev = rehash(prev, event)
    for event in events:
        tamper(
            f"UPDATE {EVENTS} SET payload = %s, prev_hash = %s, row_hash = %s WHERE id = %s",
            [json.dumps(event["payload"]), event["prev_hash"], event["row_hash"], event["id"]],
        )


@pytest.mark.parametrize(
    "rehash",
    [
        lambda prev, row: hashlib.sha256(prev.encode() + b"|" + chain.content(row)).hexdigest(),
        lambda prev, row: chain.row_hash(prev, row, b"a-key-guessed-by-the-attacker"),
    ],
    ids=["plain-sha256", "wrong-key"],
)
def test_a_rewritten_and_rehashed_chain_is_reported(worked, rehash):
    _rewrite(worked, rehash)
    status, printed = run_verify()
    assert status != 0
    for seq in range(1, 6):
        assert f"dispute {worked.pk} event {seq}: content does not match its hash" in printed
    assert "5 breaks in 5 events of 1 dispute" in printed


def test_a_deleted_last_event_is_reported_without_a_checkpoint(worked):
    tamper(f"DELETE FROM {EVENTS} WHERE dispute_id = %s AND seq = 5", [worked.pk])
    status, printed = run_verify()
    assert status != 0
    assert (
        f"dispute {worked.pk} event 4: the dispute's stage, state, version, network_due, "
        "internal_due, deadline_rule is not what its last event says" in printed
    )


def test_a_deleted_last_event_is_reported_against_the_checkpoint(worked, agent):
    # A note changes nothing on the dispute row: without a checkpoint its removal would leave
    # a consistent, shorter chain. The checkpoint remembers the length and the head.
    services.add_note(dispute_id=worked.pk, author=agent, body="Issuer acknowledged.")
    call_command("checkpoint_audit", stdout=io.StringIO())
    tamper(f"DELETE FROM {EVENTS} WHERE dispute_id = %s AND seq = 6", [worked.pk])
    status, printed = run_verify()
    assert status != 0
    assert f"dispute {worked.pk} event 6: 1 event(s) removed since the checkpoint" in printed
    assert "1 fewer events than the checkpoint of" in printed


def test_a_deleted_whole_trail_is_reported(worked):
    tamper(f"DELETE FROM {EVENTS} WHERE dispute_id = %s", [worked.pk])
    status, printed = run_verify()
    assert status != 0
    assert f"BROKEN dispute {worked.pk}: has no history" in printed


def test_truncation_after_a_checkpoint_is_reported(worked, agent):
    other = open_dispute()
    call_command("checkpoint_audit", stdout=io.StringIO())
    tamper(f"TRUNCATE {EVENTS} CASCADE")
    status, printed = run_verify()
    assert status != 0
    for dispute in (worked, other):
        assert f"dispute {dispute.pk}: has no history" in printed
    assert f"dispute {worked.pk}: 5 event(s) removed since the checkpoint" in printed
    assert "the history is empty: the table was emptied (TRUNCATE) or every trail deleted" in (
        printed
    )


def test_a_forged_appended_record_won_event_is_reported(worked):
    """The attacker appends a 'won' event after the last one, hashed as well as they can
    without the key, and sets the dispute row to match it."""
    last_seq, head = history.head(worked.pk)
    worked.__dict__.update(stage="closed", state="closed", outcome="won")
    worked.version += 1
    row = history.event_row(
        dispute=worked,
        seq=last_seq + 1,
        kind="transition",
        system_actor="Visa dispute feed",
        payload={"act": "record_won", "label": "Record won", "comment": "Issuer accepted."},
    )
    row["prev_hash"] = head
    row["row_hash"] = hashlib.sha256(head.encode() + b"|" + chain.content(row)).hexdigest()
    with connection.cursor() as cursor:  # no trigger stands in the way of an INSERT
        cursor.execute(
            f"INSERT INTO {EVENTS} (dispute_id, seq, kind, actor_id, system_actor, created_at, "
            "payload, stage, state, outcome, assignee_id, version, network_due, internal_due, "
            "client_evidence_due, deadline_rule, prev_hash, row_hash) VALUES "
            "(%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
            [
                *[row[f] for f in chain.CONTENT_FIELDS if f != "payload"][:6],
                json.dumps(row["payload"]),
                *[row[f] for f in chain.CONTENT_FIELDS[7:]],
                row["prev_hash"],
                row["row_hash"],
            ],
        )
        cursor.execute(
            f"UPDATE {DISPUTES} SET stage = 'closed', state = 'closed', outcome = 'won', "
            "version = version + 1 WHERE id = %s",
            [worked.pk],
        )
    status, printed = run_verify()
    assert status != 0
    assert f"BROKEN dispute {worked.pk} event 6: content does not match its hash" in printed
    assert "1 break in 6 events of 1 dispute" in printed


def test_a_dispute_row_closed_won_with_no_event_is_reported(worked):
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {DISPUTES} SET stage = 'closed', state = 'closed', outcome = 'won' "
            "WHERE id = %s",
            [worked.pk],
        )
    status, printed = run_verify()
    assert status != 0
    assert (
        f"BROKEN dispute {worked.pk} event 5: the dispute's stage, state, outcome is not what "
        "its last event says" in printed
    )


def test_a_deleted_dispute_and_its_trail_after_a_checkpoint_are_reported(worked):
    kept = open_dispute()
    call_command("checkpoint_audit", stdout=io.StringIO())
    tamper(f"DELETE FROM {EVENTS} WHERE dispute_id = %s", [worked.pk])
    tamper(f"DELETE FROM {DISPUTES} WHERE id = %s", [worked.pk])
    status, printed = run_verify()
    assert status != 0
    assert f"BROKEN dispute {worked.pk}: dispute removed since the checkpoint" in printed
    assert "5 fewer events than the checkpoint of" in printed
    assert f"dispute {kept.pk}" not in printed


def test_an_edited_checkpoint_is_reported(worked, checkpoint_storage):
    call_command("checkpoint_audit", stdout=io.StringIO())
    (path,) = checkpoint_storage.iterdir()
    text = gzip.decompress(path.read_bytes()).decode()
    # Someone removes the dispute from the checkpoint, to hide its later removal.
    edited = "\n".join(line for line in text.splitlines() if not line.startswith(f"{worked.pk} "))
    path.write_bytes(gzip.compress((edited + "\n").encode()))
    status, printed = run_verify()
    assert status != 0
    assert f"BROKEN history: checkpoint {path.name} was edited or is not signed" in printed


def test_an_intact_history_passes_against_its_checkpoint(worked, agent):
    call_command("checkpoint_audit", stdout=io.StringIO())
    services.add_note(dispute_id=worked.pk, author=agent, body="Added after the checkpoint.")
    status, printed = run_verify()
    assert status == 0
    assert "6 events of 1 dispute verified against checkpoint checkpoint-" in printed


def test_the_report_counts_every_break_but_keeps_the_first_in_detail(agent):
    for _ in range(3):
        open_dispute()
    tamper(f"DELETE FROM {EVENTS}")
    report = verify()
    assert report.break_count == 3 and len(report.breaks) == 3
    assert not report.intact
    assert checkpoint.latest() is None
