"""The dispute queue page: what it shows, its filters, sorts, views and who sees what.

``make_dispute`` writes a dispute directly (no service, no audit row) with exactly the dates,
states and people a test needs; the other test_queue_* modules import it.
"""

import itertools
import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse

from calendar_rules import calendars
from disputes import selectors
from disputes.choices import Network, Party, Rail, ReferenceKind, Stage, TransactionType, WorkState
from disputes.filters import SORTS
from disputes.models import Dispute, business_today
from disputes.views.queue import COLUMNS
from tests.factories import ClientFactory, TransactionFactory

QUEUE = reverse("disputes:queue")
_numbers = itertools.count(1)

DEFAULT_CODE = {Network.VISA: "13.1", Network.MASTERCARD: "4853", Network.NACHA: "R01"}
DEFAULT_STAGE = {
    Network.VISA: Stage.DISPUTE,
    Network.MASTERCARD: Stage.CHARGEBACK,
    Network.NACHA: Stage.RETURN,
}
DEFAULT_RAIL = {Network.VISA: Rail.CARD, Network.MASTERCARD: Rail.CARD, Network.NACHA: Rail.ACH}
UNSET = object()


def make_dispute(
    *,
    network=Network.VISA,
    client=None,
    rail=None,
    code=None,
    stage=None,
    state=WorkState.NEW,
    assignee=None,
    amount="100.00",
    currency="USD",
    internal_due=UNSET,
    network_due=UNSET,
    due_party=Party.ASTRA,
    received_on=None,
    case_id=None,
    reference=None,
    **fields,
) -> Dispute:
    """A dispute written straight to the table. Due dates default to a week out; pass None for
    "no network clock". A closed dispute gets the closed stage."""
    today = business_today()
    number = next(_numbers)
    client = client or ClientFactory()
    rail = rail or DEFAULT_RAIL[network]
    is_ach = network == Network.NACHA
    transaction = TransactionFactory(
        client=client,
        rail=rail,
        amount=Decimal(amount),
        currency=currency,
        network_reference=reference or f"{'9' if is_ach else '7'}{number:022d}",
        reference_kind=ReferenceKind.TRACE_NUMBER if is_ach else ReferenceKind.ARN,
        transaction_type=TransactionType.ACH_DEBIT if is_ach else TransactionType.PURCHASE,
    )
    internal_due = today + timedelta(days=7) if internal_due is UNSET else internal_due
    network_due = internal_due if network_due is UNSET else network_due
    closed = state == WorkState.CLOSED
    return Dispute.objects.create(
        network=network,
        case_id=case_id or f"Q{number:08d}",
        client=client,
        transaction=transaction,
        rail=rail,
        reason_code=code or DEFAULT_CODE[network],
        stage=Stage.CLOSED if closed else stage or DEFAULT_STAGE[network],
        state=state,
        amount=Decimal(amount),
        currency=currency,
        received_on=received_on or today - timedelta(days=3),
        stage_started_on=today - timedelta(days=3),
        internal_due=None if closed else internal_due,
        network_due=None if closed else network_due,
        due_party="" if closed or internal_due is None else due_party,
        deadline_explanation="Visa 13.1: 30 days from the dispute processing date."
        if internal_due
        else "",
        assignee=assignee,
        outcome="won" if closed else "",
        **fields,
    )


def case_ids(response) -> list[str]:
    """The case ids of the rows on a queue page, top to bottom."""
    row = r'<tr id="dispute-\d+"[^>]*>.*?<td class="col-case"><a [^>]*>([^<]+)</a>'
    return re.findall(row, response.content.decode(), re.S)


def get(http, user, **params):
    http.force_login(user)
    return http.get(QUEUE, params)


# --- the page --------------------------------------------------------------------------------


@pytest.mark.django_db
def test_queue_asks_for_login(client):
    response = client.get(QUEUE)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


