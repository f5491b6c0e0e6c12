"""/reports/: the KPI page, its CSV exports, the NACHA returns drill-down and the JSON KPIs.

Every view parses the query string once (``params.parse``); a bad value is shown on the page
(400) or answered as problem details (API), never a 500."""

import csv
from datetime import date

from django.contrib.auth.decorators import login_required, permission_required
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.text import slugify
from django.views.decorators.http import require_GET

from ..choices import Network, Stage
from ..export import safe_cell
from ..models import business_today
from ..templatetags.disputes_tags import money
from . import activity, charts, report
from .params import BadParameters, ReportParams, parse

NETWORKS = dict(Network.choices)
STAGES = dict(Stage.choices)


def _params_or_error(request, today):
    try:
        return parse(request.GET, today=today), None
    except BadParameters as exc:
        return None, exc.errors


def _periods(params: ReportParams, today: date) -> list[dict]:
    """Quick links: the last 7, 30, 91 and 400 days ending today, keeping the filters."""
    from datetime import timedelta

    out = []
    for days, label in ((7, "Last 7 days"), (30, "Last 30 days"), (91, "Last quarter (91 days)"),
                        (400, "Last 400 days")):  # fmt: skip
        start = today - timedelta(days=days - 1)
        out.append(
            {
                "label": label,
                "query": params.query(**{"from": start.isoformat(), "to": today.isoformat()}),
                "current": params.start == start and params.end == today,
            }
        )
    return out


@require_GET
@login_required
@permission_required("disputes.view_reports", raise_exception=True)
def index(request):
    today = business_today()
    params, errors = _params_or_error(request, today)
    if errors:
        fallback = parse({}, today=today)
        context = {"errors": errors, "params": fallback, "networks": Network.choices}
        return render(request, "reports/index.html", context, status=400)
    context = report.build(params, today=today)
    context.update(
        networks=Network.choices,
        clients=_clients(),
        periods=_periods(params, today),
        weekly_chart=charts.weekly_outcomes(context["weekly"]),
        legend=charts.legend(),
        age_chart=charts.horizontal_bars(
            [(b["label"], b["total"]) for b in context["open_by_age"]], title="Open disputes by age"
        ),
        dimensions=activity.DIMENSIONS,
        stage_labels=STAGES,
        network_labels=NETWORKS,
        query=params.query(),
        return_classes=activity.RETURN_CLASSES,
    )
    return render(request, "reports/index.html", context)


def _clients():
    from ..models import Client

    return list(Client.objects.values_list("pk", "name"))


@require_GET
@login_required
@permission_required("disputes.view_reports", raise_exception=True)
def returns(request, client_id: int):
    """The NACHA returns behind one client's return rates (the trailing 60 days)."""
    from ..models import Client

    today = business_today()
    params, errors = _params_or_error(request, today)
    if errors:
        raise Http404("Bad report parameters.")
    client = Client.objects.filter(pk=client_id).first()
    if client is None:
        raise Http404("No such client.")
    kind = request.GET.get("kind", "")
    if kind not in {k for k, *_ in activity.RETURN_CLASSES}:
        kind = "overall"
    start, end = activity.return_window(params.end)
    rows = list(activity.returns_of(client_id=client.pk, end=params.end, kind=kind))
    if request.GET.get("format") == "csv":
        return _csv(
            f"nacha-returns-{client.slug}-{kind}",
            [("Client", client.name), ("Returns", kind), ("Window", f"{start} to {end}")],
            ["Case id", "Return reason code", "Received", "Amount", "Currency", "Stage", "Outcome"],
            [
                [
                    r.case_id,
                    r.reason_code,
                    r.received_on,
                    r.amount,
                    r.currency,
                    r.get_stage_display(),
                    r.get_outcome_display(),
                ]
                for r in rows
            ],
        )
    context = {
        "client": client,
        "rows": rows,
        "kind": kind,
        "start": start,
        "end": end,
        "params": params,
        "query": params.query(),
        "classes": activity.RETURN_CLASSES,
    }
    return render(request, "reports/returns.html", context)


