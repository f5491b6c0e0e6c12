"""The /rules/ page (needs Django and the database)."""

import pytest
from django.urls import reverse

from calendar_rules import rules


@pytest.fixture
def logged_in(client, django_user_model):
    user = django_user_model.objects.create_user(username="ops", password="pw-12345-long")
    client.force_login(user)
    return client


@pytest.mark.django_db
def test_rule_table_requires_login(client):
    response = client.get(reverse("calendar_rules:table"))
    assert response.status_code == 302


@pytest.mark.django_db
def test_rule_table_lists_every_network(logged_in):
    response = logged_in.get(reverse("calendar_rules:table"))
    assert [s.network for s in response.context["sections"]] == list(rules.NETWORKS)


@pytest.mark.django_db
def test_rule_table_shows_windows_with_source_and_confidence(logged_in):
    response = logged_in.get(reverse("calendar_rules:table"))
    html = response.content.decode()
    assert "Dispute response" in html and "S-CHARGEFLOW" in html
    assert "Not confirmed by a source" in html and "badge-GK" in html
    assert 'id="visa-13.1"' in html  # an anchor per code
    assert ">GK<" not in html and "dispute_response<" not in html


@pytest.mark.django_db
def test_rule_table_filters_by_network(logged_in):
    response = logged_in.get(reverse("calendar_rules:table"), {"network": "nacha"})
    assert [s.network for s in response.context["sections"]] == ["nacha"]


@pytest.mark.django_db
def test_rule_table_ignores_an_unknown_network(logged_in):
    response = logged_in.get(reverse("calendar_rules:table"), {"network": "amex"})
    assert len(response.context["sections"]) == 3


@pytest.mark.django_db
def test_rule_table_shows_fed_closures_for_this_year_and_next(logged_in):
    response = logged_in.get(reverse("calendar_rules:table"))
    years = [year for year, _ in response.context["closure_years"]]
    assert years[1] == years[0] + 1


@pytest.mark.django_db
def test_rule_table_states_the_conventions(logged_in):
    response = logged_in.get(reverse("calendar_rules:table"))
    assert "never rolled to a business day" in response.content.decode()


@pytest.mark.django_db
def test_rule_table_shows_the_rules_version(logged_in):
    response = logged_in.get(reverse("calendar_rules:table"))
    assert rules.rules_version() in response.content.decode()


@pytest.mark.django_db
def test_rule_table_finds_a_code_by_its_start_or_name(logged_in):
    response = logged_in.get(reverse("calendar_rules:table"), {"q": "48"})
    codes = {row.code for s in response.context["sections"] for row in s.rows}
    assert codes and all(code.startswith("48") for code in codes)
    by_name = logged_in.get(reverse("calendar_rules:table"), {"q": "frozen"})
    assert {row.code for s in by_name.context["sections"] for row in s.rows} == {"R16"}
