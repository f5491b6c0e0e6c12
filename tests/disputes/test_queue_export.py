"""The queue's CSV export: exactly the filtered disputes (every page), streamed."""

import csv
import io
from datetime import timedelta

import pytest
from django.db import connection
from django.http import StreamingHttpResponse
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from disputes import export as queue_export
from disputes.choices import Network, WorkState
from disputes.models import Dispute, business_today
from tests.disputes.test_queue import make_dispute
from tests.factories import ClientFactory

EXPORT = reverse("disputes:queue_export")


def export(client, user, **params):
    client.force_login(user)
    return client.get(EXPORT, params)


def rows_of(response) -> list[dict]:
    text = b"".join(response.streaming_content).decode()
    return list(csv.DictReader(io.StringIO(text)))


@pytest.mark.django_db
def test_customer_success_may_not_export(client, cs_user):
    assert export(client, cs_user).status_code == 403


@pytest.mark.django_db
def test_compliance_may_export(client, compliance):
    make_dispute()
    response = export(client, compliance)
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="disputes-')


@pytest.mark.django_db
def test_export_has_exactly_the_filtered_disputes_not_only_one_page(client, agent):
    wanted = {make_dispute(state=WorkState.IN_REVIEW, assignee=agent).case_id for _ in range(30)}
    make_dispute(state=WorkState.NEW)
    make_dispute(network=Network.NACHA, state=WorkState.IN_REVIEW, assignee=agent)
    make_dispute(state=WorkState.CLOSED)
    response = export(client, agent, network="visa", state="in_review", size=25, after="x")
    assert {row["case_id"] for row in rows_of(response)} == wanted


@pytest.mark.django_db
def test_export_keeps_the_queue_order(client, agent):
    amounts = ["5.00", "700.00", "42.00"]
    for amount in amounts:
        make_dispute(amount=amount)
    response = export(client, agent, sort="-amount")
    assert [row["amount"] for row in rows_of(response)] == ["700.00", "42.00", "5.00"]


@pytest.mark.django_db
def test_export_carries_currency_both_due_dates_and_the_deadline_explanation(client, agent):
    today = business_today()
    dispute = make_dispute(
        amount="1500.00",
        currency="EUR",
        internal_due=today + timedelta(days=2),
        network_due=today + timedelta(days=5),
        client_evidence_due=today + timedelta(days=1),
        reference="74000000000000000000123",
    )
    (row,) = rows_of(export(client, agent))
    assert row["amount"] == "1500.00" and row["currency"] == "EUR"
    assert row["amount_display"] == "€1,500.00"
    assert row["internal_due"] == dispute.internal_due.isoformat()
    assert row["network_due"] == dispute.network_due.isoformat()
    assert row["client_evidence_due"] == dispute.client_evidence_due.isoformat()
    assert row["deadline_explanation"] == dispute.deadline_explanation
    assert row["urgency"] == dispute.urgency(today).label
    assert row["network_reference"] == "74000000000000000000123"
    assert row["reason"] and row["url"].endswith(f"/disputes/{dispute.pk}/")


@pytest.mark.django_db
def test_export_is_streamed_header_first(client, agent):
    for _ in range(3):
        make_dispute()
    response = export(client, agent)
    assert isinstance(response, StreamingHttpResponse)
    chunks = list(response.streaming_content)
    assert chunks[0].decode() == ",".join(queue_export.COLUMNS) + "\n"
    assert b"".join(chunks[1:]).decode().count("\n") == 3


@pytest.mark.django_db
@pytest.mark.parametrize("sort", ["due", "-assignee"])
def test_export_reads_rows_in_a_fixed_number_of_queries_however_many(client, agent, sort):
    """One COPY per part of the sort (with a due date, without; per person for a name sort),
    and the same queries around them whatever the number of rows."""
    client.force_login(agent)
    counts = []
    for grow in (4, 36):
        for _ in range(grow):
            make_dispute(internal_due=None if len(counts) else business_today())
        with CaptureQueriesContext(connection) as queries:
            rows = rows_of(client.get(EXPORT, {"sort": sort}))
        counts.append(len(queries))
    assert len(rows) == 40
    assert counts[0] == counts[1] <= 12


@pytest.mark.django_db
def test_export_defuses_spreadsheet_formulas(client, agent):
    make_dispute(client=ClientFactory(name='=HYPERLINK("http://evil.example","x")'))
    (row,) = rows_of(export(client, agent))
    assert row["client"].startswith("'=HYPERLINK")


FORMULAS = ["=1+1", "+1", "-1", "@SUM(A1)", " =1", "\t=1", "\r=1", "\n=1", " \n @x", "\tx", "\rx"]
HARMLESS = ["Acme, Inc.", 'Say "hi"', "a-b", "x=1", "", "line\nbreak"]


@pytest.mark.parametrize("text", FORMULAS)
def test_a_cell_a_spreadsheet_would_run_gets_a_leading_quote(text):
    assert queue_export.safe_cell(text) == f"'{text}"


@pytest.mark.parametrize("text", HARMLESS)
def test_a_plain_cell_is_left_as_it_is(text):
    assert queue_export.safe_cell(text) == text


@pytest.mark.django_db
@pytest.mark.parametrize("text", FORMULAS + HARMLESS[:4])
def test_every_text_column_of_the_export_is_formula_safe(client, agent, text):
    dispute = make_dispute(client=ClientFactory(name=text), case_id=text, reference=text)
    Dispute.objects.filter(pk=dispute.pk).update(deadline_rule=text, deadline_explanation=text)
    (row,) = rows_of(export(client, agent))
    for column in ("client", "case_id", "network_reference", "deadline_rule"):
        assert row[column] == queue_export.safe_cell(text), column
    assert row["deadline_explanation"] == queue_export.safe_cell(text)
