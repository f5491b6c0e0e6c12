"""In a real browser: sign in, filter the queue, claim a dispute and take a transition on its
page (HTMX swaps the page body), see a refusal inline, and subscribe to the calendar feed."""

import re

import pytest
from playwright.sync_api import expect

from disputes.choices import Network, Stage, WorkState
from disputes.models import Dispute
from tests.factories import act, open_dispute

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def open_action(page, label):
    """Reveal a transition's form (its <details>) and return the form."""
    action = page.locator("details.action", has=page.get_by_text(label, exact=True))
    action.locator("summary").click()
    return action.locator("form")


def test_an_agent_filters_the_queue_claims_and_submits_a_response(log_in, site, agent):
    visa = open_dispute(network=Network.VISA, code="13.1")
    mastercard = open_dispute(network=Network.MASTERCARD, code="4853")
    page = log_in(agent)

    page.goto(f"{site.url}/disputes/?network=visa")
    expect(page.get_by_role("link", name=visa.case_id)).to_be_visible()
    expect(page.get_by_role("link", name=mastercard.case_id)).to_have_count(0)

    page.get_by_role("link", name=visa.case_id).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(visa.case_id)
    dispute_url = page.url

    form = open_action(page, "Claim")
    form.get_by_label("Comment").fill("Taking this one")
    form.get_by_role("button", name="Confirm: Claim").click()
    expect(page.get_by_role("status")).to_have_text("Claim: done.")
    expect(page.locator(".facts-strip")).to_contain_text("In review")
    first = page.locator(".timeline > li").first
    expect(first).to_contain_text("Claim")
    expect(first).to_contain_text("Taking this one")
    assert page.url == dispute_url  # swapped in place by HTMX, no reload

    form = open_action(page, "Submit dispute response")
    form.get_by_label("Comment").fill("Proof of delivery sent")
    form.get_by_role("button", name="Confirm: Submit dispute response").click()
    expect(page.locator(".facts-strip")).to_contain_text("Dispute response")
    first = page.locator(".timeline > li").first
    expect(first).to_contain_text("Submit dispute response")
    expect(first).to_contain_text("Stage: Dispute → Dispute response")
    expect(page.locator(".timeline > li")).to_have_count(3)

    visa.refresh_from_db()
    assert (visa.stage, visa.state, visa.assignee) == (
        Stage.DISPUTE_RESPONSE,
        WorkState.SUBMITTED,
        agent,
    )


def test_a_change_made_meanwhile_is_refused_inline(log_in, site, agent, agent2):
    dispute = open_dispute()
    page = log_in(agent)
    page.goto(f"{site.url}{dispute.get_absolute_url()}")
    form = open_action(page, "Claim")

    act(dispute_id=dispute.pk, name="claim", actor=agent2, assignee=agent2)
    form.get_by_role("button", name="Confirm: Claim").click()

    expect(page.get_by_role("alert")).to_contain_text("changed while you were looking at it")
    expect(page.locator(".facts-strip")).to_contain_text(agent2.get_full_name())
    assert Dispute.objects.get(pk=dispute.pk).assignee == agent2


def test_a_note_appears_at_the_top_of_the_timeline(log_in, site, cs_user):
    dispute = open_dispute()
    page = log_in(cs_user)
    page.goto(f"{site.url}{dispute.get_absolute_url()}")
    expect(page.locator("details.action", has_text="Claim")).to_have_count(0)
    page.get_by_label("Add a note").fill("Client is sending receipts")
    page.get_by_role("button", name="Add note").click()
    expect(page.locator(".timeline > li").first).to_contain_text("Client is sending receipts")


def test_the_calendar_feed_link_serves_the_claimed_dispute(log_in, site, agent):
    dispute = open_dispute()
    act(dispute_id=dispute.pk, name="claim", actor=agent, assignee=agent)
    page = log_in(agent)
    page.goto(f"{site.url}/calendar/")
    expect(page.get_by_role("heading", name="Subscribe")).to_be_visible()
    page.get_by_role("button", name="Create link").click()
    feed_url = page.get_by_label("Disputes assigned to you").input_value()
    assert re.fullmatch(rf"{re.escape(site.url)}/calendar/feed/[\w-]+\.ics", feed_url)

    response = page.context.request.get(feed_url)  # what a calendar app would fetch
    assert response.ok
    assert response.headers["content-type"].startswith("text/calendar")
    body = response.text().replace("\r\n ", "")
    assert body.startswith("BEGIN:VCALENDAR\r\n")
    assert body.count("BEGIN:VEVENT") == 2
    assert f"UID:dispute-{dispute.pk}-internal@" in body
    assert f"SUMMARY:Internal due: Visa 13.1 {dispute.case_id} $125.00" in body

    page.get_by_role("button", name="Rotate link (revokes the old one)").click()
    assert page.context.request.get(feed_url).status == 404


def test_screenshots_of_the_dispute_page_and_the_calendar(log_in, site, lead, screenshot):
    dispute = open_dispute()
    act(dispute_id=dispute.pk, name="claim", actor=lead, assignee=lead,
                                comment="Evidence looks strong")  # fmt: skip
    for _ in range(6):
        open_dispute(client=dispute.client)
    page = log_in(lead)
    page.goto(f"{site.url}{dispute.get_absolute_url()}")
    open_action(page, "Submit dispute response")
    screenshot("browser_dispute_page")
    page.goto(f"{site.url}/calendar/?date={dispute.internal_due.isoformat()}")
    expect(page.locator(".cal-entry").first).to_be_visible()
    screenshot("browser_calendar_month")
    page.get_by_role("link", name="Week").click()
    expect(page.locator("table.cal-week")).to_be_visible()
    screenshot("browser_calendar_week")