@pytest.mark.django_db
def test_default_view_is_open_disputes_most_urgent_first_with_no_clock_last(client, agent):
    today = business_today()
    later = make_dispute(internal_due=today + timedelta(days=9), case_id="LATER")
    no_clock = make_dispute(internal_due=None, case_id="NOCLOCK")
    soon = make_dispute(internal_due=today + timedelta(days=1), case_id="SOON")
    tie = make_dispute(internal_due=today + timedelta(days=1), case_id="TIE")
    make_dispute(state=WorkState.CLOSED, case_id="CLOSED")
    response = get(client, agent)
    assert response.status_code == 200
    assert case_ids(response) == [soon.case_id, tie.case_id, later.case_id, no_clock.case_id]


@pytest.mark.django_db
def test_row_shows_urgency_reason_name_money_people_and_both_due_dates(client, agent, agent2):
    today = business_today()
    internal = calendars.FED.add_banking_days(today, 2)
    make_dispute(
        case_id="ROW1",
        code="13.1",
        amount="1234.50",
        currency="EUR",
        internal_due=internal,
        network_due=internal + timedelta(days=3),
        assignee=agent2,
        state=WorkState.IN_REVIEW,
    )
    html = get(client, agent).content.decode()
    assert "2 banking days" in html and "urgency-near" in html
    assert "13.1" in html and selectors.reason_short_name("visa", "13.1") in html
    assert "€1,234.50" in html
    assert agent2.get_full_name() in html
    assert f'datetime="{internal.isoformat()}"' in html
    assert f'datetime="{(internal + timedelta(days=3)).isoformat()}"' in html


@pytest.mark.django_db
def test_past_client_evidence_deadline_reads_past_evidence_deadline_not_expired(client, agent):
    make_dispute(
        state=WorkState.AWAITING_EVIDENCE,
        client_evidence_due=business_today() - timedelta(days=1),
        assignee=agent,
    )
    html = get(client, agent).content.decode()
    assert "Evidence overdue" in html
    assert "Expired" not in html


@pytest.mark.django_db
def test_reason_short_names_come_from_the_rule_tables_without_queries(django_assert_num_queries):
    selectors.reason_short_name.cache_clear()
    with django_assert_num_queries(0):
        assert selectors.reason_short_name("visa", "13.1")
        assert selectors.reason_short_name("nacha", "R01") == "Insufficient Funds"
        assert selectors.reason_short_name("visa", "99.9") == ""


# --- filters ---------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("param", "value", "matching", "other"),
    [
        ("network", "nacha", {"network": Network.NACHA}, {"network": Network.VISA}),
        (
            "rail",
            "visa_direct",
            {"rail": Rail.VISA_DIRECT, "code": "13.8"},
            {"rail": Rail.CARD},
        ),
        (
            "stage",
            "pre_arbitration",
            {"stage": Stage.PRE_ARBITRATION},
            {"stage": Stage.DISPUTE},
        ),
        (
            "state",
            "awaiting_evidence",
            {"state": WorkState.AWAITING_EVIDENCE},
            {"state": WorkState.IN_REVIEW},
        ),
        ("state", "closed", {"state": WorkState.CLOSED}, {"state": WorkState.NEW}),
        ("amount_min", "500", {"amount": "500.00"}, {"amount": "499.99"}),
        ("amount_max", "20", {"amount": "20.00"}, {"amount": "20.01"}),
    ],
)
def test_each_filter_keeps_only_matching_disputes(client, agent, param, value, matching, other):
    wanted = make_dispute(**matching)
    make_dispute(**other)
    assert case_ids(get(client, agent, **{param: value})) == [wanted.case_id]


@pytest.mark.django_db
def test_client_filter_uses_the_client_slug(client, agent):
    acme = ClientFactory(name="Acme", slug="acme")
    wanted = make_dispute(client=acme)
    make_dispute()
    assert case_ids(get(client, agent, client="acme")) == [wanted.case_id]


@pytest.mark.django_db
def test_state_all_shows_open_and_closed(client, agent):
    both = {make_dispute().case_id, make_dispute(state=WorkState.CLOSED).case_id}
    assert set(case_ids(get(client, agent, state="all"))) == both


