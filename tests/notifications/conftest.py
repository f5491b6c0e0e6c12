from datetime import timedelta

import pytest
from django.utils import timezone

from calendar_rules import calendars
from disputes import services as dispute_services
from disputes.models import Dispute, business_today
from tests.factories import ClientFactory, open_dispute


@pytest.fixture
def make_due():
    """A dispute whose internal deadline is ``banking_days`` away (negative: past)."""

    def make(banking_days=1, *, assignee=None, client=None, network_after=3, **fields):
        dispute = open_dispute(client=client or ClientFactory(name="Northwind Outfitters"))
        due = calendars.FED.add_banking_days(business_today(), banking_days)
        Dispute.objects.filter(pk=dispute.pk).update(
            internal_due=due, network_due=due + timedelta(network_after), **fields
        )
        if assignee is not None:
            dispute_services.claim(
                dispute_id=dispute.pk, actor=assignee, expected_version=dispute.version
            )
        return Dispute.objects.get(pk=dispute.pk)

    return make


@pytest.fixture
def now():
    return timezone.now()
