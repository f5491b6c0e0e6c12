"""``Idempotency-Key``: a retried API request gets the first response back, for a while.

A key is remembered for ``IDEMPOTENCY_KEY_RETENTION_HOURS`` (default 24) after the first
request. Within that time the same key with the same request replays the first response
(``Idempotent-Replayed: true``) and the same key with another request is refused (422). After
it, the key is forgotten: a request carrying it is handled as a new request (a dispute create is
still idempotent on network and case id, so a late retry finds the dispute it opened, 200).
``purge_expired_keys`` deletes the forgotten rows (hourly on beat, and
``manage.py purge_idempotency_keys``).
"""

import hashlib
import json
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from rest_framework import exceptions
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response

from ..intake.models import IdempotentRequest


def retention() -> timedelta:
    return timedelta(hours=settings.IDEMPOTENCY_KEY_RETENTION_HOURS)


def _remembered_since(now: datetime) -> datetime:
    return now - retention()


def purge_expired_keys(*, now: datetime | None = None) -> int:
    """Delete the keys older than the retention; returns how many. Safe to repeat."""
    since = _remembered_since(now or timezone.now())
    deleted, _ = IdempotentRequest.objects.filter(created_at__lt=since).delete()
    return deleted


def _fingerprint(request) -> str:
    return hashlib.sha256(
        request.method.encode() + request.path.encode() + request._request.body
    ).hexdigest()


def _check_key(key: str) -> None:
    if len(key) > 255 or not key.isprintable():
        raise exceptions.ValidationError({"Idempotency-Key": ["At most 255 printable characters."]})


def _remembered(user, key: str, now: datetime):
    """The first request with this key, if it is still remembered; a forgotten one is
    deleted so the key can be used again."""
    seen = IdempotentRequest.objects.filter(user=user, key=key).first()
    if seen is not None and seen.created_at < _remembered_since(now):
        IdempotentRequest.objects.filter(pk=seen.pk).delete()
        return None
    return seen


def _replay(seen, fingerprint: str) -> Response:
    if seen.fingerprint != fingerprint:
        error = exceptions.APIException(
            "This Idempotency-Key was used for another request: use a new key."
        )
        error.status_code = 422
        raise error
    return Response(seen.body, status=seen.status_code, headers={"Idempotent-Replayed": "true"})


def idempotent(handler):
    """Answer a request carrying a remembered Idempotency-Key with the first response; the same
    key with another request is refused (422). Server errors are not remembered."""

    def wrapped(self, request, *args, **kwargs):
        key = request.headers.get("Idempotency-Key", "")
        if not key:
            return handler(self, request, *args, **kwargs)
        _check_key(key)
        fingerprint = _fingerprint(request)
        seen = _remembered(request.user, key, timezone.now())
        if seen is not None:
            return _replay(seen, fingerprint)
        response = handler(self, request, *args, **kwargs)
        if response.status_code >= 500:
            return response
        try:
            with transaction.atomic():
                IdempotentRequest.objects.create(
                    user=request.user,
                    key=key,
                    method=request.method,
                    path=request.path[:300],
                    fingerprint=fingerprint,
                    status_code=response.status_code,
                    body=json.loads(JSONRenderer().render(response.data)),
                )
        except IntegrityError:
            # Another request with the same key got there first: answer as it was answered.
            return _replay(IdempotentRequest.objects.get(user=request.user, key=key), fingerprint)
        return response

    wrapped.__name__ = handler.__name__
    wrapped.__doc__ = handler.__doc__
    return wrapped