@pytest.mark.django_db
def test_received_date_range_is_inclusive(client, agent):
    today = business_today()
    inside = [
        make_dispute(received_on=today - timedelta(days=10)),
        make_dispute(received_on=today - timedelta(days=5)),
    ]
    make_dispute(received_on=today - timedelta(days=11))
    make_dispute(received_on=today - timedelta(days=4))
    response = get(
        client,
        agent,
        received_from=(today - timedelta(days=10)).isoformat(),
        received_to=(today - timedelta(days=5)).isoformat(),
    )
    assert sorted(case_ids(response)) == sorted(d.case_id for d in inside)


@pytest.mark.django_db
@pytest.mark.parametrize(
    "sort, order, note",
    [
        ("received", ["OLD", "NEW"], "sorted by date received, oldest first"),
        ("-received", ["NEW", "OLD"], "sorted by date received, newest first"),
        ("-amount", ["OLD", "NEW"], None),  # the Amount column's arrow says it
    ],
)
def test_an_order_no_column_shows_is_said_in_words(client, agent, sort, order, note):
    today = business_today()
    make_dispute(received_on=today - timedelta(days=1), case_id="NEW", amount=Decimal("5"))
    make_dispute(received_on=today - timedelta(days=20), case_id="OLD", amount=Decimal("50"))
    response = get(client, agent, sort=sort)
    assert case_ids(response) == order
    page = response.content.decode()
    if note:
        assert note in page and "↑" not in page and "↓" not in page
    else:
        assert "sorted by" not in page and "↓" in page


@pytest.mark.django_db
def test_assignee_filter_me_unassigned_and_by_username(client, agent, agent2):
    mine = make_dispute(assignee=agent, state=WorkState.IN_REVIEW)
    theirs = make_dispute(assignee=agent2, state=WorkState.IN_REVIEW)
    nobody = make_dispute()
    assert case_ids(get(client, agent, assignee="me")) == [mine.case_id]
    assert case_ids(get(client, agent, assignee="unassigned")) == [nobody.case_id]
    assert case_ids(get(client, agent, assignee=agent2.username)) == [theirs.case_id]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("window", "expected"),
    [
        ("overdue", {"PAST", "EVIDENCE"}),
        ("today", {"TODAY"}),
        ("3bd", {"TODAY", "BD3"}),
        ("waiting", {"THEIRS"}),
        ("none", {"NOCLOCK"}),
    ],
)
def test_due_windows_count_our_deadlines_on_the_fed_calendar(client, agent, window, expected):
    today = business_today()
    bd3 = calendars.FED.add_banking_days(today, 3)
    make_dispute(case_id="PAST", internal_due=today - timedelta(days=1))
    make_dispute(case_id="TODAY", internal_due=today)
    make_dispute(case_id="BD3", internal_due=bd3)
    make_dispute(case_id="BD4", internal_due=calendars.FED.add_banking_days(today, 4))
    make_dispute(case_id="LATER", internal_due=today + timedelta(days=40))
    make_dispute(
        case_id="THEIRS", internal_due=today - timedelta(days=2), due_party=Party.COUNTERPARTY
    )
    make_dispute(case_id="NOCLOCK", internal_due=None)
    make_dispute(
        case_id="EVIDENCE",
        state=WorkState.AWAITING_EVIDENCE,
        assignee=agent,
        internal_due=today + timedelta(days=30),
        client_evidence_due=today - timedelta(days=1),
    )
    assert set(case_ids(get(client, agent, due=window))) == expected


