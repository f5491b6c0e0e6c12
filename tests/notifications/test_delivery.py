"""Reminders and digests end to end: a real Celery worker on Redis delivering to a real SMTP
sink (aiosmtpd) on 127.0.0.1; the sink down, then back."""

import email
import time
from datetime import timedelta

import pytest
from aiosmtpd.controller import Controller
from celery.contrib.testing.worker import start_worker

from astra_ops.celery import app
from calendar_rules import calendars
from disputes import services as dispute_services
from disputes.models import Dispute, business_today
from disputes.notifications import services
from disputes.notifications.models import Notification
from disputes.notifications.tasks import send_deadline_reminders, send_weekly_digest
from tests.factories import ClientFactory, open_dispute
from tests.local_servers import free_port, wait_for

pytestmark = pytest.mark.django_db(transaction=True)


PORT = free_port()
DOWN_PORT = free_port()


class Sink:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(email.message_from_bytes(envelope.content))
        return "250 OK"


@pytest.fixture
def sink(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", PORT
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    settings.SITE_URL = "https://ops.example"
    handler = Sink()
    controller = Controller(handler, hostname="127.0.0.1", port=PORT)
    controller.start()
    yield handler
    controller.stop()


def text_part(message) -> str:
    for part in message.walk():
        if part.get_content_type() == "text/plain":
            return part.get_payload(decode=True).decode()
    return ""


def due_tomorrow(agent):
    """A dispute assigned to ``agent`` whose internal deadline is 1 banking day away."""
    dispute = open_dispute(client=ClientFactory(name="Northwind Outfitters"))
    due = calendars.FED.add_banking_days(business_today(), 1)
    Dispute.objects.filter(pk=dispute.pk).update(internal_due=due, network_due=due + timedelta(3))
    dispute_services.claim(dispute_id=dispute.pk, actor=agent, expected_version=dispute.version)
    return dispute


def test_a_worker_on_redis_delivers_reminders_to_the_smtp_sink_once(sink, agent, lead):
    dispute = due_tomorrow(agent)
    app.control.purge()
    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
        assert send_deadline_reminders.delay().get(timeout=30) == 1
        assert wait_for(lambda: len(sink.messages) == 1)
        assert send_deadline_reminders.delay().get(timeout=30) == 0  # twice: nothing twice
        time.sleep(1)
    assert len(sink.messages) == 1
    message = sink.messages[0]
    assert message["To"] == agent.email
    first_line = text_part(message).splitlines()[0]
    assert "due" in first_line and "Northwind Outfitters" in first_line
    assert "$125.00" in first_line
    assert f"https://ops.example/disputes/{dispute.pk}/" in first_line
    assert Notification.objects.get().sent_at is not None


def test_with_the_sink_down_a_reminder_waits_and_goes_once_it_is_back(settings, agent, lead):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", DOWN_PORT, 2
    due_tomorrow(agent)
    services.send_deadline_reminders()  # nobody listens: recorded, not sent
    row = Notification.objects.get()
    assert row.sent_at is None and row.last_error
    handler = Sink()
    controller = Controller(handler, hostname="127.0.0.1", port=DOWN_PORT)
    controller.start()
    try:
        services.send_deadline_reminders()
        services.send_deadline_reminders()
    finally:
        controller.stop()
    assert len(handler.messages) == 1
    assert Notification.objects.get().sent_at is not None


def test_the_weekly_digest_arrives_with_html_text_and_calendar_parts(sink, agent, lead):
    due_tomorrow(agent)
    app.control.purge()
    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
        assert send_weekly_digest.delay().get(timeout=30) == 2
        assert wait_for(lambda: len(sink.messages) == 3)  # and the lead's weekly KPI e-mail
        assert send_weekly_digest.delay().get(timeout=30) == 0
    to_agent = next(m for m in sink.messages if m["To"] == agent.email)
    types = {part.get_content_type() for part in to_agent.walk()}
    assert {"text/plain", "text/html", "text/calendar"} <= types
    assert "Northwind Outfitters" in text_part(to_agent)
