"""Celery tasks: thin wrappers over the notification services, each returning a count."""

from celery import shared_task

from . import services


@shared_task(time_limit=10 * 60, soft_time_limit=9 * 60, expires=14 * 60)
def send_deadline_reminders() -> int:
    """The 15-minute sweep; delivery goes to the worker, one task per message."""
    return services.send_deadline_reminders(dispatch=services.deliver_via_worker).recorded


@shared_task(time_limit=30 * 60, soft_time_limit=29 * 60)
def send_weekly_digest() -> int:
    return services.send_weekly_digest(dispatch=services.deliver_via_worker)


@shared_task(
    autoretry_for=services.TRANSIENT,
    retry_backoff=30,
    retry_backoff_max=30 * 60,
    retry_jitter=True,
    max_retries=10,
    acks_late=True,  # safe to repeat: delivery claims the row and skips what was sent
    time_limit=120,
    soft_time_limit=100,
)
def deliver_notification(notification_id: int) -> int:
    """Send one recorded notification (1) or nothing if it was sent meanwhile (0); SMTP
    failures retry with exponential backoff."""
    return int(services.deliver(notification_id))
