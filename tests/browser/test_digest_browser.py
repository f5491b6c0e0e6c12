"""The weekly digest and a reminder as HTML in Chromium, light and dark, looked at."""

from datetime import timedelta
from pathlib import Path

import pytest
from django.core import mail
from playwright.sync_api import expect

from calendar_rules import calendars
from disputes import services as dispute_services
from disputes.models import Dispute, business_today
from disputes.notifications import services
from tests.factories import ClientFactory, open_dispute

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
SHOTS = Path("/work/wt/shots/notify")


def due(days, *, agent=None, client="Northwind Outfitters"):
    dispute = open_dispute(client=ClientFactory(name=client, slug=client.lower().replace(" ", "-")))
    when = calendars.FED.add_banking_days(business_today(), days)
    Dispute.objects.filter(pk=dispute.pk).update(internal_due=when, network_due=when + timedelta(3))
    if agent is not None:
        dispute_services.claim(dispute_id=dispute.pk, actor=agent, expected_version=1)
    return dispute


def shoot(page, name):
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


@pytest.mark.parametrize("viewport", [(1280, 800), (1440, 900)])
def test_the_digest_preview_reads_in_light_and_dark(log_in, site, page, agent, lead, viewport):
    due(-1, agent=agent, client="Late Payments Inc")
    due(1, agent=agent)
    due(3, agent=agent, client="Harbor Freight Lines")
    due(9, agent=agent, client="Cedar Auto Finance")
    page.set_viewport_size({"width": viewport[0], "height": viewport[1]})
    log_in(agent)
    page.goto(f"{site.url}/digests/preview/")
    expect(page.get_by_role("heading", name="Your disputes this week")).to_be_visible()
    expect(page.get_by_role("link", name="Open your overdue disputes →")).to_be_visible()
    shoot(page, f"digest-agent-{viewport[0]}")
    page.emulate_media(color_scheme="dark")
    page.reload()
    body = page.locator("body").evaluate("b => getComputedStyle(b).backgroundColor")
    assert body == "rgb(21, 25, 31)"  # the dark palette applied, text still readable on it
    shoot(page, f"digest-agent-{viewport[0]}-dark")
    page.emulate_media(color_scheme="light")
    log_in(lead)
    page.goto(f"{site.url}/digests/preview/")
    expect(page.get_by_role("heading", name="The team this week")).to_be_visible()
    shoot(page, f"digest-lead-{viewport[0]}")


def test_a_reminder_reads_in_a_browser(page, site, agent, lead, settings):
    due(1, agent=agent)
    with mail.get_connection():
        services.send_deadline_reminders()
    html = mail.outbox[0].alternatives[0][0]
    page.set_viewport_size({"width": 1280, "height": 800})
    page.set_content(html)
    expect(page.get_by_role("link", name="Open the dispute")).to_be_visible()
    shoot(page, "reminder")
