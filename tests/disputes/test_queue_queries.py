"""The queue's SQL budget: a fixed number of queries per page, whatever the page size, the page
number, the sort or the number of disputes (at most MAX_QUERIES)."""

import html
import re
from datetime import timedelta
from urllib.parse import urlencode

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from disputes.choices import WorkState
from disputes.filters import SORTS, VIEWS
from disputes.models import business_today
from tests.disputes.test_queue import QUEUE, make_dispute
from tests.factories import ClientFactory

MAX_QUERIES = 12
SORT_PARAMS = [param for name, _label in SORTS for param in (name, f"-{name}")]


@pytest.fixture
def crowd(agent, agent2, lead):
    """450 disputes over several clients and people, a third of them closed, some without a due
    date."""
    today = business_today()
    clients = [ClientFactory() for _ in range(4)]
    people = [None, agent, agent2, lead]
    for n in range(450):
        person = people[n % 4]
        open_state = WorkState.IN_REVIEW if person else WorkState.NEW
        make_dispute(
            client=clients[n % 4],
            assignee=person,
            state=WorkState.CLOSED if n % 3 == 2 else open_state,
            internal_due=None if n % 9 == 0 else today + timedelta(days=n % 20),
            amount=f"{10 + n % 50}.00",
        )


def queries_for(client, url, **headers) -> tuple[int, str]:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url, **headers)
    assert response.status_code == 200
    return len(captured), response.content.decode()


@pytest.mark.django_db
def test_page_size_does_not_change_the_query_count(client, lead, crowd):
    client.force_login(lead)
    small, _ = queries_for(client, f"{QUEUE}?size=25")
    large, page = queries_for(client, f"{QUEUE}?size=200")
    assert page.count('<tr id="dispute-') == 200
    assert small == large <= MAX_QUERIES


LATER_PAGE_QUERIES = [
    "sort=due",
    "sort=-amount",
    "sort=client",
    "sort=assignee",
    "state=closed&sort=-case",
    "state=closed&sort=assignee",
    "state=all&sort=due",
    "state=all&sort=-stage",
    "state=all&sort=client",
    "state=all&sort=-assignee",
]


@pytest.mark.django_db
def test_later_pages_cost_no_more_than_the_first(client, lead, crowd):
    """Each query's first four pages over one crowd (building the crowd is the slow part)."""
    client.force_login(lead)
    over = {}
    for query in LATER_PAGE_QUERIES:
        url, counts = f"{QUEUE}?size=25&{query}", []
        for _ in range(4):
            count, page = queries_for(client, url)
            counts.append(count)
            url = html.unescape(re.search(r'rel="next" href="([^"]+)"', page).group(1))
        # A name sort may save one query on a page that stays within one client or person.
        if not max(counts[1:]) <= counts[0] <= MAX_QUERIES:
            over[query] = counts
    assert over == {}


@pytest.mark.django_db
def test_every_sort_stays_within_the_budget(client, lead, crowd):
    client.force_login(lead)
    counts = {sort: queries_for(client, f"{QUEUE}?sort={sort}&size=100")[0] for sort in SORT_PARAMS}
    assert {sort: n for sort, n in counts.items() if n > MAX_QUERIES} == {}
    assert len(counts) == len(SORT_PARAMS)


@pytest.mark.django_db
def test_filtered_and_searched_pages_stay_within_the_budget(client, lead, crowd):
    client.force_login(lead)
    queries = [
        "q=Q0000&network=visa&due=3bd&assignee=me",
        "assignee=unassigned&amount_min=20&amount_max=40",
        "state=all&sort=-received",
    ]
    counts = {query: queries_for(client, f"{QUEUE}?{query}")[0] for query in queries}
    assert {query: n for query, n in counts.items() if n > MAX_QUERIES} == {}


@pytest.mark.django_db
def test_the_htmx_results_stay_within_the_budget(client, agent, crowd):
    client.force_login(agent)
    headers = {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "queue-results"}
    count, _ = queries_for(client, f"{QUEUE}?size=200&sort=-assignee", **headers)
    assert count <= MAX_QUERIES


@pytest.mark.django_db
def test_the_query_count_does_not_grow_with_the_data(client, lead, agent):
    client.force_login(lead)
    for _ in range(30):
        make_dispute(assignee=agent, state=WorkState.IN_REVIEW)
    before, _ = queries_for(client, f"{QUEUE}?sort=assignee")
    for _ in range(300):
        make_dispute(client=ClientFactory())
    after, _ = queries_for(client, f"{QUEUE}?sort=assignee")
    assert before == after <= MAX_QUERIES


VIEW_QUERIES = [dict(view.params) for view in VIEWS] + [{"state": "closed"}, {"state": "all"}]


def _grow(agent, lead, count: int):
    """``count`` disputes in the same proportions whatever ``count``: open and closed, mine,
    others' and unassigned, overdue, due soon, waiting, awaiting evidence, submitted, no clock."""
    today = business_today()
    clients = [ClientFactory() for _ in range(3)]
    states = [WorkState.NEW, WorkState.IN_REVIEW, WorkState.AWAITING_EVIDENCE]
    states += [WorkState.SUBMITTED, WorkState.CLOSED]
    for n in range(count):
        state = states[n % len(states)]
        make_dispute(
            client=clients[n % 3],
            state=state,
            assignee=None if state == WorkState.NEW else [agent, lead][n % 2],
            internal_due=None if n % 7 == 0 else today + timedelta(days=n % 11 - 3),
            client_evidence_due=today - timedelta(days=n % 3),
            amount=f"{10 + n % 50}.00",
        )


