"""The KPI selectors. Each reads one exact view of the summaries (``Figures``) and the report's
fields as keyword arguments (``ReportParams``), and returns plain dataclasses the pages, CSV
exports, API and e-mail share. Portable ORM and SQL: PostgreSQL and the SQLite demo alike.

Rates are Decimals between 0 and 1, or None when undefined (no denominator). Money is summed per
currency and never across currencies."""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from statistics import median

from django.db import connection

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


def outcomes_by_network(*, figures, start: date, end: date, network=""):
    """(all networks together, {network: Outcomes}) for disputes closed in [start, end]."""
    rows = figures.sums("closed", start, end, network=network,
                        by=("network", "currency", "outcome"))  # fmt: skip
    total, by_network = Outcomes(), {}
    for (net, currency, outcome), (count, amount, recovered, *_rest) in rows.items():
        total.add(currency, outcome, count, amount, recovered)
        by_network.setdefault(net, Outcomes()).add(currency, outcome, count, amount, recovered)
    return total, {n: by_network[n] for n in Network.values if n in by_network}


@dataclass(frozen=True)
class _Filter:
    network: str = ""
    client_id: int | None = None


def weekly_outcomes(*, figures, start: date, end: date, network="") -> list[dict]:
    """Closings per week (weeks start on Monday, ops time zone): counts by outcome, win rate."""
    weeks: dict = {}
    rows = figures.sums("closed", start, end, network=network, by=("day", "outcome"))
    for (day, outcome), (count, *_rest) in rows.items():
        counts = weeks.setdefault(day - timedelta(days=day.weekday()), dict.fromkeys(OUTCOMES, 0))
        if outcome in counts:
            counts[outcome] += count
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


