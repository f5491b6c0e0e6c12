"""The deadline calendar (month, week, day list) and the private iCalendar feed."""

import re
from datetime import timedelta

import pytest
from django.db import DEFAULT_DB_ALIAS, connections
from django.urls import reverse

from calendar_rules import calendars
from disputes import calendar_selectors
from disputes.choices import WorkState
from disputes.models import CalendarFeed, Dispute, business_today
from tests.factories import ClientFactory, UserFactory, act, open_dispute

pytestmark = pytest.mark.django_db


def calendar_page(browser_client, user, **params):
    browser_client.force_login(user)
    return browser_client.get(reverse("calendar:view"), params)


def entry_titles(response) -> list[str]:
    """The title of every calendar entry on the page (kind, network, code, case, amount)."""
    return re.findall(r'class="cal-entry [^"]*" href="[^"]+" title="([^"]+)"',
                      response.content.decode())  # fmt: skip


def cases_on(response) -> set[str]:
    return {title.split(" · ")[0].split()[-1] for title in entry_titles(response)}


def claim(dispute, user):
    return act(dispute_id=dispute.pk, name="claim", actor=user, assignee=user)


# --- month and week -------------------------------------------------------------------------


def test_the_month_shows_the_internal_deadline_linking_to_the_dispute(client, agent):
    dispute = open_dispute()
    response = calendar_page(client, agent, date=dispute.internal_due.isoformat())
    assert response.status_code == 200
    titles = entry_titles(response)
    assert f"Internal due: Visa 13.1 {dispute.case_id} · $125.00 · {dispute.client.name}" in titles
    assert f'href="{dispute.get_absolute_url()}"' in response.content.decode()


def test_the_week_shows_the_network_deadline(client, agent):
    dispute = open_dispute()
    response = calendar_page(client, agent, view="week", date=dispute.network_due.isoformat())
    assert f"Network due: Visa 13.1 {dispute.case_id} · $125.00 · {dispute.client.name}" in (
        entry_titles(response)
    )


def test_the_week_shows_only_its_seven_days(client, agent):
    this_week = open_dispute()
    later = open_dispute(stage_started_on=business_today() + timedelta(days=14))
    response = calendar_page(client, agent, view="week", date=this_week.internal_due.isoformat())
    assert this_week.case_id in cases_on(response)
    assert later.case_id not in cases_on(response)


def test_closed_disputes_are_not_on_the_calendar(client, lead):
    dispute = open_dispute()
    internal_due = dispute.internal_due
    act(dispute_id=dispute.pk, name="record_lost", actor=lead, on=business_today())
    response = calendar_page(client, lead, date=internal_due.isoformat())
    assert dispute.case_id not in cases_on(response)


def test_the_counterpartys_window_is_shown_once_as_waiting(client, lead):
    dispute = open_dispute()
    dispute = act(
        dispute_id=dispute.pk, name="visa_submit_dispute_response", actor=lead,
        on=business_today(),
    )  # fmt: skip
    response = calendar_page(client, lead, view="week", date=dispute.network_due.isoformat())
    titles = [title for title in entry_titles(response) if dispute.case_id in title]
    assert titles == [f"Issuer window ends: Visa 13.1 {dispute.case_id} · $125.00 · "
                      f"{dispute.client.name}"]  # fmt: skip


def test_a_crowded_day_shows_the_first_four_and_links_to_the_rest(client, agent):
    started = business_today() - timedelta(days=2)
    disputes = [open_dispute(stage_started_on=started) for _ in range(6)]
    day = disputes[0].internal_due
    response = calendar_page(client, agent, date=day.isoformat())
    internal = [t for t in entry_titles(response) if t.startswith("Internal due")]
    assert len(internal) == 4
    day_url = reverse("calendar:day", args=[day.isoformat()])
    assert re.search(
        rf'<a class="cal-more" href="{day_url}">\+2 more</a>', response.content.decode()
    )
    full_day = client.get(day_url)
    assert {d.case_id for d in disputes} <= set(
        re.findall(r">(CASE-\d+)<", full_day.content.decode())
    )


def test_a_crowded_day_shows_the_disputes_that_arrived_first(client, agent):
    started = business_today() - timedelta(days=2)
    disputes = [open_dispute(stage_started_on=started) for _ in range(5)]
    response = calendar_page(client, agent, date=disputes[0].internal_due.isoformat())
    shown = [t.split(" · ")[0].split()[-1] for t in entry_titles(response)
             if t.startswith("Internal due")]  # fmt: skip
    assert shown == [d.case_id for d in disputes[:4]]


