"""KPI formulas against hand-computed figures on a small fixed data set."""

import csv
import io
import json
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings

from disputes import services
from disputes.intake.models import TransactionVolume
from disputes.models import Dispute
from disputes.reports import activity, report, selectors, summary
from disputes.reports.figures import Figures
from disputes.reports.params import BadParameters, ReportParams, parse
from tests.factories import ClientFactory, act, open_dispute

pytestmark = pytest.mark.django_db
OPS = ZoneInfo(settings.OPS_TIME_ZONE)
START, END = date(2026, 3, 2), date(2026, 3, 8)
PERIOD = ReportParams(START, END)


def closed(outcome, *, on, amount="100.00", recovered=None, currency="USD", network="visa",
           client=None, hour=12):  # fmt: skip
    code = {"visa": "13.1", "mastercard": "4853", "nacha": "R10"}[network]
    dispute = open_dispute(network=network, code=code, amount=Decimal(amount), client=client)
    Dispute.objects.filter(pk=dispute.pk).update(
        state="closed",
        stage="closed",
        outcome=outcome,
        currency=currency,
        recovered_amount=None if recovered is None else Decimal(recovered),
        closed_at=datetime.combine(on, datetime.min.time(), tzinfo=OPS).replace(hour=hour),
    )
    return dispute


@pytest.fixture
def book(db):
    """In the period: 3 won (USD 100/100, 200/150, EUR 50/50), 2 lost (USD 100, EUR 80),
    1 accepted, 1 expired, 1 withdrawn; one won just outside on each side."""
    closed("won", on=date(2026, 3, 2), amount="100.00", recovered="100.00")
    closed("won", on=date(2026, 3, 4), amount="200.00", recovered="150.00", network="mastercard")
    closed("won", on=date(2026, 3, 8), amount="50.00", recovered="50.00", currency="EUR")
    closed("lost", on=date(2026, 3, 5), amount="100.00", recovered="0")
    closed("lost", on=date(2026, 3, 6), amount="80.00", currency="EUR")
    closed("accepted", on=date(2026, 3, 3), amount="999.00")
    closed("expired", on=date(2026, 3, 3), amount="999.00")
    closed("withdrawn", on=date(2026, 3, 7), amount="999.00", recovered="999.00")
    # 23:30 the night before the period in New York is 04:30 UTC inside it: outside
    closed("won", on=date(2026, 3, 1), hour=23)
    closed("won", on=date(2026, 3, 9), hour=0)


def test_win_rate_counts_won_over_won_and_lost(book):
    total, by_network = report.outcomes(PERIOD)
    assert (total.won, total.lost, total.closed) == (3, 2, 8)
    assert total.win_rate == Decimal("0.6")  # 3 / (3 + 2)
    assert by_network["visa"].win_rate == Decimal("0.5")  # 2 / (2 + 2)
    assert by_network["mastercard"].win_rate == Decimal("1")


def test_accepted_expired_withdrawn_counted_apart(book):
    total, _ = report.outcomes(PERIOD)
    assert (total.counts["accepted"], total.counts["expired"], total.counts["withdrawn"]) == (
        1,
        1,
        1,
    )
    usd = total.by_currency["USD"]
    assert (usd.won_lost, usd.disputed, usd.recovered) == (3, Decimal("400.00"), Decimal("250.00"))


def test_recovery_rate_per_currency_and_none_when_mixed(book):
    total, _ = report.outcomes(PERIOD)
    assert total.by_currency["USD"].rate == Decimal("0.625")  # 250 / 400
    assert total.by_currency["EUR"].rate == Decimal("0.3846")  # 50 / 130
    assert total.recovery_rate is None  # USD and EUR do not add up


def test_single_currency_recovery_rate(book):
    total, by_network = report.outcomes(ReportParams(START, END, network="mastercard"))
    assert total.recovery_rate == Decimal("0.75")  # 150 / 200
    assert by_network["mastercard"].recovery_rate == Decimal("0.75")


def test_empty_period_has_no_rates(book):
    total, by_network = report.outcomes(ReportParams(date(2025, 1, 1), date(2025, 1, 31)))
    assert (total.closed, total.win_rate, total.recovery_rate, by_network) == (0, None, None, {})


def test_only_withdrawn_and_expired_leave_rates_undefined(db):
    closed("withdrawn", on=START)
    closed("expired", on=START)
    total, _ = report.outcomes(PERIOD)
    assert (total.closed, total.win_rate, total.recovery_rate) == (2, None, None)


def test_weekly_series_and_week_over_week(book):
    weeks = selectors.weekly_outcomes(figures=Figures(), start=START, end=END)
    assert [(w["week"], w["closed"]) for w in weeks] == [(date(2026, 3, 2), 8)]
    change = report.week_over_week(PERIOD, Figures())["figures"][0]
    assert (change["label"], change["this"], change["last"], change["delta"]) == (
        "Disputes closed",
        8,
        1,
        7,  # the week before holds the 23:00 closing of Mar 1
    )


