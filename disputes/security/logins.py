"""Login throttling (django-axes): who is locked out now, lifting a lockout, and the two values
django-axes reads off a request (the address behind our proxies, the username as typed)."""

import logging
from dataclasses import dataclass
from datetime import datetime

from axes.models import AccessAttempt
from axes.utils import reset
from django.conf import settings
from django.db.models import Max, Sum
from django.utils import timezone

log = logging.getLogger(__name__)

USERNAME_LIMIT = 150  # Django's username length; longer input is not a username


def client_address(request) -> str | None:
    """The client's address: REMOTE_ADDR, or with ``LOGIN_PROXY_COUNT`` trusted proxies in front
    the address the outermost of them saw (X-Forwarded-For, counted from the right, so a client
    cannot choose it)."""
    proxies = settings.LOGIN_PROXY_COUNT
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    if proxies and forwarded:
        hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
        if len(hops) >= proxies:
            return hops[-proxies]
    return request.META.get("REMOTE_ADDR")


def typed_username(request, credentials) -> str:
    """The username a login tried, as stored with its failures: no NUL byte, at most 150
    characters (whatever was posted)."""
    source = credentials if credentials else request.POST
    value = source.get(settings.AXES_USERNAME_FORM_FIELD) or ""
    return str(value).replace("\x00", "")[:USERNAME_LIMIT]


@dataclass(frozen=True)
class Lockout:
    """A username or an address locked out now: ``kind`` is "username" or "address"."""

    kind: str
    value: str
    failures: int
    last_failure: datetime


def current_lockouts(now: datetime | None = None) -> list[Lockout]:
    """Usernames and addresses with at least ``AXES_FAILURE_LIMIT`` failures within the cool-off,
    newest failure first."""
    now = now or timezone.now()
    recent = AccessAttempt.objects.filter(attempt_time__gte=now - settings.AXES_COOLOFF_TIME)
    found = []
    for kind, column in (("username", "username"), ("address", "ip_address")):
        rows = (
            recent.exclude(**{f"{column}__isnull": True})
            .values(column)
            .annotate(failures=Sum("failures_since_start"), last=Max("attempt_time"))
            .filter(failures__gte=settings.AXES_FAILURE_LIMIT)
        )
        found += [Lockout(kind, row[column], row["failures"], row["last"]) for row in rows]
    return sorted(found, key=lambda lockout: lockout.last_failure, reverse=True)


def lift_lockout(*, kind: str, value: str, actor) -> int:
    """Forget the failures of a username or an address (the next login is checked afresh);
    returns how many attempt records went. Logged with who lifted it."""
    if kind == "username":
        count = reset(username=value)
    elif kind == "address":
        count = reset(ip=value)
    else:
        raise ValueError(f"unknown lockout kind {kind!r}")
    log.warning("Login lockout lifted: %s %r by %s (%d records)", kind, value, actor, count)
    return count
