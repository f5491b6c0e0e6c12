"""The client's upload link: no account, signed, expiring, scoped to one request, upload-only,
rate-limited, recorded in the history."""

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from disputes.evidence import links, samples, services
from disputes.evidence.models import EvidenceItem
from disputes.history.verify import verify
from disputes.models import CaseEvent

POD = samples.pdf_document("Proof of delivery", ["Delivered"])


@pytest.fixture
def ask(dispute, cs_user, contact):
    return services.request_evidence(
        dispute_id=dispute.pk,
        actor=cs_user,
        expected_version=dispute.version,
        kinds=["proof_of_delivery"],
        contact=contact,
        message="The carrier's delivery confirmation, please.",
    )


def send(client, url, data=POD, name="pod.pdf", **extra):
    body = {"kind": "proof_of_delivery", "file": SimpleUploadedFile(name, data), **extra}
    return client.post(url, body, HTTP_ACCEPT="application/json")


def test_client_sees_what_is_asked_and_by_when(client, ask):
    response = client.get(links.upload_path(ask))
    page = response.content.decode()
    assert response.status_code == 200
    assert "Proof of delivery" in page and "Please send them by" in page
    assert response["Referrer-Policy"] == "no-referrer"
    assert CaseEvent.objects.filter(kind="evidence_request_opened").count() == 1
    client.get(links.upload_path(ask))
    assert CaseEvent.objects.filter(kind="evidence_request_opened").count() == 1


def test_client_upload_is_recorded_on_behalf_of_the_contact(client, ask, contact):
    response = send(client, links.upload_path(ask))
    assert response.status_code == 201
    item = EvidenceItem.objects.get()
    assert item.on_behalf_of == contact and item.request == ask and item.uploaded_by is None
    event = CaseEvent.objects.filter(kind="evidence_added").get()
    assert event.system_actor == "Dana Reyes (client, via upload link)"
    assert verify().breaks == []


def test_client_refused_file_gets_the_reason(client, ask):
    response = send(client, links.upload_path(ask), data=b"MZ" + b"\0" * 300, name="invoice.pdf")
    assert response.status_code == 422
    assert "Windows program" in response.json()["refused"][0]["message"]


def test_tampered_link_is_refused(client, ask):
    token = links.token_for(ask)
    tampered = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    response = client.get(reverse("evidence_link", args=[ask.pk, tampered]))
    assert response.status_code == 404
    assert "not valid" in response.content.decode()
    assert send(client, reverse("evidence_link", args=[ask.pk, tampered])).status_code == 404
    assert not EvidenceItem.objects.exists()


def test_link_aimed_at_another_request_is_refused(client, ask, dispute, cs_user, contact):
    other = services.request_evidence(
        dispute_id=dispute.pk,
        actor=cs_user,
        expected_version=dispute.__class__.objects.get(pk=dispute.pk).version,
        kinds=["transaction_receipt"],
        contact=contact,
    )
    response = send(client, reverse("evidence_link", args=[other.pk, links.token_for(ask)]))
    assert response.status_code == 404
    assert not EvidenceItem.objects.exists()


def test_expired_link_is_refused(client, ask):
    ask.link_expires_at = ask.created_at - timedelta(seconds=1)
    ask.save(update_fields=["link_expires_at"])
    response = client.get(links.upload_path(ask))
    assert response.status_code == 410 and "expired" in response.content.decode()
    assert send(client, links.upload_path(ask)).status_code == 410


def test_link_reused_after_the_request_closed_is_refused(client, ask):
    url = links.upload_path(ask)
    assert send(client, url).status_code == 201
    done = client.post(url, {"done": "1"})
    assert done.status_code == 200 and "Thank you" in done.content.decode()
    again = send(client, url, data=samples.png_receipt(["late"]), name="late.png")
    assert again.status_code == 410 and "has been answered" in again.json()["refused"][0]["message"]
    assert EvidenceItem.objects.count() == 1
    assert CaseEvent.objects.filter(kind="evidence_request_answered").count() == 1


def test_link_is_rate_limited(client, ask, settings):
    settings.EVIDENCE_LINK_UPLOADS_PER_HOUR = 2
    url = links.upload_path(ask)
    assert send(client, url).status_code == 201
    assert send(client, url, data=samples.png_receipt(["a"]), name="a.png").status_code == 201
    limited = send(client, url, data=samples.png_receipt(["b"]), name="b.png")
    assert limited.status_code == 429
    assert EvidenceItem.objects.count() == 2


def test_link_only_uploads(client, ask):
    """The link gives no way to read files or reach the dispute page."""
    client.get(links.upload_path(ask))
    send(client, links.upload_path(ask))
    item = EvidenceItem.objects.get()
    file_url = reverse("disputes:evidence_file", args=[ask.dispute_id, item.pk])
    assert client.get(file_url).status_code == 302  # login required
    assert client.get(ask.dispute.get_absolute_url()).status_code == 302
