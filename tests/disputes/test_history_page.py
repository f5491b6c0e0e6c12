"""The case-history page: compliance and ops leads verify the history and write checkpoints;
the result reads in words; no input gives a 500."""

import pytest
from django.db import connection
from django.urls import reverse

from disputes.history.runs import AuditRun, perform
from disputes.models import CaseEvent
from tests.factories import open_dispute

pytestmark = pytest.mark.django_db

PAGE = reverse("audit:verify")


def ask(client, django_capture_on_commit_callbacks, run):
    """Post the button, then do the queued run here (a worker does it in production)."""
    with django_capture_on_commit_callbacks(execute=False) as queued:
        response = client.post(PAGE, {"run": run})
    assert response.status_code == 302
    assert len(queued) == 1  # the task is sent after commit
    perform(AuditRun.objects.latest("requested_at").pk)
    return client.get(PAGE).content.decode()


@pytest.mark.parametrize("role", ["compliance", "lead"])
def test_compliance_and_leads_see_the_page_in_the_nav(client, request, role):
    client.force_login(request.getfixturevalue(role))
    queue = client.get(reverse("disputes:queue")).content.decode()
    assert f'href="{PAGE}"' in queue
    assert client.get(PAGE).status_code == 200


@pytest.mark.parametrize("role", ["agent", "cs_user"])
def test_other_roles_neither_see_nor_open_it(client, request, role):
    client.force_login(request.getfixturevalue(role))
    assert f'href="{PAGE}"' not in client.get(reverse("disputes:queue")).content.decode()
    assert client.get(PAGE).status_code == 403
    assert client.post(PAGE, {"run": "verify"}).status_code == 403
    assert not AuditRun.objects.exists()


def test_an_intact_history_reads_intact_with_counts_and_time(
    client, compliance, django_capture_on_commit_callbacks
):
    open_dispute()
    open_dispute()
    client.force_login(compliance)
    page = ask(client, django_capture_on_commit_callbacks, "verify")
    assert "Intact." in page
    assert "2 events of 2 disputes verified: every case history intact." in page
    assert "no checkpoint: removals before the first one cannot be detected" in page
    assert "Time taken" in page and " s</dd>" in page


def test_a_broken_history_says_what_broke(client, compliance, django_capture_on_commit_callbacks):
    dispute = open_dispute()
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL session_replication_role = replica")
        cursor.execute(
            f"UPDATE {CaseEvent._meta.db_table} SET payload = '{{}}' WHERE dispute_id = %s",
            [dispute.pk],
        )
        cursor.execute("SET LOCAL session_replication_role = origin")
    client.force_login(compliance)
    page = ask(client, django_capture_on_commit_callbacks, "verify")
    assert "Broken." in page
    assert f"Dispute {dispute.pk} event 1: content does not match its hash" in page


def test_a_checkpoint_is_written_and_then_compared_against(
    client, lead, django_capture_on_commit_callbacks
):
    open_dispute()
    client.force_login(lead)
    page = ask(client, django_capture_on_commit_callbacks, "checkpoint")
    assert "Checkpoint of 1 disputes and 1 events written." in page
    assert 'Latest checkpoint: <span class="mono">checkpoint-' in page
    page = ask(client, django_capture_on_commit_callbacks, "verify")
    assert "verified against checkpoint checkpoint-" in page


@pytest.mark.parametrize(
    "data", [{}, {"run": ""}, {"run": "drop table"}, {"run": ["verify", "x"] * 50}]
)
def test_no_input_gives_a_500(client, compliance, data):
    client.force_login(compliance)
    response = client.post(PAGE, data)
    assert response.status_code == 302
    assert client.get(PAGE + "?page=%00&run=\u2603").status_code == 200
    assert client.put(PAGE).status_code == 405
