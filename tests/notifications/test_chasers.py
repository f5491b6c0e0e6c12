"""Evidence-request chasers: T−2 and T−1 to Customer Success and the person asked, overdue to
the dispute's owner; once each; none once the request is answered."""

from datetime import timedelta

import pytest
from django.core import mail

from calendar_rules import calendars
from disputes.evidence.models import EvidenceRequest, RequestStatus
from disputes.history.verify import verify
from disputes.models import CaseEvent, ClientContact, business_today
from disputes.notifications import services
from disputes.notifications.models import Notification
from tests.factories import ClientFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def request_due(make_due, agent, cs_user):
    def make(banking_days):
        client = ClientFactory(name="Harbor Freight Lines", cs_owner=cs_user)
        contact = ClientContact.objects.create(
            client=client, name="Dana Reyes", email="dana@harbor.example"
        )
        dispute = make_due(6, assignee=agent, client=client)
        return EvidenceRequest.objects.create(
            dispute=dispute,
            requested_by=cs_user,
            contact=contact,
            kinds=["proof_of_delivery"],
            message="Proof of delivery, please.",
            due_on=calendars.FED.add_banking_days(business_today(), banking_days),
        )

    return make


def sweep(capture):
    with capture(execute=True):
        return services.send_deadline_reminders()


def chasers():
    return set(Notification.objects.filter(kind="chaser").values_list("threshold", "email"))


def test_two_days_out_customer_success_and_the_contact_are_chased_once(
    request_due, cs_user, lead, django_capture_on_commit_callbacks
):
    request = request_due(2)
    assert sweep(django_capture_on_commit_callbacks).chasers == 2
    assert sweep(django_capture_on_commit_callbacks).chasers == 0
    assert chasers() == {("before-2", cs_user.email), ("before-2", "dana@harbor.example")}
    to_contact = next(m for m in mail.outbox if m.to == ["dana@harbor.example"])
    assert "Proof of delivery, please." in to_contact.body
    assert "/disputes/" not in to_contact.body  # the client gets no link into our app
    event = CaseEvent.objects.filter(dispute=request.dispute).order_by("-seq").first()
    assert event.kind == "evidence_chaser_sent"
    assert verify().breaks == []


def test_an_overdue_request_goes_to_the_disputes_owner(
    request_due, agent, lead, django_capture_on_commit_callbacks
):
    request = request_due(-1)
    request.due_on = business_today() - timedelta(1)
    request.save()
    sweep(django_capture_on_commit_callbacks)
    assert chasers() == {("overdue", agent.email)}


def test_an_answered_request_is_not_chased(request_due, lead, django_capture_on_commit_callbacks):
    request = request_due(1)
    request.status = RequestStatus.ANSWERED
    request.save()
    sweep(django_capture_on_commit_callbacks)
    assert chasers() == set()
