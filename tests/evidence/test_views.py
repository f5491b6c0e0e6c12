"""Evidence pages: the plain upload form, the JSON answer of the script, the file view, the
panel on the dispute page, My evidence requests, the letter editor."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from disputes.evidence import samples, services
from disputes.evidence.models import EvidenceItem
from disputes.models import CaseEvent
from tests.evidence import badfiles

POD = samples.pdf_document("Proof of delivery", ["Delivered"])


@pytest.fixture
def as_cs(client, cs_user):
    client.force_login(cs_user)
    return client


def post_files(client, dispute, *files, json=False, kind="proof_of_delivery"):
    data = {"kind": kind, "file": [SimpleUploadedFile(n, d) for n, d in files]}
    headers = {"HTTP_ACCEPT": "application/json"} if json else {}
    return client.post(reverse("disputes:evidence_upload", args=[dispute.pk]), data, **headers)


def test_plain_form_upload_without_javascript(as_cs, dispute):
    response = post_files(
        as_cs, dispute, ("pod.pdf", POD), ("label.png", samples.png_receipt(["x"]))
    )
    assert response.status_code == 302 and response.url.endswith("#evidence")
    assert EvidenceItem.objects.count() == 2
    page = as_cs.get(response.url)
    assert "pod.pdf: uploaded." in page.content.decode()


def test_json_answer_per_file_with_the_refusal(as_cs, dispute):
    response = post_files(as_cs, dispute, ("invoice.pdf", badfiles.encrypted_pdf()), json=True)
    assert response.status_code == 422
    assert "password-protected" in response.json()["refused"][0]["message"]
    response = post_files(as_cs, dispute, ("pod.pdf", POD), json=True)
    assert response.status_code == 201 and response.json()["saved"][0]["name"] == "pod.pdf"


def test_bad_input_never_500(as_cs, dispute):
    url = reverse("disputes:evidence_upload", args=[dispute.pk])
    assert as_cs.post(url, {"kind": "proof_of_delivery"}).status_code == 302  # no file
    assert post_files(as_cs, dispute, ("a.pdf", POD), kind="nonsense", json=True).status_code == 422
    assert as_cs.post(reverse("disputes:evidence_upload", args=[99999]), {}).status_code == 404
    assert (
        as_cs.get(reverse("disputes:evidence_file", args=[dispute.pk, 424242])).status_code == 404
    )


def test_file_view_checks_permission_and_serves_the_type_found(client, as_cs, dispute, cs_user):
    post_files(as_cs, dispute, ("pod.pdf", POD))
    item = EvidenceItem.objects.get()
    url = reverse("disputes:evidence_file", args=[dispute.pk, item.pk])
    response = as_cs.get(url)
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert b"".join(response.streaming_content) == POD
    as_cs.logout()
    assert client.get(url).status_code == 302  # to the login page


def test_dispute_page_shows_checklist_and_the_gate(as_cs, dispute):
    page = as_cs.get(dispute.get_absolute_url()).content.decode()
    assert "Evidence checklist" in page and "Proof of delivery" in page
    assert "is refused until the required evidence is on file" in page
    assert f'action="/disputes/{dispute.pk}/evidence/"' in page
    assert "evidence/upload.js" in page and "<script>" not in page


def test_mark_ready_refusal_is_shown_on_the_page(client, agent, dispute):
    client.force_login(agent)
    services_url = reverse("disputes:transition", args=[dispute.pk, "claim"])
    client.post(services_url, {"version": dispute.version})
    dispute.refresh_from_db()
    response = client.post(
        reverse("disputes:transition", args=[dispute.pk, "mark_ready"]),
        {"version": dispute.version},
    )
    assert response.status_code == 422
    assert "required evidence is missing (proof of delivery)" in response.content.decode()


def test_request_form_creates_request_and_mails_the_link(
    as_cs, dispute, contact, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = as_cs.post(
            reverse("disputes:evidence_request", args=[dispute.pk]),
            {
                "version": dispute.version,
                "recipient": f"contact:{contact.pk}",
                "kinds": ["proof_of_delivery"],
                "due_on": services.default_due_on(dispute, today=dispute.received_on).isoformat(),
            },
        )
    assert response.status_code == 302
    assert dispute.evidence_requests.count() == 1
    assert len(mailoutbox) == 1 and "/e/" in mailoutbox[0].body
    assert mailoutbox[0].to == ["dana@northwind.example"]


def test_my_evidence_requests_lists_open_first(as_cs, dispute, contact, cs_user):
    services.request_evidence(
        dispute_id=dispute.pk,
        actor=cs_user,
        expected_version=dispute.version,
        kinds=["proof_of_delivery"],
        contact=contact,
    )
    page = as_cs.get(reverse("disputes:my_evidence_requests"))
    assert page.status_code == 200
    assert dispute.case_id in page.content.decode() and "Dana Reyes" in page.content.decode()


def test_letter_editor_starts_from_the_family_template_and_keeps_versions(as_cs, dispute):
    url = reverse("disputes:evidence_letter", args=[dispute.pk])
    page = as_cs.get(url).content.decode()
    assert dispute.case_id in page and "delivered or made available" in page
    assert as_cs.post(url, {"body": "Version one", "family": "consumer_dispute"}).status_code == 302
    assert as_cs.post(url, {"body": "Version two", "family": "consumer_dispute"}).status_code == 302
    assert as_cs.post(url, {"body": "", "family": "consumer_dispute"}).status_code == 422
    assert list(dispute.rebuttal_letters.values_list("version", flat=True)) == [2, 1]
    assert CaseEvent.objects.filter(kind="rebuttal_letter_saved").count() == 2


def test_oversize_upload_is_refused_by_its_size(as_cs, dispute, settings):
    settings.EVIDENCE_MAX_BYTES = 100_000
    big = samples.pdf_document("Scan", ["x"] * 40) + b"%" * 300_000
    response = post_files(as_cs, dispute, ("scan.pdf", big), json=True)
    assert response.status_code == 422
    message = response.json()["refused"][0]["message"]
    assert "This file is 301 KB; the limit is 100 KB per file." in message
    assert not EvidenceItem.objects.exists()
