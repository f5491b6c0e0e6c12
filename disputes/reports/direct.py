"""The report figures computed directly from the disputes, without the summaries (PostgreSQL).

Kept to hold the summaries to: ``refresh_reports --check`` and the tests compare the two, figure
by figure. Slow over a million disputes (it reads every dispute of the period); never used by
the pages."""

from datetime import date

from django.conf import settings

from ..choices import Network
from .activity import DIMENSIONS, return_window
from .facts import banking_days
from .selectors import (
    AGE_BUCKETS,
    OUTCOMES,
    Measure,
    Outcomes,
    _Filter,
    _measure,
    _rows,
    _where,
    bucket_label,
    ratio,
    span_stats,
)


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


def business_day_stats(rows):
    """(count, mean, median) of Fed banking days between the dates of rows of (start, end, n)."""
    spans = {}
    for start, end, n in rows:
        span = banking_days(start, end)
        if span is not None:
            spans[span] = spans.get(span, 0) + n
    return span_stats(spans.items())


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


GROUPS = "GROUPING SETS ((d.client_id), (d.rail), (t.transaction_type), (d.network, d.reason_code))"


def disputes_by_dimension(measure: str, *, start: date, end: date, network="", client_id=None):
    """{dimension: {key: disputes}} received ("received") or on transactions made ("on_period")
    in [start, end], from the disputes and their transactions."""
    extra, args = _where(_Filter(network, client_id))
    column = "d.received_on" if measure == "received" else "t.transaction_date"
    rows = _rows(
        "SELECT d.client_id, d.rail, t.transaction_type, d.network, d.reason_code, count(*)"
        " FROM disputes_dispute d JOIN disputes_transaction t ON t.id = d.transaction_id"
        f" WHERE {column} BETWEEN %s AND %s" + extra + f" GROUP BY {GROUPS}",
        [start, end, *args],
    )
    out = {dim: {} for dim in DIMENSIONS}
    for client, rail, ttype, net, code, count in rows:
        if client is not None:
            out["client"][str(client)] = count
        elif rail is not None:
            out["rail"][rail] = count
        elif ttype is not None:
            out["transaction_type"][ttype] = count
        elif code is not None:
            out["reason_code"][f"{net}:{code}"] = count
    return out


def nacha_returns(*, end: date, client_id=None) -> dict:
    """{(client id, return reason code): returns} over the trailing 60 days ending ``end``."""
    start, end = return_window(end)
    extra, args = ("AND d.client_id = %s", [client_id]) if client_id else ("", [])
    rows = _rows(
        "SELECT d.client_id, d.reason_code, count(*) FROM disputes_dispute d"
        " WHERE d.network = 'nacha' AND d.received_on BETWEEN %s AND %s " + extra
        + " GROUP BY 1, 2",
        [start, end, *args],
    )  # fmt: skip
    return {(client, code): count for client, code, count in rows}
