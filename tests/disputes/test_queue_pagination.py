"""Keyset pagination of the queue: every dispute exactly once, in order, both ways, for every
sort (ties broken by id, empty keys last), whatever changes between two pages."""

import html
import re
from datetime import timedelta

import pytest
from django.test import RequestFactory

from disputes import selectors
from disputes.choices import Stage, WorkState
from disputes.filters import SORTS
from disputes.models import Dispute, business_today
from disputes.selectors import GroupSegment, decode_cursor, encode_cursor, parse_sort
from disputes.views.queue import queue_filter
from tests.disputes.test_queue import (
    QUEUE,
    case_ids,
    expected_order,
    make_dispute,
    varied_disputes,
)

SORT_PARAMS = [param for name, _label in SORTS for param in (name, f"-{name}")]


def link(response, rel: str) -> str | None:
    found = re.search(rf'rel="{rel}" href="([^"]+)"', response.content.decode())
    return html.unescape(found.group(1)) if found else None


def walk_pages(client, url):
    """Every page from ``url`` on, following Next: [(case ids, response)]."""
    pages = []
    while url:
        response = client.get(url)
        assert response.status_code == 200
        pages.append((case_ids(response), response))
        url = link(response, "next")
    return pages


@pytest.fixture
def many(agent, agent2, lead):
    """60 disputes: the varied dozen five times over, so every key has long runs of ties."""
    disputes = []
    for _ in range(5):
        disputes.extend(varied_disputes(agent, agent2, lead))
    return disputes


@pytest.mark.django_db
@pytest.mark.parametrize("sort", SORT_PARAMS)
def test_next_visits_every_dispute_once_in_order(client, agent, many, sort):
    client.force_login(agent)
    pages = walk_pages(client, f"{QUEUE}?sort={sort}&size=25")
    assert [len(ids) for ids, _response in pages] == [25, 25, 10]
    assert [case for ids, _response in pages for case in ids] == expected_order(many, sort)


@pytest.mark.django_db
@pytest.mark.parametrize("sort", SORT_PARAMS)
def test_previous_returns_the_same_pages_backwards(client, agent, many, sort):
    client.force_login(agent)
    pages = walk_pages(client, f"{QUEUE}?sort={sort}&size=25")
    url = link(pages[-1][1], "prev")
    backwards = []
    while url:
        response = client.get(url)
        backwards.append(case_ids(response))
        url = link(response, "prev")
    assert backwards == [pages[1][0], pages[0][0]]


def selector_walk(user, params: dict, *, backwards_from=None):
    """Walk the selector itself (no page counts, so no small-set shortcut)."""
    ids, cursor = [], None
    request = RequestFactory().get(QUEUE)
    request.user = user
    while True:
        data = {**params, "after": cursor} if cursor else params
        page = selectors.for_queue(user, queue_filter(request, data))
        ids.extend(d.case_id for d in page.rows)
        cursor = page.next_cursor
        if cursor is None:
            return ids


@pytest.mark.django_db
@pytest.mark.parametrize("sort", SORT_PARAMS)
def test_selector_pages_in_order_without_the_small_set_shortcut(agent, many, sort):
    assert selector_walk(agent, {"sort": sort, "size": "25"}) == expected_order(many, sort)


@pytest.mark.django_db
def test_open_or_closed_merges_open_and_closed_disputes_in_order(agent, agent2, lead):
    """ "Open or closed" reads the open and the closed disputes along their own indexes and
    merges them: every sort gives one order over both, page after page."""
    disputes = [d for _ in range(5) for d in varied_disputes(agent, agent2, lead)]
    for _n, dispute in enumerate(disputes[::2]):
        Dispute.objects.filter(pk=dispute.pk).update(
            state=WorkState.CLOSED, stage=Stage.CLOSED, internal_due=None, network_due=None
        )
    disputes = list(Dispute.objects.select_related("client", "assignee"))
    states = {d.state for d in disputes}
    assert WorkState.CLOSED in states and len(states) > 1
    for sort in SORT_PARAMS:
        walked = selector_walk(agent, {"sort": sort, "size": "25", "state": "all"})  # 3 pages
        assert walked == expected_order(disputes, sort), sort


@pytest.mark.django_db
@pytest.mark.parametrize("sort", ["client", "-client", "assignee", "-assignee"])
def test_name_sorts_page_the_same_with_and_without_the_lateral_walk(agent, many, sort, monkeypatch):
    lateral = selector_walk(agent, {"sort": sort, "size": "25"})
    monkeypatch.setattr(GroupSegment, "lateral", False)
    assert selector_walk(agent, {"sort": sort, "size": "25"}) == lateral


