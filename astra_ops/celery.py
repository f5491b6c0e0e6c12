"""The Celery app. Tasks live in each app's tasks.py; the beat schedule is static (STYLE.md)."""

import logging
import os
from functools import partial

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "astra_ops.settings")

app = Celery("astra_ops")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

log = logging.getLogger(__name__)


def publish(task, *args) -> bool:
    """Queue ``task``; False, with a warning, when the broker cannot take it (Redis down). The
    publish gives up within seconds (settings: the broker's timeouts and retry policy)."""
    from kombu.exceptions import OperationalError

    try:
        task.apply_async(args)
    except OperationalError as exc:
        log.warning("broker unavailable, %s%r not queued: %s", task.name, args, exc)
        return False
    return True


def enqueue_on_commit(task, *args) -> None:
    """Queue ``task`` once the transaction commits, as ``delay_on_commit`` does, except that a
    broker that is down does not fail the request: the act is committed and its page answers;
    what was not queued is left as it is for its periodic task to pick up again."""
    from django.db import transaction

    transaction.on_commit(partial(publish, task, *args), robust=True)
