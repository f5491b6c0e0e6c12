"""One client's sums, grouped by the database from that client's stored facts (``ReportCase``) and
filings (``ReportFiling``) instead of from ``ReportDay`` (which sums every client together). The
same measures as ``facts.fact_contributions`` / ``facts.filing_contributions``: the tests hold
the two to each other and to the disputes."""

from collections import defaultdict
from decimal import Decimal

from django.db.models import Count, DecimalField, Sum, Value
from django.db.models.functions import Coalesce

from .facts import banking_days, return_class
from .models import ReportCase, ReportFiling

# measure: (day column, filters, {key field: column})
KINDS = {"rail": "rail", "transaction_type": "transaction_type", "reason_code": "reason_code"}
SOURCES = {
    "received": ("received_on", {}, KINDS),
    "received_client": ("received_on", {}, {}),
    "on_period": ("transaction_date", {}, KINDS),
    "on_period_client": ("transaction_date", {}, {}),
    "nacha_return": ("received_on", {"network": "nacha"}, {"reason_code": "reason_code"}),
    "open": ("received_on", {"is_open": True}, {}),
    "closed": ("closed_on", {}, {"outcome": "outcome", "currency": "currency"}),
    "to_first_touch": ("closed_on", {"to_first_touch__isnull": False}, {"span": "to_first_touch"}),
    "to_submission": ("closed_on", {"to_submission__isnull": False}, {"span": "to_submission"}),
    "to_decision": ("closed_on", {"to_decision__isnull": False}, {"span": "to_decision"}),
}
ZERO = Decimal("0")


def client_sums(client_id: int, measure: str, start, end, network: str, by) -> dict:
    """{values of ``by``: [count, amount, recovered, …due counts]} of one client's ``measure``."""
    if measure == "filing":
        return _filings(client_id, start, end, network, by)
    day, where, columns = SOURCES[measure]
    columns = {"day": day, "network": "network", "client_id": "client_id", **columns}
    period = {f"{day}__gte": start, f"{day}__lte": end}
    rows = ReportCase.objects.filter(client_id=client_id, **where, **period)
    if network:
        rows = rows.filter(network=network)
    sums = {"n": Count("*")}  # count(*): the covering indexes answer without the table
    if measure == "closed":
        money = DecimalField(max_digits=20, decimal_places=2)
        sums["amount"] = Coalesce(Sum("amount"), Value(ZERO), output_field=money)
        sums["recovered"] = Coalesce(Sum("recovered_amount"), Value(ZERO), output_field=money)
    grouped = rows.order_by().values_list(*[columns[name] for name in by]).annotate(**sums)
    out = defaultdict(lambda: [0, ZERO, ZERO, 0, 0, 0, 0])
    for row in grouped:
        group, (n, *money_sums) = list(row[: len(by)]), row[len(by) :]
        amount, recovered = money_sums or (ZERO, ZERO)
        if measure == "nacha_return" and "reason_code" in by:
            i = by.index("reason_code")
            group[i] = return_class(group[i])
        total = out[tuple(group)]
        total[0] += n
        total[1] += amount
        total[2] += recovered
    return dict(out)


def _filings(client_id, start, end, network, by) -> dict:
    rows = ReportFiling.objects.filter(client_id=client_id, filed_on__gte=start, filed_on__lte=end)
    if network:
        rows = rows.filter(network=network)
    fields = ("network", "answered_stage", "stage_started_on", "filed_on", "internal_due",
              "network_due")  # fmt: skip
    out = defaultdict(lambda: [0, ZERO, ZERO, 0, 0, 0, 0])
    for net, stage, began, filed, internal_due, network_due, n in (
        rows.order_by().values_list(*fields).annotate(n=Count("pk"))
    ):
        span = banking_days(began, filed)
        key = {"day": filed, "network": net, "client_id": client_id, "stage": stage,
               "span": -1 if span is None else span}  # fmt: skip
        total = out[tuple(key[name] for name in by)]
        total[0] += n
        total[3] += n if internal_due is not None else 0
        total[4] += n if internal_due is not None and filed <= internal_due else 0
        total[5] += n if network_due is not None else 0
        total[6] += n if network_due is not None and filed <= network_due else 0
    return dict(out)
