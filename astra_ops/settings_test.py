"""Test settings: PostgreSQL and Redis on this machine unless the environment names others."""

import os
import tempfile

os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/astra_ops")
os.environ.setdefault("CELERY_BROKER_URL", "redis://127.0.0.1:6379/15")
os.environ.setdefault("CELERY_RESULT_BACKEND", "redis://127.0.0.1:6379/15")
os.environ.setdefault("EMAIL_URL", "consolemail://")  # pytest-django swaps in locmem
os.environ.setdefault("DEBUG", "false")
os.environ.setdefault("SECRET_KEY", "test-only-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz")
os.environ.setdefault("SECURE_SSL_REDIRECT", "false")
os.environ.setdefault("AUDIT_HMAC_KEY", "test-only-audit-key-0123456789")
# Checkpoints of a test run never mix with the demo's or another run's.
os.environ.setdefault("AUDIT_CHECKPOINT_DIR", tempfile.mkdtemp(prefix="astra-test-checkpoints-"))
os.environ.setdefault("EVIDENCE_DIR", tempfile.mkdtemp(prefix="astra-test-evidence-"))

# Under pytest-xdist each worker gets its own Redis database for Celery (gw0 → the given one,
# gw1 → one below, …), so one worker's Celery tests never consume another's tasks.
_worker = os.environ.get("PYTEST_XDIST_WORKER", "")
if _worker.startswith("gw") and _worker[2:].isdigit():
    for _name in ("CELERY_BROKER_URL", "CELERY_RESULT_BACKEND"):
        _base, _, _db = os.environ[_name].rpartition("/")
        if _db.isdigit():
            os.environ[_name] = f"{_base}/{max(0, int(_db) - int(_worker[2:]))}"

from .settings import *  # noqa: E402, F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STORAGES["staticfiles"] = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}  # noqa: F405
# Static files come from the finders in tests (no collectstatic run).
WHITENOISE_USE_FINDERS = True
STATIC_ROOT = VAR_DIR / "test-static"  # noqa: F405
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
# The test suite empties tables between transactional tests (TRUNCATE), which the case
# history's trigger refuses unless a superuser session asks for maintenance (migration 0004).
DATABASES["default"].setdefault("OPTIONS", {})["options"] = "-c astra.history_maintenance=on"  # noqa: F405
