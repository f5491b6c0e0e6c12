"""The API fuzzed from its own schema (schemathesis): no input yields a 500, and every response
matches the schema (status, content type, body)."""

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, Phase, settings
from rest_framework.authtoken.models import Token
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.factories import ClientFactory, UserFactory, open_dispute

# Every act shares one view: fuzz four of them (an assignment, a code, an amount, a plain one)
# so the test stays short.
FUZZED_ACTS = ("claim", "assign", "nacha_dishonor", "record_won")
schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", get_wsgi_application()).exclude(
    path_regex=rf"/api/v1/disputes/\{{id\}}/(?!({'|'.join(FUZZED_ACTS)})/)"
)


@pytest.fixture
def token(db):
    # As django.test.Client does: the test's transaction must outlive each request.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    user = UserFactory(username="fuzzer", role="admin", is_staff=True, is_superuser=True)
    ClientFactory(name="Acme", slug="acme")
    open_dispute()
    yield Token.objects.create(user=user).key
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@schema.parametrize()
@settings(
    max_examples=6,
    deadline=None,
    derandomize=True,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
)
def test_api_answers_every_input_from_its_schema(case, token):
    case.call_and_validate(
        headers={"Authorization": f"Token {token}"},
        checks=[
            not_a_server_error,
            status_code_conformance,
            content_type_conformance,
            response_schema_conformance,
        ],
    )