def test_the_demo_databases_way_finds_the_same_deadlines(agent, monkeypatch):
    """SQLite (the demo) has no LATERAL join: its window-function path must agree."""
    started = business_today() - timedelta(days=2)
    for index in range(9):
        open_dispute(stage_started_on=started - timedelta(days=index % 3))

    def by_day(vendor):
        monkeypatch.setattr(connections[DEFAULT_DB_ALIAS], "vendor", vendor)
        days = calendar_selectors.deadlines_by_day(
            calendar_selectors.scoped_disputes(agent, {}),
            started - timedelta(days=5),
            started + timedelta(days=45),
            per_day=2,
        )
        return {day: ([e.case_id for e in b.entries], b.by_kind) for day, b in days.items()}

    on_postgresql, on_sqlite = by_day("postgresql"), by_day("sqlite")
    assert on_postgresql == on_sqlite
    assert sum(sum(kinds.values()) for _, kinds in on_postgresql.values()) == 18  # 9 × 2 kinds
    assert all(len(cases) == min(2, sum(kinds.values())) for cases, kinds in on_sqlite.values())


def test_fed_closures_are_shaded_and_named(client, agent):
    thanksgiving = next(
        d for d in calendars.FED.closures(2026) if "Thanksgiving" in calendars.FED.closure_name(d)
    )
    response = calendar_page(client, agent, date=thanksgiving.isoformat())
    html = response.content.decode()
    assert "Fed closed · Thanksgiving Day" in html
    assert len(re.findall(r'class="cal-day[^"]*\bclosed\b', html)) == len(
        [d for d in calendars.FED.closures(2026) if d.month == thanksgiving.month]
    )
    assert re.search(r'class="cal-day[^"]*\bweekend\b', html)


def test_today_is_marked_only_in_its_own_month(client, agent):
    html = calendar_page(client, agent).content.decode()
    assert html.count('aria-current="date"') == 1
    far = calendar_page(client, agent, date="2031-03-01").content.decode()
    assert 'aria-current="date"' not in far


def test_previous_and_next_keep_the_filters(client, agent):
    html = calendar_page(client, agent, network="visa", date="2026-03-15").content.decode()
    assert "?network=visa&amp;view=month&amp;date=2026-02-01" in html
    assert "?network=visa&amp;view=month&amp;date=2026-04-01" in html
    week = calendar_page(client, agent, view="week", date="2026-03-18").content.decode()
    assert "view=week&amp;date=2026-03-09" in week  # the Monday before
    assert "view=week&amp;date=2026-03-23" in week


def test_a_stale_bookmark_with_bad_values_still_shows_the_calendar(client, agent):
    response = calendar_page(client, agent, client="not-a-client", date="0001-01-01", view="x")
    assert response.status_code == 200


# --- filters --------------------------------------------------------------------------------


def visible(browser_client, user, dispute, **filters):
    response = calendar_page(browser_client, user, date=dispute.internal_due.isoformat(), **filters)
    return dispute.case_id in cases_on(response)


def test_the_network_filter(client, agent):
    started = business_today() - timedelta(days=1)
    visa = open_dispute(stage_started_on=started)
    assert visible(client, agent, visa, network="visa")
    assert not visible(client, agent, visa, network="mastercard")


def test_the_client_filter(client, agent):
    acme = ClientFactory(name="Acme")
    dispute = open_dispute(client=acme)
    assert visible(client, agent, dispute, client=acme.slug)
    assert not visible(client, agent, dispute, client=ClientFactory().slug)


def test_the_assignee_filter_knows_me_and_unassigned(client, agent, agent2):
    mine, theirs, nobodys = open_dispute(), open_dispute(), open_dispute()
    claim(mine, agent)
    claim(theirs, agent2)
    response = calendar_page(client, agent, assignee="me", date=mine.internal_due.isoformat())
    assert cases_on(response) == {mine.case_id}
    response = calendar_page(client, agent, assignee="unassigned",
                             date=mine.internal_due.isoformat())  # fmt: skip
    assert cases_on(response) == {nobodys.case_id}
    response = calendar_page(client, agent, assignee=agent2.username,
                             date=mine.internal_due.isoformat())  # fmt: skip
    assert cases_on(response) == {theirs.case_id}


def test_the_state_filter(client, agent):
    claimed, new = open_dispute(), open_dispute()
    claim(claimed, agent)
    response = calendar_page(client, agent, state=WorkState.IN_REVIEW,
                             date=new.internal_due.isoformat())  # fmt: skip
    assert cases_on(response) == {claimed.case_id}


def test_the_day_list_keeps_the_filters(client, agent):
    visa = open_dispute()
    client.force_login(agent)
    url = reverse("calendar:day", args=[visa.internal_due.isoformat()])
    assert visa.case_id in client.get(url, {"network": "visa"}).content.decode()
    assert visa.case_id not in client.get(url, {"network": "nacha"}).content.decode()


