"""Redis down, with real parts: a private redis-server as the Celery broker, stopped. The web app
still answers an act that queues work (the act is committed), the reminder sweep still runs and
sends from the command, and once Redis is back a real worker drains what was left waiting."""

import socket
import subprocess
from datetime import timedelta
from io import StringIO

import pytest
from celery.contrib.testing.worker import start_worker
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db.models import F
from django.urls import reverse

from astra_ops.celery import app
from disputes.evidence.bundles.models import BundleVersion
from disputes.evidence.bundles.tasks import requeue_waiting_bundles
from disputes.evidence.services import save_letter
from disputes.history.models import CaseEvent
from disputes.intake.models import IntakeFile
from disputes.intake.tasks import requeue_waiting_imports
from disputes.notifications.models import Notification
from disputes.notifications.tasks import send_deadline_reminders
from tests.intake.fixtures import two_batches
from tests.local_servers import free_port, wait_for

pytestmark = pytest.mark.django_db(transaction=True)


class RedisServer:
    """A redis-server of the test's own on a free port, with nothing kept on disk."""

    def __init__(self):
        self.port, self.process = free_port(), None
        self.url = f"redis://127.0.0.1:{self.port}/0"

    def answers(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as conn:
                conn.sendall(b"PING\r\n")
                return conn.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def start(self):
        command = ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1"]
        command += ["--save", "", "--appendonly", "no"]
        self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL)
        assert wait_for(self.answers, timeout=10), "redis-server did not start"

    def stop(self):
        self.process.terminate()
        self.process.wait(timeout=10)
        assert not self.answers()


def use_broker(url, monkeypatch):
    monkeypatch.setenv("CELERY_BROKER_URL", url)  # Celery reads it before its settings
    app.conf.broker_url = url
    app._after_fork()  # forget the connection and producer pools of the broker used before


@pytest.fixture
def broker(monkeypatch):
    server, before = RedisServer(), app.conf.broker_url
    server.start()
    use_broker(server.url, monkeypatch)
    yield server
    if server.process.poll() is None:
        server.stop()
    use_broker(before, monkeypatch)


def test_with_redis_down_the_app_serves_the_sweep_sends_and_the_worker_drains_after(
    broker, client, agent, lead, make_due
):
    dispute = make_due(1, assignee=agent)
    save_letter(dispute_id=dispute.pk, actor=agent, body="We delivered.", family="default")
    broker.stop()

    client.force_login(agent)
    response = client.post(reverse("disputes:bundle_render", args=[dispute.pk]))
    assert response.status_code in (200, 302)
    version = BundleVersion.objects.get(dispute=dispute)  # committed, waiting for a worker
    assert version.status == "queued"
    assert client.get(reverse("disputes:detail", args=[dispute.pk])).status_code == 200
    client.force_login(lead)  # a NACHA file received meanwhile: kept, waiting to import
    upload = SimpleUploadedFile("RET20261130.ach", two_batches().encode())
    assert (
        client.post(reverse("intake:imports"), {"kind": "nacha", "file": upload}).status_code == 302
    )
    received = IntakeFile.objects.get()
    assert received.status == IntakeFile.Status.PENDING

    out = StringIO()
    call_command("send_deadline_reminders", "--via-worker", stdout=out)
    assert "recorded 1 reminders" in out.getvalue()
    assert [m.to for m in mail.outbox] == [[agent.email]]  # sent from the command's process
    assert Notification.objects.get().sent_at is not None

    broker.start()  # back, empty: nothing was queued while it was down
    BundleVersion.objects.filter(pk=version.pk).update(  # the outage lasted a few minutes
        requested_at=F("requested_at") - timedelta(minutes=5)
    )
    IntakeFile.objects.update(created_at=F("created_at") - timedelta(minutes=5))
    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
        requeue_waiting_bundles.delay()  # what the beat sends every 5 minutes
        assert wait_for(lambda: BundleVersion.objects.get(pk=version.pk).status == "rendered")
        assert send_deadline_reminders.delay().get(timeout=30) == 0  # nothing twice
        requeue_waiting_imports.delay()
        assert wait_for(lambda: IntakeFile.objects.get().status == IntakeFile.Status.DONE)
    assert len(mail.outbox) == 1
    assert CaseEvent.objects.filter(dispute=dispute, kind="bundle_rendered").count() == 1
