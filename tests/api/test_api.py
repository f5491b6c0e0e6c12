"""The REST API: auth, roles, problem details, idempotency, the queue's filters, acts."""

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from disputes.choices import WorkState
from disputes.intake.models import IdempotentRequest
from disputes.intake.tasks import purge_idempotency_keys
from disputes.models import Dispute
from tests.factories import ClientFactory, open_dispute

pytestmark = pytest.mark.django_db

NEW_DISPUTE = {
    "network": "visa",
    "case_id": "VAPI-1001",
    "client": "acme",
    "reason_code": "13.1",
    "amount": "120.50",
    "currency": "USD",
    "reference": "74000000000000000000001",
    "transaction_type": "purchase",
    "transaction_date": "2026-11-02",
    "settlement_date": "2026-11-03",
    "stage_started_on": "2026-11-25",
}


def api_as(user) -> APIClient:
    client = APIClient()
    token, _ = Token.objects.get_or_create(user=user)
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


@pytest.fixture
def acme(db):
    return ClientFactory(name="Acme", slug="acme")


def test_unauthenticated_gets_a_problem_401():
    response = APIClient().get("/api/v1/disputes/")
    assert response.status_code == 401
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["status"] == 401


def test_drf_create_token_works(lead, capsys):
    call_command("drf_create_token", "lead")
    assert Token.objects.filter(user=lead).exists()


def test_create_is_idempotent_on_network_and_case_id(admin_user, acme):
    api = api_as(admin_user)
    first = api.post("/api/v1/disputes/", NEW_DISPUTE, format="json")
    assert first.status_code == 201, first.json()
    again = api.post("/api/v1/disputes/", NEW_DISPUTE, format="json")
    assert again.status_code == 200
    assert again.json()["id"] == first.json()["id"]
    assert Dispute.objects.count() == 1
    history = first.json()["history"]
    assert history[0]["kind"] == "opened" and history[0]["title"] == "Dispute opened"


def test_idempotency_key_replays_the_first_response(admin_user, acme):
    api = api_as(admin_user)
    first = api.post("/api/v1/disputes/", NEW_DISPUTE, format="json", HTTP_IDEMPOTENCY_KEY="k1")
    retry = api.post("/api/v1/disputes/", NEW_DISPUTE, format="json", HTTP_IDEMPOTENCY_KEY="k1")
    assert (first.status_code, retry.status_code) == (201, 201)
    assert retry.json() == first.json()
    other = api.post(
        "/api/v1/disputes/",
        {**NEW_DISPUTE, "case_id": "OTHER"},
        format="json",
        HTTP_IDEMPOTENCY_KEY="k1",
    )
    assert other.status_code == 422
    assert Dispute.objects.count() == 1


def test_field_errors_are_a_400_problem(admin_user, acme):
    api = api_as(admin_user)
    response = api.post("/api/v1/disputes/", {**NEW_DISPUTE, "amount": "-1"}, format="json")
    assert response.status_code == 400
    body = response.json()
    assert set(body["errors"]) == {"amount"}
    assert body["type"] == "about:blank"
    unknown = api.post("/api/v1/disputes/", {**NEW_DISPUTE, "reason_code": "99.9"}, format="json")
    assert set(unknown.json()["errors"]) == {"reason_code"}


def test_role_without_permission_gets_403(compliance, acme):
    response = api_as(compliance).post("/api/v1/disputes/", NEW_DISPUTE, format="json")
    assert response.status_code == 403
    assert response["Content-Type"] == "application/problem+json"


def test_list_uses_the_queue_filters_and_cursor(agent):
    for _n in range(3):
        open_dispute(code="13.1")
    open_dispute(network="mastercard", code="4853")
    api = api_as(agent)
    page = api.get("/api/v1/disputes/", {"network": "visa", "size": 25}).json()
    assert {row["network"] for row in page["results"]} == {"visa"}
    assert len(page["results"]) == 3
    bad = api.get("/api/v1/disputes/", {"network": "swift"})
    assert bad.status_code == 400 and "network" in bad.json()["errors"]


def test_acts_take_the_version_and_refuse_a_stale_one(agent, agent2):
    dispute = open_dispute()
    response = api_as(agent).post(
        f"/api/v1/disputes/{dispute.pk}/claim/", {"version": dispute.version}, format="json"
    )
    assert response.status_code == 200, response.json()
    assert response.json()["assignee"]
    stale = api_as(agent2).post(
        f"/api/v1/disputes/{dispute.pk}/claim/", {"version": dispute.version}, format="json"
    )
    assert stale.status_code == 409
    assert stale.json()["status"] == 409


def test_act_the_rules_forbid_is_422(agent):
    dispute = open_dispute()
    response = api_as(agent).post(
        f"/api/v1/disputes/{dispute.pk}/nacha_dishonor/",
        {"version": dispute.version, "code": "R68"},
        format="json",
    )
    assert response.status_code == 422


def test_act_on_missing_dispute_is_404(agent):
    response = api_as(agent).post("/api/v1/disputes/999999/claim/", {"version": 1}, format="json")
    assert response.status_code == 404
    assert response.json()["title"] == "Not Found"


