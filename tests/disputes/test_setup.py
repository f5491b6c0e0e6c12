"""Roles, demo data and production settings."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command

from disputes.choices import Network, Rail, Stage, WorkState
from disputes.history.verify import verify
from disputes.models import CaseEvent, Dispute
from disputes.roles import ROLE_PERMISSIONS

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.django_db
@pytest.mark.parametrize("role", [r for r, p in ROLE_PERMISSIONS.items() if p != "__all__"])
def test_each_role_has_exactly_the_matrix_permissions(role):
    group = Group.objects.get(name=role)
    granted = {f"{p.content_type.app_label}.{p.codename}" for p in group.permissions.all()}
    assert granted == set(ROLE_PERMISSIONS[role])


@pytest.mark.django_db
def test_the_admin_role_has_every_dispute_permission():
    granted = set(Group.objects.get(name="admin").permissions.values_list("codename", flat=True))
    assert {"assign_dispute", "accept_liability", "verify_audit", "change_client"} <= granted


@pytest.mark.django_db
def test_seed_demo_covers_every_network_rail_and_state_with_intact_chains(capsys):
    call_command("seed_demo", disputes=900, seed=7)
    out = capsys.readouterr().out
    assert "Seeded 900 disputes" in out
    assert "Ops agent" in out and "agent" in out
    assert set(Dispute.objects.values_list("network", flat=True)) == set(Network.values)
    assert {Rail.CARD, Rail.VISA_DIRECT, Rail.MASTERCARD_MOVE, Rail.ACH} <= set(
        Dispute.objects.values_list("rail", flat=True)
    )
    assert set(Dispute.objects.values_list("state", flat=True)) == set(WorkState.values)
    assert len(set(Dispute.objects.values_list("stage", flat=True))) >= 10
    breaks = verify().breaks
    assert breaks == []
    # Every dispute starts with its opening row and ends where its last row says it is.
    for dispute in Dispute.objects.order_by("?")[:200]:
        last = CaseEvent.objects.filter(dispute=dispute).order_by("-seq").first()
        assert (last.stage, last.state) == (dispute.stage, dispute.state)
        assert dispute.events.first().act == "open"
        if dispute.state not in (WorkState.NEW, WorkState.CLOSED):
            assert dispute.assignee_id is not None
        if dispute.stage != Stage.CLOSED and dispute.due_party:
            assert dispute.network_due and dispute.deadline_explanation


@pytest.mark.django_db
def test_seed_demo_with_if_empty_leaves_existing_data(capsys):
    call_command("seed_demo", disputes=20, seed=1)
    seeded = Dispute.objects.count()  # 20 drawn, and those the demo's intake files opened
    call_command("seed_demo", disputes=20, seed=1, if_empty=True)
    assert Dispute.objects.count() == seeded
    assert "already exist" in capsys.readouterr().out


def test_check_deploy_reports_nothing_with_debug_off_and_real_secrets():
    env = {
        **{k: v for k, v in os.environ.items() if k != "SECURE_SSL_REDIRECT"},
        "DEBUG": "false",
        "SECRET_KEY": "k8#Qz!vR2@pL9$wX4^mN7&bT1*cY6(hJ3)fD5_gS0+aE8=uI2-oK4~zW7",
        "ALLOWED_HOSTS": "ops.astra.example",
        "DJANGO_SETTINGS_MODULE": "astra_ops.settings",
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "DEBUG"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "System check identified no issues" in result.stdout


@pytest.mark.django_db(transaction=True)
def test_parallel_seeding_writes_every_chunk_once_with_intact_chains():
    """Seeded in a process of its own, as the command runs: it forks two workers. (Forking this
    test process instead, which may run browser and worker threads, could hang a child on a
    lock one of those threads held.)"""
    from django.db import connection

    db = connection.settings_dict
    url = f"postgres://{db['USER']}:{db['PASSWORD'] or ''}@{db['HOST'] or '127.0.0.1'}"
    env = {**os.environ, "DATABASE_URL": f"{url}:{db['PORT'] or 5432}/{db['NAME']}"}
    env["DJANGO_SETTINGS_MODULE"] = "astra_ops.settings_test"
    env.pop("PYTEST_XDIST_WORKER", None)
    script = (
        "import json, django; django.setup(); from disputes import demo; "
        "print(json.dumps(demo.seed(disputes=900, seed_value=11, chunk=300, workers=2)))"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True,
        timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    counts = json.loads(done.stdout.strip().splitlines()[-1])
    assert counts["disputes"] == 900
    ids = sorted(Dispute.objects.values_list("id", flat=True))
    assert ids == list(range(ids[0], ids[0] + 900))
    assert CaseEvent.objects.count() == counts["audit_rows"]
    assert counts["feature_events"] > 0  # the evidence and bundle acts, through the services
    assert verify().breaks == []