# --- CSV exports -------------------------------------------------------------------------------


def _csv(name: str, filters, header, rows) -> HttpResponse:
    """A CSV with its active filters first, then the table; every text cell formula-safe."""
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{slugify(name)[:80]}.csv"'
    writer = csv.writer(response)
    for label, value in filters:
        writer.writerow(["Filter", safe_cell(label), safe_cell(value)])
    writer.writerow([])
    writer.writerow(header)
    for row in rows:
        writer.writerow([safe_cell(v) if isinstance(v, str) else ("" if v is None else v)
                         for v in row])  # fmt: skip
    return response


def _rate(value) -> str:
    return "" if value is None else str(value)


def _table(name: str, ctx: dict):
    """(header, rows) of one exportable table, or None when there is no such table."""
    o = ctx["outcomes"]
    if name == "outcomes":
        header = ["Network", "Closed", "Won", "Lost", "Accepted", "Expired", "Withdrawn",
                  "Win rate = won / (won + lost)"]  # fmt: skip
        rows = [
            [NETWORKS.get(n, n), x.closed, x.won, x.lost, x.counts["accepted"],
             x.counts["expired"], x.counts["withdrawn"], _rate(x.win_rate)]
            for n, x in [*ctx["by_network"].items(), ("All networks", o)]
        ]  # fmt: skip
        return header, rows
    if name == "recovery":
        header = ["Currency", "Won and lost", "Σ disputed", "Σ recovered",
                  "Recovery rate = Σ recovered / Σ disputed"]  # fmt: skip
        rows = [[c, r.won_lost, r.disputed, r.recovered, _rate(r.rate)]
                for c, r in sorted(o.by_currency.items()) if r.won_lost]  # fmt: skip
        return header, rows
    if name == "speed":
        header = ["Measure", "Formula", "Disputes", "Mean business days", "Median business days"]
        return header, [[m.label, m.formula, m.count, m.mean, m.median] for m in ctx["speed"]]
    if name == "stages":
        header = ["Network", "Stage answered", "Filings", "Mean business days",
                  "Median business days", "With internal due", "By internal due",
                  "With network due", "By network due"]  # fmt: skip
        rows = [[NETWORKS.get(s.network, s.network), STAGES.get(s.stage, s.stage), s.filings,
                 s.mean, s.median, s.with_internal_due, s.met_internal, s.with_network_due,
                 s.met_network] for s in ctx["stages"]]  # fmt: skip
        return header, rows
    if name == "missed":
        header = ["Recorded", "Case id", "Network", "Client", "Stage", "Internal due",
                  "Network due"]  # fmt: skip
        rows = [[r[0].isoformat(), r[2], NETWORKS.get(r[3], r[3]), r[4], STAGES.get(r[5], r[5]),
                 r[6], r[7]] for r in ctx["missed"]["rows"]]  # fmt: skip
        return header, rows
    if name == "late":
        header = ["Filed", "Case id", "Network", "Client", "Stage answered", "Internal due",
                  "Network due"]  # fmt: skip
        rows = [[r[0], r[2], NETWORKS.get(r[3], r[3]), r[4], STAGES.get(r[5], r[5]), r[6], r[7]]
                for r in ctx["late"]["rows"]]  # fmt: skip
        return header, rows
    if name == "open-by-age":
        header = ["Age", *[NETWORKS[n] for n in Network.values], "Total"]
        rows = [[b["label"], *b["by_network"].values(), b["total"]] for b in ctx["open_by_age"]]
        return header, rows
    if name.startswith("activity-") and name[9:] in activity.DIMENSIONS:
        dim = name[9:]
        header = [activity.DIMENSIONS[dim], "Disputes received", "Transactions",
                  "Activity = received / transactions", "Disputes on the period's transactions",
                  "Dispute rate = disputes on them / transactions"]  # fmt: skip
        rows = [[r.label, r.received, r.transactions, _rate(r.activity), r.on_period_txns,
                 _rate(r.rate)] for r in ctx["activity"][dim]]  # fmt: skip
        return header, rows
    if name == "nacha-returns":
        header = ["Client", "ACH debits (60 days)"]
        for _k, label, _m, threshold in activity.RETURN_CLASSES:
            header += [f"{label} returns", f"{label} rate", f"{label} flag (threshold {threshold})"]
        rows = []
        for c in ctx["returns"]:
            row = [c.client, c.debits]
            for r in c.rates:
                row += [r.returns, _rate(r.rate), r.flag]
            rows.append(row)
        return header, rows
    return None