def test_unknown_api_path_is_a_404_problem(agent):
    response = api_as(agent).get("/api/v1/nothing/")
    assert response.status_code == 404
    assert response["Content-Type"] == "application/problem+json"


def test_retrieve_has_deadlines_and_history(agent):
    dispute = open_dispute()
    body = api_as(agent).get(f"/api/v1/disputes/{dispute.pk}/").json()
    assert body["deadline"]["network_due"] == dispute.network_due.isoformat()
    assert body["state"] == WorkState.NEW
    assert [e["kind"] for e in body["history"]] == ["opened"]


def test_volumes_api_is_idempotent(lead, acme):
    rows = {
        "rows": [
            {
                "client": "acme",
                "day": "2026-11-30",
                "rail": "ach",
                "transaction_type": "ach_debit",
                "count": 1200,
                "amount": "98000.00",
                "currency": "USD",
            }
        ]
    }
    api = api_as(lead)
    assert api.post("/api/v1/transaction-volumes/", rows, format="json").json()["created"] == 1
    assert api.post("/api/v1/transaction-volumes/", rows, format="json").json()["unchanged"] == 1
    listed = api.get("/api/v1/transaction-volumes/", {"client": "acme"}).json()
    assert listed[0]["count"] == 1200
    twice = {"rows": rows["rows"] * 2}
    refused = api.post("/api/v1/transaction-volumes/", twice, format="json")
    assert refused.status_code == 400
    assert "line 1" in refused.json()["errors"]["rows"][0]


def test_nacha_upload_endpoint_accepts_a_file(lead):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from tests.intake.fixtures import two_batches

    upload = SimpleUploadedFile("RET.ach", two_batches().encode())
    response = api_as(lead).post("/api/v1/imports/nacha/", {"file": upload}, format="multipart")
    assert response.status_code == 202
    assert response.json()["status"] == "pending"


def test_schema_and_docs_are_served(client):
    schema = client.get("/api/schema/?format=json")
    assert schema.status_code == 200
    assert "/api/v1/disputes/{id}/claim/" in schema.json()["paths"]
    docs = client.get("/api/docs/")
    assert docs.status_code == 200
    assert b"cdn" not in docs.content.lower()


def test_schema_validates_without_warnings(tmp_path):
    """OpenAPI 3 validation of the generated schema; any generator warning fails."""
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "s.yml"))
    assert (tmp_path / "s.yml").read_text().startswith("openapi: 3")


def test_idempotency_key_is_forgotten_after_its_retention(admin_user, acme, settings):
    settings.IDEMPOTENCY_KEY_RETENTION_HOURS = 24
    api = api_as(admin_user)
    first = api.post("/api/v1/disputes/", NEW_DISPUTE, format="json", HTTP_IDEMPOTENCY_KEY="k2")
    assert first.status_code == 201
    IdempotentRequest.objects.filter(key="k2").update(
        created_at=timezone.now() - timedelta(hours=25)
    )
    # Forgotten: the key is a new request. A different body is no longer refused, and the
    # dispute create is still idempotent on network and case id.
    other = {**NEW_DISPUTE, "case_id": "VAPI-1002"}
    late = api.post("/api/v1/disputes/", other, format="json", HTTP_IDEMPOTENCY_KEY="k2")
    assert late.status_code == 201
    assert "Idempotent-Replayed" not in late
    remembered = IdempotentRequest.objects.get(key="k2")
    assert remembered.body["case_id"] == "VAPI-1002"
    retry = api.post("/api/v1/disputes/", other, format="json", HTTP_IDEMPOTENCY_KEY="k2")
    assert (retry.status_code, retry["Idempotent-Replayed"]) == (201, "true")
    assert Dispute.objects.count() == 2


def test_expired_idempotency_keys_are_purged_by_the_sweep(admin_user, acme, settings):
    settings.IDEMPOTENCY_KEY_RETENTION_HOURS = 24
    api = api_as(admin_user)
    api.post("/api/v1/disputes/", NEW_DISPUTE, format="json", HTTP_IDEMPOTENCY_KEY="old")
    api.post(
        "/api/v1/disputes/",
        {**NEW_DISPUTE, "case_id": "VAPI-1003"},
        format="json",
        HTTP_IDEMPOTENCY_KEY="fresh",
    )
    IdempotentRequest.objects.filter(key="old").update(
        created_at=timezone.now() - timedelta(hours=24, seconds=1)
    )
    assert purge_idempotency_keys.apply().get() == 1
    assert list(IdempotentRequest.objects.values_list("key", flat=True)) == ["fresh"]
    assert purge_idempotency_keys.apply().get() == 0  # safe to repeat


def test_purge_command_forgets_expired_keys(admin_user, acme, settings, capsys):
    settings.IDEMPOTENCY_KEY_RETENTION_HOURS = 1
    api_as(admin_user).post(
        "/api/v1/disputes/", NEW_DISPUTE, format="json", HTTP_IDEMPOTENCY_KEY="k3"
    )
    IdempotentRequest.objects.update(created_at=timezone.now() - timedelta(hours=2))
    call_command("purge_idempotency_keys")
    assert "Forgot 1 Idempotency-Key older than 1 h." in capsys.readouterr().out
    assert not IdempotentRequest.objects.exists()
