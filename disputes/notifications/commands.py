"""What the notification commands share: reading --now."""

from datetime import datetime

from django.core.management.base import CommandError
from django.utils import timezone


def parse_now(value: str | None) -> datetime:
    if not value:
        return timezone.now()
    try:
        moment = datetime.fromisoformat(value)
    except ValueError as exc:
        raise CommandError(f"--now {value!r} is not an ISO-8601 date and time.") from exc
    return timezone.make_aware(moment) if timezone.is_naive(moment) else moment
