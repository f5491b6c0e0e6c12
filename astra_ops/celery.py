"""The Celery app. Tasks live in each app's tasks.py; the beat schedule is static (STYLE.md)."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "astra_ops.settings")

app = Celery("astra_ops")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
