"""The queue in a real browser: filter (HTMX, URL kept in step), sort, page, claim one, assign
many, the same without JavaScript, and a screenshot of the demo queue at 1440x900."""

import io
import re

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from playwright.sync_api import expect

from disputes.choices import Network, WorkState
from disputes.demo import DEMO_PASSWORD
from disputes.models import Dispute
from tests.browser.conftest import PASSWORD
from tests.disputes.test_queue import make_dispute

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def rows(page):
    return page.locator("#queue-results tbody tr[id^=dispute-]")


def mark_page(page):
    """Set a flag a full reload would wipe: proof that HTMX swapped in place."""
    page.evaluate("window.__stillHere = true")


def still_same_page(page) -> bool:
    return page.evaluate("window.__stillHere === true")


def test_agent_filters_sorts_and_claims_without_a_reload(log_in, site, agent):
    nacha = [make_dispute(network=Network.NACHA, amount=f"{n}0.00") for n in range(1, 4)]
    make_dispute(network=Network.VISA)
    page = log_in(agent)
    page.goto(f"{site.url}/disputes/")
    expect(rows(page)).to_have_count(4)
    mark_page(page)

    page.get_by_label("Network").select_option("nacha")
    expect(rows(page)).to_have_count(3)
    expect(page).to_have_url(re.compile(r"/disputes/\?network=nacha$"))

    page.locator("th.col-amount a").click()
    expect(page).to_have_url(re.compile(r"network=nacha&sort=-?amount"))
    amounts = rows(page).locator("td.col-amount").all_inner_texts()
    assert amounts == sorted(amounts, key=lambda a: float(a.strip("$")))

    page.get_by_role("button", name=f"Claim {nacha[0].case_id}").click()
    row = page.locator(f"#dispute-{nacha[0].pk}")
    expect(row.locator("td.col-assignee")).to_have_text("You")
    expect(page.locator("#queue-notice")).to_contain_text(f"You claimed {nacha[0].case_id}.")
    assert still_same_page(page)
    nacha[0].refresh_from_db()
    assert (nacha[0].assignee, nacha[0].state) == (agent, WorkState.IN_REVIEW)


def test_search_narrows_as_you_type_and_the_url_follows(log_in, site, agent):
    wanted = make_dispute(case_id="SEARCH-ME-1")
    make_dispute(case_id="OTHER-2")
    page = log_in(agent)
    page.goto(f"{site.url}/disputes/")
    mark_page(page)
    page.get_by_placeholder("Case id, ARN or trace, client").fill("search-me")
    expect(rows(page)).to_have_count(1)
    expect(page.get_by_role("link", name=wanted.case_id)).to_be_visible()
    expect(page).to_have_url(re.compile(r"\?q=search-me$"))
    assert still_same_page(page)


def test_lead_assigns_selected_disputes_and_sees_each_refusal(log_in, site, lead, agent):
    first, second = make_dispute(), make_dispute()
    page = log_in(lead)
    page.goto(f"{site.url}/disputes/")
    # Meanwhile the second one is closed by someone else.
    Dispute.objects.filter(pk=second.pk).update(
        state=WorkState.CLOSED, stage="closed", internal_due=None, network_due=None
    )
    page.get_by_label(f"Select {first.case_id}").check()
    page.get_by_label(f"Select {second.case_id}").check()
    page.get_by_label("Assign selected to").select_option(str(agent.pk))
    page.get_by_role("button", name="Assign", exact=True).click()
    notice = page.locator("#queue-notice")
    expect(notice).to_contain_text(f"Assigned 1 dispute to {agent.get_full_name()}.")
    expect(notice).to_contain_text(f"{second.case_id}: Assign is not possible")
    expect(page.locator(f"#dispute-{first.pk} td.col-assignee")).to_have_text(agent.get_full_name())