def test_the_day_list_of_a_non_date_is_404(client, agent):
    client.force_login(agent)
    assert client.get(reverse("calendar:day", args=["2026-02-30"])).status_code == 404


# --- cost -----------------------------------------------------------------------------------


@pytest.mark.parametrize("view", ["month", "week"])
def test_the_calendar_costs_a_fixed_number_of_queries(
    client, agent, view, django_assert_max_num_queries
):
    started = business_today() - timedelta(days=1)
    for index in range(30):
        open_dispute(stage_started_on=started - timedelta(days=index % 5))
    client.force_login(agent)
    # session, user, permissions ×2, clients and people (filters), deadlines counted per day
    # and the first of each day (×2 kinds), overdue carried to today, the feed, groups (top bar)
    with django_assert_max_num_queries(13):
        response = client.get(reverse("calendar:view"), {"view": view})
    assert response.status_code == 200


# --- the feed link --------------------------------------------------------------------------


def create_link(client, user, action="create"):
    client.force_login(user)
    client.post(reverse("calendar:feed_link"), {"action": action})
    return CalendarFeed.objects.get(user=user)


def feed_url(feed, **params):
    url = reverse("calendar:feed", args=[feed.token])
    return url + ("?" + "&".join(f"{k}={v}" for k, v in params.items()) if params else "")


def test_creating_a_link_shows_the_feed_url_on_the_calendar(client, agent, settings):
    settings.SITE_URL = "https://ops.example.com"
    feed = create_link(client, agent)
    html = calendar_page(client, agent).content.decode()
    assert f'value="https://ops.example.com/calendar/feed/{feed.token}.ics"' in html
    assert "Rotate link (revokes the old one)" in html


def test_without_a_link_the_page_offers_to_create_one(client, agent):
    html = calendar_page(client, agent).content.decode()
    assert 'value="create"' in html
    assert ".ics" not in html


def test_rotating_the_link_revokes_the_old_url(client, agent):
    old = create_link(client, agent)
    new = create_link(client, agent, action="rotate")
    assert new.token != old.token
    client.logout()
    assert client.get(feed_url(old)).status_code == 404
    assert client.get(feed_url(new)).status_code == 200


def test_turning_the_link_off_revokes_it(client, agent):
    feed = create_link(client, agent)
    client.post(reverse("calendar:feed_link"), {"action": "delete"})
    assert not CalendarFeed.objects.filter(user=agent).exists()
    assert client.get(feed_url(feed)).status_code == 404


def test_a_link_is_made_by_post_only(client, agent):
    client.force_login(agent)
    assert client.get(reverse("calendar:feed_link")).status_code == 405


# --- the feed -------------------------------------------------------------------------------


def unfold(response) -> list[str]:
    return response.content.decode().replace("\r\n ", "").split("\r\n")


def fetch(client, feed, **params):
    client.logout()
    return client.get(feed_url(feed, **params))


def test_the_feed_needs_no_login_and_is_text_calendar(client, agent):
    feed = create_link(client, agent)
    response = fetch(client, feed)
    assert response.status_code == 200
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    assert unfold(response)[0] == "BEGIN:VCALENDAR"


def test_the_feed_has_an_all_day_event_per_deadline_of_my_open_disputes(client, agent, lead):
    mine = open_dispute()
    claim(mine, agent)
    closed = open_dispute()
    claim(closed, agent)
    act(dispute_id=closed.pk, name="record_lost", actor=lead,
                                on=business_today())  # fmt: skip
    unassigned = open_dispute()
    mine.refresh_from_db()
    lines = unfold(fetch(client, create_link(client, agent)))
    uids = [line for line in lines if line.startswith("UID:")]
    assert sorted(uids) == sorted(
        [f"UID:dispute-{mine.pk}-internal@127.0.0.1", f"UID:dispute-{mine.pk}-network@127.0.0.1"]
    )
    assert f"DTSTART;VALUE=DATE:{mine.internal_due:%Y%m%d}" in lines
    assert f"DTSTART;VALUE=DATE:{mine.network_due:%Y%m%d}" in lines
    assert not any(unassigned.case_id in line or closed.case_id in line for line in lines)


def test_the_summary_names_the_deadline_case_amount_and_client_escaped(client, agent):
    dispute = open_dispute(client=ClientFactory(name="Acme, Inc; East"))
    claim(dispute, agent)
    lines = unfold(fetch(client, create_link(client, agent)))
    assert f"SUMMARY:Internal due: Visa 13.1 {dispute.case_id} $125.00 Acme\\, Inc\\; East" in lines


