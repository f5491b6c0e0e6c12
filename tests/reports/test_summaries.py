"""The report summaries against the figures computed directly from the disputes: equal before
any refresh, after one, for events past the watermark, per network and client, and empty."""

from datetime import timedelta
from decimal import Decimal

import pytest

from disputes import services
from disputes.models import Dispute, business_today
from disputes.reports import check, filings, report, summary
from disputes.reports.models import ReportDay, ReportFiling
from disputes.reports.params import ReportParams
from tests.factories import ClientFactory, act, open_dispute

pytestmark = pytest.mark.django_db
TODAY = business_today()
QUARTER = ReportParams(TODAY - timedelta(days=90), TODAY)


def _claim(dispute, lead):
    version = Dispute.objects.values_list("version", flat=True).get(pk=dispute.pk)
    services.claim(dispute_id=dispute.pk, actor=lead, expected_version=version)


def _filed(lead, **kwargs):
    dispute = open_dispute(**kwargs)
    _claim(dispute, lead)
    act(dispute_id=dispute.pk, name="visa_submit_dispute_response", actor=lead, on=TODAY)
    return dispute


@pytest.fixture
def book(lead):
    """Visa filed and won (USD 100 of 120), Visa filed and won in EUR, Mastercard lost, a NACHA
    return accepted for another client, a Visa dispute still open."""
    acme, bolt = ClientFactory(name="Acme"), ClientFactory(name="Bolt")
    won = _filed(lead, client=acme, amount=Decimal("120.00"))
    act(dispute_id=won.pk, name="record_won", actor=lead, on=TODAY, recovered_amount="100.00")
    euro = _filed(lead, client=acme, amount=Decimal("80.00"))
    Dispute.objects.filter(pk=euro.pk).update(currency="EUR")  # before any act reads it
    act(dispute_id=euro.pk, name="record_won", actor=lead, on=TODAY)
    lost = open_dispute(network="mastercard", code="4853", client=acme)
    _claim(lost, lead)
    act(dispute_id=lost.pk, name="record_lost", actor=lead, on=TODAY)
    returned = open_dispute(network="nacha", code="R10", client=bolt)
    act(dispute_id=returned.pk, name="accept_liability", actor=lead, on=TODAY)
    still_open = open_dispute(client=bolt)
    return {"acme": acme, "bolt": bolt, "open": still_open}


def _views(book):
    return [
        QUARTER,
        ReportParams(QUARTER.start, QUARTER.end, network="visa"),
        ReportParams(QUARTER.start, QUARTER.end, network="nacha"),
        ReportParams(QUARTER.start, QUARTER.end, client_id=book["acme"].pk),
        ReportParams(QUARTER.start, QUARTER.end, network="visa", client_id=book["bolt"].pk),
    ]


def test_figures_equal_the_disputes_before_any_refresh(book):
    for params in _views(book):
        assert check.compare(params=params, today=TODAY) == []


def test_figures_equal_the_disputes_after_a_refresh(book):
    done = summary.refresh()
    assert done.disputes == 5 and done.filings == 2 and ReportDay.objects.exists()
    for params in _views(book):
        assert check.compare(params=params, today=TODAY) == []


def test_events_past_the_watermark_count_at_once(book, lead):
    summary.refresh()
    total, _ = report.outcomes(QUARTER)
    assert (total.won, total.lost, total.closed) == (2, 1, 4)
    # after the refresh: one more filing and win, a new dispute, a closing of the open one
    late = _filed(lead, client=book["bolt"], amount=Decimal("50.00"))
    act(dispute_id=late.pk, name="record_won", actor=lead, on=TODAY)
    open_dispute(network="mastercard", code="4853", client=book["acme"])
    act(dispute_id=book["open"].pk, name="accept_liability", actor=lead, on=TODAY)
    total, _ = report.outcomes(QUARTER)
    assert (total.won, total.lost, total.closed, total.counts["accepted"]) == (3, 1, 6, 2)
    for params in _views(book):
        assert check.compare(params=params, today=TODAY) == []
    done = summary.refresh()
    assert done.filings == 1
    for params in _views(book):
        assert check.compare(params=params, today=TODAY) == []


def test_a_full_refresh_derives_the_same_sums(book, lead):
    summary.refresh()
    act(dispute_id=book["open"].pk, name="record_lost", actor=lead, on=TODAY)
    summary.refresh()
    fields = ("measure", "day", "network", "client_id", "stage", "span", "count", "amount")
    incremental = sorted(ReportDay.objects.values_list(*fields))
    summary.refresh(full=True)
    assert sorted(ReportDay.objects.values_list(*fields)) == incremental


def test_mixed_currencies_have_no_single_recovery_rate(book):
    summary.refresh()
    total, by_network = report.outcomes(QUARTER)
    assert total.by_currency["USD"].rate == Decimal("0.4082")  # 100 / (120 + 125 lost)
    assert total.by_currency["EUR"].rate == Decimal("1")  # 80 / 80
    assert total.recovery_rate is None
    assert by_network["mastercard"].recovery_rate == Decimal("0")  # 0 / 125


def test_an_empty_period_has_no_figures(book):
    summary.refresh()
    empty = ReportParams(TODAY - timedelta(days=400), TODAY - timedelta(days=380))
    assert check.compare(params=empty, today=TODAY) == []
    context = report.build(empty, today=TODAY)
    assert (context["outcomes"].closed, context["outcomes"].win_rate) == (0, None)
    assert (context["deadlines"]["filings"], context["late"]["count"]) == (0, 0)
    assert all(m.count == 0 and m.mean is None for m in context["speed"])


def test_filings_derived_in_python_match_the_sql(book):
    """The SQLite demo derives filings in Python; PostgreSQL in one statement: the same rows."""
    in_python = sorted(f for f, _stage in filings.derive(since=0))
    summary.refresh()
    fields = ("event_id", "dispute_id", "network", "client_id", "answered_stage",
              "stage_started_on", "filed_on", "internal_due", "network_due")  # fmt: skip
    assert sorted(ReportFiling.objects.values_list(*fields)) == [tuple(f) for f in in_python]
    assert len(in_python) == 2
