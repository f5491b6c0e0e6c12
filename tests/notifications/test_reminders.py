"""The reminder sweep's rules, one behaviour at a time."""

from datetime import timedelta

import pytest
from django.core import mail
from django.core.management import call_command

from calendar_rules import calendars
from disputes.evidence.services import override_checklist
from disputes.history.verify import verify
from disputes.models import CaseEvent, Dispute, business_today
from disputes.notifications import services
from disputes.notifications.models import Notification, NotificationSettings
from tests.factories import act

pytestmark = pytest.mark.django_db


def sweep(capture, **kwargs):
    with capture(execute=True):
        return services.send_deadline_reminders(**kwargs)


def sent(**filters):
    return set(
        Notification.objects.filter(**filters).values_list(
            "kind", "threshold", "recipient__username"
        )
    )


def test_the_assignee_is_reminded_once_and_the_history_says_so(
    make_due, agent, lead, django_capture_on_commit_callbacks
):
    dispute = make_due(2, assignee=agent)
    assert sweep(django_capture_on_commit_callbacks).reminders == 1
    assert sweep(django_capture_on_commit_callbacks).recorded == 0
    assert sent() == {("reminder", "before-2", "agent")}
    assert len(mail.outbox) == 1 and mail.outbox[0].to == [agent.email]
    event = CaseEvent.objects.filter(dispute=dispute).order_by("-seq").first()
    assert (event.kind, event.system_actor) == ("reminder_sent", "Reminder sweep")
    assert verify().breaks == []


def test_the_first_line_says_what_is_due_when_for_whom_and_links_to_the_dispute(
    make_due, agent, lead, settings, django_capture_on_commit_callbacks
):
    settings.SITE_URL = "https://ops.example"
    dispute = make_due(1, assignee=agent)
    sweep(django_capture_on_commit_callbacks)
    first = mail.outbox[0].body.splitlines()[0]
    assert first.startswith("Visa dispute response is due")
    assert "Northwind Outfitters, $125.00" in first
    assert first.endswith(f"https://ops.example/disputes/{dispute.pk}/")
    html = mail.outbox[0].alternatives[0][0]
    assert f'href="https://ops.example/disputes/{dispute.pk}/"' in html


def test_an_unassigned_dispute_reminds_the_leads_and_escalates_on_its_last_day(
    make_due, agent, lead, django_capture_on_commit_callbacks
):
    make_due(0)
    sweep(django_capture_on_commit_callbacks)
    assert sent() == {("escalation", "due-today", "lead")}


def test_an_overdue_dispute_escalates_to_the_leads_and_reminds_the_assignee(
    make_due, agent, lead, django_capture_on_commit_callbacks
):
    make_due(-1, assignee=agent)
    sweep(django_capture_on_commit_callbacks)
    assert sent() == {("reminder", "overdue", "agent"), ("escalation", "overdue", "lead")}


def test_after_a_day_of_downtime_only_the_most_urgent_threshold_goes(
    make_due, agent, lead, now, django_capture_on_commit_callbacks
):
    make_due(5, assignee=agent)
    make_due(3, assignee=agent)  # its 5-day and 2-day thresholds both pass while we are down
    sweep(django_capture_on_commit_callbacks, now=now - timedelta(days=3))
    sweep(django_capture_on_commit_callbacks, now=now)
    thresholds = sorted(Notification.objects.values_list("threshold", flat=True))
    assert thresholds.count("before-2") <= 2 and "before-5" in thresholds
    per_sweep = Notification.objects.values("dispute_id", "created_at").distinct().count()
    assert per_sweep == Notification.objects.count()  # one threshold per dispute per sweep


def test_a_person_may_turn_reminders_off_but_not_escalations(
    make_due, agent, lead, django_capture_on_commit_callbacks
):
    NotificationSettings.objects.create(user=agent, reminders=False)
    NotificationSettings.objects.create(user=lead, reminders=False)
    make_due(2, assignee=agent)
    make_due(-1, assignee=agent)
    sweep(django_capture_on_commit_callbacks)
    assert sent() == {("reminder", "overdue", "agent"), ("escalation", "overdue", "lead")}


def test_reminders_stop_once_the_dispute_is_submitted_or_closed(
    make_due, agent, lead, django_capture_on_commit_callbacks
):
    submitted = make_due(2, assignee=agent)
    override_checklist(dispute_id=submitted.pk, actor=lead, reason="Filed on the merchant's word")
    act(dispute_id=submitted.pk, name="mark_ready", actor=agent)
    act(
        dispute_id=submitted.pk,
        name="visa_submit_dispute_response",
        actor=agent,
        on=submitted.stage_started_on,
    )
    closed = make_due(-2, assignee=agent)
    act(dispute_id=closed.pk, name="accept_liability", actor=lead, on=closed.stage_started_on)
    sweep(django_capture_on_commit_callbacks)
    assert not Notification.objects.exists()


def test_a_deadline_that_moves_is_reminded_of_again(
    make_due, agent, lead, django_capture_on_commit_callbacks
):
    from disputes.models import Dispute

    dispute = make_due(2, assignee=agent)
    sweep(django_capture_on_commit_callbacks)
    Dispute.objects.filter(pk=dispute.pk).update(internal_due=dispute.internal_due + timedelta(1))
    sweep(django_capture_on_commit_callbacks)
    assert Notification.objects.filter(dispute=dispute).values("due_on").distinct().count() == 2


def test_the_command_takes_a_time_to_sweep_at(make_due, agent, lead, capsys):
    make_due(10, assignee=agent)
    call_command("send_deadline_reminders", "--now", "2020-01-01T09:00:00")
    assert "recorded 0 reminders" in capsys.readouterr().out
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="ISO-8601"):
        call_command("send_deadline_reminders", "--now", "yesterday")


def test_the_dispute_page_shows_the_reminder_in_its_history(
    client, make_due, agent, lead, django_capture_on_commit_callbacks
):
    dispute = make_due(-1, assignee=agent)
    sweep(django_capture_on_commit_callbacks)
    client.force_login(agent)
    page = client.get(f"/disputes/{dispute.pk}/")
    assert page.status_code == 200
    assert b"Reminder sent" in page.content and b"Escalated to the ops leads" in page.content


def test_a_sweep_with_nothing_new_asks_the_database_once(
    make_due, agent, lead, django_capture_on_commit_callbacks, django_assert_num_queries
):
    make_due(1, assignee=agent)
    make_due(-2)
    assert sweep(django_capture_on_commit_callbacks).recorded == 2
    with django_assert_num_queries(1):  # the digest of what the sweep decides on: unchanged
        assert sweep(django_capture_on_commit_callbacks).recorded == 0


def test_a_due_date_moved_without_an_event_is_still_seen(
    make_due, agent, lead, django_capture_on_commit_callbacks
):
    dispute = make_due(9, assignee=agent)
    assert sweep(django_capture_on_commit_callbacks).recorded == 0  # not near: nothing, twice
    assert sweep(django_capture_on_commit_callbacks).recorded == 0
    near = calendars.FED.add_banking_days(business_today(), 1)
    Dispute.objects.filter(pk=dispute.pk).update(internal_due=near)  # a bulk update, no event
    assert sweep(django_capture_on_commit_callbacks).reminders == 1
    assert sent() == {("reminder", "before-1", "agent")}