@pytest.mark.django_db
def test_this_week_ends_on_sunday_and_later_starts_on_monday(client, agent):
    today = business_today()
    sunday = today + timedelta(days=6 - today.weekday())
    make_dispute(case_id="TODAY", internal_due=today)
    make_dispute(case_id="SUNDAY", internal_due=sunday)
    make_dispute(case_id="MONDAY", internal_due=sunday + timedelta(days=1))
    assert case_ids(get(client, agent, due="week")) == ["TODAY", "SUNDAY"]
    assert case_ids(get(client, agent, due="later")) == ["MONDAY"]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("Q-SEARCH-0001", {"Q-SEARCH-0001"}),
        ("q-search-000", {"Q-SEARCH-0001", "Q-SEARCH-0002"}),
        ("7411 1222 2333 3444 4555 566", {"Q-SEARCH-0002"}),
        ("091000019876543", {"Q-SEARCH-ACH"}),
        ("northwind", {"Q-SEARCH-CLIENT"}),
    ],
)
def test_search_matches_case_id_prefix_reference_and_client(client, agent, query, expected):
    make_dispute(case_id="Q-SEARCH-0001")
    make_dispute(case_id="Q-SEARCH-0002", reference="74111222233334444555566")
    make_dispute(case_id="Q-SEARCH-ACH", network=Network.NACHA, reference="091000019876543")
    make_dispute(case_id="Q-SEARCH-CLIENT", client=ClientFactory(name="Northwind Payroll"))
    make_dispute(case_id="OTHER-1")
    assert set(case_ids(get(client, agent, q=query))) == expected


@pytest.mark.django_db
def test_search_in_open_disputes_offers_closed_ones_too(client, agent):
    make_dispute(case_id="Q-OLD-1", state=WorkState.CLOSED)
    html = get(client, agent, q="Q-OLD").content.decode()
    assert "No disputes match these filters." in html
    assert "q=Q-OLD&amp;state=all" in html
    assert case_ids(get(client, agent, q="Q-OLD", state="all")) == ["Q-OLD-1"]


@pytest.mark.django_db
def test_invalid_filter_value_is_reported_and_ignored(client, agent):
    make_dispute()
    response = get(client, agent, amount_min="lots", network="visa")
    assert response.status_code == 200
    assert "Amount from: Enter a number." in response.content.decode()
    assert len(case_ids(response)) == 1


@pytest.mark.django_db
def test_empty_parameters_redirect_to_the_clean_url(client, agent):
    client.force_login(agent)
    response = client.get(QUEUE, {"q": "", "network": "visa", "rail": "", "junk": "1"})
    assert response.status_code == 302
    assert response["Location"] == f"{QUEUE}?network=visa"


# --- sorts -----------------------------------------------------------------------------------


def _sort_key(name):
    # Two orders: "closed" is both a stage and a work state, at different places.
    stage_order = {s: i for i, s in enumerate(Stage.values)}
    state_order = {s: i for i, s in enumerate(WorkState.values)}
    keys = {
        "due": lambda d: d.internal_due,
        "network_due": lambda d: d.network_due,
        "case": lambda d: d.case_id,
        "network": lambda d: (d.network, d.rail),
        "reason": lambda d: d.reason_code,
        "client": lambda d: (d.client.name, d.client_id),
        "amount": lambda d: d.amount,
        "stage": lambda d: stage_order[d.stage],
        "state": lambda d: state_order[d.state],
        "assignee": lambda d: (
            d.assignee
            and (d.assignee.first_name, d.assignee.last_name, d.assignee.username, d.assignee_id)
        ),
        "received": lambda d: d.received_on,
    }
    return keys[name]


def expected_order(disputes, sort: str) -> list[str]:
    """The order a sort promises: by its key, ties by id, in the direction asked, empty keys
    last either way."""
    descending = sort.startswith("-")
    key = _sort_key(sort.lstrip("-"))
    present = [d for d in disputes if key(d) is not None]
    empty = [d for d in disputes if key(d) is None]
    present.sort(key=lambda d: (key(d), d.pk), reverse=descending)
    empty.sort(key=lambda d: d.pk, reverse=descending)
    return [d.case_id for d in present + empty]


