"""The whole /reports/ page as one context: every KPI with its formula and the counts behind it.
Pages, CSV exports and the weekly e-mail read from here, through one exact read of the summaries
(``Figures``) per report."""

from dataclasses import replace
from datetime import date, timedelta

from . import activity, selectors
from .figures import Figures
from .params import ReportParams
from .summary import one_snapshot


def figures_for(params: ReportParams) -> Figures:
    """The read a report of ``params`` needs."""
    return Figures(client_id=params.client_id)


def outcomes(params: ReportParams, figures: Figures | None = None):
    """(all networks, {network: Outcomes}) of disputes closed in the period."""
    if figures is None:
        with one_snapshot():
            return outcomes(params, Figures(client_id=params.client_id))
    return selectors.outcomes_by_network(
        figures=figures, start=params.start, end=params.end, network=params.network
    )


def stages(params: ReportParams, figures: Figures):
    return selectors.filings_by_stage(
        figures=figures, start=params.start, end=params.end, network=params.network
    )


def week_ending(params: ReportParams, end: date) -> ReportParams:
    return replace(params, start=end - timedelta(days=6), end=end)


def week_over_week(params: ReportParams, figures: Figures) -> dict:
    """The last 7 days of the period against the 7 days before them."""
    this = week_ending(params, params.end)
    last = week_ending(params, params.end - timedelta(days=7))
    rows = []
    for label, period in (("this", this), ("last", last)):
        total, _ = outcomes(period, figures)
        met = selectors.deadlines_met(stages(period, figures))
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


def build(params: ReportParams, *, today: date) -> dict:
    with one_snapshot():
        return _build(params, today=today, figures=figures_for(params))


def _build(params: ReportParams, *, today: date, figures: Figures) -> dict:
    period = {"figures": figures, "start": params.start, "end": params.end,
              "network": params.network}  # fmt: skip
    total, by_network = outcomes(params, figures)
    stage_rows = stages(params, figures)
    missed_count, missed_rows = selectors.missed_deadlines(
        bounds=params.bounds(), network=params.network, client_id=params.client_id
    )
    late_count, late_rows = selectors.late_filings(**period, client_id=params.client_id)
    return {
        "params": params,
        "today": today,
        "outcomes": total,
        "by_network": by_network,
        "weekly": selectors.weekly_outcomes(**period),
        "week_over_week": week_over_week(params, figures),
        "speed": selectors.speed_of_closed(**period),
        "stages": stage_rows,
        "deadlines": selectors.deadlines_met(stage_rows),
        "missed": {"count": missed_count, "rows": missed_rows},
        "late": {"count": late_count, "rows": late_rows},
        "open_by_age": selectors.open_by_age(figures=figures, today=today, network=params.network),
        "activity": activity.activity(**period, client_id=params.client_id),
        "maturing": activity.still_maturing(params.end, today),
        "returns": activity.nacha_return_rates(
            figures=figures, end=params.end, client_id=params.client_id
        )
        if params.network in ("", "nacha")
        else [],
        "return_window": activity.return_window(params.end),
    }
