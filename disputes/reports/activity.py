"""Dispute activity and dispute rate, by client, rail, transaction type and reason code; NACHA
return rates per client. Transaction volumes (``TransactionVolume``, reported by clients or
imported) are the denominators.

activity = disputes received in the period / transactions made in the period
rate     = disputes on transactions made in the period / those transactions; still maturing
           until 120 days after the period ends (disputes arrive up to ~120 days later)."""

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from django.db.models import Sum

from ..choices import RAILS_BY_NETWORK, Network, Rail, TransactionType
from ..intake.models import TransactionVolume
from ..models import Client
from .selectors import ratio

MATURING_DAYS = 120
DIMENSIONS = {
    "client": "Client",
    "rail": "Rail",
    "transaction_type": "Transaction type",
    "reason_code": "Reason code",
}


@dataclass
class ActivityRow:
    key: str
    label: str
    received: int = 0  # disputes received in the period
    on_period_txns: int = 0  # disputes on transactions made in the period
    transactions: int | None = None  # volume in the period; None: no volume for this row

    @property
    def activity(self) -> Decimal | None:
        return None if self.transactions is None else ratio(self.received, self.transactions)

    @property
    def rate(self) -> Decimal | None:
        return None if self.transactions is None else ratio(self.on_period_txns, self.transactions)


def volumes(*, start: date, end: date, network="", client_id=None) -> list[tuple]:
    """(client id, rail, transaction type, transactions) reported for days [start, end]."""
    rows = TransactionVolume.objects.filter(day__gte=start, day__lte=end)
    if network:
        rows = rows.filter(rail__in=sorted(RAILS_BY_NETWORK[Network(network)]))
    if client_id:
        rows = rows.filter(client_id=client_id)
    grouped = rows.order_by().values_list("client_id", "rail", "transaction_type")
    return [(c, r, t, int(n)) for c, r, t, n in grouped.annotate(n=Sum("count"))]


def disputes_by_dimension(figures, measure: str, *, start, end, network="") -> dict:
    """{dimension: {key: disputes}} of "received" (by received date) or "on_period" (by the
    transaction's date) over [start, end]."""
    out = {dim: {} for dim in DIMENSIONS}
    for (client_id,), values in figures.sums(f"{measure}_client", start, end, network=network,
                                             by=("client_id",)).items():  # fmt: skip
        out["client"][str(client_id)] = values[0]
    kinds = figures.sums(measure, start, end, network=network,
                         by=("rail", "transaction_type", "network", "reason_code"))  # fmt: skip
    for (rail, ttype, net, code), values in kinds.items():
        keys = {"rail": rail, "transaction_type": ttype, "reason_code": f"{net}:{code}"}
        for dim, k in keys.items():
            out[dim][k] = out[dim].get(k, 0) + values[0]
    return out


def activity(*, figures, start: date, end: date, network="", client_id=None) -> dict:
    """{dimension: [ActivityRow]} for the period (see the module's formulas)."""
    tables: dict[str, dict[str, ActivityRow]] = {name: {} for name in DIMENSIONS}
    labels = _labels()

    def row(dim, key):
        return tables[dim].setdefault(key, ActivityRow(key, labels(dim, key)))

    received = disputes_by_dimension(figures, "received", start=start, end=end, network=network)
    on_period = disputes_by_dimension(figures, "on_period", start=start, end=end, network=network)
    for dim in DIMENSIONS:
        for key, count in received[dim].items():
            row(dim, key).received = count
        for key, count in on_period[dim].items():
            row(dim, key).on_period_txns = count
    total_volume = None
    for client, rail, ttype, count in volumes(start=start, end=end, network=network,
                                              client_id=client_id):  # fmt: skip
        for dim, key in (("client", str(client)), ("rail", rail), ("transaction_type", ttype)):
            r = row(dim, key)
            r.transactions = (r.transactions or 0) + count
        total_volume = (total_volume or 0) + count
    # a reason code's denominator: every transaction of the filter (its share of them)
    for r in tables["reason_code"].values():
        r.transactions = total_volume
    return {
        dim: sorted(rows.values(), key=lambda r: (-r.received, r.label))
        for dim, rows in tables.items()
    }


