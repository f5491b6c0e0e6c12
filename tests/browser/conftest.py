"""Shared fixtures of the browser tests: headless Debian Chromium driven by Playwright against
Django's live server. Mark every test here ``browser`` (``-m 'not browser'`` skips them).

Playwright's sync API keeps an event loop running in the test thread from the first browser
test to the end of the session, so Django's async-safety check is switched off for browser
tests (the ORM is still used from one thread at a time), and browser tests run after all the
others: no other test runs beside that loop or inherits the setting (``check --deploy``
rightly refuses it).
"""

import os
from pathlib import Path

import pytest

CHROMIUM = Path(os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PASSWORD = "pw"  # tests.factories.UserFactory
SCREENSHOTS = Path(__file__).resolve().parents[2] / "screenshots"


def pytest_collection_modifyitems(items):
    """Browser tests last (see the module docstring)."""
    items.sort(key=lambda item: item.get_closest_marker("browser") is not None)


@pytest.fixture(scope="session", autouse=True)
def _orm_beside_playwright():
    """From the first browser test to the end of the session (database teardown included)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        yield


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    if not CHROMIUM.exists():
        message = f"{CHROMIUM} is missing: apt-get install chromium"
        if os.environ.get("CI"):
            pytest.fail(f"{message} (CI runs every browser test)", pytrace=False)
        pytest.skip(message)
    return {**browser_type_launch_args, "executable_path": str(CHROMIUM), "args": CHROMIUM_ARGS}


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    return {**browser_context_args, "viewport": {"width": 1440, "height": 900}}


@pytest.fixture
def site(live_server, settings):
    """The live server, with SITE_URL pointing at it (feed links, e-mails)."""
    settings.SITE_URL = live_server.url
    return live_server


@pytest.fixture
def log_in(page, site):
    """``log_in(user)`` signs ``user`` in through the login form and returns the page."""

    def log_in(user, password=PASSWORD):
        page.goto(f"{site.url}/accounts/login/")
        page.get_by_label("Username").fill(user.get_username())
        page.get_by_label("Password").fill(password)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url(lambda url: "/accounts/login/" not in url)
        return page

    return log_in


@pytest.fixture
def screenshot(page):
    """``screenshot(name)`` saves the page to screenshots/<name>.png (git-ignored)."""

    def screenshot(name, full_page=False):
        SCREENSHOTS.mkdir(exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=full_page)

    return screenshot