def varied_disputes(agent, agent2, lead) -> list[Dispute]:
    """Disputes that differ (and tie) on every sortable column, some with empty keys."""
    today = business_today()
    acme, zeta = ClientFactory(name="Acme"), ClientFactory(name="Zeta")
    rows = []
    specs = [
        (Network.VISA, Rail.CARD, "13.1", Stage.DISPUTE, WorkState.NEW, None, "10.00", 2),
        (
            Network.VISA,
            Rail.VISA_DIRECT,
            "13.8",
            Stage.PRE_ARBITRATION,
            WorkState.IN_REVIEW,
            agent,
            "10.00",
            2,
        ),
        (
            Network.MASTERCARD,
            Rail.CARD,
            "4853",
            Stage.CHARGEBACK,
            WorkState.READY_TO_SUBMIT,
            agent2,
            "250.00",
            None,
        ),
        (
            Network.MASTERCARD,
            Rail.MASTERCARD_MOVE,
            "4837",
            Stage.SECOND_PRESENTMENT,
            WorkState.SUBMITTED,
            lead,
            "75.00",
            5,
        ),
        (
            Network.NACHA,
            Rail.ACH,
            "R01",
            Stage.RETURN,
            WorkState.AWAITING_EVIDENCE,
            agent,
            "75.00",
            1,
        ),
        (Network.NACHA, Rail.ACH, "R10", Stage.DISHONOR, WorkState.IN_REVIEW, agent2, "9.99", None),
    ]
    for index, spec in enumerate(specs * 2):
        network, rail, code, stage, state, person, amount, days = spec
        due = None if days is None else today + timedelta(days=days)
        rows.append(
            make_dispute(
                network=network,
                rail=rail,
                code=code,
                stage=stage,
                state=state,
                assignee=person,
                amount=amount,
                internal_due=due,
                network_due=None if due is None else due + timedelta(days=index % 3),
                client=acme if index % 2 else zeta,
                received_on=today - timedelta(days=index % 4),
            )
        )
    ids = [row.pk for row in rows]
    return list(Dispute.objects.select_related("client", "assignee").filter(pk__in=ids))


SORT_PARAMS = [param for name, _label in SORTS for param in (name, f"-{name}")]


@pytest.mark.django_db
@pytest.mark.parametrize("sort", SORT_PARAMS)
def test_every_column_sorts_both_ways_ties_by_id_empty_last(client, agent, agent2, lead, sort):
    disputes = varied_disputes(agent, agent2, lead)
    response = get(client, agent, sort=sort)
    assert case_ids(response) == expected_order(disputes, sort)


@pytest.mark.django_db
def test_column_headers_link_to_their_sort_and_mark_the_current_one(client, agent):
    make_dispute()
    html = get(client, agent, sort="amount", network="visa").content.decode()
    assert 'aria-sort="ascending"><a href="/disputes/?network=visa&amp;sort=-amount"' in html
    assert 'href="/disputes/?network=visa&amp;sort=client"' in html
    sortable = [column for column in COLUMNS if column[1]]
    assert html.count('aria-sort="none"') == len(sortable) - 1


@pytest.mark.django_db
def test_one_sort_arrow_at_a_time(client, agent):
    make_dispute()
    html = get(client, agent, network="visa").content.decode()  # sorted by due date
    assert (
        html.count('<span aria-hidden="true">↑</span>')
        + html.count('<span aria-hidden="true">↓</span>')
        == 1
    )


# --- views -----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_views_link_to_their_filters_with_counts_and_mark_the_current_one(client, agent):
    make_dispute(assignee=agent, state=WorkState.IN_REVIEW)
    make_dispute()
    make_dispute(state=WorkState.SUBMITTED, assignee=agent)
    html = get(client, agent, assignee="me").content.decode()
    start = html.index('id="queue-views"')
    nav = html[start : html.index("</nav>", start)]
    links = re.findall(
        r'<a href="([^"]+)"( aria-current="page")?>([^<]+)<span class="queue-count">([^<]+)<', nav
    )
    found = {label.strip(): (href, bool(current), count) for href, current, label, count in links}
    assert found["All open"] == ("/disputes/", False, "3")
    assert found["My queue"] == ("/disputes/?assignee=me", True, "2")
    assert found["Unassigned"] == ("/disputes/?assignee=unassigned", False, "1")
    assert found["Submitted, awaiting decision"][2] == "1"
    assert found["Due within 3 business days"][0] == "/disputes/?due=3bd"


