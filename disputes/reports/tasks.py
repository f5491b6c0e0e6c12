"""Celery tasks of the reports: thin adapters over services."""

from celery import shared_task

from . import summary


@shared_task(time_limit=30 * 60, soft_time_limit=29 * 60)
def refresh_reports() -> int:
    """Bring the report summaries up to the newest case-history event; returns the disputes
    re-read. The pages are exact without it; it keeps what they add on the fly small."""
    return summary.refresh().disputes
