"""Safe by default: DEBUG off unless asked, the development key refused in production, a
Content-Security-Policy htmx works under (no inline script anywhere), Permissions-Policy,
``Cache-Control: no-store`` on what carries dispute data, and sessions that end when idle."""

import os
import re
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.sessions.models import Session
from django.urls import reverse
from django.utils import timezone

from disputes.models import CalendarFeed
from disputes.security.middleware import RENEWED_AT
from tests.factories import open_dispute

ROOT = Path(__file__).resolve().parents[2]


def settings_value(name: str, **env) -> subprocess.CompletedProcess:
    """Import the production settings in a fresh interpreter with ``env`` (DEBUG and
    SECRET_KEY unset unless given) and print ``name``."""
    clean = {k: v for k, v in os.environ.items() if k not in ("DEBUG", "SECRET_KEY")}
    code = f"import astra_ops.settings as s; print(repr(s.{name}))"
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        check=False,
    )


def test_debug_is_off_unless_the_environment_turns_it_on():
    result = settings_value("DEBUG", SECRET_KEY="a-real-secret-" + "x" * 40)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"


def test_without_a_secret_key_production_settings_refuse_to_start():
    result = settings_value("DEBUG")
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_the_development_secret_key_is_refused_when_debug_is_off():
    dev_key = "dev-only-insecure-key-never-use-in-production-astra-ops-0000"
    result = settings_value("DEBUG", DEBUG="false", SECRET_KEY=dev_key)
    assert result.returncode != 0
    assert "development key is refused" in result.stderr


def test_debug_on_runs_on_the_development_key():
    result = settings_value("SECRET_KEY", DEBUG="true")
    assert result.returncode == 0, result.stderr
    assert "dev-only" in result.stdout


def test_the_demo_script_turns_debug_on_itself():
    script = (ROOT / "scripts" / "demo").read_text()
    assert 'export DEBUG="${DEBUG:-true}"' in script


def test_session_idle_time_is_configurable():
    result = settings_value("SESSION_COOKIE_AGE", DEBUG="true", SESSION_IDLE_SECONDS="900")
    assert result.stdout.strip() == "900"
    result = settings_value("SESSION_COOKIE_AGE", DEBUG="true")
    assert result.stdout.strip() == str(8 * 60 * 60)


# --- headers ------------------------------------------------------------------------------------


@pytest.fixture
def pages(client, lead):
    dispute = open_dispute()
    client.force_login(lead)
    client.post(reverse("calendar:feed_link"), {"action": "create"})
    token = CalendarFeed.objects.get(user=lead).token
    return {
        "queue": reverse("disputes:queue"),
        "dispute": dispute.get_absolute_url(),
        "export": reverse("disputes:queue_export"),
        "calendar": reverse("calendar:view"),
        "feed": reverse("calendar:feed", args=[token]),
        "rules": reverse("calendar_rules:table"),
    }


@pytest.mark.django_db
@pytest.mark.parametrize("page", ["queue", "dispute", "export", "calendar", "feed", "rules"])
def test_pages_and_exports_with_dispute_data_are_never_stored(client, pages, page):
    response = client.get(pages[page])
    assert response.status_code == 200
    cache_control = response["Cache-Control"]
    assert "no-store" in cache_control
    assert "private" in cache_control


@pytest.mark.django_db
@pytest.mark.parametrize("page", ["queue", "dispute", "calendar"])
def test_pages_carry_a_strict_content_security_policy_and_permissions_policy(client, pages, page):
    response = client.get(pages[page])
    policy = dict(
        part.strip().split(" ", 1) for part in response["Content-Security-Policy"].split(";")
    )
    assert policy["script-src"] == "'self'"
    assert policy["style-src"] == "'self'"
    assert policy["default-src"] == "'self'"
    assert policy["frame-ancestors"] == "'none'"
    assert "unsafe" not in response["Content-Security-Policy"]
    assert "camera=()" in response["Permissions-Policy"]
    assert "geolocation=()" in response["Permissions-Policy"]


def test_the_login_page_carries_the_policy_too(client, db):
    response = client.get(reverse("login"))
    assert "script-src 'self'" in response["Content-Security-Policy"]
    assert "no-store" in response["Cache-Control"]


INLINE = [
    (re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.I), "inline <script>"),
    (re.compile(r"\son[a-z]+\s*=", re.I), "inline event handler"),
    (re.compile(r"\bhx-on", re.I), "hx-on (needs eval)"),
    (re.compile(r"javascript:", re.I), "javascript: URL"),
    (re.compile(r"<style", re.I), "inline <style>"),
    (re.compile(r"\sstyle\s*=", re.I), "style attribute"),
]


def test_no_template_has_inline_script_handlers_or_styles():
    found = []
    for template in sorted((ROOT / "templates").rglob("*.html")):
        if template.parent.name == "notifications":
            continue  # e-mail bodies: mail clients need inline CSS, and no page serves them raw
        text = template.read_text()
        found += [f"{template.name}: {what}" for pattern, what in INLINE if pattern.search(text)]
    assert found == []


@pytest.mark.django_db
@pytest.mark.parametrize("page", ["queue", "dispute", "calendar"])
def test_rendered_pages_have_no_inline_script(client, pages, page):
    html = client.get(pages[page]).content.decode()
    assert [what for pattern, what in INLINE if pattern.search(html)] == []
    assert '"allowEval": false' in html
    assert "{#" not in html and "{%" not in html


# --- sessions -----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_session_ends_after_the_idle_time_and_each_request_renews_it(client, agent):
    agent.set_password("right-password")
    agent.save()
    response = client.post(reverse("login"), {"username": "agent", "password": "right-password"})
    assert response.status_code == 302
    assert response.cookies["sessionid"]["max-age"] == settings.SESSION_COOKIE_AGE == 8 * 3600
    session = Session.objects.get()
    # Idle for 7 hours: the session has one hour left and was last renewed long ago.
    store = client.session
    store[RENEWED_AT] -= 7 * 3600
    store.save()
    Session.objects.filter(pk=session.pk).update(expire_date=timezone.now() + timedelta(hours=1))
    assert client.get(reverse("disputes:queue")).status_code == 200
    renewed = Session.objects.get(pk=session.pk).expire_date
    assert renewed > timezone.now() + timedelta(hours=7, minutes=59)
    Session.objects.filter(pk=session.pk).update(expire_date=timezone.now() - timedelta(seconds=1))
    response = client.get(reverse("disputes:queue"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


@pytest.mark.django_db
def test_a_recently_renewed_session_is_not_written_again(client, agent):
    client.force_login(agent)
    expiry = Session.objects.get().expire_date
    assert client.get(reverse("disputes:queue")).status_code == 200
    assert Session.objects.get().expire_date == expiry
