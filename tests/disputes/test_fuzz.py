"""No input yields a server error: every form field and query parameter of every page, fuzzed
with hypothesis (bounded examples, so the suite stays quick), for a role that may act.

Values mix arbitrary text with the ones that broke pages before (non-finite and huge numbers,
NUL bytes, dates outside the banking calendar, Unicode digits, very long text). Every response
must be below 500, streamed bodies included."""

from datetime import timedelta

import pytest
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from disputes.choices import Network
from disputes.filters import QueueFilter
from disputes.forms import CalendarFilterForm
from disputes.models import CalendarFeed, Dispute, business_today
from tests.factories import open_dispute

pytestmark = pytest.mark.django_db

NASTY = [
    "",
    " ",
    "\x00",
    "a\x00b",
    "NaN",
    "sNaN",
    "-Infinity",
    "1e999999",
    "-1",
    "0",
    "1",
    "²",
    "١٢",
    "9" * 30,
    "0001-01-01",
    "1900-01-01",
    "9999-12-31",
    "99999-01-01",
    "2026-02-30",
    "me",
    "unassigned",
    "all",
    "closed",
    "-amount",
    "' OR 1=1 --",
    "<script>alert(1)</script>",
    "%00",
    "../../etc/passwd",
    "x" * 5000,
    "\u202e\ufeff",
]
# Text without lone surrogates (a request cannot carry them; the test client cannot send them).
TEXT = st.text(st.characters(exclude_categories=["Cs"]), max_size=40)
VALUES = st.one_of(st.sampled_from(NASTY), TEXT)
FUZZ = settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    derandomize=True,
)


def params_of(names) -> st.SearchStrategy[dict]:
    """Some of the fields, or every one of them, each with a drawn value."""
    names = sorted(names)
    return st.one_of(
        st.dictionaries(st.sampled_from(names), VALUES, max_size=len(names)),
        st.fixed_dictionaries({name: VALUES for name in names}),
    )


def body_of(response) -> bytes:
    if response.streaming:
        return b"".join(response.streaming_content)
    return response.content


def assert_no_server_error(response):
    body_of(response)
    assert response.status_code < 500


@pytest.fixture
def world(lead):
    """A lead (who may do nearly everything) and a dispute of each network."""
    disputes = [
        open_dispute(network=Network.VISA, code="13.1"),
        open_dispute(network=Network.MASTERCARD, code="4853"),
        open_dispute(network=Network.NACHA, code="R01", stage_started_on=business_today()),
    ]
    return {"user": lead, "disputes": disputes}


QUEUE_PARAMS = {*QueueFilter.base_filters, "sort", "size", "after", "before", "view"}


@FUZZ
@given(params=params_of(QUEUE_PARAMS))
def test_the_queue_and_its_export_never_fail(client, world, params):
    client.force_login(world["user"])
    assert_no_server_error(client.get(reverse("disputes:queue"), params))
    assert_no_server_error(client.get(reverse("disputes:queue"), params, HTTP_HX_REQUEST="true"))
    assert_no_server_error(client.get(reverse("disputes:queue_export"), params))


# Ids and versions: the numbers Python calls digits but int() refuses, and out-of-range ones.
NUMBERISH = ["²", "١٢", "٣", "9" * 30, "-1", "1.0", " 1", "1e3", "0x1", "1_000"]


def numberish(real: str) -> st.SearchStrategy[str]:
    return st.one_of(st.just(real), st.sampled_from(NUMBERISH), VALUES)


@settings(FUZZ, max_examples=40)
@given(data=st.data())
def test_claim_and_assign_never_fail(client, world, data):
    client.force_login(world["user"])
    dispute = Dispute.objects.get(pk=world["disputes"][0].pk)
    pk = str(dispute.pk)
    posted = data.draw(params_of({"assignee", "action", "return_to"}))
    posted["claim"] = data.draw(numberish(pk))
    posted["dispute"] = data.draw(st.lists(numberish(pk), max_size=3))
    posted[f"version-{pk}"] = data.draw(numberish(str(dispute.version)))
    for url in (reverse("disputes:queue_claim"), reverse("disputes:queue_assign")):
        assert_no_server_error(client.post(url, posted))
        assert_no_server_error(client.post(url, posted, HTTP_HX_REQUEST="true"))


TRANSITION_FIELDS = {"version", "comment", "on", "code", "assignee", "recovered_amount"}