def test_agent_selects_the_whole_page_and_claims_it(log_in, site, agent, agent2):
    free = [make_dispute() for _ in range(3)]
    taken = make_dispute(assignee=agent2, state=WorkState.IN_REVIEW, case_id="TAKEN-1")
    page = log_in(agent)
    page.goto(f"{site.url}/disputes/?assignee=unassigned")
    expect(rows(page)).to_have_count(3)
    page.get_by_label("Select every dispute on this page").check()
    for dispute in free:
        expect(page.get_by_label(f"Select {dispute.case_id}")).to_be_checked()
    page.get_by_role("button", name="Claim selected").click()
    expect(page.locator("#queue-notice")).to_contain_text("You claimed 3 disputes.")
    for dispute in free:
        expect(page.locator(f"#dispute-{dispute.pk} td.col-assignee")).to_have_text("You")
    assert set(Dispute.objects.filter(assignee=agent).values_list("pk", flat=True)) == {
        d.pk for d in free
    }
    taken.refresh_from_db()
    assert taken.assignee == agent2


def test_next_and_previous_pages_through_the_queue(log_in, site, agent):
    for _ in range(30):
        make_dispute()
    page = log_in(agent)
    page.goto(f"{site.url}/disputes/")
    page.get_by_label("Rows per page").select_option(label="25")
    expect(rows(page)).to_have_count(25)
    first_page = rows(page).locator("td.col-case").all_inner_texts()
    page.get_by_role("link", name="Next →").click()
    expect(rows(page)).to_have_count(5)
    expect(page).to_have_url(re.compile(r"after=[\w-]+"))
    page.get_by_role("link", name="← Previous").click()
    expect(rows(page)).to_have_count(25)
    assert rows(page).locator("td.col-case").all_inner_texts() == first_page


def test_filtering_and_claiming_work_without_javascript(browser, site, agent):
    nacha = make_dispute(network=Network.NACHA)
    make_dispute(network=Network.VISA)
    context = browser.new_context(
        java_script_enabled=False, viewport={"width": 1440, "height": 900}
    )
    page = context.new_page()
    page.goto(f"{site.url}/accounts/login/")
    page.get_by_label("Username").fill(agent.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.goto(f"{site.url}/disputes/")
    page.get_by_label("Network").select_option("nacha")
    page.get_by_role("button", name="Apply").click()
    expect(page).to_have_url(re.compile(r"/disputes/\?network=nacha$"))
    expect(rows(page)).to_have_count(1)
    page.get_by_role("button", name=f"Claim {nacha.case_id}").click()
    expect(page).to_have_url(re.compile(r"/disputes/\?network=nacha$"))
    expect(page.locator(".messages")).to_contain_text(f"You claimed {nacha.case_id}.")
    expect(page.locator(f"#dispute-{nacha.pk} td.col-assignee")).to_have_text("You")
    context.close()


def test_demo_queue_screenshot_fits_1440_wide(log_in, site, screenshot):
    call_command("seed_demo", disputes=600, seed=2026, stdout=io.StringIO())
    lead = get_user_model().objects.get(username="lead")
    page = log_in(lead, password=DEMO_PASSWORD)
    page.goto(f"{site.url}/disputes/")
    expect(rows(page)).to_have_count(50)
    overflow = page.evaluate(
        "(() => { const s = document.querySelector('.queue-scroll');"
        " return s.scrollWidth - s.clientWidth; })()"
    )
    screenshot("queue")
    assert overflow <= 0, f"the table is {overflow}px wider than the page"
    page.locator(".queue-more summary").click()
    popover = page.locator(".queue-more-body").bounding_box()
    assert popover["x"] + popover["width"] <= 1440
    screenshot("queue-more-filters")


def test_the_queue_fits_1280_px_with_both_due_dates_and_one_line_urgency(log_in, site, lead):
    make_dispute(network=Network.MASTERCARD, amount="1234567.89")
    make_dispute(network=Network.NACHA)
    page = log_in(lead)
    page.set_viewport_size({"width": 1280, "height": 800})
    page.goto(f"{site.url}/disputes/")
    expect(rows(page)).to_have_count(2)
    table = page.locator(".queue-scroll")
    assert table.evaluate("el => el.scrollWidth <= el.clientWidth")
    for cell in rows(page).locator("td.col-date").all():
        box = cell.bounding_box()
        assert box is not None and box["x"] + box["width"] <= 1280
    heights = (
        rows(page)
        .locator("td.col-urgency .urgency")
        .evaluate_all("els => els.map(el => el.getClientRects().length)")
    )
    assert heights and all(lines == 1 for lines in heights)
