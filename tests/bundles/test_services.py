"""Bundle versions: render, submit (immutable, hashed), the filing check, the pages' acts."""

import hashlib
import io

import pytest
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction
from django.urls import reverse
from pypdf import PdfReader

from disputes.evidence import samples
from disputes.evidence.bundles import services
from disputes.evidence.bundles.models import BundleVersion, SubmittedVersionError
from disputes.evidence.services import Upload, upload_evidence
from disputes.history.models import CaseEvent
from disputes.history.verify import verify
from disputes.models import Dispute, business_today
from disputes.services import DisputeError
from tests.factories import act

pytestmark = pytest.mark.django_db
TODAY = business_today()


def rendered(dispute, actor, django_capture_on_commit_callbacks):
    """Ask for a render as the page does, then run the task's body here (the Celery worker
    test is the browser test)."""
    with django_capture_on_commit_callbacks(execute=False) as queued:
        version = services.request_render(dispute_id=dispute.pk, actor=actor)
    assert len(queued) == 1  # the task is sent after commit
    return services.render_version(version_id=version.pk)


def test_a_render_is_kept_as_a_version_with_its_hash_verdict_and_event(
    bundled_dispute, agent, django_capture_on_commit_callbacks
):
    version = rendered(bundled_dispute, agent, django_capture_on_commit_callbacks)
    assert version.status == "rendered" and version.fits
    data = version.file.open("rb").read()
    assert hashlib.sha256(data).hexdigest() == version.sha256 and len(data) == version.size
    reader = PdfReader(io.BytesIO(data))
    assert len(reader.pages) == version.pages == 3 + 3  # cover, letter, index + three items
    titles = [entry.title for entry in reader.outline]
    assert titles[3].startswith("Item 1: Proof of delivery")  # the checklist's order
    assert version.items_done == version.items_total == 3
    assert version.channel == "visa_resolve_online"
    event = CaseEvent.objects.filter(dispute=bundled_dispute, kind="bundle_rendered").get()
    assert event.payload["sha256"] == version.sha256 and event.payload["fits"] is True
    assert verify().breaks == []


