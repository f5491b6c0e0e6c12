"""Banking calendars: which days a payment system settles on, and counting them.

``FED`` is the Federal Reserve Banks' calendar, the one Nacha (ACH) windows count in:

* Monday to Friday only;
* minus the Fed holidays (``holidays.financial_holidays("FED")``, 11 a year);
* a holiday on a Sunday closes the following Monday;
* a holiday on a Saturday is **not** moved: the Reserve Banks are open the Friday before (only
  the Board of Governors closes). ``holidays.US()`` gets this wrong for ACH (it closes the
  Friday), as do stock-exchange calendars (Good Friday, national days of mourning).

Everything here is pure: no clock, no database. The calendar covers 1999-01-01 to 2100-12-31
(the ``holidays`` package has no Fed data before 1999); each year is built the first time a date
in it is asked about (a list of banking days and a running count per day of the year), so that
importing costs nothing and every operation is a couple of list lookups. A date outside that
range raises ``CalendarRangeError``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date

__all__ = ["FED", "BankingCalendar", "CalendarRangeError"]

FIRST_YEAR = 1999
LAST_YEAR = 2100


class CalendarRangeError(ValueError):
    """A date (or the result of counting from it) falls outside the calendar."""


class _Year:
    """One year of a calendar: its banking days, and ``count[i]`` = banking days on or before
    the year's day ``i`` (0 = January 1)."""

    __slots__ = ("banking", "closed", "count")

    def __init__(self, first: date, last: date, closed: frozenset[date]):
        self.closed = closed
        self.banking: list[date] = []
        self.count: list[int] = []
        for ordinal in range(first.toordinal(), last.toordinal() + 1):
            day = date.fromordinal(ordinal)
            if day.weekday() < 5 and day not in closed:
                self.banking.append(day)
            self.count.append(len(self.banking))


class BankingCalendar:
    """Business days of one payment system between ``first`` and ``last`` (inclusive).

    The weekday closures are ``closed`` (weekends are always closed), or, when ``holidays_of``
    is given instead, ``holidays_of(year)`` ({date: name}) asked once per year in use.
    """

    __slots__ = ("_first", "_holidays_of", "_last", "_names", "_years", "name")

    def __init__(
        self,
        name: str,
        *,
        first: date,
        last: date,
        closed: Iterable[date] = (),
        names: dict[date, str] | None = None,
        holidays_of: Callable[[int], dict[date, str]] | None = None,
    ):
        self.name = name
        self._first = first
        self._last = last
        self._names = dict(names or {})
        self._years: dict[int, _Year] = {}
        if holidays_of is None:
            given = {d: self._names.get(d, "") for d in closed}
            self._holidays_of = lambda year: {d: n for d, n in given.items() if d.year == year}
        else:
            self._holidays_of = holidays_of

    def __repr__(self) -> str:
        return f"<BankingCalendar {self.name} {self.first}..{self.last}>"

    @property
    def first(self) -> date:
        return self._first

    @property
    def last(self) -> date:
        return self._last

    def _year(self, year: int) -> _Year:
        found = self._years.get(year)
        if found is None:
            first = max(self._first, date(year, 1, 1))
            last = min(self._last, date(year, 12, 31))
            holidays_of_year = self._holidays_of(year)
            closed = frozenset(
                d
                for d in holidays_of_year
                if d.year == year and d.weekday() < 5 and first <= d <= last
            )
            self._names.update({d: holidays_of_year[d] for d in closed})
            found = self._years[year] = _Year(first, last, closed)
        return found

    def _check(self, d: date) -> None:
        if not self._first <= d <= self._last:
            raise CalendarRangeError(
                f"{d.isoformat()} is outside the {self.name} calendar "
                f"({self.first.isoformat()} to {self.last.isoformat()})"
            )

    def _on_or_before(self, d: date) -> int:
        """Banking days of ``d``'s year (within the calendar) on or before ``d``."""
        year = self._year(d.year)
        return year.count[d.toordinal() - max(self._first, date(d.year, 1, 1)).toordinal()]

    def _leaves(self, start: date, n: int) -> CalendarRangeError:
        return CalendarRangeError(
            f"{n:+d} banking days from {start.isoformat()} leaves the {self.name} calendar "
            f"({self.first.isoformat()} to {self.last.isoformat()})"
        )

    def is_banking_day(self, d: date) -> bool:
        """True on a weekday that is not a closure."""
        self._check(d)
        return d.weekday() < 5 and d not in self._year(d.year).closed

    def add_banking_days(self, d: date, n: int) -> date:
        """The ``n``-th banking day after ``d`` (before it when ``n`` is negative).

        Days are counted strictly after (before) ``d``, so from a non-banking day ``+1`` is the
        next banking day and ``-1`` the previous one. ``n == 0`` returns ``d`` unchanged, even on
        a closed day.
        """
        self._check(d)
        if n == 0:
            return d
        year = d.year
        if n > 0:
            index = self._on_or_before(d) - 1 + n  # in this year's list of banking days
            while True:
                banking = self._year(year).banking
                if index < len(banking):
                    return banking[index]
                index -= len(banking)
                year += 1
                if year > self._last.year:
                    raise self._leaves(d, n)
        is_banking = d.weekday() < 5 and d not in self._year(year).closed
        index = self._on_or_before(d) - is_banking + n  # banking days strictly before d, + n
        while index < 0:
            year -= 1
            if year < self._first.year:
                raise self._leaves(d, n)
            index += len(self._year(year).banking)
        return self._year(year).banking[index]

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
        self._check(start)
        self._check(end)
        if end < start:
            return -self.banking_days_between(end, start)
        count = self._on_or_before(end) - self._on_or_before(start)
        for year in range(start.year, end.year):
            count += len(self._year(year).banking)
        return count

    def closures(self, year: int) -> list[date]:
        """The weekday closures of ``year``, in date order (weekends are not listed)."""
        if not self._first.year <= year <= self._last.year:
            return []
        return sorted(self._year(year).closed)

    def closure_name(self, d: date) -> str:
        """The holiday behind a closure (``""`` for an open day or a plain weekend)."""
        if not self._first <= d <= self._last or d not in self._year(d.year).closed:
            return ""
        return self._names.get(d, "")


def _fed_holidays(year: int) -> dict[date, str]:
    import holidays  # a large package: imported when a date is first asked about

    return dict(holidays.financial_holidays("FED", years=year).items())


FED = BankingCalendar(
    "FED", first=date(FIRST_YEAR, 1, 1), last=date(LAST_YEAR, 12, 31), holidays_of=_fed_holidays
)