@pytest.mark.django_db
def test_my_queue_is_offered_only_to_roles_that_claim(client, cs_user):
    html = get(client, cs_user).content.decode()
    assert "My queue" not in html and "Overdue" in html


@pytest.mark.django_db
def test_counts_stop_at_the_cap():
    for _ in range(3):
        make_dispute()
    assert selectors.capped_counts([Dispute.objects.all()], cap=2) == [2]
    assert selectors.capped_counts([Dispute.objects.all(), Dispute.objects.none()]) == [3, 0]


@pytest.mark.django_db
def test_a_capped_count_reads_as_at_least(client, agent, monkeypatch):
    for _ in range(3):
        make_dispute()
    monkeypatch.setattr(selectors, "COUNT_CAP", 2)
    monkeypatch.setattr(selectors, "MATCH_CAP", 2)
    html = get(client, agent, network="visa").content.decode()
    assert "2+ disputes" in html
    assert 'class="queue-count">2+<' in html


# --- HTMX --------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_htmx_gets_only_the_results_with_the_views_and_clean_url_pushed(client, agent):
    make_dispute(network=Network.NACHA, case_id="ACH1")
    make_dispute(case_id="VISA1")
    client.force_login(agent)
    response = client.get(
        QUEUE,
        {"q": "", "network": "nacha", "size": ""},
        HTTP_HX_REQUEST="true",
        HTTP_HX_TARGET="queue-results",
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in html
    assert case_ids(response) == ["ACH1"]
    assert (
        'id="queue-views" class="queue-views" aria-label="Queue views" hx-swap-oob="true"' in html
    )
    assert response["HX-Push-Url"] == f"{QUEUE}?network=nacha"
    assert "HX-Request" in response["Vary"]


@pytest.mark.django_db
def test_plain_request_gets_the_whole_page(client, agent):
    make_dispute()
    html = get(client, agent).content.decode()
    assert "<html" in html and 'id="queue-filters"' in html


# --- roles -------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_compliance_sees_disputes_and_export_but_cannot_claim_or_assign(client, compliance):
    make_dispute(case_id="C1")
    html = get(client, compliance).content.decode()
    assert "C1" in html
    assert "Export CSV" in html
    assert 'name="dispute"' not in html
    assert ">Claim<" not in html and "Claim selected" not in html
    assert "Assign selected to" not in html


@pytest.mark.django_db
def test_customer_success_sees_disputes_but_cannot_claim_or_export(client, cs_user):
    make_dispute(case_id="CS1")
    html = get(client, cs_user).content.decode()
    assert "CS1" in html
    assert ">Claim<" not in html and "Claim selected" not in html
    assert "Export CSV" not in html


@pytest.mark.django_db
def test_agent_may_claim_but_not_assign_to_others(client, agent):
    make_dispute()
    html = get(client, agent).content.decode()
    assert ">Claim</button>" in html and "Claim selected" in html
    assert "Assign selected to" not in html


@pytest.mark.django_db
def test_lead_may_assign_selected_to_anyone_who_claims(client, lead, agent, cs_user):
    make_dispute()
    html = get(client, lead).content.decode()
    assert "Assign selected to" in html
    assert f'<option value="{agent.pk}">' in html
    assert f'<option value="{cs_user.pk}">' not in html


@pytest.mark.django_db
def test_claim_button_only_on_unassigned_open_rows(client, agent, agent2):
    make_dispute(case_id="FREE")
    make_dispute(case_id="TAKEN", assignee=agent2, state=WorkState.IN_REVIEW)
    html = get(client, agent).content.decode()
    assert 'aria-label="Claim FREE"' in html
    assert 'aria-label="Claim TAKEN"' not in html


@pytest.mark.django_db
def test_a_user_without_a_role_is_refused(client):
    from tests.factories import UserFactory

    response = get(client, UserFactory(username="nobody"))
    assert response.status_code == 403
