"""Dispute activity and dispute rate, by client, rail, transaction type and reason code; NACHA
return rates per client. Transaction volumes (``TransactionVolume``, reported by clients or
imported) are the denominators.

activity = disputes received in the period / transactions made in the period
rate     = disputes on transactions made in the period / those transactions; still maturing
           until 120 days after the period ends (disputes arrive up to ~120 days later)."""

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from ..choices import RAILS_BY_NETWORK, Network, Rail, TransactionType
from ..models import Client
from .selectors import _Filter, _rows, _where, ratio

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


def _volume_filter(network, client_id) -> tuple[str, list]:
    sql, args = "", []
    if network:
        rails = sorted(RAILS_BY_NETWORK[Network(network)])
        sql += " AND v.rail = ANY(%s)"
        args.append(rails)
    if client_id:
        sql += " AND v.client_id = %s"
        args.append(client_id)
    return sql, args


GROUPS = "GROUPING SETS ((d.client_id), (d.rail), (t.transaction_type), (d.network, d.reason_code))"


def _grouped(rows, tables):
    """Rows of (client_id, rail, transaction_type, network, reason_code, count) from a
    GROUPING SETS query, sorted into the four dimension tables."""
    for client_id, rail, ttype, network, code, count in rows:
        if client_id is not None:
            yield "client", str(client_id), count
        elif rail is not None:
            yield "rail", rail, count
        elif ttype is not None:
            yield "transaction_type", ttype, count
        elif code is not None:
            yield "reason_code", f"{network}:{code}", count


def activity(*, start: date, end: date, network="", client_id=None) -> dict:
    """{dimension: [ActivityRow]} for the period (see the module's formulas)."""
    extra, args = _where(_Filter(network, client_id))
    cols = "d.client_id, d.rail, t.transaction_type, d.network, d.reason_code, count(*)"
    received = _rows(
        f"SELECT {cols} FROM disputes_dispute d JOIN disputes_transaction t"
        " ON t.id = d.transaction_id WHERE d.received_on BETWEEN %s AND %s"
        + extra
        + f" GROUP BY {GROUPS}",
        [start, end, *args],
    )
    on_period = _rows(
        f"SELECT {cols} FROM disputes_transaction t JOIN disputes_dispute d"
        " ON d.transaction_id = t.id WHERE t.transaction_date BETWEEN %s AND %s"
        + extra
        + f" GROUP BY {GROUPS}",
        [start, end, *args],
    )
    vextra, vargs = _volume_filter(network, client_id)
    volumes = _rows(
        "SELECT v.client_id, v.rail, v.transaction_type, sum(v.count)"
        " FROM disputes_transactionvolume v WHERE v.day BETWEEN %s AND %s"
        + vextra
        + " GROUP BY GROUPING SETS ((v.client_id), (v.rail), (v.transaction_type), ())",
        [start, end, *vargs],
    )
    tables: dict[str, dict[str, ActivityRow]] = {name: {} for name in DIMENSIONS}
    labels = _labels()
    for dim, key, count in _grouped(received, tables):
        tables[dim].setdefault(key, ActivityRow(key, labels(dim, key))).received = count
    for dim, key, count in _grouped(on_period, tables):
        tables[dim].setdefault(key, ActivityRow(key, labels(dim, key))).on_period_txns = count
    total_volume = None
    for client_id_, rail, ttype, count in volumes:
        count = None if count is None else int(count)
        if client_id_ is not None:
            dim, key = "client", str(client_id_)
        elif rail is not None:
            dim, key = "rail", rail
        elif ttype is not None:
            dim, key = "transaction_type", ttype
        else:
            total_volume = count
            continue
        tables[dim].setdefault(key, ActivityRow(key, labels(dim, key))).transactions = count
    # a reason code's denominator: every transaction of the filter (its share of them)
    for row in tables["reason_code"].values():
        row.transactions = total_volume
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


def nacha_return_rates(*, end: date, client_id=None) -> list[ClientReturns]:
    """Per client over the trailing 60 days ending ``end``: returns received (NACHA disputes by
    received date) / ACH debit entries originated (volumes of ACH debits)."""
    start, end = return_window(end)
    extra, args = ("AND d.client_id = %s", [client_id]) if client_id else ("", [])
    rows = _rows(
        "SELECT d.client_id, d.reason_code, count(*) FROM disputes_dispute d"
        " WHERE d.network = 'nacha' AND d.received_on BETWEEN %s AND %s "
        + extra
        + " GROUP BY 1, 2",
        [start, end, *args],
    )
    vextra, vargs = ("AND v.client_id = %s", [client_id]) if client_id else ("", [])
    debits = dict(
        _rows(
            "SELECT v.client_id, sum(v.count) FROM disputes_transactionvolume v"
            " WHERE v.rail = 'ach' AND v.transaction_type = 'ach_debit'"
            " AND v.day BETWEEN %s AND %s " + vextra + " GROUP BY 1",
            [start, end, *vargs],
        )
    )
    by_client: dict[int, dict[str, int]] = {}
    for cid, code, count in rows:
        by_client.setdefault(cid, {})[code] = count
    for cid in debits:
        by_client.setdefault(cid, {})
    names = dict(Client.objects.filter(pk__in=by_client).values_list("pk", "name"))
    out = []
    for cid, codes in by_client.items():
        volume = int(debits[cid]) if cid in debits else None
        rates = [
            ReturnRate(
                key,
                label,
                sum(n for c, n in codes.items() if members is None or c in members),
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