# --- the JSON endpoint -------------------------------------------------------------------------


def test_kpi_endpoint_returns_counts_and_rates(client, lead, book):
    client.force_login(lead)
    response = client.get("/api/v1/reports/kpis/?from=2026-03-02&to=2026-03-08")
    assert response.status_code == 200
    body = response.json()
    assert {k: body[k] for k in ("closed", "won", "lost", "accepted", "expired", "withdrawn")} == {
        "closed": 8, "won": 3, "lost": 2, "accepted": 1, "expired": 1, "withdrawn": 1
    }  # fmt: skip
    assert body["win_rate"] == 0.6 and body["recovery_rate"] is None
    assert body["by_network"]["mastercard"]["recovery_rate"] == 0.75
    assert body["by_network"]["nacha"]["closed"] == 0
    assert body["by_network"]["nacha"]["win_rate"] is None


def test_kpi_endpoint_filters_by_network_and_client(client, lead, db):
    mine = ClientFactory(slug="acme", name="Acme")
    closed("won", on=START, client=mine, recovered="100.00")
    closed("lost", on=START)
    client.force_login(lead)
    body = client.get("/api/v1/reports/kpis/?from=2026-03-02&to=2026-03-08&client=acme").json()
    assert (body["closed"], body["win_rate"], body["recovery_rate"]) == (1, 1.0, 1.0)
    body = client.get("/api/v1/reports/kpis/?from=2026-03-02&to=2026-03-08&network=nacha").json()
    assert body["closed"] == 0 and list(body["by_network"]) == ["nacha"]


@pytest.mark.parametrize(
    "query",
    [
        "",
        "from=2026-03-02",
        "from=2026-13-01&to=2026-03-08",
        "from=yesterday&to=today",
        "from=2026-03-08&to=2026-03-02",
        "from=2026-03-02&to=2026-03-08&network=amex",
        "from=2026-03-02&to=2026-03-08&client=nobody",
        "from=2026-03-02&to=2026-03-08&client=99999999999999999999",
        "from=2026-03-02%00&to=2026-03-08",
        "from=0001-01-01&to=9999-12-31",
    ],
)
def test_kpi_endpoint_bad_parameters_are_problem_details(client, lead, query):
    client.force_login(lead)
    response = client.get(f"/api/v1/reports/kpis/?{query}")
    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    body = json.loads(response.content)
    assert body["status"] == 400 and body["title"] == "Bad Request" and body["errors"]


def test_kpi_endpoint_needs_the_reports_permission(client, agent):
    assert client.get("/api/v1/reports/kpis/?from=2026-03-02&to=2026-03-08").status_code == 401
    client.force_login(agent)
    assert client.get("/api/v1/reports/kpis/?from=2026-03-02&to=2026-03-08").status_code == 403


def test_parse_reads_a_period_once():
    params = parse({"from": "2026-03-02", "to": "2026-03-08"}, today=date(2026, 4, 1))
    assert (params.start, params.end, params.days) == (START, END, 7)
    with pytest.raises(BadParameters) as raised:
        parse({"from": "2026-03-09", "to": "2026-03-08"}, today=date(2026, 4, 1))
    assert "to" in raised.value.errors


# --- speed and deadlines from the case history ---------------------------------------------------


def test_filing_is_checked_against_the_deadlines_in_force_then(lead):
    dispute = open_dispute(network="visa", code="13.1")
    before = Dispute.objects.get(pk=dispute.pk)
    services.claim(dispute_id=dispute.pk, actor=lead, expected_version=before.version)
    act(dispute_id=dispute.pk, name="visa_submit_dispute_response", actor=lead,
        on=before.stage_started_on)  # fmt: skip
    assert summary.refresh().filings == 1
    assert summary.refresh().filings == 0  # nothing new; none twice
    today = before.received_on + timedelta(days=1)
    params = ReportParams(today - timedelta(days=30), today + timedelta(days=30))
    (stage,) = report.stages(params, Figures())
    assert (stage.network, stage.stage, stage.filings) == ("visa", "dispute", 1)
    assert (stage.met_internal, stage.with_internal_due) == (1, 1)
    assert (stage.met_network, stage.with_network_due) == (1, 1)
    assert report.build(params, today=today)["late"]["count"] == 0


def test_speed_in_business_days(book):
    Dispute.objects.filter(outcome="lost", currency="USD").update(
        opened_at=datetime(2026, 2, 27, 12, tzinfo=OPS),  # Friday
        first_touched_at=datetime(2026, 3, 2, 9, tzinfo=OPS),  # Monday: 1 banking day
        submitted_at=datetime(2026, 3, 4, 9, tzinfo=OPS),  # Wednesday: 3
    )  # closed Thursday Mar 5: 4
    speed = selectors.speed_of_closed(figures=Figures(), start=START, end=END, network="visa")
    lost = [m for m in speed]
    assert lost[1].count == 1 and lost[1].mean == Decimal("3.0")
    assert lost[0].median is not None


