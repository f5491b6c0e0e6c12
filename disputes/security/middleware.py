"""Response headers every page carries beyond Django's own (and django-csp's policy):
``Permissions-Policy``, and ``Cache-Control: no-store`` on anything a signed-in user is shown
(pages, CSV exports and fragments carry dispute data, which no shared or browser cache keeps)."""

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
