"""A tampered queue cursor is ignored (the first page shows), never a server error: amounts that
are not finite or do not fit, text with a NUL byte, ids beyond a bigint, deep nesting."""

import base64
import json
from datetime import timedelta
from decimal import Decimal

import pytest

from disputes.models import business_today
from tests.disputes.test_queue import QUEUE, case_ids, make_dispute

pytestmark = pytest.mark.django_db


def cursor_of(payload) -> str:
    raw = json.dumps(payload, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


NUL = "\x00"
AMOUNTS = ["NaN", "sNaN", "-NaN", "Infinity", "-Infinity", "1e999999", "-1e999999", "1e-999999"]
TAMPERED = [
    *(["amount", 0, [amount, 1]] for amount in AMOUNTS),
    *(["-amount", 0, [amount, 1]] for amount in AMOUNTS),
    *([sort, 0, [NUL, 1]] for sort in ("case", "-case", "reason", "-reason")),
    *([sort, 0, [NUL, "card", 1]] for sort in ("network", "-network")),
    *([sort, 0, ["visa", NUL, 1]] for sort in ("network", "-network")),
    *([sort, 0, [f"Client{NUL}", 1, 1]] for sort in ("client", "-client")),
    *([sort, 0, [NUL, "B", "c", 1, 1]] for sort in ("assignee", "-assignee")),
    *([sort, 0, ["A", "B", f"c{NUL}", 1, 1]] for sort in ("assignee", "-assignee")),
    ["case", 0, ["CASE", 10**30]],
    ["client", 0, ["Client", -(10**30), 1]],
]


@pytest.fixture
def three():
    return [
        make_dispute(internal_due=business_today() + timedelta(days=n), amount=Decimal(10 + n))
        for n in range(3)
    ]


@pytest.mark.parametrize("direction", ["after", "before"])
@pytest.mark.parametrize("payload", TAMPERED, ids=lambda p: repr(p)[:60])
def test_a_tampered_cursor_is_ignored(client, agent, three, payload, direction):
    client.force_login(agent)
    first = client.get(QUEUE, {"sort": payload[0]})
    response = client.get(QUEUE, {"sort": payload[0], direction: cursor_of(payload)})
    assert response.status_code == 200
    assert case_ids(response) == case_ids(first)
    assert len(case_ids(response)) == 3


def test_a_deeply_nested_cursor_is_ignored(client, agent, three):
    client.force_login(agent)
    deep = base64.urlsafe_b64encode(b"[" * 100_000).decode()
    response = client.get(QUEUE, {"after": deep})
    assert response.status_code == 200
    assert len(case_ids(response)) == 3


# --- posted ids and versions ----------------------------------------------------------------


@pytest.mark.parametrize("number", ["²", "١٢", "9" * 30])
def test_a_posted_id_or_version_that_is_not_ascii_digits_is_refused_not_a_500(client, lead, number):
    dispute = make_dispute()
    client.force_login(lead)
    claim = client.post("/disputes/claim/", {"claim": dispute.pk, f"version-{dispute.pk}": number})
    assert claim.status_code in (302, 404)
    assign = client.post(
        "/disputes/assign/",
        {"dispute": [dispute.pk, number], "action": "claim", f"version-{dispute.pk}": number},
    )
    assert assign.status_code == 302
    assert client.post("/disputes/claim/", {"claim": number}).status_code == 404
