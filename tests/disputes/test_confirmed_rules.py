"""Confirmed rules: a lead confirms a rule row or sets its window with a source document and
an effective date; the recompute moves what it changes; pages say who confirmed it."""

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from calendar_rules import calendars
from disputes.choices import Network
from disputes.confirmed_rules import services
from disputes.confirmed_rules.models import RuleConfirmation
from disputes.models import Dispute, business_today
from disputes.states import conditions
from tests.factories import open_dispute

pytestmark = pytest.mark.django_db

ALLOCATION = "visa:10.4:pre_arbitration"  # 30 days, no source states it


def confirm_url(key=ALLOCATION):
    return reverse("calendar_rules:confirm", args=[key])


def test_an_unconfirmed_doubtful_rule_is_marked_in_words_on_the_dispute_page(client, agent):
    dispute = open_dispute(network=Network.VISA, code="10.4")
    client.force_login(agent)
    html = client.get(reverse("disputes:detail", args=[dispute.pk])).content.decode()
    assert "Window not confirmed" in html and "No source we could read states" in html
    assert ">GK<" not in html and "GK figure" not in html


def test_a_lead_sets_a_window_and_the_recompute_moves_the_open_disputes(client, lead):
    dispute = open_dispute(network=Network.VISA, code="10.4")
    before = dispute.network_due
    client.force_login(lead)
    response = client.post(
        confirm_url(),
        {
            "decision": "set_window",
            "days": "25",
            "source_document": "Processor agreement, schedule B",
            "effective_from": (business_today() - timedelta(days=30)).isoformat(),
        },
        follow=True,
    )
    assert response.status_code == 200
    assert "1 open dispute moved" in response.content.decode()
    dispute.refresh_from_db()
    assert dispute.network_due == before - timedelta(days=5)
    assert "25 calendar days (window set for Astra)" in dispute.deadline_explanation
    row = RuleConfirmation.objects.get()
    assert (row.days, row.table_days, row.moved, row.confirmed_by) == (25, 30, 1, lead)
    assert row.moves[0]["case_id"] == dispute.case_id
    page = client.get(reverse("disputes:detail", args=[dispute.pk])).content.decode()
    assert "Window set to 25 days for Astra by" in page and "Processor agreement" in page
    assert "Window not confirmed" not in page
    rules_page = client.get(reverse("calendar_rules:table"), {"q": "10.4"}).content.decode()
    assert "Window 25 days, set by" in rules_page


def test_confirming_the_tables_window_moves_nothing_and_removes_the_doubt(client, lead):
    dispute = open_dispute(network=Network.VISA, code="10.4")
    row = services.confirm_rule(
        rule_key=ALLOCATION,
        actor=lead,
        source_document="Visa letter of 2026-11-02",
        effective_from=business_today() - timedelta(days=10),
    )
    assert (row.moved, row.checked, row.is_override) == (0, 1, False)
    client.force_login(lead)
    page = client.get(reverse("disputes:detail", args=[dispute.pk])).content.decode()
    assert "Confirmed for Astra by" in page and "Visa letter of 2026-11-02" in page


def test_a_confirmation_effective_later_leaves_todays_windows_alone(lead):
    dispute = open_dispute(network=Network.VISA, code="10.4")
    before = dispute.network_due
    services.confirm_rule(
        rule_key=ALLOCATION,
        actor=lead,
        source_document="Processor agreement v2",
        effective_from=business_today() + timedelta(days=30),
        days=20,
    )
    assert Dispute.objects.get(pk=dispute.pk).network_due == before


def test_an_agent_may_not_confirm_a_rule(client, agent):
    with pytest.raises(PermissionDenied):
        services.confirm_rule(
            rule_key=ALLOCATION, actor=agent, source_document="x", effective_from=business_today()
        )
    client.force_login(agent)
    response = client.post(confirm_url(), {"decision": "confirm"})
    assert response.status_code == 403
    assert not RuleConfirmation.objects.exists()


@pytest.mark.parametrize("key", ["visa:99.9:dispute", "nope", "mastercard:4841:second_presentment"])
def test_an_unknown_or_legacy_rule_key_is_refused(client, lead, key):
    with pytest.raises(ValidationError):
        services.confirm_rule(
            rule_key=key, actor=lead, source_document="x", effective_from=business_today()
        )
    client.force_login(lead)
    assert client.get(confirm_url(key)).status_code == 404


def test_the_confirm_form_refuses_a_window_change_without_days(client, lead):
    client.force_login(lead)
    response = client.post(
        confirm_url(),
        {"decision": "set_window", "source_document": "x", "effective_from": "2026-01-01"},
    )
    assert response.status_code == 422
    assert not RuleConfirmation.objects.exists()


# --- deadline layers ---------------------------------------------------------------------


def test_a_processor_cutoff_before_the_network_date_drives_the_internal_target():
    dispute = open_dispute(network=Network.VISA, code="13.1")
    started = dispute.stage_started_on
    assert dispute.network_due == started + timedelta(days=30)
    cutoff = started + timedelta(days=18)  # Card processor: 18 days after a Visa dispute
    assert dispute.internal_due == calendars.FED.add_banking_days(cutoff, -2)
    assert "card processor cut-off 18 calendar days" in dispute.deadline_explanation


# --- WSUD and the entry a return code is for ----------------------------------------------


def test_wsud_exists_only_for_consumer_codes_on_consumer_entries():
    consumer = open_dispute(network=Network.NACHA, code="R10", sec_code="PPD")
    corporate = open_dispute(network=Network.NACHA, code="R10", sec_code="CCD")
    assert conditions.requires_wsud(consumer)
    assert not conditions.requires_wsud(corporate)


def test_a_return_code_that_does_not_fit_its_entry_is_flagged_with_the_right_code(client, agent):
    dispute = open_dispute(network=Network.NACHA, code="R11", sec_code="CCD")
    client.force_login(agent)
    html = client.get(reverse("disputes:detail", args=[dispute.pk])).content.decode()
    assert "Return code check" in html and "the return code is R29" in html
