"""In Chromium, under the Content-Security-Policy: no page reports a violation, htmx still
swaps (a claim from the queue), and a lead can lift a sign-in lockout from the lockouts page."""

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from playwright.sync_api import expect

from tests.factories import UserFactory, open_dispute

pytestmark = pytest.mark.browser


def test_no_page_breaks_the_content_security_policy(log_in, site, lead, screenshot):
    dispute = open_dispute()
    page = log_in(lead)
    violations = []
    page.on("console", lambda message: violations.append(message.text)
            if "Content Security Policy" in message.text else None)  # fmt: skip
    for path in ("/disputes/", dispute.get_absolute_url(), "/calendar/", "/accounts/lockouts/"):
        page.goto(f"{site.url}{path}")
        page.wait_for_load_state("networkidle")
    page.goto(f"{site.url}/disputes/")
    page.get_by_role("button", name=f"Claim {dispute.case_id}").click()
    expect(page.locator("#queue-notice")).to_contain_text("You claimed")
    assert violations == []


def test_a_lead_lifts_a_lockout_and_the_person_signs_in(page, log_in, site, lead, screenshot):
    victim = UserFactory(username="victim", role="ops_agent")
    for n in range(settings.AXES_FAILURE_LIMIT):
        page.goto(f"{site.url}/accounts/login/")
        page.get_by_label("Username").fill("victim")
        page.get_by_label("Password").fill(f"guess-{n}")
        page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_contain_text("Too many wrong passwords")
    # The lead signs in from another address in practice; here the address lock is lifted too.
    AccessAttempt.objects.filter(username="victim").update(ip_address="203.0.113.7")
    log_in(lead)
    page.get_by_role("link", name="Lockouts").click()
    row = page.locator("tr", has_text="victim")
    screenshot("lockouts")
    row.get_by_role("button", name="Unlock").click()
    expect(page.get_by_role("status")).to_contain_text("victim may sign in again")
    page.get_by_role("button", name="Log out").click()
    log_in(victim)
    expect(page.get_by_role("navigation", name="Main")).to_be_visible()