def _every_view_and_sort(client) -> dict:
    """Queries of each view's first page in each sort; for "open or closed" (two indexes
    merged), of its second page too, which starts from a cursor."""
    found = {}
    for view in VIEW_QUERIES:
        for sort in SORT_PARAMS:
            query = urlencode({**view, "sort": sort, "size": 25})
            found[query], page = queries_for(client, f"{QUEUE}?{query}")
            if view.get("state") == "all":
                after = html.unescape(re.search(r'rel="next" href="([^"]+)"', page).group(1))
                found[f"{query}, page 2"], _ = queries_for(client, after)
    return found


@pytest.mark.django_db
def test_every_view_and_sort_costs_no_more_queries_with_ten_times_the_data(client, agent, lead):
    """Pinned at two sizes: 30 disputes, then 300 in the same proportions."""
    client.force_login(lead)
    _grow(agent, lead, 30)
    small = _every_view_and_sort(client)
    _grow(agent, lead, 270)
    large = _every_view_and_sort(client)
    assert max(small.values()) <= MAX_QUERIES
    # A two-part sort (empty keys last, or a name sort) reads its second part only while the
    # page is not full: with more data a page may need one query less, never one more.
    grew = {query: (small[query], large[query]) for query in small if large[query] > small[query]}
    assert grew == {}
    fewer = [query for query in small if large[query] < small[query]]
    assert all("due" in q or "assignee" in q or "client" in q for q in fewer), fewer


BUILT_IN_FILTERS = [view for view in VIEWS if view.params and view.slug != "mine"]


@pytest.mark.django_db
@pytest.mark.parametrize("view", BUILT_IN_FILTERS, ids=lambda view: view.slug)
def test_a_built_in_view_is_filtered_from_the_sort_index_alone(view, agent, lead, rf):
    """Read in any sort, a view's ids come from an index-only scan of the sort's index: the
    view's columns are in it, so PostgreSQL tests the view's filters on the index entries and
    fetches no row it passes ("Overdue" by received date walks the entries of the newer
    disputes, which are rarely overdue, without reading them)."""
    from disputes import selectors
    from disputes.views.queue import queue_filter

    _grow(agent, lead, 60)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE disputes_dispute")
    request = rf.get(QUEUE)
    request.user = lead
    plans = {}
    for name, _label in SORTS:
        if name in ("client", "assignee"):  # read per client or person (below)
            continue
        params = queue_filter(request, {**view.params, "sort": f"-{name}"})
        sort, descending = selectors.parse_sort(params.sort)
        disputes = selectors.queue_disputes(lead, params)
        segment = sort.segments[0]
        ids = segment.narrow(disputes, after=None, descending=descending)
        ids = ids.order_by(*segment.order(descending=descending)).values("id")[:51]
        sql, sql_params = ids.query.sql_with_params()
        with connection.cursor() as cursor:
            # Any plan but a scan of the table: the index alone must be able to answer.
            cursor.execute("SET LOCAL enable_seqscan = off")
            cursor.execute("SET LOCAL enable_bitmapscan = off")
            cursor.execute("SET LOCAL enable_indexscan = off")
            cursor.execute(f"EXPLAIN {sql}", sql_params)
            plans[name] = "\n".join(row[0] for row in cursor.fetchall())
    not_alone = {name: plan for name, plan in plans.items() if "Index Only Scan" not in plan}
    assert not_alone == {}


@pytest.mark.django_db
@pytest.mark.parametrize("sort", ["stage", "-stage", "state", "-state"])
def test_closed_disputes_by_stage_or_state_are_read_along_the_primary_key(sort, agent, lead):
    """No index over a constant: every closed dispute's stage and state are "closed", so the
    closed view in those sorts reads the primary key in id order, with no sort step."""
    _grow(agent, lead, 60)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE disputes_dispute")
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_sort = off")
        cursor.execute("SET LOCAL enable_bitmapscan = off")
    plans = []
    with CaptureQueriesContext(connection) as captured:
        browser = Client()
        browser.force_login(lead)
        assert (
            browser.get(f"{QUEUE}?{urlencode({'state': 'closed', 'sort': sort})}").status_code
            == 200
        )
    pages = [
        q["sql"]
        for q in captured.captured_queries
        if "ORDER BY" in q["sql"]
        and "LIMIT" in q["sql"]
        and '"disputes_dispute"."id" IN (SELECT' in q["sql"]
    ]
    assert pages, "the page reads its ids first"
    with connection.cursor() as cursor:
        for sql in pages:
            cursor.execute(f"EXPLAIN {sql}")
            plans.append("\n".join(row[0] for row in cursor.fetchall()))
    # One sort: of the page's rows, once found; the ids are found in id order along the key.
    assert all(plan.count("Sort Key") == 1 for plan in plans), plans
    assert all("disputes_dispute_pkey" in plan for plan in plans), plans