def _labels():
    names = dict(Client.objects.values_list("pk", "name"))
    rails, types = dict(Rail.choices), dict(TransactionType.choices)
    networks = dict(Network.choices)

    def label(dim, key):
        if dim == "client":
            return names.get(int(key), key)
        if dim == "rail":
            return rails.get(key, key)
        if dim == "transaction_type":
            return types.get(key, key)
        network, code = key.split(":", 1)
        return f"{networks.get(network, network)} {code}"

    return label


def still_maturing(end: date, today: date) -> bool:
    return end > today - timedelta(days=MATURING_DAYS)


# --- NACHA return rates ------------------------------------------------------------------------

RETURN_WINDOW_DAYS = 60
FLAG_SHARE = Decimal("0.7")
RETURN_CLASSES = (
    # (key, label, codes or None for all, threshold)  — Nacha Rules, Article Two, Subsection 2.17.2
    ("unauthorized", "Unauthorized", ("R05", "R07", "R10", "R11", "R29", "R51"), Decimal("0.005")),
    ("administrative", "Administrative", ("R02", "R03", "R04"), Decimal("0.03")),
    ("overall", "Overall", None, Decimal("0.15")),
)


@dataclass
class ReturnRate:
    key: str
    label: str
    returns: int
    debits: int | None
    threshold: Decimal

    @property
    def rate(self) -> Decimal | None:
        return None if self.debits is None else ratio(self.returns, self.debits)

    @property
    def flag(self) -> str:
        """ "over" at or above the threshold, "watch" from 70 % of it, else ""."""
        rate = self.rate
        if rate is None:
            return ""
        if rate >= self.threshold:
            return "over"
        if rate >= self.threshold * FLAG_SHARE:
            return "watch"
        return ""


@dataclass
class ClientReturns:
    client_id: int
    client: str
    debits: int | None
    rates: list[ReturnRate]

    @property
    def flagged(self) -> bool:
        return any(r.flag for r in self.rates)


def return_window(end: date) -> tuple[date, date]:
    return end - timedelta(days=RETURN_WINDOW_DAYS - 1), end


def nacha_return_rates(*, figures, end: date, client_id=None) -> list[ClientReturns]:
    """Per client over the trailing 60 days ending ``end``: returns received (NACHA disputes by
    received date) / ACH debit entries originated (volumes of ACH debits)."""
    start, end = return_window(end)
    rows = figures.sums("nacha_return", start, end, network="nacha",
                        by=("client_id", "reason_code"))  # fmt: skip
    debit_rows = TransactionVolume.objects.filter(
        rail="ach", transaction_type="ach_debit", day__gte=start, day__lte=end
    )
    if client_id:
        debit_rows = debit_rows.filter(client_id=client_id)
    debits = dict(
        debit_rows.order_by()
        .values_list("client_id")
        .annotate(n=Sum("count"))
        .values_list("client_id", "n")
    )
    by_client: dict[int, dict[str, int]] = {}
    for (cid, kind), values in rows.items():
        by_client.setdefault(cid, {})[kind] = values[0]
    return _client_returns(by_client, debits)


def _client_returns(by_client: dict, debits: dict) -> list[ClientReturns]:
    """``by_client``: {client id: {return class: returns}}."""
    for cid in debits:
        by_client.setdefault(cid, {})
    names = dict(Client.objects.filter(pk__in=by_client).values_list("pk", "name"))
    out = []
    for cid, classes in by_client.items():
        volume = int(debits[cid]) if cid in debits else None
        rates = [
            ReturnRate(
                key,
                label,
                sum(n for kind, n in classes.items() if members is None or kind == key),
                volume,
                threshold,
            )
            for key, label, members, threshold in RETURN_CLASSES
        ]
        out.append(ClientReturns(cid, names.get(cid, str(cid)), volume, rates))
    out.sort(key=lambda c: (not c.flagged, c.client))
    return out


def returns_of(*, client_id: int, end: date, kind: str = "", limit: int = 1000):
    """The NACHA returns behind a client's rates (drill-down), newest first."""
    from ..models import Dispute

    start, end = return_window(end)
    qs = Dispute.objects.filter(
        network=Network.NACHA, client_id=client_id, received_on__range=(start, end)
    )
    for key, _label, members, _threshold in RETURN_CLASSES:
        if key == kind and members:
            qs = qs.filter(reason_code__in=members)
    return qs.select_related("client", "transaction").order_by("-received_on", "-id")[:limit]
