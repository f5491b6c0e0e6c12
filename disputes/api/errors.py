"""Every error as one body shape: RFC 9457 problem details (``application/problem+json``).

``{"type", "title", "status", "detail", "instance"}`` and, for field errors, ``errors``
({field: [messages]}). The dispute services' refusals keep their status (409 changed meanwhile,
403 role, 422 rules) through ``services.http_status``.
"""

from http import HTTPStatus

from django.core.exceptions import ObjectDoesNotExist, PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from rest_framework import exceptions, serializers
from rest_framework.views import exception_handler

from .. import services

PROBLEM_TYPE = "about:blank"
MEDIA_TYPE = "application/problem+json"


class Problem(serializers.Serializer):
    """RFC 9457 problem details."""

    type = serializers.CharField()
    title = serializers.CharField()
    status = serializers.IntegerField()
    detail = serializers.CharField()
    instance = serializers.CharField(required=False)
    errors = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()), required=False
    )


def problem(status: int, detail: str, *, errors=None, instance: str = "") -> dict:
    body = {
        "type": PROBLEM_TYPE,
        "title": HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
    }
    if instance:
        body["instance"] = instance
    if errors:
        body["errors"] = errors
    return body


def _flatten(detail, prefix="") -> dict:
    """DRF's nested error detail as {"field.sub": [messages]}."""
    if isinstance(detail, dict):
        flat = {}
        for key, value in detail.items():
            flat.update(_flatten(value, f"{prefix}.{key}" if prefix else str(key)))
        return flat
    if isinstance(detail, list) and detail and all(isinstance(d, str) for d in detail):
        return {prefix or "non_field_errors": [str(d) for d in detail]}
    if isinstance(detail, list):
        flat = {}
        for index, value in enumerate(detail):
            flat.update(_flatten(value, f"{prefix}.{index}" if prefix else str(index)))
        return flat
    return {prefix or "non_field_errors": [str(detail)]}


def _translate(exc):
    if isinstance(exc, services.DisputeError):
        status = services.http_status(exc)
        if status == 403:
            return exceptions.PermissionDenied(str(exc))
        error = exceptions.APIException(str(exc))
        error.status_code = status
        return error
    if isinstance(exc, DjangoValidationError):
        detail = (
            exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        )
        return exceptions.ValidationError(detail)
    if isinstance(exc, Http404 | ObjectDoesNotExist):
        return exceptions.NotFound("Not found.")
    if isinstance(exc, PermissionDenied):
        return exceptions.PermissionDenied(str(exc) or "Your role may not do this.")
    return exc


def problem_handler(exc, context):
    """DRF's exception handler, answering in problem details."""
    exc = _translate(exc)
    response = exception_handler(exc, context)
    if response is None:
        return None
    request = context.get("request")
    instance = request.path if request is not None else ""
    data = response.data
    if isinstance(exc, exceptions.ValidationError):
        body = problem(
            400, "The request has invalid fields.", errors=_flatten(data), instance=instance
        )
    else:
        detail = data.get("detail", "") if isinstance(data, dict) else str(data)
        body = problem(response.status_code, str(detail), instance=instance)
    response.data = body
    response.content_type = MEDIA_TYPE
    return response


@csrf_exempt
def not_found(request, exception=None, **kwargs):
    """404 for any path under /api/ that names nothing."""
    return JsonResponse(
        problem(404, "Nothing here: see /api/docs/.", instance=request.path),
        status=404,
        content_type=MEDIA_TYPE,
    )


ERROR_STATUSES = (400, 401, 403, 404, 405, 406, 409, 413, 415, 422)


def document_problems(result, generator, request, public):
    """Schema postprocessing: every operation may answer with a problem (documented, so the
    schema says what a client gets and the fuzz test holds the API to it)."""
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    schemas.setdefault(
        "Problem",
        {
            "type": "object",
            "description": "RFC 9457 problem details.",
            "properties": {
                "type": {"type": "string"},
                "title": {"type": "string"},
                "status": {"type": "integer"},
                "detail": {"type": "string"},
                "instance": {"type": "string"},
                "errors": {
                    "type": "object",
                    "additionalProperties": {"type": "array", "items": {"type": "string"}},
                },
            },
            "required": ["type", "title", "status", "detail"],
        },
    )
    for path in result.get("paths", {}).values():
        for operation in path.values():
            responses = operation.setdefault("responses", {})
            for status in ERROR_STATUSES:
                responses.setdefault(
                    str(status),
                    {
                        "description": HTTPStatus(status).phrase,
                        "content": {
                            MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}
                        },
                    },
                )
    return result
