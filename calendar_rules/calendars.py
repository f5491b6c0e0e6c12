"""Banking calendars: which days a payment system settles on, and counting them.

``FED`` is the Federal Reserve Banks' calendar, the one Nacha (ACH) windows count in:

* Monday to Friday only;
* minus the Fed holidays (``holidays.financial_holidays("FED")``, 11 a year);
* a holiday on a Sunday closes the following Monday;
* a holiday on a Saturday is **not** moved: the Reserve Banks are open the Friday before (only
  the Board of Governors closes). ``holidays.US()`` gets this wrong for ACH (it closes the
  Friday), as do stock-exchange calendars (Good Friday, national days of mourning).

Everything here is pure: no clock, no database. The calendar is precomputed once, for
1999-01-01 to 2100-12-31 (the ``holidays`` package has no Fed data before 1999), as a list of
banking days and a running count per calendar day, so that every operation is a couple of list
lookups. A date outside that range raises ``CalendarRangeError``.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

import holidays

__all__ = ["FED", "BankingCalendar", "CalendarRangeError"]

FIRST_YEAR = 1999
LAST_YEAR = 2100


class CalendarRangeError(ValueError):
    """A date (or the result of counting from it) falls outside the precomputed calendar."""


class BankingCalendar:
    """Business days of one payment system between ``first`` and ``last`` (inclusive).

    ``closed`` is the set of weekday closures; weekends are always closed.
    """

    __slots__ = ("_banking", "_closed", "_count", "_first", "_last", "_names", "name")

    def __init__(
        self,
        name: str,
        *,
        first: date,
        last: date,
        closed: Iterable[date],
        names: dict[date, str] | None = None,
    ):
        self.name = name
        self._first = first.toordinal()
        self._last = last.toordinal()
        self._closed = frozenset(d for d in closed if d.weekday() < 5 and first <= d <= last)
        self._names = dict(names or {})
        banking: list[date] = []
        count: list[int] = []  # count[i] = banking days on or before day first + i
        for ordinal in range(self._first, self._last + 1):
            day = date.fromordinal(ordinal)
            if day.weekday() < 5 and day not in self._closed:
                banking.append(day)
            count.append(len(banking))
        self._banking = banking
        self._count = count

    def __repr__(self) -> str:
        return f"<BankingCalendar {self.name} {self.first}..{self.last}>"

    @property
    def first(self) -> date:
        return date.fromordinal(self._first)

    @property
    def last(self) -> date:
        return date.fromordinal(self._last)

    def _offset(self, d: date) -> int:
        offset = d.toordinal() - self._first
        if offset < 0 or d.toordinal() > self._last:
            raise CalendarRangeError(
                f"{d.isoformat()} is outside the {self.name} calendar "
                f"({self.first.isoformat()} to {self.last.isoformat()})"
            )
        return offset

    def _banking_day_at(self, index: int, start: date, n: int) -> date:
        if index < 0 or index >= len(self._banking):
            raise CalendarRangeError(
                f"{n:+d} banking days from {start.isoformat()} leaves the {self.name} calendar "
                f"({self.first.isoformat()} to {self.last.isoformat()})"
            )
        return self._banking[index]

    def is_banking_day(self, d: date) -> bool:
        """True on a weekday that is not a closure."""
        self._offset(d)
        return d.weekday() < 5 and d not in self._closed

    def add_banking_days(self, d: date, n: int) -> date:
        """The ``n``-th banking day after ``d`` (before it when ``n`` is negative).

        Days are counted strictly after (before) ``d``, so from a non-banking day ``+1`` is the
        next banking day and ``-1`` the previous one. ``n == 0`` returns ``d`` unchanged, even on
        a closed day.
        """
        offset = self._offset(d)
        if n > 0:
            # count[offset] banking days lie on or before d; the next one has index count.
            return self._banking_day_at(self._count[offset] - 1 + n, d, n)
        if n < 0:
            before = self._count[offset - 1] if offset else 0  # banking days strictly before d
            return self._banking_day_at(before + n, d, n)
        return d

    def next_banking_day(self, d: date) -> date:
        """The first banking day strictly after ``d``."""
        return self.add_banking_days(d, 1)

    def previous_banking_day(self, d: date) -> date:
        """The last banking day strictly before ``d``."""
        return self.add_banking_days(d, -1)

    def on_or_after(self, d: date) -> date:
        """``d`` if it is a banking day, else the next banking day."""
        return d if self.is_banking_day(d) else self.add_banking_days(d, 1)

    def banking_days_between(self, start: date, end: date) -> int:
        """Banking days after ``start`` up to and including ``end``; negative if ``end < start``.

        So ``add_banking_days(start, banking_days_between(start, end)) == end`` whenever ``end``
        is a banking day after ``start``.
        """
        return self._count[self._offset(end)] - self._count[self._offset(start)]

    def closures(self, year: int) -> list[date]:
        """The weekday closures of ``year``, in date order (weekends are not listed)."""
        return sorted(d for d in self._closed if d.year == year)

    def closure_name(self, d: date) -> str:
        """The holiday behind a closure (``""`` for an open day or a plain weekend)."""
        return self._names.get(d, "") if d in self._closed else ""


def _federal_reserve() -> BankingCalendar:
    fed = holidays.financial_holidays("FED", years=range(FIRST_YEAR, LAST_YEAR + 1))
    return BankingCalendar(
        "FED",
        first=date(FIRST_YEAR, 1, 1),
        last=date(LAST_YEAR, 12, 31),
        closed=fed.keys(),
        names=dict(fed.items()),
    )


FED = _federal_reserve()
