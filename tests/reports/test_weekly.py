"""The weekly KPI e-mail: to ops leads and compliance, once per person per week."""

from datetime import date

import pytest
from django.core import mail
from django.core.management import call_command

from disputes.reports import weekly
from disputes.reports.models import WeeklyKpiSend
from tests.conftest import UserFactory

pytestmark = pytest.mark.django_db


def test_weekly_kpis_go_to_leads_and_compliance_once(
    lead, agent, django_capture_on_commit_callbacks
):
    compliance = UserFactory(username="comp", role="compliance", email="comp@example.com")
    lead.email = "lead@example.com"
    lead.save()
    agent.email = "agent@example.com"
    agent.save()
    with django_capture_on_commit_callbacks(execute=True):
        assert weekly.send_weekly_kpis(week_start=date(2026, 3, 4)) == 2
    with django_capture_on_commit_callbacks(execute=True):
        assert weekly.send_weekly_kpis(week_start=date(2026, 3, 2)) == 0
    assert sorted(m.to[0] for m in mail.outbox) == [compliance.email, lead.email]
    assert WeeklyKpiSend.objects.filter(week_start=date(2026, 3, 2)).count() == 2
    message = mail.outbox[0]
    assert "week of Mar 2" in message.subject
    assert "Win rate = won / (won + lost)" in message.body
    assert "Open the week's report" in message.alternatives[0][0]


def test_summary_is_a_context_the_digest_can_include(db):
    context = weekly.weekly_kpi_summary(date(2026, 3, 8))  # a Sunday: its week began Mar 2
    assert (context["week_start"], context["week_end"]) == (date(2026, 3, 2), date(2026, 3, 8))
    assert context["outcomes"].closed == 0 and context["figures"]


def test_command_sends_only_on_mondays_unless_now(lead, capsys):
    call_command("send_weekly_kpis", "--now")
    assert "sent to" in capsys.readouterr().out


def test_weekly_kpis_go_out_with_the_weekly_digest(
    lead, agent, compliance, django_capture_on_commit_callbacks
):
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from disputes.notifications import services

    monday = datetime(2026, 3, 9, 8, tzinfo=ZoneInfo("America/New_York"))
    with django_capture_on_commit_callbacks(execute=True):
        services.send_weekly_digest(now=monday)
        services.send_weekly_digest(now=monday.replace(hour=11))  # a second run sends none
    kpis = [m for m in mail.outbox if m.subject.startswith("Dispute KPIs, week of Mar 2")]
    assert sorted(m.to[0] for m in kpis) == sorted([lead.email, compliance.email])
    assert set(WeeklyKpiSend.objects.values_list("week_start", flat=True)) == {date(2026, 3, 2)}
