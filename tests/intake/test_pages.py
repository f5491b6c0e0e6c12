"""The import pages: upload runs on a real Celery worker and the page follows its progress;
unmatched originators are resolved on their page; notifications of change are listed."""

import time

import pytest
from celery.contrib.testing.worker import start_worker
from django.core.files.uploadedfile import SimpleUploadedFile

from astra_ops.celery import app
from disputes.intake import services
from disputes.intake.models import IntakeFile, UnmatchedOriginator
from disputes.models import AchCompany, Dispute
from tests.factories import ClientFactory
from tests.intake.fixtures import two_batches


@pytest.fixture
def celery_worker():
    app.control.purge()
    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10) as worker:
        yield worker


@pytest.mark.django_db(transaction=True)
def test_upload_imports_on_a_worker_and_the_page_follows(client, lead, celery_worker):
    acme = ClientFactory(name="Acme", slug="acme")
    AchCompany.objects.create(client=acme, company_id="1234567890", company_name="ACME")
    client.force_login(lead)
    upload = SimpleUploadedFile("RET20261130.ach", two_batches().encode())
    response = client.post("/intake/", {"kind": "nacha", "file": upload})
    assert response.status_code == 302
    intake_file = IntakeFile.objects.get()
    for _ in range(300):  # the worker imports it
        intake_file.refresh_from_db()
        if intake_file.status in (IntakeFile.Status.DONE, IntakeFile.Status.FAILED):
            break
        time.sleep(0.1)
    assert intake_file.status == IntakeFile.Status.DONE, intake_file.error
    page = client.get(response["Location"], headers={"HX-Request": "true"})
    assert b"Imported" in page.content and b"hx-trigger" not in page.content
    assert Dispute.objects.count() == 3


@pytest.mark.django_db
def test_running_import_polls_for_its_progress(client, lead):
    intake_file, _ = services.receive_file(
        kind=IntakeFile.Kind.NACHA, name="RET.ach", content=two_batches().encode()
    )
    client.force_login(lead)
    page = client.get(f"/intake/{intake_file.pk}/")
    assert b'hx-trigger="every 1s"' in page.content
    assert b"<progress" in page.content


@pytest.mark.django_db
def test_agent_may_not_upload(client, agent):
    client.force_login(agent)
    upload = SimpleUploadedFile("RET.ach", two_batches().encode())
    assert client.post("/intake/", {"kind": "nacha", "file": upload}).status_code == 403


@pytest.mark.django_db
def test_ops_lead_chooses_the_client_on_the_unmatched_page(client, lead):
    acme = ClientFactory(name="Acme", slug="acme")
    intake_file, _ = services.receive_file(
        kind=IntakeFile.Kind.NACHA, name="RET.ach", content=two_batches().encode()
    )
    services.import_file(intake_file_id=intake_file.pk)
    client.force_login(lead)
    page = client.get("/intake/unmatched/")
    assert b"1234567890" in page.content and b"9876543210" in page.content
    record = UnmatchedOriginator.objects.filter(identifier="9876543210").get()
    response = client.post(f"/intake/unmatched/{record.pk}/", {"client": acme.pk, "remember": "on"})
    assert response.status_code == 302
    record.refresh_from_db()
    assert record.resolved_client == acme
    assert client.get("/intake/notices/").status_code == 200
