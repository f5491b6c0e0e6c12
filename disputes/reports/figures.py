"""One exact read of the report summaries: ``Figures(...).sums(measure, start, end, ...)``.

Over every client the sums come from ``ReportDay`` (a quarter is a few thousand rows); for one
client the database groups that client's stored facts and filings (``client_sums``). Either
way, the change since the watermark (``summary.pending``) is added, so the figures count every
event committed before the read (see ``disputes.reports.summary`` for why that is exact)."""

from datetime import date
from decimal import Decimal

from django.db.models import Sum

from .client_sums import client_sums
from .facts import KEY, PER_CLIENT, VALUES, Sums
from .models import ReportDay
from .summary import pending, watermark

POSITION = {name: i for i, name in enumerate(KEY)}


class Figures:
    def __init__(self, *, client_id=None):
        self.client_id = client_id
        self.watermark = watermark()
        self.pending, self.pending_filings = pending(since=self.watermark, client_id=client_id)

    def sums(self, measure: str, start: date, end: date, *, network: str = "", by=()) -> dict:
        """{values of ``by``: [count, amount, recovered, with_internal_due, met_internal_due,
        with_network_due, met_network_due]} of ``measure`` over days [start, end]."""
        totals: dict[tuple, list] = {}
        if self.client_id is None:
            rows = self._stored(measure, start, end, network, by)
        else:
            rows = client_sums(self.client_id, measure, start, end, network, by).items()
        for group, values in rows:
            _add(totals, group, values)
        for group, values in self._in_memory(self.pending, measure, start, end, network, by):
            _add(totals, group, values)
        return {group: values for group, values in totals.items() if any(values)}

    @staticmethod
    def _stored(measure, start, end, network, by):
        rows = ReportDay.objects.filter(measure=measure, day__gte=start, day__lte=end)
        rows = rows.filter(client_id__gt=0) if measure in PER_CLIENT else rows.filter(client_id=0)
        if network:
            rows = rows.filter(network=network)
        sums = {name: Sum(name) for name in VALUES}
        if not by:
            found = rows.aggregate(**sums)
            yield (), [found[name] or 0 for name in VALUES]
            return
        for row in rows.order_by().values_list(*by).annotate(**sums):
            yield tuple(row[: len(by)]), list(row[len(by) :])

    @staticmethod
    def _in_memory(sums: Sums, measure, start, end, network, by):
        where = [POSITION[name] for name in by]
        for k, values in sums.by_measure.get(measure, {}).items():
            if start <= k[1] <= end and (not network or k[2] == network):
                yield tuple(k[i] for i in where), values


def _add(totals: dict, group: tuple, values) -> None:
    row = totals.setdefault(group, [0, Decimal("0"), Decimal("0"), 0, 0, 0, 0])
    for i, value in enumerate(values):
        row[i] += value if i not in (1, 2) else Decimal(str(value or 0))
