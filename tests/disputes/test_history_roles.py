"""The two-role setup of the README: a migration owner role owns the tables; the application's
role owns nothing, may only SELECT and INSERT case-history events, and so cannot update,
delete, truncate or switch the append-only trigger off. Tested with real roles and a real
connection as the application role."""

import json
import secrets

import psycopg
import pytest
from django.db import connection
from django.utils import timezone

from disputes.models import CaseEvent
from tests.factories import open_dispute

pytestmark = pytest.mark.django_db(transaction=True)

EVENTS = CaseEvent._meta.db_table


@pytest.fixture
def roles():
    """An owner role that owns the events table, and an application role; dropped after."""
    suffix = secrets.token_hex(4)
    owner, app, password = f"astra_owner_{suffix}", f"astra_app_{suffix}", secrets.token_hex(12)
    database = connection.settings_dict["NAME"]
    statements = [
        f"CREATE ROLE {owner} NOLOGIN",
        f"CREATE ROLE {app} LOGIN PASSWORD '{password}' "
        "NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS",
        f"ALTER TABLE {EVENTS} OWNER TO {owner}",
        f'GRANT CONNECT ON DATABASE "{database}" TO {app}',
        f"GRANT USAGE ON SCHEMA public TO {app}",
        f"GRANT SELECT, INSERT ON {EVENTS} TO {app}",
        f"GRANT USAGE ON SEQUENCE {EVENTS}_id_seq TO {app}",
    ]
    with connection.cursor() as cursor:
        for sql in statements:
            cursor.execute(sql)
    try:
        yield owner, app, password
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"ALTER TABLE {EVENTS} OWNER TO {connection.settings_dict['USER']}")
            for role in (app, owner):
                cursor.execute(f"DROP OWNED BY {role}")
                cursor.execute(f"DROP ROLE {role}")


def connect_as(user, password):
    settings = connection.settings_dict
    return psycopg.connect(
        host=settings["HOST"] or "127.0.0.1",
        port=settings["PORT"] or 5432,
        dbname=settings["NAME"],
        user=user,
        password=password,
        autocommit=True,
    )


REFUSED = {
    "update": f"UPDATE {EVENTS} SET kind = 'forged'",
    "delete": f"DELETE FROM {EVENTS}",
    "truncate": f"TRUNCATE {EVENTS}",
    "disable trigger": f"ALTER TABLE {EVENTS} DISABLE TRIGGER USER",
    "replica role": "SET session_replication_role = replica",
    "maintenance truncate": f"SET astra.history_maintenance = on; TRUNCATE {EVENTS}",
}


def test_the_application_role_may_insert_but_never_change_or_remove_events(roles):
    _owner, app, password = roles
    dispute = open_dispute()
    with connect_as(app, password) as db:
        assert db.execute(f"SELECT count(*) FROM {EVENTS}").fetchone() == (1,)
        db.execute(
            f"INSERT INTO {EVENTS} (dispute_id, seq, kind, system_actor, created_at, payload, "
            "stage, state, outcome, version, deadline_rule, prev_hash, row_hash) VALUES "
            "(%s, 2, 'note_added', 'Role test', %s, %s, 'dispute', 'new', '', 1, '', '', '')",
            [dispute.pk, timezone.now(), json.dumps({"body": "inserted by the app role"})],
        )
        refusals = {}
        for name, sql in REFUSED.items():
            with pytest.raises(psycopg.errors.InsufficientPrivilege) as refused:
                db.execute(sql)
            refusals[name] = str(refused.value).splitlines()[0]
        owned = db.execute(
            "SELECT count(*) FROM pg_class c JOIN pg_roles r ON r.oid = c.relowner "
            "WHERE r.rolname = current_user"
        ).fetchone()
    print(refusals)
    assert owned == (0,)  # the application's role owns nothing
    assert "must be owner" in refusals["disable trigger"]
    assert "permission denied" in refusals["update"]
    assert CaseEvent.objects.filter(dispute=dispute).count() == 2
