"""A dispute's evidence through the API: listed with the checklist, uploaded and withdrawn
through the evidence services (same checks, same events, same roles as the page)."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from disputes.evidence import samples
from disputes.evidence.models import EvidenceItem
from disputes.history.verify import verify
from disputes.models import CaseEvent, business_today
from tests.api.test_api import api_as
from tests.evidence import badfiles
from tests.factories import ClientFactory, act, open_dispute

pytestmark = pytest.mark.django_db

POD = samples.pdf_document("Proof of delivery", ["Delivered to front door"])


@pytest.fixture
def dispute(db):
    """A Visa 13.1 dispute: proof of delivery is required."""
    return open_dispute(client=ClientFactory(slug="northwind"), code="13.1")


def evidence_url(dispute) -> str:
    return f"/api/v1/disputes/{dispute.pk}/evidence/"


def send(api, dispute, data=POD, name="pod.pdf", **fields):
    return api.post(
        evidence_url(dispute),
        {"file": SimpleUploadedFile(name, data), "kind": "proof_of_delivery", **fields},
        format="multipart",
    )


def test_upload_stores_the_item_and_records_one_event(dispute, cs_user):
    response = send(api_as(cs_user), dispute, description="UPS, delivered Nov 3")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["name"], body["content_type"], body["pages"]) == ("pod.pdf", "application/pdf", 1)
    item = EvidenceItem.objects.get(pk=body["id"])
    assert (item.dispute_id, item.uploaded_by, item.description) == (
        dispute.pk,
        cs_user,
        "UPS, delivered Nov 3",
    )
    event = CaseEvent.objects.filter(dispute=dispute).order_by("-seq").first()
    assert (event.kind, event.payload["item"], event.actor) == ("evidence_added", item.pk, cs_user)
    assert verify().breaks == []


def test_list_shows_the_items_and_the_checklist_state(dispute, cs_user):
    api = api_as(cs_user)
    before = api.get(evidence_url(dispute)).json()
    pod_row = next(r for r in before["checklist"]["rows"] if r["kind"] == "proof_of_delivery")
    assert (pod_row["need"], pod_row["satisfied"], pod_row["status"]) == (
        "required",
        False,
        "Missing",
    )
    assert "proof_of_delivery" in before["checklist"]["missing_required"]
    assert before["checklist"]["blocks_ready"] is True
    item_id = send(api, dispute).json()["id"]
    after = api.get(evidence_url(dispute)).json()
    pod_row = next(r for r in after["checklist"]["rows"] if r["kind"] == "proof_of_delivery")
    assert (pod_row["satisfied"], pod_row["status"], pod_row["items"]) == (
        True,
        "1 file",
        [item_id],
    )
    assert [i["id"] for i in after["items"]] == [item_id]
    assert after["items"][0]["file_url"] == f"/disputes/{dispute.pk}/evidence/{item_id}/file"


def test_file_refused_by_content_is_a_422_problem_and_leaves_nothing(dispute, cs_user):
    response = send(api_as(cs_user), dispute, data=badfiles.renamed_executable(), name="pod.pdf")
    assert response.status_code == 422
    assert response["Content-Type"] == "application/problem+json"
    assert "pod.pdf: not accepted." in response.json()["detail"]
    assert not EvidenceItem.objects.exists()
    assert not CaseEvent.objects.filter(dispute=dispute, kind="evidence_added").exists()


def test_file_over_the_size_limit_is_refused(dispute, cs_user, settings):
    settings.EVIDENCE_MAX_BYTES = 100
    response = send(api_as(cs_user), dispute)
    assert response.status_code == 422
    assert not EvidenceItem.objects.exists()


def test_same_file_twice_is_kept_as_a_duplicate(dispute, cs_user):
    api = api_as(cs_user)
    first = send(api, dispute).json()
    second = send(api, dispute)
    assert second.status_code == 201
    assert second.json()["duplicate_of"] == first["id"]


def test_unknown_kind_is_a_400_field_problem(dispute, cs_user):
    response = send(api_as(cs_user), dispute, kind="love_letter")
    assert response.status_code == 400
    assert "kind" in response.json()["errors"]


def test_compliance_may_list_but_not_upload(dispute, compliance):
    api = api_as(compliance)
    assert api.get(evidence_url(dispute)).status_code == 200
    response = send(api, dispute)
    assert response.status_code == 403
    assert response.json()["detail"] == "Your role may not upload evidence."
    assert not EvidenceItem.objects.exists()


def test_closed_dispute_takes_no_more_evidence(dispute, lead):
    act(dispute_id=dispute.pk, name="accept_liability", actor=lead, on=business_today())
    response = send(api_as(lead), dispute)
    assert response.status_code == 422
    assert "closed" in response.json()["detail"]


def test_evidence_of_a_missing_dispute_is_404(cs_user):
    assert api_as(cs_user).get("/api/v1/disputes/999999/evidence/").status_code == 404


def test_withdraw_keeps_the_item_and_records_why(dispute, cs_user):
    api = api_as(cs_user)
    item_id = send(api, dispute).json()["id"]
    url = f"{evidence_url(dispute)}{item_id}/withdraw/"
    assert api.post(url, {"reason": ""}, format="json").status_code == 400
    response = api.post(url, {"reason": "Wrong order"}, format="json")
    assert response.status_code == 200, response.json()
    assert (response.json()["withdrawn"], response.json()["withdrawal_reason"]) == (
        True,
        "Wrong order",
    )
    assert EvidenceItem.objects.get(pk=item_id).withdrawn
    event = CaseEvent.objects.filter(dispute=dispute).order_by("-seq").first()
    assert (event.kind, event.payload["reason"]) == ("evidence_withdrawn", "Wrong order")
    again = api.post(url, {"reason": "Twice"}, format="json")
    assert again.status_code == 422
    listed = api.get(evidence_url(dispute)).json()
    assert listed["items"][0]["withdrawn"] is True
    assert listed["checklist"]["missing_required"] == ["proof_of_delivery"]


def test_withdraw_of_an_item_on_another_dispute_is_404(dispute, cs_user):
    api = api_as(cs_user)
    item_id = send(api, dispute).json()["id"]
    other = open_dispute(code="13.1")
    url = f"{evidence_url(other)}{item_id}/withdraw/"
    assert api.post(url, {"reason": "x"}, format="json").status_code == 404
