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


class SessionRenewalMiddleware:
    """Sliding idle expiry (SESSION_COOKIE_AGE) that writes the session at most once every
    SESSION_RENEW_SECONDS instead of on every request: an idle user is signed out after the
    idle time, give or take the renewal interval, and an active one never is."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        session = getattr(request, "session", None)
        user = getattr(request, "user", None)
        if session is not None and user is not None and user.is_authenticated:
            now = int(time.time())
            if now - session.get("_renewed_at", 0) >= settings.SESSION_RENEW_SECONDS:
                session["_renewed_at"] = now  # modified: saved with a fresh expiry
        return self.get_response(request)
