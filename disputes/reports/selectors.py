"""The KPI queries. Each takes the report's fields as keyword arguments (``ReportParams``) and
returns plain dataclasses the pages, CSV exports, API and e-mail share.

Rates are Decimals between 0 and 1, or None when undefined (no denominator). Money is summed per
currency and never across currencies."""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from functools import lru_cache
from statistics import median

from django.conf import settings
from django.db import connection

from calendar_rules import calendars

from ..choices import Network, Outcome

OUTCOMES = [o.value for o in Outcome]
RATE_PLACES = Decimal("0.0001")


def ratio(numerator, denominator) -> Decimal | None:
    """numerator / denominator rounded to 4 places, None when the denominator is zero."""
    if not denominator:
        return None
    return (Decimal(numerator) / Decimal(denominator)).quantize(RATE_PLACES)


def _where(params, *, network_col="d.network", client_col="d.client_id") -> tuple[str, list]:
    sql, args = "", []
    if params.network:
        sql += f" AND {network_col} = %s"
        args.append(params.network)
    if params.client_id:
        sql += f" AND {client_col} = %s"
        args.append(params.client_id)
    return sql, args


def _rows(sql: str, args) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, args)
        return cursor.fetchall()


# --- outcomes ----------------------------------------------------------------------------------


@dataclass
class CurrencyRecovery:
    currency: str
    won_lost: int = 0
    disputed: Decimal = Decimal("0")
    recovered: Decimal = Decimal("0")

    @property
    def rate(self) -> Decimal | None:
        return ratio(self.recovered, self.disputed)


@dataclass
class Outcomes:
    """Disputes closed in a period. win rate = won / (won + lost) by count; recovery rate =
    Σ recovered / Σ disputed over the same won and lost disputes, per currency. Accepted,
    expired and withdrawn are counted apart and enter neither rate."""

    counts: dict = field(default_factory=lambda: dict.fromkeys(OUTCOMES, 0))
    by_currency: dict = field(default_factory=dict)  # currency -> CurrencyRecovery

    @property
    def closed(self) -> int:
        return sum(self.counts.values())

    @property
    def won(self) -> int:
        return self.counts["won"]

    @property
    def lost(self) -> int:
        return self.counts["lost"]

    @property
    def win_rate(self) -> Decimal | None:
        return ratio(self.won, self.won + self.lost)

    @property
    def single_currency(self) -> str | None:
        used = [c for c, r in self.by_currency.items() if r.won_lost]
        return used[0] if len(used) == 1 else None

    @property
    def recovery_rate(self) -> Decimal | None:
        """Over all won and lost disputes when they share one currency; None when there are none
        or their currencies differ (amounts in different currencies do not add up)."""
        currency = self.single_currency
        return self.by_currency[currency].rate if currency else None

    def add(self, currency: str, outcome: str, count: int, amount, recovered) -> None:
        if outcome not in self.counts:
            return
        self.counts[outcome] += count
        row = self.by_currency.setdefault(currency, CurrencyRecovery(currency))
        if outcome in (Outcome.WON, Outcome.LOST):
            row.won_lost += count
            # SQLite sums money into a float: back to Decimal at the cent, as stored
            row.disputed += Decimal(str(amount or 0)).quantize(Decimal("0.01"))
            row.recovered += Decimal(str(recovered or 0)).quantize(Decimal("0.01"))

    def as_json(self) -> dict:
        def number(value):
            return None if value is None else float(value)

        return {
            "closed": self.closed,
            **{name: self.counts[name] for name in OUTCOMES},
            "win_rate": number(self.win_rate),
            "recovery_rate": number(self.recovery_rate),
            "recovery_by_currency": {
                c: {
                    "disputed": str(r.disputed),
                    "recovered": str(r.recovered),
                    "recovery_rate": number(r.rate),
                }
                for c, r in sorted(self.by_currency.items())
                if r.won_lost
            },
        }


def outcomes_by_network(*, start: date, end: date, bounds, network="", client_id=None):
    """(all networks together, {network: Outcomes}) for disputes closed in [start, end]."""
    extra, args = _where(_Filter(network, client_id))
    rows = _rows(
        "SELECT d.network, d.currency, d.outcome, count(*), sum(d.amount),"
        " sum(coalesce(d.recovered_amount, 0)) FROM disputes_dispute d"
        " WHERE d.closed_at >= %s AND d.closed_at < %s" + extra + " GROUP BY 1, 2, 3",
        [*bounds, *args],
    )
    total, by_network = Outcomes(), {}
    for net, currency, outcome, count, amount, recovered in rows:
        total.add(currency, outcome, count, amount, recovered)
        by_network.setdefault(net, Outcomes()).add(currency, outcome, count, amount, recovered)
    return total, {n: by_network[n] for n in Network.values if n in by_network}


@dataclass(frozen=True)
class _Filter:
    network: str = ""
    client_id: int | None = None


