"""The whole /reports/ page as one context: every KPI with its formula and the counts behind it.
Pages, CSV exports and the weekly e-mail read from here."""

from dataclasses import replace
from datetime import date, timedelta

from . import activity, filings, selectors
from .params import ReportParams


def outcomes(params: ReportParams):
    return selectors.outcomes_by_network(
        start=params.start,
        end=params.end,
        bounds=params.bounds(),
        network=params.network,
        client_id=params.client_id,
    )


def stages(params: ReportParams):
    return selectors.filings_by_stage(
        start=params.start, end=params.end, network=params.network, client_id=params.client_id
    )


def week_ending(params: ReportParams, end: date) -> ReportParams:
    return replace(params, start=end - timedelta(days=6), end=end)


def week_over_week(params: ReportParams) -> dict:
    """The last 7 days of the period against the 7 days before them."""
    this = week_ending(params, params.end)
    last = week_ending(params, params.end - timedelta(days=7))
    rows = []
    for label, period in (("this", this), ("last", last)):
        total, _ = outcomes(period)
        met = selectors.deadlines_met(stages(period))
        rows.append((label, period, total, met))
    (_, this_p, this_o, this_m), (_, last_p, last_o, last_m) = rows
    return {
        "this": this_p,
        "last": last_p,
        "figures": [
            _change("Disputes closed", this_o.closed, last_o.closed, "count"),
            _change("Won", this_o.won, last_o.won, "count"),
            _change("Lost", this_o.lost, last_o.lost, "count"),
            _change("Win rate", this_o.win_rate, last_o.win_rate, "rate"),
            _change("Recovery rate", this_o.recovery_rate, last_o.recovery_rate, "rate"),
            _change(
                "Filed by the network due date",
                this_m["met_network_rate"],
                last_m["met_network_rate"],
                "rate",
            ),
            _change("Filings", this_m["filings"], last_m["filings"], "count"),
        ],
    }


def _change(label, this, last, kind) -> dict:
    delta = None if this is None or last is None else this - last
    return {"label": label, "this": this, "last": last, "delta": delta, "kind": kind}


def build(params: ReportParams, *, today: date, refresh: bool = True) -> dict:
    if refresh:
        filings.refresh()
    total, by_network = outcomes(params)
    stage_rows = stages(params)
    bounds = params.bounds()
    missed_count, missed_rows = selectors.missed_deadlines(
        bounds=bounds, network=params.network, client_id=params.client_id
    )
    late_count, late_rows = selectors.late_filings(
        start=params.start, end=params.end, network=params.network, client_id=params.client_id
    )
    return {
        "params": params,
        "today": today,
        "outcomes": total,
        "by_network": by_network,
        "weekly": selectors.weekly_outcomes(
            bounds=bounds, network=params.network, client_id=params.client_id
        ),
        "week_over_week": week_over_week(params),
        "speed": selectors.speed_of_closed(
            bounds=bounds, network=params.network, client_id=params.client_id
        ),
        "stages": stage_rows,
        "deadlines": selectors.deadlines_met(stage_rows),
        "missed": {"count": missed_count, "rows": missed_rows},
        "late": {"count": late_count, "rows": late_rows},
        "open_by_age": selectors.open_by_age(
            today=today, network=params.network, client_id=params.client_id
        ),
        "activity": activity.activity(
            start=params.start, end=params.end, network=params.network, client_id=params.client_id
        ),
        "maturing": activity.still_maturing(params.end, today),
        "returns": activity.nacha_return_rates(end=params.end, client_id=params.client_id)
        if params.network in ("", "nacha")
        else [],
        "return_window": activity.return_window(params.end),
    }
