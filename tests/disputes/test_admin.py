"""The admin is usable for every model, and opening a dispute there goes through the service."""

import pytest
from django.urls import reverse

from disputes import services
from disputes.models import (
    AchCompany,
    CaseEvent,
    Client,
    ClientContact,
    Dispute,
    Transaction,
    business_today,
)
from tests.factories import TransactionFactory, open_dispute

pytestmark = pytest.mark.django_db

MODELS = [Client, ClientContact, AchCompany, Transaction, Dispute, CaseEvent]


@pytest.fixture
def admin_client(client, admin_user):
    client.force_login(admin_user)
    return client


@pytest.fixture
def dispute(admin_user):
    dispute = open_dispute()
    services.add_note(dispute_id=dispute.pk, author=admin_user, body="Called the client")
    ClientContact.objects.create(client=dispute.client, name="Desk", email="desk@example.com")
    AchCompany.objects.create(client=dispute.client, company_id="1234567890", company_name="X")
    return dispute


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
def test_every_changelist_loads_and_searches(admin_client, dispute, model):
    url = reverse(f"admin:disputes_{model._meta.model_name}_changelist")
    assert admin_client.get(url).status_code == 200
    assert admin_client.get(url, {"q": dispute.case_id}).status_code == 200


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
def test_every_change_page_loads(admin_client, dispute, model):
    obj = model.objects.first()
    url = reverse(f"admin:disputes_{model._meta.model_name}_change", args=[obj.pk])
    assert admin_client.get(url).status_code == 200


def test_dispute_search_finds_by_case_id_arn_and_client(admin_client, dispute):
    url = reverse("admin:disputes_dispute_changelist")
    for term in (dispute.case_id, dispute.transaction.network_reference, dispute.client.name):
        response = admin_client.get(url, {"q": term})
        assert dispute.case_id in response.content.decode(), term


def test_events_and_notes_cannot_be_added_changed_or_deleted_in_the_admin(admin_client, dispute):
    note = dispute.events.get(kind="note_added")
    add = reverse("admin:disputes_caseevent_add")
    delete = reverse("admin:disputes_caseevent_delete", args=[note.pk])
    assert admin_client.get(add).status_code == 403
    assert admin_client.post(delete, {"post": "yes"}).status_code == 403
    change = reverse("admin:disputes_caseevent_change", args=[note.pk])
    assert admin_client.post(change, {"payload": '{"body": "edited"}'}).status_code == 403
    assert CaseEvent.objects.get(pk=note.pk).payload == {"body": "Called the client"}


def test_opening_a_dispute_in_the_admin_writes_its_audit_row_and_deadline(admin_client):
    txn = TransactionFactory()
    today = business_today()
    response = admin_client.post(
        reverse("admin:disputes_dispute_add"),
        {
            "network": "visa",
            "case_id": "ADMIN-1",
            "client": txn.client_id,
            "transaction": txn.pk,
            "reason_code": "13.1",
            "amount": "40.00",
            "currency": "USD",
            "received_on": today.isoformat(),
            "stage_started_on": today.isoformat(),
        },
    )
    assert response.status_code == 302
    dispute = Dispute.objects.get(case_id="ADMIN-1")
    assert dispute.network_due is not None
    assert dispute.events.get().act == "open"


def test_the_admin_refuses_an_unknown_reason_code(admin_client):
    txn = TransactionFactory()
    today = business_today().isoformat()
    response = admin_client.post(
        reverse("admin:disputes_dispute_add"),
        {
            "network": "visa",
            "case_id": "ADMIN-2",
            "client": txn.client_id,
            "transaction": txn.pk,
            "reason_code": "99.9",
            "amount": "40.00",
            "currency": "USD",
            "received_on": today,
            "stage_started_on": today,
        },
    )
    assert response.status_code == 200
    assert "99.9" in response.content.decode()
    assert not Dispute.objects.filter(case_id="ADMIN-2").exists()


def test_a_typed_in_return_whose_code_does_not_fit_its_entry_is_kept_with_a_warning(
    admin_client,
):
    from django.contrib.messages import get_messages

    from disputes.choices import Rail, ReferenceKind, TransactionType

    txn = TransactionFactory(
        rail=Rail.ACH,
        transaction_type=TransactionType.ACH_DEBIT,
        reference_kind=ReferenceKind.TRACE_NUMBER,
        sec_code="CCD",
    )
    today = business_today().isoformat()
    response = admin_client.post(
        reverse("admin:disputes_dispute_add"),
        {
            "network": "nacha",
            "case_id": "ADMIN-R11",
            "client": txn.client_id,
            "transaction": txn.pk,
            "reason_code": "R11",
            "amount": "40.00",
            "currency": "USD",
            "received_on": today,
            "stage_started_on": today,
        },
    )
    assert response.status_code == 302
    assert Dispute.objects.filter(case_id="ADMIN-R11").exists()
    warnings = [str(m) for m in get_messages(response.wsgi_request)]
    assert any("the return code is R29" in text for text in warnings)