def weekly_outcomes(*, bounds, network="", client_id=None) -> list[dict]:
    """Closings per week (weeks start on Monday, ops time zone): counts by outcome, win rate."""
    extra, args = _where(_Filter(network, client_id))
    rows = _rows(
        "SELECT (date_trunc('week', d.closed_at AT TIME ZONE %s))::date AS week, d.outcome,"
        " count(*) FROM disputes_dispute d WHERE d.closed_at >= %s AND d.closed_at < %s"
        + extra
        + " GROUP BY 1, 2 ORDER BY 1",
        [settings.OPS_TIME_ZONE, *bounds, *args],
    )
    weeks: dict = {}
    for week, outcome, count in rows:
        weeks.setdefault(week, dict.fromkeys(OUTCOMES, 0))[outcome] = count
    series = []
    for week, counts in sorted(weeks.items()):
        series.append(
            {
                "week": week,
                "counts": counts,
                "closed": sum(counts.values()),
                "win_rate": ratio(counts["won"], counts["won"] + counts["lost"]),
            }
        )
    return series


# --- speed -------------------------------------------------------------------------------------


@lru_cache(maxsize=1)
def _banking_ordinals() -> tuple[list[date], list[int]]:
    """Every day of the Fed calendar with the number of Fed banking days on or before it: the
    banking days between two dates are the difference of their numbers."""
    fed = calendars.FED
    days, numbers, n = [], [], 0
    day = fed.first
    while day <= fed.last:
        n += fed.is_banking_day(day)
        days.append(day)
        numbers.append(n)
        day += timedelta(days=1)
    return days, numbers


CAL_CTE = "WITH cal(day, n) AS (SELECT * FROM unnest(%s::date[], %s::int[]))"


@dataclass
class Measure:
    """Business days (Fed banking days) between two moments, over ``count`` disputes."""

    label: str
    formula: str
    count: int = 0
    mean: Decimal | None = None
    median: Decimal | None = None


def _measure(label, formula, count, mean, middle) -> Measure:
    def one(value):
        return None if value is None else Decimal(str(value)).quantize(Decimal("0.1"))

    return Measure(label, formula, count or 0, one(mean), one(middle))


@lru_cache(maxsize=1)
def _ordinal_of() -> dict:
    days, numbers = _banking_ordinals()
    return dict(zip(days, numbers, strict=True))


