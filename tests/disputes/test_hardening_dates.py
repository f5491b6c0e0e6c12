"""Network dates: an implausible one (before the transaction, in the future, outside the
banking calendar) is refused with the reason, and a date outside the calendar already stored
(imported, or typed before this check) never makes a page a server error."""

from datetime import date, timedelta

import pytest
from django.urls import reverse

from calendar_rules import calendars
from disputes.choices import Network, Stage
from disputes.models import CalendarFeed, CaseEvent, Dispute, business_today
from disputes.network_dates import network_date_problem
from tests.disputes.test_dispute_page import post_transition
from tests.factories import open_dispute

HTMX = {"HTTP_HX_REQUEST": "true"}
TODAY = date(2026, 11, 24)


# --- the pure check -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("on", "reason"),
    [
        (date(1, 1, 1), "before the transaction"),
        (date(1900, 1, 1), "before the transaction"),
        (date(2026, 10, 31), "before the transaction"),
        (date(2026, 11, 25), "in the future"),
        (date(9999, 12, 31), "in the future"),
    ],
)
def test_an_implausible_network_date_is_refused_with_its_reason(on, reason):
    problem = network_date_problem(on, transaction_date=date(2026, 11, 1), today=TODAY)
    assert reason in problem


def test_a_date_before_the_banking_calendar_is_refused_even_for_an_old_transaction():
    problem = network_date_problem(date(1990, 1, 2), transaction_date=date(1990, 1, 1), today=TODAY)
    assert "banking calendar" in problem


@pytest.mark.parametrize("on", [date(2026, 11, 1), date(2026, 11, 10), TODAY])
def test_a_plausible_network_date_passes(on):
    assert network_date_problem(on, transaction_date=date(2026, 11, 1), today=TODAY) is None


# --- the dispute page ---------------------------------------------------------------------------


def nacha_awaiting_return():
    dispute = open_dispute(network=Network.NACHA, code="R01", stage_started_on=business_today())
    Dispute.objects.filter(pk=dispute.pk).update(stage=Stage.AUTHORIZATION_PROOF_REQUESTED)
    return Dispute.objects.get(pk=dispute.pk)


@pytest.mark.django_db
@pytest.mark.parametrize("on", ["0001-01-01", "1900-01-01", "1999-01-01"])
def test_a_return_dated_before_the_transaction_is_refused_and_the_page_still_opens(
    client, lead, on
):
    dispute = nacha_awaiting_return()
    settled_before = dispute.return_settled_on
    client.force_login(lead)
    response = post_transition(client, dispute, "nacha_receive_return", headers=HTMX, on=on)
    assert response.status_code == 422
    assert "cannot be before the transaction" in response.content.decode()
    dispute.refresh_from_db()
    assert dispute.stage == Stage.AUTHORIZATION_PROOF_REQUESTED
    assert dispute.return_settled_on == settled_before
    assert not CaseEvent.objects.filter(dispute=dispute, payload__act__contains="return")
    assert client.get(dispute.get_absolute_url()).status_code == 200


@pytest.mark.django_db
def test_a_future_network_date_is_refused(client, lead):
    dispute = open_dispute()
    client.force_login(lead)
    tomorrow = (business_today() + timedelta(days=1)).isoformat()
    response = post_transition(
        client, dispute, "visa_submit_dispute_response", headers=HTMX, on=tomorrow
    )
    assert response.status_code == 422
    assert "cannot be in the future" in response.content.decode()


@pytest.mark.django_db
def test_the_date_input_is_bounded_by_the_transaction_and_today(client, lead):
    dispute = open_dispute()
    client.force_login(lead)
    html = client.get(dispute.get_absolute_url()).content.decode()
    assert f'min="{dispute.transaction.transaction_date.isoformat()}"' in html
    assert f'max="{business_today().isoformat()}"' in html


# --- dates already stored outside the calendar --------------------------------------------------

OUTSIDE = [date(1, 1, 1), date(9999, 12, 31)]
DATE_FIELDS = [
    "return_settled_on",
    "stage_started_on",
    "received_on",
    "network_due",
    "internal_due",
    "client_evidence_due",
]


def stored_outside(network, code, field, day):
    dispute = open_dispute(network=network, code=code, stage_started_on=business_today())
    Dispute.objects.filter(pk=dispute.pk).update(**{field: day})
    return Dispute.objects.get(pk=dispute.pk)


@pytest.mark.django_db
@pytest.mark.parametrize("day", OUTSIDE)
@pytest.mark.parametrize("field", DATE_FIELDS)
@pytest.mark.parametrize(
    ("network", "code"), [(Network.NACHA, "R01"), (Network.MASTERCARD, "4853")]
)
def test_no_page_fails_on_a_stored_date_outside_the_calendar(
    client, lead, agent, network, code, field, day
):
    dispute = stored_outside(network, code, field, day)
    client.force_login(lead)
    assert client.get(dispute.get_absolute_url()).status_code == 200
    assert client.get(reverse("disputes:queue")).status_code == 200
    assert client.get(reverse("disputes:queue"), {"state": "all"}).status_code == 200
    assert client.get(reverse("calendar:view")).status_code == 200
    client.post(reverse("calendar:feed_link"), {"action": "create"})
    token = CalendarFeed.objects.get(user=lead).token
    assert client.get(reverse("calendar:feed", args=[token]), {"scope": "all"}).status_code == 200
    for name in ("nacha_dishonor", "nacha_reinitiate", "claim", "record_expired"):
        response = post_transition(client, dispute, name, headers=HTMX, comment="x", code="R67")
        assert response.status_code in (200, 403, 409, 422)
        dispute.refresh_from_db()


@pytest.mark.django_db
@pytest.mark.parametrize("day", [calendars.FED.first, date(1, 1, 1), date(9999, 12, 31)])
def test_a_transaction_dated_outside_the_calendar_does_not_fail_the_page(client, lead, day):
    dispute = open_dispute(network=Network.NACHA, code="R01", stage_started_on=business_today())
    type(dispute.transaction).objects.filter(pk=dispute.transaction_id).update(
        transaction_date=day, settlement_date=day
    )
    client.force_login(lead)
    assert client.get(dispute.get_absolute_url()).status_code == 200
    response = post_transition(client, dispute, "nacha_reinitiate", headers=HTMX, comment="x")
    assert response.status_code in (200, 403, 409, 422)
