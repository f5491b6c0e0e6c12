"""Evidence acts: each one event in the dispute's history, nothing half-saved."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from disputes import services as core
from disputes.choices import WorkState
from disputes.evidence import samples, services
from disputes.evidence.models import EvidenceItem, EvidenceRequest, RequestStatus
from disputes.evidence.selectors import checklist_status, current_letter, open_requests_due
from disputes.history.verify import verify
from disputes.models import CaseEvent, Dispute, business_today
from tests.evidence import badfiles
from tests.factories import act

POD = samples.pdf_document("Proof of delivery", ["Delivered to front door", "Signed: J. Doe"])


def upload(dispute, actor, *files, kind="proof_of_delivery"):
    return services.upload_evidence(
        dispute_id=dispute.pk,
        uploads=[services.Upload(name, data) for name, data in files],
        kind=kind,
        actor=actor,
    )


def kinds_of(dispute):
    return list(
        CaseEvent.objects.filter(dispute=dispute).order_by("seq").values_list("kind", flat=True)
    )


def test_upload_stores_the_file_and_records_one_event(dispute, cs_user, evidence_files):
    result = upload(dispute, cs_user, ("pod.pdf", POD))
    item = EvidenceItem.objects.get()
    assert result.saved == [item] and result.refused == []
    assert (item.content_type, item.pages, item.size) == ("application/pdf", 1, len(POD))
    assert item.file.read() == POD
    assert kinds_of(dispute)[-1] == "evidence_added"
    assert Dispute.objects.get(pk=dispute.pk).version == dispute.version  # no row change
    assert verify().breaks == []


def test_refused_file_leaves_nothing_behind(dispute, cs_user, evidence_files):
    result = upload(dispute, cs_user, ("invoice.pdf", badfiles.zip_named_pdf()), ("pod.pdf", POD))
    assert [name for name, _ in result.refused] == ["invoice.pdf"]
    assert EvidenceItem.objects.count() == 1
    assert len([p for p in evidence_files.rglob("*") if p.is_file()]) == 1
    assert kinds_of(dispute).count("evidence_added") == 1


def test_same_file_twice_is_flagged_duplicate(dispute, cs_user):
    upload(dispute, cs_user, ("pod.pdf", POD))
    upload(dispute, cs_user, ("copy of pod.pdf", POD))
    first, second = EvidenceItem.objects.order_by("id")
    assert second.duplicate_of == first
    event = CaseEvent.objects.filter(kind="evidence_added").order_by("-seq").first()
    assert event.payload["duplicate_of_name"] == "pod.pdf"


def test_compliance_may_not_upload(dispute, compliance):
    with pytest.raises(core.RoleRefused):
        upload(dispute, compliance, ("pod.pdf", POD))


def test_withdrawn_item_stays_stored_and_no_longer_counts(dispute, cs_user):
    upload(dispute, cs_user, ("pod.pdf", POD))
    item = EvidenceItem.objects.get()
    services.withdraw_evidence(item_id=item.pk, actor=cs_user, reason="Wrong order")
    item.refresh_from_db()
    assert item.withdrawn and item.file.read() == POD
    assert checklist_status(dispute).missing_required[0].kind.key == "proof_of_delivery"
    assert kinds_of(dispute)[-1] == "evidence_withdrawn"
    assert verify().breaks == []


def test_request_sets_client_evidence_due_and_awaiting_state(dispute, cs_user, contact):
    before = Dispute.objects.get(pk=dispute.pk)
    request = services.request_evidence(
        dispute_id=dispute.pk,
        actor=cs_user,
        expected_version=before.version,
        kinds=["proof_of_delivery"],
        contact=contact,
    )
    after = Dispute.objects.get(pk=dispute.pk)
    expected = services.default_due_on(before, today=business_today())
    assert request.due_on == expected < before.internal_due
    assert after.client_evidence_due == expected
    assert after.state == WorkState.AWAITING_EVIDENCE
    assert after.version == before.version + 2  # the state change, then the due date
    assert kinds_of(dispute)[-2:] == ["transition", "evidence_requested"]
    assert list(open_requests_due(on_or_before=expected)) == [request]
    assert verify().breaks == []


def test_answering_the_last_request_clears_the_due_date(dispute, cs_user, contact):
    request = services.request_evidence(
        dispute_id=dispute.pk,
        actor=cs_user,
        expected_version=dispute.version,
        kinds=["proof_of_delivery"],
        contact=contact,
    )
    services.answer_request(request_id=request.pk, actor=None, system_actor="Dana (client)")
    assert Dispute.objects.get(pk=dispute.pk).client_evidence_due is None
    assert EvidenceRequest.objects.get().status == RequestStatus.ANSWERED
    assert verify().breaks == []


def test_request_on_a_dispute_past_its_network_deadline_warns_first(dispute, cs_user, contact):
    Dispute.objects.filter(pk=dispute.pk).update(network_due=business_today() - timedelta(days=1))
    with pytest.raises(services.LateRequest, match="network deadline passed"):
        services.request_evidence(
            dispute_id=dispute.pk,
            actor=cs_user,
            expected_version=dispute.version,
            kinds=["proof_of_delivery"],
            contact=contact,
        )
    assert not EvidenceRequest.objects.exists()
    services.request_evidence(
        dispute_id=dispute.pk,
        actor=cs_user,
        expected_version=dispute.version,
        kinds=["proof_of_delivery"],
        contact=contact,
        confirm_late=True,
        due_on=business_today() + timedelta(days=1),
    )
    assert EvidenceRequest.objects.count() == 1


def test_expire_sweep_closes_lapsed_requests_once(dispute, cs_user, contact):
    request = services.request_evidence(
        dispute_id=dispute.pk,
        actor=cs_user,
        expected_version=dispute.version,
        kinds=["proof_of_delivery"],
        contact=contact,
    )
    later = request.link_expires_at + timedelta(minutes=1)
    assert services.expire_requests(now=later) == 1
    assert services.expire_requests(now=later) == 0
    assert EvidenceRequest.objects.get().status == RequestStatus.EXPIRED
    assert kinds_of(dispute)[-1] == "evidence_request_expired"
    assert verify().breaks == []


# --- the checklist gate ------------------------------------------------------------------------


def ready(dispute, actor):
    act(dispute_id=dispute.pk, name="claim", actor=actor, assignee=actor)
    return act(dispute_id=dispute.pk, name="mark_ready", actor=actor)


def test_mark_ready_is_refused_while_required_evidence_is_missing(dispute, agent):
    with pytest.raises(core.TransitionRefused, match=r"required evidence is missing \(proof of"):
        ready(dispute, agent)
    assert Dispute.objects.get(pk=dispute.pk).state == WorkState.IN_REVIEW


def test_mark_ready_passes_once_the_evidence_is_on_file(dispute, agent):
    upload(dispute, agent, ("pod.pdf", POD))
    assert ready(dispute, agent).state == WorkState.READY_TO_SUBMIT


def test_lead_override_lets_mark_ready_through_and_is_an_event(dispute, agent, lead):
    with pytest.raises(core.RoleRefused):
        services.override_checklist(dispute_id=dispute.pk, actor=agent, reason="Issuer accepts")
    with pytest.raises(ValidationError):
        services.override_checklist(dispute_id=dispute.pk, actor=lead, reason=" ")
    services.override_checklist(
        dispute_id=dispute.pk, actor=lead, reason="Delivery confirmed by phone; issuer agreed"
    )
    event = CaseEvent.objects.filter(dispute=dispute).order_by("-seq").first()
    assert event.kind == "checklist_overridden"
    assert event.payload["missing"] == ["proof_of_delivery"]
    assert ready(dispute, agent).state == WorkState.READY_TO_SUBMIT
    assert verify().breaks == []


def test_letter_versions_are_kept_and_current_letter_is_the_latest(dispute, cs_user):
    services.save_letter(
        dispute_id=dispute.pk, actor=cs_user, body="First", family="consumer_dispute"
    )
    services.save_letter(
        dispute_id=dispute.pk, actor=cs_user, body="Second", family="consumer_dispute"
    )
    assert current_letter(dispute) == "Second"
    assert dispute.rebuttal_letters.count() == 2
    assert kinds_of(dispute)[-2:] == ["rebuttal_letter_saved", "rebuttal_letter_saved"]


def test_expiry_task_runs_the_sweep(dispute, cs_user, contact):
    from disputes.evidence.tasks import expire_evidence_requests

    services.request_evidence(
        dispute_id=dispute.pk,
        actor=cs_user,
        expected_version=dispute.version,
        kinds=["proof_of_delivery"],
        contact=contact,
    )
    EvidenceRequest.objects.update(link_expires_at=timezone.now() - timedelta(minutes=1))
    assert expire_evidence_requests.apply().get() == 1