EXPORTS = ("outcomes", "recovery", "speed", "stages", "missed", "late", "open-by-age",
           *(f"activity-{d}" for d in activity.DIMENSIONS), "nacha-returns")  # fmt: skip


@require_GET
@login_required
@permission_required("disputes.view_reports", raise_exception=True)
def export(request, table: str):
    if table not in EXPORTS:
        raise Http404("No such table.")
    today = business_today()
    params, errors = _params_or_error(request, today)
    if errors:
        return HttpResponse(
            "Bad report parameters: " + "; ".join(f"{k}: {v}" for k, v in errors.items()),
            status=400,
            content_type="text/plain; charset=utf-8",
        )
    ctx = report.build(params, today=today)
    header, rows = _table(table, ctx)
    filters = params.filters_in_words()
    if table == "nacha-returns":
        start, end = ctx["return_window"]
        filters.append(("Return window", f"{start} to {end} (trailing 60 days)"))
    return _csv(f"{table}-{params.start}-{params.end}", filters, header, rows)


# --- JSON --------------------------------------------------------------------------------------


def _problem(status: int, title: str, detail: str, errors=None) -> JsonResponse:
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail}
    if errors:
        body["errors"] = {k: [v] for k, v in errors.items()}
    return JsonResponse(body, status=status, content_type="application/problem+json")


def _api_user(request):
    """The session's user, or the user of an ``Authorization: Token …`` header (the API's
    tokens)."""
    if request.user.is_authenticated:
        return request.user
    try:
        from rest_framework.authentication import TokenAuthentication
        from rest_framework.exceptions import APIException

        found = TokenAuthentication().authenticate(request)
    except (ImportError, APIException):
        return None
    return found[0] if found else None


def kpis(request):
    """GET /api/v1/reports/kpis/?from=YYYY-MM-DD&to=YYYY-MM-DD[&network=…&client=…]

    Disputes closed between ``from`` and ``to`` inclusive (closing dates in the ops time zone):
    counts by outcome, win rate and recovery rate (numbers between 0 and 1, null when
    undefined), and the same under ``by_network``."""
    if request.method != "GET":
        return _problem(405, "Method Not Allowed", "Only GET is allowed here.")
    user = _api_user(request)
    if user is None:
        return _problem(401, "Unauthorized", "Sign in or send an API token.")
    if not user.has_perm("disputes.view_reports"):
        return _problem(403, "Forbidden", "Your role may not view reports.")
    try:
        params = parse(request.GET, require_period=True)
    except BadParameters as exc:
        return _problem(400, "Bad Request", "The query parameters are not valid.", exc.errors)
    total, by_network = report.outcomes(params)
    body = {
        "from": params.start.isoformat(),
        "to": params.end.isoformat(),
        "time_zone": _zone(),
        "network": params.network or None,
        "client": params.client_id,
        **total.as_json(),
        "by_network": {
            n: (by_network[n] if n in by_network else type(total)()).as_json()
            for n in Network.values
            if not params.network or n == params.network
        },
    }
    return JsonResponse(body)


def _zone() -> str:
    from django.conf import settings

    return settings.OPS_TIME_ZONE


def money_text(amount, currency):
    return money(amount, currency)
