"""Celery tasks for bundles: thin adapters over the services."""

from celery import shared_task

from . import services


@shared_task(time_limit=10 * 60, soft_time_limit=9 * 60)
def render_bundle_version(version_id: int) -> int:
    """Render one queued bundle version; returns its page count (0 when it failed)."""
    version = services.render_version(version_id=version_id)
    return version.pages or 0


@shared_task(time_limit=5 * 60, soft_time_limit=4 * 60, expires=4 * 60)
def requeue_waiting_bundles() -> int:
    """Queue again the versions left waiting (the broker was down when they were requested)."""
    return services.requeue_waiting()
