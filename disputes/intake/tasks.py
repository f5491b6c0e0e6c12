"""Celery tasks of the intake: thin adapters over its services."""

from celery import shared_task

from . import services


@shared_task(
    time_limit=int(services.IMPORT_TIME_LIMIT.total_seconds()),
    soft_time_limit=int(services.IMPORT_TIME_LIMIT.total_seconds()) - 60,
)
def import_intake_file(intake_file_id: int) -> int:
    """Import one received file; returns the entries applied (0 when refused)."""
    intake_file = services.import_file(intake_file_id=intake_file_id)
    return intake_file.done if intake_file.status == intake_file.Status.DONE else 0


@shared_task(time_limit=5 * 60, soft_time_limit=4 * 60, expires=4 * 60)
def requeue_waiting_imports() -> int:
    """Queue again the files left waiting (the broker was down when they were received)."""
    return services.requeue_waiting()


@shared_task(time_limit=10 * 60, soft_time_limit=9 * 60)
def purge_idempotency_keys() -> int:
    """Forget the API's Idempotency-Keys past their retention; returns how many."""
    from ..api.idempotency import purge_expired_keys  # the API's code loads REST framework

    return purge_expired_keys()