def business_day_stats(rows) -> tuple[int, float | None, float | None]:
    """(count, mean, median) of Fed banking days between the dates of ``rows`` of (start, end,
    how many): the database groups by date pairs, the banking days are counted here (the median
    of an even count is the mean of the middle two, as percentile_cont(0.5))."""
    number = _ordinal_of()
    spans = sorted(
        (number[end] - number[start], n)
        for start, end, n in rows
        if start in number and end in number
    )
    count = sum(n for _span, n in spans)
    if not count:
        return 0, None, None
    mean = sum(span * n for span, n in spans) / count

    def nth(k):  # the k-th value (0-based) of the expanded list
        for span, n in spans:
            if k < n:
                return span
            k -= n
        return spans[-1][0]

    middle = (nth((count - 1) // 2) + nth(count // 2)) / 2
    return count, mean, middle


def speed_of_closed(*, bounds, network="", client_id=None) -> list[Measure]:
    """For disputes closed in the period: business days from opening to first touch, to
    submission and to decision (closing), mean and median."""
    extra, args = _where(_Filter(network, client_id))
    zone = settings.OPS_TIME_ZONE
    measures = []
    for column, label, formula in (
        ("first_touched_at", "To first touch", "first touched − opened"),
        ("submitted_at", "To submission", "first submitted − opened (submitted cases)"),
        ("closed_at", "To decision", "closed − opened"),
    ):
        rows = _rows(
            f"SELECT (d.opened_at AT TIME ZONE %s)::date, (d.{column} AT TIME ZONE %s)::date,"
            " count(*) FROM disputes_dispute d WHERE d.closed_at >= %s AND d.closed_at < %s"
            f" AND d.{column} IS NOT NULL" + extra + " GROUP BY 1, 2",
            [zone, zone, *bounds, *args],
        )
        measures.append(_measure(label, formula, *business_day_stats(rows)))
    return measures


@dataclass
class StageSpeed:
    network: str
    stage: str
    filings: int
    mean: Decimal | None
    median: Decimal | None
    with_internal_due: int
    met_internal: int
    with_network_due: int
    met_network: int

    @property
    def met_internal_rate(self):
        return ratio(self.met_internal, self.with_internal_due)

    @property
    def met_network_rate(self):
        return ratio(self.met_network, self.with_network_due)


def filings_by_stage(*, start: date, end: date, network="", client_id=None) -> list[StageSpeed]:
    """Filings made in [start, end]: business days from the answered stage's start to the
    filing, and whether each was made by the internal and the network due dates in force."""
    extra, args = _where(
        _Filter(network, client_id), network_col="f.network", client_col="f.client_id"
    )
    rows = _rows(
        "SELECT f.network, f.answered_stage, f.stage_started_on, f.filed_on, count(*),"
        " count(f.internal_due), count(*) FILTER (WHERE f.filed_on <= f.internal_due),"
        " count(f.network_due), count(*) FILTER (WHERE f.filed_on <= f.network_due)"
        " FROM disputes_reportfiling f WHERE f.filed_on BETWEEN %s AND %s"
        + extra
        + " GROUP BY 1, 2, 3, 4",
        [start, end, *args],
    )
    groups: dict = {}
    for net, stage, began, filed, count, wi, mi, wn, mn in rows:
        g = groups.setdefault((net, stage), {"spans": [], "counts": [0, 0, 0, 0]})
        g["spans"].append((began, filed, count))
        for i, value in enumerate((wi, mi, wn, mn)):
            g["counts"][i] += value
    out = []
    for (net, stage), g in sorted(groups.items()):
        m = _measure("", "", *business_day_stats(g["spans"]))
        out.append(StageSpeed(net, stage, sum(n for *_x, n in g["spans"]), m.mean, m.median,
                              *g["counts"]))  # fmt: skip
    return out


def deadlines_met(stages: list[StageSpeed]) -> dict:
    totals = defaultdict(int)
    for s in stages:
        totals["filings"] += s.filings
        totals["with_internal_due"] += s.with_internal_due
        totals["met_internal"] += s.met_internal
        totals["with_network_due"] += s.with_network_due
        totals["met_network"] += s.met_network
    totals = dict(totals) or dict.fromkeys(
        ("filings", "with_internal_due", "met_internal", "with_network_due", "met_network"), 0
    )
    totals["met_internal_rate"] = ratio(totals["met_internal"], totals["with_internal_due"])
    totals["met_network_rate"] = ratio(totals["met_network"], totals["with_network_due"])
    totals["late_network"] = totals["with_network_due"] - totals["met_network"]
    return totals


MISSED_LIMIT = 200


def missed_deadlines(*, bounds, network="", client_id=None, limit=MISSED_LIMIT):
    """(count, rows) of ``deadline_missed`` events recorded in the period, newest first."""
    extra, args = _where(_Filter(network, client_id))
    base = (
        " FROM disputes_caseevent e JOIN disputes_dispute d ON d.id = e.dispute_id"
        " JOIN disputes_client c ON c.id = d.client_id"
        " WHERE e.kind = 'deadline_missed' AND e.created_at >= %s AND e.created_at < %s" + extra
    )
    count = _rows("SELECT count(*)" + base, [*bounds, *args])[0][0]
    rows = _rows(
        "SELECT e.created_at, d.id, d.case_id, d.network, c.name, e.stage, e.internal_due,"
        " e.network_due, e.payload" + base + " ORDER BY e.created_at DESC LIMIT %s",
        [*bounds, *args, limit],
    )
    return count, rows


def late_filings(*, start, end, network="", client_id=None, limit=MISSED_LIMIT):
    """(count, rows) of filings made after the network due date in force then."""
    extra, args = _where(
        _Filter(network, client_id), network_col="f.network", client_col="f.client_id"
    )
    base = (
        " FROM disputes_reportfiling f JOIN disputes_dispute d ON d.id = f.dispute_id"
        " JOIN disputes_client c ON c.id = f.client_id"
        " WHERE f.filed_on BETWEEN %s AND %s AND f.filed_on > f.network_due" + extra
    )
    count = _rows(
        "SELECT count(*) FROM disputes_reportfiling f WHERE f.filed_on BETWEEN %s AND %s"
        " AND f.filed_on > f.network_due" + extra,
        [start, end, *args],
    )[0][0]
    rows = _rows(
        "SELECT f.filed_on, d.id, d.case_id, f.network, c.name, f.answered_stage,"
        " f.internal_due, f.network_due"
        + base
        + " ORDER BY f.filed_on DESC, f.event_id DESC LIMIT %s",
        [start, end, *args, limit],
    )
    return count, rows


AGE_BUCKETS = ((0, 7), (8, 14), (15, 30), (31, 60), (61, 90), (91, None))


def bucket_label(low, high) -> str:
    return f"{low}–{high} days" if high is not None else f"over {low - 1} days"


def open_by_age(*, today: date, network="", client_id=None) -> list[dict]:
    """Open disputes now, by days since they reached Astra (received_on), per network."""
    extra, args = _where(_Filter(network, client_id))
    cases = " ".join(
        f"WHEN %s - d.received_on <= {high} THEN {i}" if high is not None else f"ELSE {i}"
        for i, (_low, high) in enumerate(AGE_BUCKETS)
    )
    n_params = sum(1 for _l, h in AGE_BUCKETS if h is not None)
    rows = _rows(
        f"SELECT CASE {cases} END AS bucket, d.network, count(*) FROM disputes_dispute d"
        " WHERE d.state <> 'closed'" + extra + " GROUP BY 1, 2",
        [*([today] * n_params), *args],
    )
    table = [
        {
            "label": bucket_label(low, high),
            "by_network": dict.fromkeys(Network.values, 0),
            "total": 0,
        }
        for low, high in AGE_BUCKETS
    ]
    for bucket, net, count in rows:
        table[bucket]["by_network"][net] = count
        table[bucket]["total"] += count
    return table


def median_of(values):
    return median(values) if values else None
