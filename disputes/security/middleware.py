"""Response headers every page carries beyond Django's own (and django-csp's policy):
``Permissions-Policy``, and ``Cache-Control: no-store`` on anything a signed-in user is shown
(pages, CSV exports and fragments carry dispute data, which no shared or browser cache keeps)."""

import time

from django.conf import settings
from django.utils.cache import add_never_cache_headers, patch_cache_control


class SecurityHeadersMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        response.setdefault("Permissions-Policy", settings.PERMISSIONS_POLICY)
        if _carries_private_data(request, response):
            add_never_cache_headers(response)
            patch_cache_control(response, private=True)
        return response


def _carries_private_data(request, response) -> bool:
    """Everything but static files: a signed-in page, an export, a feed (its token is a secret),
    and the login page (its CSRF token)."""
    return not request.path.startswith("/" + settings.STATIC_URL.lstrip("/"))


RENEWED_AT = "_session_renewed_at"
RENEW_EVERY = 5 * 60  # seconds: how stale the idle clock may get, to save a write per request


class SessionIdleMiddleware:
    """Sessions end after ``SESSION_COOKIE_AGE`` seconds without a request: a signed-in
    request renews the session (its expiry and cookie) when the last renewal is older than
    five minutes, instead of writing the session on every request."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        session = getattr(request, "session", None)
        if session is not None and "_auth_user_id" in session:
            now = int(time.time())
            if now - session.get(RENEWED_AT, 0) >= RENEW_EVERY:
                session[RENEWED_AT] = now  # marks it modified: saved with a fresh expiry
        return response


def mark_session_renewed(sender, request, user, **kwargs):
    """A login starts the idle clock (user_logged_in)."""
    if request is not None and hasattr(request, "session"):
        request.session[RENEWED_AT] = int(time.time())
