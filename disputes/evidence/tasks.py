"""Evidence background work: thin adapters over services."""

from celery import shared_task

from . import services


@shared_task(time_limit=300, soft_time_limit=280)
def expire_evidence_requests() -> int:
    """Close requests whose upload link has lapsed; returns how many (none twice)."""
    return services.expire_requests()
