"""What the reports count, and where each thing is counted.

A dispute's ``Fact`` (the columns of ``ReportCase``) and a ``Filing`` (the columns of
``ReportFiling``) each *contribute* one unit to a few daily sums (``ReportDay``): a dispute
received on a day counts in that day's "received" sum under its rail, transaction type and reason
code, once closed in that day's "closed" sum under its outcome and currency, with its amounts;
and so on. Every figure of /reports/ is a sum of contributions over a period, so the summaries,
the figures of the disputes changed since the last refresh and a single client's figures are all
computed by this one definition (``contributions``)."""

from collections import defaultdict
from datetime import date, datetime, timedelta
from decimal import Decimal
from functools import lru_cache
from typing import NamedTuple
from zoneinfo import ZoneInfo

from django.conf import settings

from calendar_rules import calendars

ZERO = Decimal("0")
KEY = ("measure", "day", "network", "client_id", "rail", "transaction_type", "reason_code",
       "outcome", "currency", "stage", "span")  # fmt: skip
VALUES = ("count", "amount", "recovered", "with_internal_due", "met_internal_due",
          "with_network_due", "met_network_due")  # fmt: skip
# Measures summed per client (client_id > 0); every other one over every client (client_id 0).
PER_CLIENT = {"received_client", "on_period_client", "nacha_return"}
SPEEDS = ("to_first_touch", "to_submission", "to_decision")


class Fact(NamedTuple):
    """One dispute as the reports see it (the columns of ``ReportCase``, in order)."""

    dispute_id: int
    network: str
    client_id: int
    rail: str
    transaction_type: str
    reason_code: str
    currency: str
    amount: Decimal
    recovered_amount: Decimal | None
    outcome: str
    is_open: bool
    received_on: date
    transaction_date: date
    closed_on: date | None
    to_first_touch: int | None
    to_submission: int | None
    to_decision: int | None


class Filing(NamedTuple):
    """One filing (the columns of ``ReportFiling``, in order, without ``filed_stage``)."""

    event_id: int
    dispute_id: int
    network: str
    client_id: int
    answered_stage: str
    stage_started_on: date
    filed_on: date
    internal_due: date | None
    network_due: date | None


# The columns of a dispute (and its transaction) a Fact is made of.
LIVE_COLUMNS = ("id", "network", "client_id", "rail", "transaction__transaction_type",
                "reason_code", "currency", "amount", "recovered_amount", "outcome", "state",
                "received_on", "transaction__transaction_date", "opened_at", "first_touched_at",
                "submitted_at", "closed_at")  # fmt: skip


@lru_cache(maxsize=1)
def _ordinal_of() -> dict[date, int]:
    """Every day of the Fed calendar with the number of Fed banking days on or before it: the
    banking days between two dates are the difference of their numbers."""
    fed = calendars.FED
    numbers, n, day = {}, 0, fed.first
    while day <= fed.last:
        n += fed.is_banking_day(day)
        numbers[day] = n
        day += timedelta(days=1)
    return numbers


def ops_date(moment: datetime | None) -> date | None:
    return None if moment is None else moment.astimezone(ZoneInfo(settings.OPS_TIME_ZONE)).date()


def banking_days(start: date | None, end: date | None) -> int | None:
    """Fed banking days from ``start`` to ``end``; None outside the calendar's years."""
    number = _ordinal_of()
    if start not in number or end not in number:
        return None
    return number[end] - number[start]


def fact_of(row) -> Fact:
    """The Fact of a dispute from its ``LIVE_COLUMNS``."""
    (pk, network, client_id, rail, ttype, code, currency, amount, recovered, outcome, state,
     received_on, txn_date, opened_at, touched_at, submitted_at, closed_at) = row  # fmt: skip
    opened = ops_date(opened_at)

    def span(moment):
        return None if moment is None else banking_days(opened, ops_date(moment))

    return Fact(pk, network, client_id, rail, ttype, code, currency, amount, recovered, outcome,
                state != "closed", received_on, txn_date, ops_date(closed_at), span(touched_at),
                span(submitted_at), span(closed_at))  # fmt: skip


def return_class(code: str) -> str:
    """The Nacha return class a return reason code counts in: "unauthorized", "administrative"
    or "other" (every class counts in the overall rate)."""
    from .activity import RETURN_CLASSES

    for name, _label, codes, _threshold in RETURN_CLASSES:
        if codes and code in codes:
            return name
    return "other"


def key(measure, day, network, client_id=0, rail="", transaction_type="", reason_code="",
        outcome="", currency="", stage="", span=-1) -> tuple:  # fmt: skip
    return (measure, day, network, client_id, rail, transaction_type, reason_code, outcome,
            currency, stage, span)  # fmt: skip


ONE = (1, ZERO, ZERO, 0, 0, 0, 0)


def fact_contributions(f: Fact):
    """(key, values) of every sum one dispute counts in."""
    kind = {"rail": f.rail, "transaction_type": f.transaction_type, "reason_code": f.reason_code}
    yield key("received", f.received_on, f.network, **kind), ONE
    yield key("received_client", f.received_on, f.network, f.client_id), ONE
    yield key("on_period", f.transaction_date, f.network, **kind), ONE
    yield key("on_period_client", f.transaction_date, f.network, f.client_id), ONE
    if f.network == "nacha":
        kind = return_class(f.reason_code)
        yield key("nacha_return", f.received_on, f.network, f.client_id, reason_code=kind), ONE
    if f.is_open:
        yield key("open", f.received_on, f.network), ONE
    if f.closed_on is not None:
        money = (1, f.amount, f.recovered_amount or ZERO, 0, 0, 0, 0)
        yield key("closed", f.closed_on, f.network, outcome=f.outcome, currency=f.currency), money
        for measure, span in zip(SPEEDS, f[-3:], strict=True):
            if span is not None:
                yield key(measure, f.closed_on, f.network, span=span), ONE


def filing_contributions(f: Filing):
    span = banking_days(f.stage_started_on, f.filed_on)
    with_internal, with_network = f.internal_due is not None, f.network_due is not None
    met_internal = with_internal and f.filed_on <= f.internal_due
    met_network = with_network and f.filed_on <= f.network_due
    values = (1, ZERO, ZERO, int(with_internal), int(met_internal), int(with_network),
              int(met_network))  # fmt: skip
    yield key("filing", f.filed_on, f.network, stage=f.answered_stage,
              span=-1 if span is None else span), values  # fmt: skip


class Sums:
    """Contributions added up: {measure: {key: [values]}}."""

    def __init__(self):
        self.by_measure: dict[str, dict[tuple, list]] = defaultdict(dict)

    def add(self, contributions, sign: int = 1) -> None:
        for k, values in contributions:
            table = self.by_measure[k[0]]
            row = table.get(k)
            if row is None:
                table[k] = [sign * v for v in values]
            else:
                for i, v in enumerate(values):
                    row[i] += sign * v

    def add_facts(self, facts, sign: int = 1) -> None:
        for f in facts:
            self.add(fact_contributions(f), sign)

    def add_filings(self, filings, sign: int = 1) -> None:
        for f in filings:
            self.add(filing_contributions(f), sign)

    def items(self):
        for table in self.by_measure.values():
            yield from table.items()

    def __len__(self):
        return sum(len(t) for t in self.by_measure.values())
