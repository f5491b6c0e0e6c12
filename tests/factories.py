"""factory-boy factories. Disputes are opened through the service, so each has its audit row
and deadlines exactly as in production."""

from datetime import date, timedelta
from decimal import Decimal

import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from disputes import services
from disputes.choices import Network, Rail, ReferenceKind, TransactionType
from disputes.models import Client, Dispute, Transaction, business_today

RAIL_FOR_NETWORK = {Network.VISA: Rail.CARD, Network.MASTERCARD: Rail.CARD, Network.NACHA: Rail.ACH}


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    email = factory.LazyAttribute(lambda u: f"{u.username}@astra-ops.test")
    password = factory.django.Password("pw")

    @factory.post_generation
    def role(self, create, extracted, **kwargs):
        if extracted:
            self.groups.add(Group.objects.get(name=extracted))


class ClientFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Client
        django_get_or_create = ("slug",)

    name = factory.Sequence(lambda n: f"Client {n}")
    slug = factory.Sequence(lambda n: f"client-{n}")


class TransactionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Transaction

    client = factory.SubFactory(ClientFactory)
    rail = Rail.CARD
    transaction_type = TransactionType.PURCHASE
    reference_kind = ReferenceKind.ARN
    network_reference = factory.Sequence(lambda n: f"7{n:022d}")
    account_last4 = "4242"
    amount = Decimal("125.00")
    currency = "USD"
    transaction_date = factory.LazyFunction(lambda: business_today() - timedelta(days=21))
    settlement_date = factory.LazyFunction(lambda: business_today() - timedelta(days=20))


def open_dispute(
    *,
    network: str = Network.VISA,
    code: str = "13.1",
    amount: Decimal = Decimal("125.00"),
    stage_started_on: date | None = None,
    client=None,
    actor=None,
    **transaction_fields,
) -> Dispute:
    """Open a dispute through the service, with a transaction on a rail that fits."""
    client = client or ClientFactory()
    rail = transaction_fields.pop("rail", RAIL_FOR_NETWORK[network])
    if network == Network.NACHA:
        transaction_fields.setdefault("transaction_type", TransactionType.ACH_DEBIT)
        transaction_fields.setdefault("reference_kind", ReferenceKind.TRACE_NUMBER)
        transaction_fields.setdefault("sec_code", "PPD")
    txn = TransactionFactory(client=client, rail=rail, amount=amount, **transaction_fields)
    started = stage_started_on or business_today() - timedelta(days=1)
    return services.open_dispute(
        client=client,
        transaction_record=txn,
        network=network,
        case_id=f"CASE-{txn.pk}",
        reason_code=code,
        amount=amount,
        currency="USD",
        received_on=started,
        stage_started_on=started,
        actor=actor,
    )


def act(*, dispute_id: int, name: str, actor, expected_version=None, **params):
    """Take transition ``name`` as a person would: at the version they last saw (the current
    one, unless the test says otherwise)."""
    if actor is not None and expected_version is None:
        expected_version = Dispute.objects.values_list("version", flat=True).get(pk=dispute_id)
    return services.transition_dispute(
        dispute_id=dispute_id, name=name, actor=actor, expected_version=expected_version, **params
    )


def satisfy_checklist(dispute, actor) -> None:
    """Upload a small real PDF for each evidence item the dispute's checklist requires, so
    "mark ready to submit" is not refused for missing evidence."""
    from disputes.evidence import samples, selectors
    from disputes.evidence import services as evidence

    for item in selectors.checklist_status(dispute).missing_required:
        evidence.upload_evidence(
            dispute_id=dispute.pk,
            uploads=[
                evidence.Upload(
                    f"{item.kind.key}.pdf", samples.pdf_document(item.kind.label, [str(dispute)])
                )
            ],
            kind=item.kind.key,
            actor=actor,
        )
