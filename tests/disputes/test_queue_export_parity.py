"""The CSV export written by PostgreSQL's COPY says exactly what the row-by-row writer says (the
same bytes), and its rows, in its order, are the queue's rows for the same filters and sort."""

import csv
import io
from datetime import timedelta

import pytest
from django.test import RequestFactory

from disputes import export as queue_export
from disputes import selectors
from disputes.choices import Network, Party, Stage, WorkState
from disputes.filters import SORTS
from disputes.models import Dispute, business_today
from disputes.views.queue import queue_filter
from tests.disputes.test_queue import make_dispute
from tests.factories import ClientFactory, UserFactory

SORT_PARAMS = [param for name, _label in SORTS for param in (name, f"-{name}")]


@pytest.fixture
def variety(agent, lead):
    """Disputes that read every way the export can say them."""
    today = business_today()
    nobody = UserFactory(username="noname", role="ops_agent", first_name="", last_name="")
    odd = ClientFactory(name='Acme, "Quoted"\nSecond line')
    days = [-9, -2, -1, 0, 1, 2, 3, 4, 6, 9, 13, 30, 70]
    for n, offset in enumerate(days):
        for network in (Network.VISA, Network.MASTERCARD, Network.NACHA):
            make_dispute(
                network=network,
                internal_due=today + timedelta(days=offset),
                network_due=today + timedelta(days=offset + n % 3),
                due_party=Party.COUNTERPARTY if n % 4 == 3 else Party.ASTRA,
                assignee=[None, agent, lead, nobody][n % 4],
                state=WorkState.IN_REVIEW if n % 4 else WorkState.NEW,
                amount=f"{n * 1234.5 + 0.5:.2f}",
                currency=["USD", "EUR", "JPY", "KWD", "CHF", "GBP"][n % 6],
                client=odd if n % 5 == 0 else None,
            )
    make_dispute(internal_due=None, network_due=None)
    make_dispute(state=WorkState.AWAITING_EVIDENCE, client_evidence_due=today - timedelta(days=1))
    for outcome in ("won", "lost", "accepted", "expired", "withdrawn", ""):
        closed = make_dispute(state=WorkState.CLOSED)
        Dispute.objects.filter(pk=closed.pk).update(outcome=outcome)
    formula = make_dispute(case_id="=1+2", reference=" @SUM(A1)")
    Dispute.objects.filter(pk=formula.pk).update(deadline_explanation="\t-2", deadline_rule="+x")
    return today


def params_for(user, **query):
    request = RequestFactory().get("/disputes/", query)
    request.user = user
    return queue_filter(request, request.GET)


@pytest.mark.django_db
@pytest.mark.parametrize("state", ["", "closed", "all"])
def test_copy_writes_the_same_bytes_as_the_row_by_row_writer(lead, variety, state):
    for sort in ("due", "-amount", "assignee", "-client", "stage"):
        params = params_for(lead, state=state, sort=sort)
        copied = b"".join(queue_export.copy_rows(lead, params, variety)).decode()
        written = "".join(queue_export.python_lines(lead, params, variety))
        assert copied.count("\n") >= 6
        assert copied == written, sort


def queue_order(user, **query) -> list[str]:
    """Every row of the queue for these filters, following Next to the end."""
    found, cursor = [], None
    while True:
        params = params_for(user, **query, size=25, **({"after": cursor} if cursor else {}))
        page = selectors.for_queue(user, params)
        found += [row.case_id for row in page.rows]
        if page.next_cursor is None:
            return found
        cursor = page.next_cursor


@pytest.mark.django_db
@pytest.mark.parametrize("state", ["", "closed", "all"])
def test_the_export_has_the_queues_rows_in_the_queues_order(client, lead, variety, state):
    client.force_login(lead)
    for sort in SORT_PARAMS:
        response = client.get("/disputes/export.csv", {"sort": sort, "state": state})
        text = b"".join(response.streaming_content).decode()
        rows = list(csv.DictReader(io.StringIO(text)))
        exported = [row["case_id"].removeprefix("'") for row in rows]
        assert exported == queue_order(lead, sort=sort, state=state), sort
        assert list(rows[0]) == list(queue_export.COLUMNS)


@pytest.mark.django_db
def test_the_export_of_a_filtered_view_matches_its_queue(client, lead, agent, variety):
    client.force_login(lead)
    query = {"network": "nacha", "assignee": "agent", "due": "week", "stage": Stage.RETURN}
    response = client.get("/disputes/export.csv", query)
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows and [row["case_id"] for row in rows] == queue_order(lead, **query)