def test_open_disputes_by_age(db):
    open_dispute()  # received yesterday
    table = selectors.open_by_age(figures=Figures(), today=date.today())
    assert sum(b["total"] for b in table) == 1


# --- NACHA return rates --------------------------------------------------------------------------


def _returns(client, codes, on):
    for code in codes:
        d = open_dispute(network="nacha", code=code, client=client)
        Dispute.objects.filter(pk=d.pk).update(received_on=on)


def _volume(client, debits, on):
    TransactionVolume.objects.create(
        client=client, day=on, rail="ach", transaction_type="ach_debit", count=debits, amount=0
    )


def test_return_rates_and_the_seventy_percent_flag(db):
    end = date(2026, 3, 31)
    watch, over, calm = (ClientFactory(name=n) for n in ("Watch", "Over", "Calm"))
    _returns(watch, ["R10"] * 7, end - timedelta(days=3))  # 7 / 2000 = 0.35 % = 70 % of 0.5 %
    _volume(watch, 2000, end - timedelta(days=10))
    _returns(over, ["R03"] * 30, end)  # 30 / 1000 = 3 % administrative: over
    _volume(over, 1000, end)
    _returns(calm, ["R10"] * 6, end)  # 6 / 2000 = 0.3 % < 0.35 %
    _returns(calm, ["R10"] * 9, end - timedelta(days=60))  # outside the 60 days
    _volume(calm, 2000, end - timedelta(days=59))
    found = activity.nacha_return_rates(figures=Figures(), end=end)
    rates = {c.client: {r.key: r for r in c.rates} for c in found}
    assert rates["Watch"]["unauthorized"].rate == Decimal("0.0035")
    assert rates["Watch"]["unauthorized"].flag == "watch"
    assert rates["Over"]["administrative"].flag == "over"
    assert rates["Over"]["overall"].rate == Decimal("0.03") and rates["Over"]["overall"].flag == ""
    assert rates["Calm"]["unauthorized"].returns == 6 and rates["Calm"]["unauthorized"].flag == ""


def test_activity_and_dispute_rate_use_volumes(db):
    acme = ClientFactory(name="Acme")
    d = open_dispute(client=acme, transaction_date=START)
    Dispute.objects.filter(pk=d.pk).update(received_on=START + timedelta(days=1))
    TransactionVolume.objects.create(client=acme, day=START, rail="card",
                                     transaction_type="purchase", count=400, amount=0)  # fmt: skip
    tables = activity.activity(figures=Figures(), start=START, end=END)
    (row,) = tables["client"]
    assert (row.received, row.on_period_txns, row.transactions) == (1, 1, 400)
    assert row.activity == Decimal("0.0025") and row.rate == Decimal("0.0025")


# --- pages and exports ---


def test_reports_page_shows_formulas(client, lead, book):
    client.force_login(lead)
    response = client.get("/reports/?from=2026-03-02&to=2026-03-08")
    assert response.status_code == 200
    text = response.content.decode()
    assert "won / (won + lost) = 3 / (3 + 2)" in text and "60.0%" in text


@pytest.mark.parametrize("query", ["from=x", "to=2026-02-30", "network=%00", "client=-1",
                                   "from=2026-01-01&to=2020-01-01"])  # fmt: skip
def test_reports_page_bad_parameters_are_400(client, lead, query):
    client.force_login(lead)
    assert client.get(f"/reports/?{query}").status_code == 400
    assert client.get(f"/reports/export/outcomes.csv?{query}").status_code == 400


def test_reports_page_is_for_leads_and_compliance(client, agent):
    client.force_login(agent)
    assert client.get("/reports/").status_code == 403


def test_csv_export_has_filters_and_safe_cells(client, lead, db):
    acme = ClientFactory(slug="evil", name='=HYPERLINK("x")')
    closed("won", on=START, client=acme, recovered="100.00")
    client.force_login(lead)
    response = client.get(
        f"/reports/export/activity-client.csv?from=2026-02-01&to=2026-03-08&client={acme.pk}"
    )
    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0] == ["Filter", "Period", "2026-02-01 to 2026-03-08 (ops time zone)"]
    assert rows[1] == ["Filter", "Client", '\'=HYPERLINK("x")']
    outcomes = client.get("/reports/export/outcomes.csv?from=2026-03-02&to=2026-03-08")
    lines = list(csv.reader(io.StringIO(outcomes.content.decode())))
    assert lines[-1][:4] == ["All networks", "1", "1", "0"]
    assert client.get("/reports/export/nothing.csv").status_code == 404


def test_every_table_exports(client, lead, book):
    from disputes.reports.views import EXPORTS

    client.force_login(lead)
    for table in EXPORTS:
        assert (
            client.get(f"/reports/export/{table}.csv?from=2026-03-02&to=2026-03-08").status_code
            == 200
        )