@pytest.mark.django_db
def test_a_dispute_leaving_the_filter_between_pages_skips_nothing(client, agent, agent2):
    today = business_today()
    unassigned = [make_dispute(internal_due=today + timedelta(days=n)) for n in range(30)]
    client.force_login(agent)
    first = client.get(QUEUE, {"assignee": "unassigned", "size": 25})
    # Someone claims a dispute the first page showed: an offset would now skip a row.
    Dispute.objects.filter(pk=unassigned[3].pk).update(assignee=agent2, state=WorkState.IN_REVIEW)
    second = client.get(link(first, "next"))
    assert case_ids(second) == [d.case_id for d in unassigned[25:]]


@pytest.mark.django_db
def test_a_dispute_arriving_before_the_cursor_is_not_shown_twice(client, agent):
    today = business_today()
    disputes = [make_dispute(internal_due=today + timedelta(days=n)) for n in range(30)]
    client.force_login(agent)
    first = client.get(QUEUE, {"size": 25})
    make_dispute(internal_due=today - timedelta(days=5), case_id="NEWCOMER")
    second = client.get(link(first, "next"))
    assert case_ids(second) == [d.case_id for d in disputes[25:]]


@pytest.mark.django_db
def test_previous_short_of_a_page_shows_the_first_page_full(client, agent):
    today = business_today()
    disputes = [make_dispute(internal_due=today + timedelta(days=n)) for n in range(30)]
    client.force_login(agent)
    second = client.get(link(client.get(QUEUE, {"size": 25}), "next"))
    Dispute.objects.filter(pk__in=[d.pk for d in disputes[:10]]).update(
        state=WorkState.CLOSED, stage="closed", internal_due=None, network_due=None
    )
    back = client.get(link(second, "prev"))
    assert case_ids(back) == [d.case_id for d in disputes[10:30]]
    assert link(back, "prev") is None


@pytest.mark.django_db
def test_first_page_has_no_previous_and_last_page_no_next(client, agent):
    for _ in range(3):
        make_dispute()
    client.force_login(agent)
    response = client.get(QUEUE)
    assert link(response, "prev") is None and link(response, "next") is None
    assert response.content.decode().count('aria-disabled="true"') == 2


@pytest.mark.django_db
@pytest.mark.parametrize(
    "cursor",
    ["garbage", "W10", "WyJkdWUiLDksWzFdXQ", "WyJkdWUiLDAsWyJub3QtYS1kYXRlIiwxXV0"],
)
def test_a_forged_cursor_shows_the_first_page(client, agent, cursor):
    disputes = [make_dispute(internal_due=business_today() + timedelta(days=n)) for n in range(3)]
    client.force_login(agent)
    response = client.get(QUEUE, {"after": cursor})
    assert response.status_code == 200
    assert case_ids(response) == [d.case_id for d in disputes]


@pytest.mark.django_db
def test_a_cursor_belongs_to_its_sort(agent):
    dispute = make_dispute()
    sort, _descending = parse_sort("amount")
    cursor = encode_cursor("amount", sort, 0, dispute)
    assert decode_cursor(cursor, "amount", sort).values == (dispute.amount, dispute.pk)
    assert decode_cursor(cursor, "-amount", sort) is None


@pytest.mark.django_db
@pytest.mark.parametrize("state", ["closed", "all"])
@pytest.mark.parametrize("sort", ["stage", "-stage", "state", "-state"])
def test_closed_disputes_by_stage_or_state_page_by_id_both_ways(agent, agent2, lead, state, sort):
    """Every closed dispute has the stage and the state "closed", so closed rows are read in
    id order (no index over a constant): forwards and backwards, alone and merged with the
    open ones, across the change from closed to open rows."""
    disputes = [d for _ in range(5) for d in varied_disputes(agent, agent2, lead)]
    for dispute in disputes[::2]:
        Dispute.objects.filter(pk=dispute.pk).update(
            state=WorkState.CLOSED, stage=Stage.CLOSED, internal_due=None, network_due=None
        )
    disputes = list(Dispute.objects.select_related("client", "assignee"))
    if state == "closed":
        disputes = [d for d in disputes if d.state == WorkState.CLOSED]
    expected = expected_order(disputes, sort)
    request = RequestFactory().get(QUEUE)
    request.user = agent
    pages, cursor = [], None
    while True:
        data = {"sort": sort, "size": "25", "state": state}  # 30 closed, 30 open
        page = selectors.for_queue(
            agent, queue_filter(request, {**data, "after": cursor} if cursor else data)
        )
        pages.append([d.case_id for d in page.rows])
        cursor = page.next_cursor
        if cursor is None:
            break
    assert [case for ids in pages for case in ids] == expected
    assert len(pages) == (2 if state == "closed" else 3)
    backwards, cursor = [], page.previous_cursor
    while cursor:
        page = selectors.for_queue(agent, queue_filter(request, {**data, "before": cursor}))
        backwards.append([d.case_id for d in page.rows])
        cursor = page.previous_cursor
    assert backwards == pages[-2::-1]
