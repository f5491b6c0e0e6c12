"""A person's notification settings, and the digest they would receive, in the browser."""

from datetime import datetime

from csp.constants import UNSAFE_INLINE
from csp.decorators import csp_update
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from . import digest as digests
from . import emails
from .forms import NotificationSettingsForm
from .people import settings_for


@login_required
@require_http_methods(["GET", "POST"])
def notification_settings(request):
    current = settings_for(request.user)
    form = NotificationSettingsForm(request.POST or None, instance=current)
    if request.method == "POST" and form.is_valid():
        saved = form.save(commit=False)
        saved.user, saved.updated_at = request.user, timezone.now()
        saved.save()
        messages.success(request, "Your notification settings are saved.")
        return redirect("notifications:settings")
    return render(
        request,
        "notifications/settings.html",
        {"form": form, "has_email": bool(request.user.email)},
    )


def _preview_user(request):
    """Staff may preview another person's digest (?user=<login>); everyone else sees their own."""
    login = request.GET.get("user", "")
    if login and request.user.is_staff:
        found = get_user_model().objects.filter(username=login[:150]).first()
        if found is not None:
            return found
    return request.user


def _preview_now(request):
    raw = request.GET.get("now", "")
    try:
        moment = datetime.fromisoformat(raw[:40]) if raw else None
    except ValueError:
        moment = None
    if moment is not None and timezone.is_naive(moment):
        moment = timezone.make_aware(moment)
    return moment or timezone.now()


@login_required
# The preview is the e-mail itself, whose CSS is inline as mail clients need: this one page lets
# inline styles apply (never scripts).
@csp_update({"style-src": [UNSAFE_INLINE]})
def digest_preview(request):
    user = _preview_user(request)
    now = _preview_now(request)
    digest = digests.build(user, now=now)
    if digest is None:
        return render(request, "notifications/no_digest.html", {"person": user}, status=200)
    if request.GET.get("format") == "text":
        return HttpResponse(
            emails.render_digest(digest)[1], content_type="text/plain; charset=utf-8"
        )
    if request.GET.get("format") == "ics":
        return HttpResponse(emails.digest_ics(digest, now), content_type="text/calendar")
    return HttpResponse(emails.render_digest(digest)[2])
