"""A bundle version left "Rendering" by a worker that died is rendered again by the requeue
sweep; one a live worker is rendering is left to it (see tests/intake/test_stalled_imports.py
for how a worker's session and death are stood in for)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from disputes import leases
from disputes.evidence.bundles import services
from disputes.evidence.bundles.models import BundleVersion, RenderStatus
from tests.intake.test_stalled_imports import other_worker  # noqa: F401 (a fixture)

pytestmark = pytest.mark.django_db


@pytest.fixture
def published(monkeypatch):
    sent = []
    monkeypatch.setattr(services, "publish", lambda task, *args: sent.append(args) or True)
    return sent


def left_rendering(dispute, actor) -> BundleVersion:
    version = services.request_render(dispute_id=dispute.pk, actor=actor, enqueue=False)
    BundleVersion.objects.filter(pk=version.pk).update(
        status=RenderStatus.RENDERING,
        items_done=2,
        requested_at=timezone.now() - timedelta(minutes=10),
    )
    return version


def test_a_render_whose_worker_died_is_queued_again_and_renders(bundled_dispute, agent, published):
    stuck = left_rendering(bundled_dispute, agent)
    assert services.requeue_waiting() == 1
    assert published == [(stuck.pk,)]
    stuck.refresh_from_db()
    assert (stuck.status, stuck.items_done) == (RenderStatus.QUEUED, 0)
    rendered = services.render_version(version_id=stuck.pk)
    assert rendered.status == RenderStatus.RENDERED and rendered.pages


def test_a_render_a_live_worker_holds_is_left_to_it(
    bundled_dispute,
    agent,
    published,
    other_worker,  # noqa: F811
):
    busy = left_rendering(bundled_dispute, agent)
    other_worker.execute("SELECT pg_advisory_lock(%s)", [leases._key("bundle_version", busy.pk)])
    assert services.requeue_waiting() == 0 and published == []
    assert services.render_version(version_id=busy.pk).status == RenderStatus.RENDERING
    other_worker.close()
    assert services.requeue_waiting() == 1
    assert services.render_version(version_id=busy.pk).status == RenderStatus.RENDERED
