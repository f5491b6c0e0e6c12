"""Hold the summaries to the disputes: every figure of a report computed both ways.

``compare(params=…)`` returns the figures that differ, in words (none when the summaries are
exact). The direct side reads the disputes, their transactions and the filing rows themselves
(``disputes.reports.direct``, PostgreSQL)."""

from collections import Counter
from datetime import date, timedelta

from . import activity, direct, selectors
from .facts import banking_days
from .models import ReportFiling
from .params import ReportParams
from .report import figures_for
from .summary import one_snapshot


def summary_figures(params: ReportParams, *, today: date, figures) -> dict:
    period = {"figures": figures, "start": params.start, "end": params.end,
              "network": params.network}  # fmt: skip
    total, by_network = selectors.outcomes_by_network(**period)
    returns = []
    if params.network in ("", "nacha"):
        returns = activity.nacha_return_rates(figures=figures, end=params.end,
                                              client_id=params.client_id)  # fmt: skip
    return {
        "outcomes": _outcomes(total, by_network),
        "weekly": selectors.weekly_outcomes(**period),
        "speed": [_speed(m) for m in selectors.speed_of_closed(**period)],
        "open_by_age": selectors.open_by_age(figures=figures, today=today, network=params.network),
        "received": activity.disputes_by_dimension(figures, "received", **_span(params)),
        "on_period": activity.disputes_by_dimension(figures, "on_period", **_span(params)),
        "nacha_returns": {
            (c.client_id, r.key): r.returns for c in returns for r in c.rates if r.returns
        },
        "filings": [_stage(s) for s in selectors.filings_by_stage(**period)],
    }


def direct_figures(params: ReportParams, *, today: date, figures) -> dict:
    client = params.client_id
    where = {"network": params.network, "client_id": client}
    total, by_network = direct.outcomes_by_network(
        start=params.start, end=params.end, bounds=params.bounds(), **where
    )
    returns = Counter()
    found = direct.nacha_returns(end=params.end, client_id=params.client_id)
    for (returns_of, code), count in found.items():
        for key, _label, members, _t in activity.RETURN_CLASSES:
            if members is None or code in members:
                returns[(returns_of, key)] += count
    return {
        "outcomes": _outcomes(total, by_network),
        "weekly": direct.weekly_outcomes(bounds=params.bounds(), **where),
        "speed": [_speed(m) for m in direct.speed_of_closed(bounds=params.bounds(), **where)],
        "open_by_age": direct.open_by_age(today=today, **where),
        "received": direct.disputes_by_dimension("received", **_span(params), client_id=client),
        "on_period": direct.disputes_by_dimension("on_period", **_span(params), client_id=client),
        "nacha_returns": dict(returns) if params.network in ("", "nacha") else {},
        "filings": _filings_from_rows(params, figures),
    }


def _speed(m) -> tuple:
    return (m.label, m.count, m.mean, m.median)


def _span(params):
    return {"start": params.start, "end": params.end, "network": params.network}


def _outcomes(total, by_network) -> dict:
    return {"all": total.as_json(), **{n: o.as_json() for n, o in by_network.items()}}


def _stage(s) -> tuple:
    return (s.network, s.stage, s.filings, s.mean, s.median, s.with_internal_due, s.met_internal,
            s.with_network_due, s.met_network)  # fmt: skip


def _filings_from_rows(params, figures) -> list[tuple]:
    """The filing figures from the filing rows themselves and those not derived yet."""
    rows = ReportFiling.objects.filter(filed_on__gte=params.start, filed_on__lte=params.end)
    if params.network:
        rows = rows.filter(network=params.network)
    if params.client_id:
        rows = rows.filter(client_id=params.client_id)
    found = list(rows)
    found += [f for f in figures.pending_filings if params.start <= f.filed_on <= params.end
              and (not params.network or f.network == params.network)]  # fmt: skip
    groups: dict = {}
    for f in found:
        g = groups.setdefault((f.network, f.answered_stage), [Counter(), 0, 0, 0, 0, 0])
        span = banking_days(f.stage_started_on, f.filed_on)
        if span is not None:
            g[0][span] += 1
        g[1] += 1
        g[2] += f.internal_due is not None
        g[3] += f.internal_due is not None and f.filed_on <= f.internal_due
        g[4] += f.network_due is not None
        g[5] += f.network_due is not None and f.filed_on <= f.network_due
    out = []
    for (net, stage), (spans, n, wi, mi, wn, mn) in sorted(groups.items()):
        m = selectors._measure("", "", *selectors.span_stats(spans.items()))
        out.append((net, stage, n, m.mean, m.median, wi, mi, wn, mn))
    return out


def compare(*, params: ReportParams | None = None, days: int = 91, today: date) -> list[str]:
    """The figures of ``params`` (default: the ``days`` ending ``today``) that differ between
    the summaries and the disputes, as lines of text; empty when every figure matches."""
    params = params or ReportParams(today - timedelta(days=days - 1), today)
    with one_snapshot():
        figures = figures_for(params)
        ours = summary_figures(params, today=today, figures=figures)
        theirs = direct_figures(params, today=today, figures=figures)
    return [
        f"{name}: summaries {ours[name]!r} ≠ disputes {theirs[name]!r}"
        for name in ours
        if ours[name] != theirs[name]
    ]
