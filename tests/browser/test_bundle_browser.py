"""In a real browser, with a real Celery worker: render a bundle, watch the progress bar, see
the preflight verdict without a reload, submit it; drag an item to reorder the bundle."""

import pytest
from celery.contrib.testing.worker import start_worker
from playwright.sync_api import expect

from astra_ops.celery import app
from disputes.evidence.bundles import services
from disputes.evidence.bundles.models import BundleVersion
from tests.bundles.conftest import files_in, make_bundled_dispute

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def bundled_dispute(agent, settings, tmp_path):
    files_in(settings, tmp_path)
    return make_bundled_dispute(agent)


def test_the_progress_bar_then_the_verdict_appear_without_a_reload(
    log_in,
    site,
    agent,
    bundled_dispute,
    screenshot,
):
    app.control.purge()
    page = log_in(agent)
    page.goto(f"{site.url}{bundled_dispute.get_absolute_url()}")
    panel = page.locator("#bundle-panel")
    expect(panel.get_by_role("heading", name="Submission bundle")).to_be_visible()
    expect(panel.locator("ol.bundle-order > li")).to_have_count(3)
    page.evaluate("window.stayedOnThePage = true")

    panel.get_by_role("button", name="Render a new version").click()
    progress = page.locator("#bundle-panel .bundle-progress")
    expect(progress).to_contain_text("Rendering version 1: 0 of 3 items")
    expect(progress.locator("progress")).to_have_attribute("max", "3")
    screenshot("bundle-progress")

    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
        verdict = page.locator("#bundle-panel .bundle-verdict")
        expect(verdict).to_contain_text("Version 1: Fits Visa Resolve Online", timeout=60_000)
    assert page.evaluate("window.stayedOnThePage") is True  # htmx swapped the panel only
    expect(page.locator("#bundle-panel .bundle-progress")).to_have_count(0)
    screenshot("bundle-verdict", full_page=True)

    page.get_by_role("button", name="Submit version 1 as sent").click()
    expect(page.locator("#bundle-panel .submitted")).to_contain_text("Submitted by")
    version = BundleVersion.objects.get(dispute=bundled_dispute)
    assert version.is_submitted and version.fits
    assert page.evaluate("window.stayedOnThePage") is True


def test_dragging_an_item_reorders_the_bundle(log_in, site, agent, bundled_dispute):
    page = log_in(agent)
    page.goto(f"{site.url}{bundled_dispute.get_absolute_url()}")
    before = [i.pk for i in services.ordered_items(bundled_dispute)]
    items = page.locator("ol.bundle-order > li")
    items.nth(2).drag_to(items.nth(0), target_position={"x": 10, "y": 2})
    expect(page.locator("#bundle-panel .msg-success")).to_contain_text("Order of the items saved")
    after = [
        i.pk for i in services.ordered_items(bundled_dispute, services.bundle_of(bundled_dispute))
    ]
    assert after == [before[2], before[0], before[1]]