def test_the_description_explains_the_deadline_and_links_the_dispute(client, agent, settings):
    settings.SITE_URL = "https://ops.example.com"
    dispute = open_dispute()
    claim(dispute, agent)
    dispute.refresh_from_db()
    lines = unfold(fetch(client, create_link(client, agent)))
    description = next(line for line in lines if line.startswith("DESCRIPTION:"))
    assert "Astra must respond" in description
    assert dispute.deadline_rule in description
    assert f"\\nhttps://ops.example.com/disputes/{dispute.pk}/" in description
    assert f"URL:https://ops.example.com/disputes/{dispute.pk}/" in lines
    assert "\\n" in description and "\n" not in description


def test_every_feed_line_is_folded_to_75_octets(client, agent):
    dispute = open_dispute(client=ClientFactory(name="Ünïcödé Marketplace " * 4))
    claim(dispute, agent)
    response = fetch(client, create_link(client, agent))
    physical = response.content.decode().split("\r\n")
    assert all(len(line.encode()) <= 75 for line in physical)


def test_uids_stay_the_same_across_fetches_and_rotation(client, agent):
    dispute = open_dispute()
    claim(dispute, agent)
    first = [x for x in unfold(fetch(client, create_link(client, agent))) if x.startswith("UID")]
    again = [
        x
        for x in unfold(fetch(client, create_link(client, agent, action="rotate")))
        if x.startswith("UID")
    ]
    assert first == again


def test_scope_all_has_every_open_dispute(client, agent):
    mine, unassigned = open_dispute(), open_dispute()
    claim(mine, agent)
    lines = unfold(fetch(client, create_link(client, agent), scope="all"))
    assert any(unassigned.case_id in line for line in lines)
    assert any(mine.case_id in line for line in lines)
    assert "X-WR-CALNAME:Astra Ops: all open disputes" in lines


def test_an_unknown_token_is_404(client):
    assert client.get(reverse("calendar:feed", args=["nope"])).status_code == 404


def test_a_deactivated_users_feed_is_404(client):
    user = UserFactory(username="leaver", role="ops_agent")
    feed = create_link(client, user)
    user.is_active = False
    user.save()
    assert fetch(client, feed).status_code == 404


def test_a_fetch_is_recorded_on_the_feed(client, agent):
    feed = create_link(client, agent)
    assert feed.last_fetched_at is None
    fetch(client, feed)
    feed.refresh_from_db()
    assert feed.last_fetched_at is not None


def test_the_feed_costs_a_fixed_number_of_queries(client, agent, django_assert_max_num_queries):
    for _ in range(10):
        claim(open_dispute(), agent)
    feed = create_link(client, agent)
    client.logout()
    # the feed and its user, the user's permissions ×2, the disputes, the fetch time
    with django_assert_max_num_queries(5):
        response = client.get(feed_url(feed))
    assert response.content.decode().count("BEGIN:VEVENT") == 20


# --- overdue carried onto today, past days, the day list ---------------------------------------


def test_overdue_deadlines_are_carried_onto_today_and_past_days_are_shaded(client, agent):
    late = open_dispute(stage_started_on=business_today() - timedelta(days=40))
    assert late.internal_due < business_today()
    client.force_login(agent)
    html = client.get(reverse("calendar:view")).content.decode()
    assert "1 overdue, carried to today" in html and "/disputes/?due=overdue" in html
    if business_today().day > 1:
        assert " past" in html


def test_the_day_list_pages_and_shows_assignee_state_and_a_claim_button(
    client, agent, agent2, monkeypatch
):
    monkeypatch.setattr(calendar_selectors, "DAY_PAGE_SIZE", 2)
    started = business_today() - timedelta(days=1)
    disputes = [open_dispute(stage_started_on=started) for _ in range(3)]
    act(dispute_id=disputes[0].pk, name="claim", actor=agent2, assignee=agent2)
    day = Dispute.objects.get(pk=disputes[1].pk).internal_due.isoformat()
    client.force_login(agent)
    first = client.get(reverse("calendar:day", args=[day])).content.decode()
    assert "1–2 of 3" in first and "page=2" in first
    assert (agent2.get_full_name() or agent2.username) in first and "In review" in first
    assert 'aria-label="Claim ' in first
    second = client.get(reverse("calendar:day", args=[day]), {"page": "2"}).content.decode()
    assert "3–3 of 3" in second
    here = reverse("calendar:day", args=[day])
    response = client.post(
        reverse("disputes:queue_claim"),
        {"claim": disputes[2].pk, f"version-{disputes[2].pk}": disputes[2].version, "next": here},
    )
    assert response.status_code == 302 and response["Location"] == here
    assert Dispute.objects.get(pk=disputes[2].pk).assignee == agent