@settings(FUZZ, max_examples=30)
@given(data=st.data())
def test_every_transition_form_never_fails(client, world, data):
    client.force_login(world["user"])
    dispute = data.draw(st.sampled_from(world["disputes"]))
    dispute = Dispute.objects.get(pk=dispute.pk)
    names = [
        "claim",
        "assign",
        "nacha_receive_return",
        "nacha_dishonor",
        "nacha_reinitiate",
        "visa_submit_dispute_response",
        "mc_submit_second_presentment",
        "record_won",
        "record_expired",
        "_work_closed",
        "save",
        "delete",
    ]
    name = data.draw(st.one_of(st.sampled_from(names), TEXT.filter(lambda s: "/" not in s and s)))
    posted = data.draw(params_of(TRANSITION_FIELDS))
    posted["version"] = data.draw(numberish(str(dispute.version)))
    url = f"/disputes/{dispute.pk}/transition/{name}/"
    assert_no_server_error(client.post(url, posted, HTTP_HX_REQUEST="true"))
    assert_no_server_error(client.get(dispute.get_absolute_url()))


@FUZZ
@given(body=VALUES)
def test_notes_never_fail(client, world, body):
    client.force_login(world["user"])
    url = reverse("disputes:add_note", args=[world["disputes"][0].pk])
    assert_no_server_error(client.post(url, {"body": body}))


@FUZZ
@given(segment=st.one_of(st.sampled_from(["0", "1", "9" * 25, "-1"]), TEXT))
def test_paths_with_ids_and_dates_never_fail(client, world, segment):
    client.force_login(world["user"])
    from urllib.parse import quote

    part = quote(segment, safe="")
    for path in (
        f"/disputes/{part}/",
        f"/disputes/{part}/notes/",
        f"/calendar/day/{part}/",
        f"/calendar/feed/{part}.ics",
    ):
        assert_no_server_error(client.get(path))
    assert_no_server_error(client.post(f"/disputes/{part}/transition/claim/", {"version": "1"}))


CALENDAR_PARAMS = set(CalendarFilterForm.base_fields)


@FUZZ
@given(params=params_of(CALENDAR_PARAMS), day=st.sampled_from(["2026-11-24", "1999-01-04"]))
def test_the_calendar_and_its_day_list_never_fail(client, world, params, day):
    client.force_login(world["user"])
    assert_no_server_error(client.get(reverse("calendar:view"), params))
    assert_no_server_error(client.get(reverse("calendar:day", args=[day]), params))


@FUZZ
@given(action=VALUES, scope=VALUES)
def test_the_feed_and_its_link_never_fail(client, world, action, scope):
    client.force_login(world["user"])
    assert_no_server_error(client.post(reverse("calendar:feed_link"), {"action": action}))
    feed = CalendarFeed.objects.filter(user=world["user"]).first()
    if feed is not None:
        url = reverse("calendar:feed", args=[feed.token])
        assert_no_server_error(client.get(url, {"scope": scope}))


@settings(FUZZ, max_examples=8)
@given(network=VALUES)
def test_the_rule_tables_never_fail(client, world, network):
    client.force_login(world["user"])
    assert_no_server_error(client.get(reverse("calendar_rules:table"), {"network": network}))


@FUZZ
@given(params=params_of({"username", "password", "next"}))
def test_signing_in_never_fails(client, world, params):
    assert_no_server_error(client.get(reverse("login"), {"next": params.get("next", "")}))
    assert_no_server_error(client.post(reverse("login"), params))


@FUZZ
@given(params=params_of({"old_password", "new_password1", "new_password2"}))
def test_changing_a_password_never_fails(client, world, params):
    client.force_login(world["user"])
    assert_no_server_error(client.post(reverse("password_change"), params))


@FUZZ
@given(params=params_of({"kind", "value"}))
def test_lifting_a_lockout_never_fails(client, world, params):
    client.force_login(world["user"])
    assert_no_server_error(client.get(reverse("lockouts")))
    assert_no_server_error(client.post(reverse("lockouts"), params))


@FUZZ
@given(params=params_of({"q", "o", "p", "e", "all", "action", "_selected_action", "index"}))
def test_the_admin_lists_never_fail(client, admin_user, world, params):
    client.force_login(admin_user)
    for url in ("/admin/disputes/dispute/", "/admin/disputes/caseevent/"):
        assert_no_server_error(client.get(url, params))


def test_a_fuzzed_run_leaves_every_audit_chain_intact(client, world):
    """The transitions the fuzzing took (if any) were recorded like any other."""
    from disputes.history.verify import verify

    client.force_login(world["user"])
    post = {"version": "1", "on": (business_today() - timedelta(days=1)).isoformat()}
    client.post(f"/disputes/{world['disputes'][0].pk}/transition/claim/", post)
    assert verify().breaks == []
