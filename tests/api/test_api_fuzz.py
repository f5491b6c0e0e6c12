"""The API fuzzed from its own schema (schemathesis): no input yields a 500, and every response
matches the schema (status, content type, body). Every operation is fuzzed: each act
(``POST /api/v1/disputes/<id>/<act>/``), the evidence list, upload and withdrawal, imports and
volumes. Half the generated ids are aimed at a dispute (and an evidence item) that exists, and
half the generated versions at its current version, so the acts' own checks and forms are
reached, not only the 404 and 409 in front of them."""

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from django.test import Client
from hypothesis import HealthCheck, Phase, settings
from rest_framework.authtoken.models import Token
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from disputes import services
from disputes.evidence import services as evidence
from disputes.models import Dispute
from tests.factories import ClientFactory, UserFactory, open_dispute

ACT_PATHS = rf"^/api/v1/disputes/\{{id\}}/({'|'.join(services.ACTS)})/$"
schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", get_wsgi_application())
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
FUZZ = {
    "deadline": None,
    "derandomize": True,
    "phases": [Phase.explicit, Phase.generate],
    "suppress_health_check": list(HealthCheck),
}


@pytest.fixture
def target(db):
    """A signed-in admin's token, and a dispute with one evidence item to aim at."""
    # As django.test.Client does: the test's transaction must outlive each request.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    user = UserFactory(username="fuzzer", role="admin", is_staff=True, is_superuser=True)
    ClientFactory(name="Acme", slug="acme")
    dispute = open_dispute()
    item = evidence.upload_evidence(
        dispute_id=dispute.pk,
        uploads=[evidence.Upload("pod.txt", b"Delivered to the front door, signed J. Doe.\n")],
        kind="proof_of_delivery",
        actor=user,
    ).saved[0]
    yield {"token": Token.objects.create(user=user).key, "dispute": dispute, "item": item}
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


def _aim(case, target) -> None:
    """Point even generated ids at the dispute and item that exist, and odd generated versions
    at the dispute's current version."""
    params = case.path_parameters or {}
    if isinstance(params.get("id"), int) and params["id"] % 2 == 0:
        params["id"] = target["dispute"].pk
        if isinstance(params.get("item_id"), int) and params["item_id"] % 2 == 0:
            params["item_id"] = target["item"].pk
        body = case.body
        if isinstance(body, dict) and isinstance(body.get("version"), int) and body["version"] % 2:
            body["version"] = Dispute.objects.get(pk=target["dispute"].pk).version


def _call(case, target) -> None:
    _aim(case, target)
    case.call_and_validate(headers={"Authorization": f"Token {target['token']}"}, checks=CHECKS)


# Every act shares one view and one input: a few generated inputs each (the explicit phase's
# boundary examples, some forty an operation, run on the other operations).
@schema.include(path_regex=ACT_PATHS).parametrize()
@settings(max_examples=3, **{**FUZZ, "phases": [Phase.generate]})
def test_every_act_answers_every_input_from_its_schema(case, target):
    _call(case, target)


@schema.exclude(path_regex=ACT_PATHS).parametrize()
@settings(max_examples=6, **FUZZ)
def test_api_answers_every_input_from_its_schema(case, target):
    _call(case, target)


@pytest.mark.django_db
def test_every_act_and_the_evidence_endpoints_are_in_the_schema():
    """What the fuzz covers: the schema documents every act and the evidence endpoints."""
    paths = Client().get("/api/schema/?format=json").json()["paths"]
    for name in services.ACTS:
        assert "post" in paths[f"/api/v1/disputes/{{id}}/{name}/"], name
    assert set(paths["/api/v1/disputes/{id}/evidence/"]) >= {"get", "post"}
    assert "post" in paths["/api/v1/disputes/{id}/evidence/{item_id}/withdraw/"]
