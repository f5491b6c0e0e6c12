"""The weekly digest: what each role reads, at most once a week, and the preview page."""

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from disputes.models import ClientContact, Dispute, business_today
from disputes.notifications import digest as digests
from disputes.notifications import emails, services
from disputes.notifications.models import Notification, NotificationSettings
from tests.factories import ClientFactory, act

pytestmark = pytest.mark.django_db


def texts(user):
    digest = digests.build(user, now=timezone.now())
    return digest, emails.render_digest(digest)


def test_an_agent_reads_overdue_first_then_the_week_by_day_evidence_and_outcomes(
    make_due, agent, lead
):
    make_due(-2, assignee=agent, client=ClientFactory(name="Late Co"))
    make_due(2, assignee=agent, client=ClientFactory(name="Soon Co"))
    make_due(8, assignee=agent, client=ClientFactory(name="Later Co"))
    waiting = make_due(4, assignee=agent, client=ClientFactory(name="Quiet Co"))
    act(dispute_id=waiting.pk, name="request_evidence", actor=agent)
    won = make_due(3, assignee=agent, client=ClientFactory(name="Won Co"))
    act(dispute_id=won.pk, name="accept_liability", actor=lead, on=won.stage_started_on)
    Dispute.objects.filter(pk=won.pk).update(closed_at=timezone.now() - timedelta(days=7))
    make_due(1, assignee=lead, client=ClientFactory(name="Not Mine Co"))

    digest, (subject, text, html) = texts(agent)
    assert subject.startswith("Your disputes this week")
    titles = [s.title for s in digest.sections]
    assert titles[0] == "Overdue"
    assert text.index("Late Co") < text.index("Soon Co") < text.index("Later Co")
    assert "Quiet Co" in text.split("== Awaiting evidence ==")[1]
    assert "Won Co" in text.split("== Last week's outcomes ==")[1]
    assert "Not Mine Co" not in text
    assert "assignee=me&amp;due=overdue" in html and "color-scheme" in html


def test_a_lead_reads_the_team_by_assignee_client_and_network(make_due, agent, lead):
    make_due(-1, assignee=agent, client=ClientFactory(name="Acme"))
    make_due(1, client=ClientFactory(name="Beta"))
    digest, (_subject, text, html) = texts(lead)
    assert [s.title for s in digest.sections] == [
        "Most overdue",
        "By assignee",
        "By client",
        "By network",
    ]
    by_assignee = {r["name"]: r["cells"] for r in digest.sections[1].table["rows"]}
    assert by_assignee[agent.get_full_name()][1] == 1  # overdue
    assert "Unassigned" in by_assignee
    assert "(was " in text and "Visa" in text
    assert f"assignee={agent.username}" in html


def test_customer_success_reads_open_requests_and_slow_clients(make_due, agent, cs_user):
    from disputes.evidence.models import EvidenceRequest

    slow = ClientFactory(name="Slow Answers Ltd", cs_owner=cs_user)
    contact = ClientContact.objects.create(client=slow, name="Kim Lee", email="kim@slow.example")
    dispute = make_due(3, assignee=agent, client=slow)
    EvidenceRequest.objects.create(
        dispute=dispute,
        requested_by=cs_user,
        contact=contact,
        kinds=["proof_of_delivery"],
        due_on=business_today() - timedelta(2),
    )
    digest, (_subject, text, _html) = texts(cs_user)
    assert [s.title for s in digest.sections] == [
        "Open evidence requests",
        "Clients slow to answer",
    ]
    requests = text.split("== Open evidence requests ==")[1].split("== Clients")[0]
    assert "Past their due date" in requests and "asked Kim Lee" in requests
    assert "Slow Answers Ltd" in text.split("== Clients slow to answer ==")[1]


def test_the_digest_goes_at_most_once_a_week_however_often_it_runs(
    agent, lead, cs_user, compliance, django_capture_on_commit_callbacks
):
    NotificationSettings.objects.create(user=cs_user, weekly_digest=False)
    now = timezone.now()
    with django_capture_on_commit_callbacks(execute=True):
        assert services.send_weekly_digest(now=now) == 2
        assert services.send_weekly_digest(now=now + timedelta(hours=3)) == 0
    digests = [m for m in mail.outbox if not m.subject.startswith("Dispute KPIs")]
    assert sorted(m.to[0] for m in digests) == sorted([agent.email, lead.email])
    assert {a[2] for m in digests for a in m.attachments} == {"text/calendar"}
    with django_capture_on_commit_callbacks(execute=True):
        assert services.send_weekly_digest(now=now + timedelta(days=7)) == 2
    assert Notification.objects.filter(kind="digest").count() == 4


def test_the_preview_shows_a_person_their_digest(client, agent, make_due):
    make_due(2, assignee=agent, client=ClientFactory(name="Preview Co"))
    client.force_login(agent)
    response = client.get("/digests/preview/")
    assert response.status_code == 200 and b"Preview Co" in response.content
    assert client.get("/digests/preview/?format=text").status_code == 200
    ics = client.get("/digests/preview/?format=ics")
    assert ics.content.startswith(b"BEGIN:VCALENDAR") and b"Preview Co" in ics.content
    assert client.get("/digests/preview/?now=garbage&user=%00").status_code == 200


def test_a_person_without_a_digest_role_is_told_so(client, compliance):
    client.force_login(compliance)
    response = client.get("/digests/preview/")
    assert response.status_code == 200 and b"no digest to show" in response.content


def test_the_settings_page_turns_reminders_off_but_never_escalations(client, agent):
    client.force_login(agent)
    page = client.get("/notifications/settings/")
    assert page.status_code == 200 and b"cannot be turned off" in page.content
    response = client.post("/notifications/settings/", {"weekly_digest": "on"})
    assert response.status_code == 302
    saved = NotificationSettings.objects.get(user=agent)
    assert (saved.reminders, saved.weekly_digest) == (False, True)