def test_a_submitted_version_is_immutable_and_downloads_exactly_as_sent(
    bundled_dispute, agent, client, django_capture_on_commit_callbacks
):
    version = rendered(bundled_dispute, agent, django_capture_on_commit_callbacks)
    submitted = services.submit_bundle(version_id=version.pk, actor=agent)
    assert submitted.submitted_by == agent and submitted.submitted_at is not None
    event = CaseEvent.objects.filter(dispute=bundled_dispute, kind="bundle_submitted").get()
    assert event.payload["sha256"] == version.sha256
    assert event.actor == agent

    submitted.file_name = "changed.pdf"
    with pytest.raises(SubmittedVersionError):
        submitted.save()
    with pytest.raises(SubmittedVersionError):
        submitted.delete()
    with (
        pytest.raises(DatabaseError, match="was submitted and cannot change"),  # the trigger
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute("UPDATE disputes_bundleversion SET sha256 = 'x' WHERE id = %s", [version.pk])
    with pytest.raises(DisputeError, match="already submitted"):
        services.submit_bundle(version_id=version.pk, actor=agent)

    client.force_login(agent)
    response = client.get(reverse("disputes:bundle_file", args=[bundled_dispute.pk, 1]))
    assert response.status_code == 200
    body = b"".join(response.streaming_content)
    assert hashlib.sha256(body).hexdigest() == version.sha256
    assert response["X-Content-SHA256"] == version.sha256
    assert verify().breaks == []


def test_a_version_that_does_not_fit_cannot_be_submitted(
    bundled_dispute, agent, django_capture_on_commit_callbacks
):
    services.choose_channel(dispute_id=bundled_dispute.pk, channel="adyen", actor=agent)
    version = rendered(bundled_dispute, agent, django_capture_on_commit_callbacks)
    BundleVersion.objects.filter(pk=version.pk).update(fits=False)
    with pytest.raises(DisputeError, match="does not fit its channel"):
        services.submit_bundle(version_id=version.pk, actor=agent)


@pytest.mark.bundle_gate
def test_filing_needs_a_submitted_bundle_unless_an_ops_lead_overrides_with_a_reason(
    bundled_dispute, agent, lead, django_capture_on_commit_callbacks
):
    pk = bundled_dispute.pk
    with pytest.raises(DisputeError, match="Submit a bundle that passed preflight first"):
        act(dispute_id=pk, name="visa_submit_dispute_response", actor=agent, on=TODAY)
    with pytest.raises(DisputeError, match="an ops lead files without one"):
        act(
            dispute_id=pk,
            name="visa_submit_dispute_response",
            actor=agent,
            on=TODAY,
            override_reason="x",
        )
    act(
        dispute_id=pk,
        name="visa_submit_dispute_response",
        actor=lead,
        on=TODAY,
        override_reason="Filed by phone with the acquirer",
    )
    event = CaseEvent.objects.filter(dispute_id=pk, kind="transition").latest("seq")
    assert event.payload["bundle_override"] == "Filed by phone with the acquirer"
    assert verify().breaks == []


@pytest.mark.bundle_gate
def test_the_page_says_filing_waits_for_a_bundle_before_anyone_tries(
    bundled_dispute, agent, lead, client, django_capture_on_commit_callbacks
):
    """The gate is part of why_not: an agent sees the filing act disabled with the reason; a
    lead gets a required reason field; a submitted bundle opens the act to both."""
    from disputes.services import why_not

    page = reverse("disputes:detail", args=[bundled_dispute.pk])
    name = "visa_submit_dispute_response"
    seen = bundled_dispute.version
    refusal = why_not(dispute=bundled_dispute, name=name, actor=agent, expected_version=seen)
    assert refusal is not None and refusal.status == 422
    assert why_not(dispute=bundled_dispute, name=name, actor=lead, expected_version=seen) is None

    client.force_login(agent)
    html = client.get(page).content.decode()
    assert f'data-transition="{name}"' in html
    assert "Submit a bundle that passed preflight first" in html
    assert f"/transition/{name}/" not in html  # no form to post

    client.force_login(lead)
    html = client.get(page).content.decode()
    assert "No submitted bundle at this stage: why file without one?" in html
    url = reverse("disputes:transition", args=[bundled_dispute.pk, name])
    response = client.post(url, {"version": bundled_dispute.version, "on": TODAY.isoformat()})
    assert response.status_code == 422
    assert Dispute.objects.get(pk=bundled_dispute.pk).state != "submitted"

    version = rendered(bundled_dispute, agent, django_capture_on_commit_callbacks)
    services.submit_bundle(version_id=version.pk, actor=agent)
    bundled_dispute.refresh_from_db()
    seen = bundled_dispute.version
    assert why_not(dispute=bundled_dispute, name=name, actor=agent, expected_version=seen) is None
    client.force_login(agent)
    html = client.get(page).content.decode()
    assert "Submit a bundle that passed preflight first" not in html
    assert "why file without one" not in html


@pytest.mark.bundle_gate
def test_filing_records_the_submitted_bundle(
    bundled_dispute, agent, django_capture_on_commit_callbacks
):
    version = rendered(bundled_dispute, agent, django_capture_on_commit_callbacks)
    services.submit_bundle(version_id=version.pk, actor=agent)
    act(dispute_id=bundled_dispute.pk, name="visa_submit_dispute_response", actor=agent, on=TODAY)
    event = CaseEvent.objects.filter(dispute=bundled_dispute, kind="transition").latest("seq")
    assert event.payload["bundle_version"] == 1
    assert event.payload["bundle_sha256"] == version.sha256
    assert Dispute.objects.get(pk=bundled_dispute.pk).state == "submitted"


def test_the_ops_user_orders_the_items(bundled_dispute, agent, client):
    items = services.ordered_items(bundled_dispute)
    client.force_login(agent)
    url = reverse("disputes:bundle_order", args=[bundled_dispute.pk])
    response = client.post(url, {"move": f"{items[2].pk}:up"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    order = [
        i.pk for i in services.ordered_items(bundled_dispute, services.bundle_of(bundled_dispute))
    ]
    assert order == [items[0].pk, items[2].pk, items[1].pk]
    response = client.post(url, {"item": [items[1].pk, items[0].pk, items[2].pk]})
    assert response.status_code == 302
    order = [
        i.pk for i in services.ordered_items(bundled_dispute, services.bundle_of(bundled_dispute))
    ]
    assert order == [items[1].pk, items[0].pk, items[2].pk]
    assert (
        CaseEvent.objects.filter(dispute=bundled_dispute, kind="bundle_items_ordered").count() == 2
    )


def test_a_channel_the_network_does_not_use_is_refused(bundled_dispute, agent, client):
    client.force_login(agent)
    url = reverse("disputes:bundle_channel", args=[bundled_dispute.pk])
    response = client.post(url, {"channel": "mastercom"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 422
    assert "does not take Visa" in response.content.decode()
    response = client.post(url, {"channel": "stripe"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200 and "Stripe" in response.content.decode()


def test_bad_input_to_the_bundle_pages_is_never_a_500(bundled_dispute, agent, compliance, client):
    client.force_login(agent)
    pk = bundled_dispute.pk
    assert (
        client.post(reverse("disputes:bundle_order", args=[pk]), {"move": "abc:up"}).status_code
        == 302
    )
    assert client.get(reverse("disputes:bundle_file", args=[pk, 9])).status_code == 404
    assert client.post(reverse("disputes:bundle_submit", args=[pk, 9])).status_code == 404
    assert client.get(reverse("disputes:bundle_panel", args=[999999])).status_code == 404
    client.force_login(compliance)
    response = client.post(reverse("disputes:bundle_render", args=[pk]), HTTP_HX_REQUEST="true")
    assert response.status_code == 403


def test_render_bundle_prints_the_verdict_and_fails_when_it_does_not_fit(
    bundled_dispute, agent, tmp_path
):
    out = tmp_path / "bundle.pdf"
    printed = io.StringIO()
    call_command("render_bundle", bundled_dispute.case_id, "--out", str(out), stdout=printed)
    assert "Fits Visa Resolve Online: " in printed.getvalue()
    assert len(PdfReader(out).pages) == 6

    lines = [f"Statement line {n}" for n in range(20 * 40)]  # 20 pages
    upload = Upload("statement.pdf", samples.pdf_document("Statement", lines))
    upload_evidence(dispute_id=bundled_dispute.pk, uploads=[upload], kind="other", actor=agent)
    printed = io.StringIO()
    with pytest.raises(SystemExit) as exit_:
        call_command(
            "render_bundle", bundled_dispute.case_id, "--profile", "adyen",
            "--out", str(out), stdout=printed,
        )  # fmt: skip
    assert exit_.value.code == 2
    assert "Does not fit Adyen: " in printed.getvalue()
    assert "26 pages; Adyen takes at most 19." in printed.getvalue()
    assert "Remove or split: Item 4: Other (statement.pdf)" in printed.getvalue()


def test_a_render_that_never_finished_stops_the_polling(bundled_dispute, agent, client):
    from datetime import timedelta

    from django.utils import timezone

    with transaction.atomic():
        version = services.request_render(dispute_id=bundled_dispute.pk, actor=agent, enqueue=False)
    client.force_login(agent)
    url = reverse("disputes:bundle_panel", args=[bundled_dispute.pk])
    assert 'hx-trigger="every 1s"' in client.get(url).content.decode()
    BundleVersion.objects.filter(pk=version.pk).update(
        requested_at=timezone.now() - timedelta(minutes=20)
    )
    page = client.get(url).content.decode()
    assert "did not finish rendering" in page and 'hx-trigger="every 1s"' not in page