def span_stats(spans) -> tuple[int, float | None, float | None]:
    """(count, mean, median) of ``spans``: pairs of (Fed banking days, how many). The median of
    an even count is the mean of the middle two, as percentile_cont(0.5)."""
    spans = sorted((span, n) for span, n in spans if n)
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

    return count, mean, (nth((count - 1) // 2) + nth(count // 2)) / 2


SPEED_MEASURES = (
    ("to_first_touch", "To first touch", "first touched − opened"),
    ("to_submission", "To submission", "first submitted − opened (submitted cases)"),
    ("to_decision", "To decision", "closed − opened"),
)


def speed_of_closed(*, figures, start: date, end: date, network="") -> list[Measure]:
    """For disputes closed in the period: business days from opening to first touch, to
    submission and to decision (closing), mean and median."""
    measures = []
    for measure, label, formula in SPEED_MEASURES:
        rows = figures.sums(measure, start, end, network=network, by=("span",))
        spans = [(span, values[0]) for (span,), values in rows.items()]
        measures.append(_measure(label, formula, *span_stats(spans)))
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


def filings_by_stage(*, figures, start: date, end: date, network="") -> list[StageSpeed]:
    """Filings made in [start, end]: business days from the answered stage's start to the
    filing, and whether each was made by the internal and the network due dates in force."""
    rows = figures.sums("filing", start, end, network=network, by=("network", "stage", "span"))
    groups: dict = {}
    for (net, stage, span), (count, _a, _r, *dues) in rows.items():
        g = groups.setdefault((net, stage), {"spans": [], "filings": 0, "dues": [0, 0, 0, 0]})
        g["filings"] += count
        if span >= 0:  # -1: a date outside the banking calendar, counted but not timed
            g["spans"].append((span, count))
        g["dues"] = [a + b for a, b in zip(g["dues"], dues, strict=True)]
    out = []
    for (net, stage), g in sorted(groups.items()):
        m = _measure("", "", *span_stats(g["spans"]))
        out.append(StageSpeed(net, stage, g["filings"], m.mean, m.median, *g["dues"]))
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
    if not network and not client_id:  # from the kind-and-time index alone
        base_count = (
            " FROM disputes_caseevent e WHERE e.kind = 'deadline_missed'"
            " AND e.created_at >= %s AND e.created_at < %s"
        )
    else:
        base_count = (
            " FROM disputes_caseevent e JOIN disputes_dispute d ON d.id = e.dispute_id"
            " WHERE e.kind = 'deadline_missed' AND e.created_at >= %s AND e.created_at < %s" + extra
        )
    count = _rows("SELECT count(*)" + base_count, [*bounds, *args])[0][0]
    rows = _rows(
        "SELECT e.created_at, d.id, d.case_id, d.network, c.name, e.stage, e.internal_due,"
        " e.network_due, e.payload" + base + " ORDER BY e.created_at DESC LIMIT %s",
        [*bounds, *args, limit],
    )
    return count, rows


def late_filings(*, figures, start, end, network="", client_id=None, limit=MISSED_LIMIT):
    """(count, rows) of filings made after the network due date in force then, newest first:
    the rows derived up to the watermark and those derived since."""
    extra, args = _where(
        _Filter(network, client_id), network_col="f.network", client_col="f.client_id"
    )
    rows = _rows(
        "SELECT f.filed_on, d.id, d.case_id, f.network, c.name, f.answered_stage,"
        " f.internal_due, f.network_due, f.event_id"
        " FROM disputes_reportfiling f JOIN disputes_dispute d ON d.id = f.dispute_id"
        " JOIN disputes_client c ON c.id = f.client_id"
        " WHERE f.filed_on BETWEEN %s AND %s AND f.filed_on > f.network_due" + extra
        + " ORDER BY f.filed_on DESC, f.event_id DESC LIMIT %s",
        [start, end, *args, limit],
    )  # fmt: skip
    rows += _pending_late(figures, start, end, network)
    rows.sort(key=lambda r: (r[0], r[-1]), reverse=True)
    late = deadlines_met(filings_by_stage(figures=figures, start=start, end=end, network=network))
    return late["late_network"], [r[:-1] for r in rows[:limit]]


def _pending_late(figures, start, end, network) -> list[tuple]:
    from ..models import Dispute

    late = [
        f
        for f in figures.pending_filings
        if start <= f.filed_on <= end and (not network or f.network == network)
        and f.network_due is not None and f.filed_on > f.network_due
    ]  # fmt: skip
    if not late:
        return []
    cases = {
        pk: (case_id, name)
        for pk, case_id, name in Dispute.objects.filter(
            pk__in={f.dispute_id for f in late}
        ).values_list("pk", "case_id", "client__name")
    }
    return [
        (f.filed_on, f.dispute_id, cases[f.dispute_id][0], f.network, cases[f.dispute_id][1],
         f.answered_stage, f.internal_due, f.network_due, f.event_id)
        for f in late
    ]  # fmt: skip


AGE_BUCKETS = ((0, 7), (8, 14), (15, 30), (31, 60), (61, 90), (91, None))


def bucket_label(low, high) -> str:
    return f"{low}–{high} days" if high is not None else f"over {low - 1} days"


EVER = (date(1900, 1, 1), date(2200, 12, 31))


def open_by_age(*, figures, today: date, network="") -> list[dict]:
    """Open disputes now, by days since they reached Astra (received_on), per network."""
    table = [
        {
            "label": bucket_label(low, high),
            "by_network": dict.fromkeys(Network.values, 0),
            "total": 0,
        }
        for low, high in AGE_BUCKETS
    ]
    rows = figures.sums("open", *EVER, network=network, by=("day", "network"))
    for (received_on, net), (count, *_rest) in rows.items():
        age = (today - received_on).days
        bucket = next(
            (i for i, (_low, high) in enumerate(AGE_BUCKETS) if high is not None and age <= high),
            len(AGE_BUCKETS) - 1,
        )
        table[bucket]["by_network"][net] = table[bucket]["by_network"].get(net, 0) + count
        table[bucket]["total"] += count
    return table


def median_of(values):
    return median(values) if values else None
