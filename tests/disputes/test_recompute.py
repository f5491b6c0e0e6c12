"""recompute_deadlines: every open dispute recomputed from the tables; what moved reported."""

import os
import subprocess
import sys
from datetime import timedelta

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import connection

from disputes import deadlines
from disputes.models import Dispute, business_today
from tests.factories import act, open_dispute

pytestmark = pytest.mark.django_db


def _drift(dispute, days=3):
    """Make a stored deadline disagree with the tables, as a rule-table change would."""
    Dispute.objects.filter(pk=dispute.pk).update(
        network_due=dispute.network_due + timedelta(days=days), rules_version="old"
    )


def test_a_drifted_deadline_is_put_back_and_reported(capsys):
    dispute = open_dispute(network="visa", code="13.1")
    untouched = open_dispute(network="nacha", code="R01")
    expected = dispute.network_due
    _drift(dispute)
    call_command("recompute_deadlines")
    out = capsys.readouterr().out
    assert "Checked 2 open disputes" in out
    assert "1 changed, 1 with a due date that moved" in out
    assert "visa:13.1:dispute_response: 1 disputes, network due -3 days" in out
    assert dispute.case_id in out
    dispute.refresh_from_db()
    assert (dispute.network_due, dispute.rules_version) == (expected, untouched.rules_version)


def test_a_dry_run_writes_nothing(capsys):
    dispute = open_dispute()
    _drift(dispute)
    call_command("recompute_deadlines", dry_run=True)
    assert "Dry run: nothing written." in capsys.readouterr().out
    dispute.refresh_from_db()
    assert dispute.rules_version == "old"


def test_closed_disputes_are_left_alone(lead):
    dispute = open_dispute()
    act(dispute_id=dispute.pk, name="accept_liability", actor=lead, on=business_today())
    report = deadlines.recompute_open_deadlines()
    assert report.checked == 0


def test_a_dispute_changed_between_read_and_write_is_left_to_the_transition(lead):
    dispute = open_dispute()
    _drift(dispute)
    stale = Dispute.objects.filter(pk=dispute.pk).values_list(*deadlines._READ_FIELDS).get()
    snapshot = deadlines._Snapshot(stale)
    deadlines.apply_deadline(snapshot)
    act(dispute_id=dispute.pk, name="claim", actor=lead, assignee=lead)  # bumps the version
    report = deadlines.RecomputeReport()
    deadlines._write([snapshot], report)
    assert (report.written, report.skipped) == (0, 1)
    assert Dispute.objects.get(pk=dispute.pk).rules_version == "old"


def test_recomputing_twice_changes_nothing_the_second_time():
    _drift(open_dispute())
    assert deadlines.recompute_open_deadlines().written == 1
    second = deadlines.recompute_open_deadlines()
    assert (second.checked, second.changed, second.written) == (1, 0, 0)


@pytest.mark.django_db(transaction=True)
def test_two_processes_recompute_every_open_dispute_once():
    """The command as an operator runs it, in a process of its own: it splits the disputes
    between two forked processes. (Forking this test process instead, which runs browser and
    worker threads, could hang a child on a lock one of those threads held.)"""
    disputes = [open_dispute(network="visa", code="13.1") for _ in range(12)]
    for dispute in disputes[::2]:
        _drift(dispute)
    db = connection.settings_dict
    url = f"postgres://{db['USER']}:{db['PASSWORD'] or ''}@{db['HOST'] or '127.0.0.1'}"
    env = {**os.environ, "DATABASE_URL": f"{url}:{db['PORT'] or 5432}/{db['NAME']}"}
    env["DJANGO_SETTINGS_MODULE"] = "astra_ops.settings_test"
    env.pop("PYTEST_XDIST_WORKER", None)
    done = subprocess.run(
        [sys.executable, "manage.py", "recompute_deadlines", "--chunk-size", "2"],
        cwd=settings.BASE_DIR, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "Checked 12 open disputes" in done.stdout
    assert "6 changed, 6 with a due date that moved" in done.stdout
    assert "Written: 6; left alone (changed meanwhile): 0." in done.stdout
    assert "visa:13.1:dispute_response: 6 disputes, network due -3 days" in done.stdout
    assert not Dispute.objects.filter(rules_version="old").exists()
    assert deadlines.recompute_open_deadlines(workers=1).changed == 0


def test_a_new_tables_version_alone_does_not_rewrite_a_deadline_that_reads_the_same():
    dispute = open_dispute()
    Dispute.objects.filter(pk=dispute.pk).update(rules_version="older")
    report = deadlines.recompute_open_deadlines()
    assert (report.checked, report.changed, report.written) == (1, 0, 0)
    assert Dispute.objects.get(pk=dispute.pk).rules_version == "older"
