"""Whether a network processing date someone typed is plausible. Pure: dates in, words out.

A network event (a return, a pre-arbitration, our filing) happens on or after the transaction
it disputes, never after today, and inside the banking calendar the deadlines count on: a date
outside it could not be counted from (``calendar_rules.calendars.CalendarRangeError``).
"""

from datetime import date

from calendar_rules import calendars


def _day(d: date) -> str:
    return f"{d:%b} {d.day}, {d.year}"


def earliest_network_date(transaction_date: date) -> date:
    """The first date ``network_date_problem`` accepts for a dispute on this transaction."""
    return max(transaction_date, calendars.FED.first)


def network_date_problem(on: date, *, transaction_date: date | None, today: date) -> str | None:
    """Why ``on`` cannot be a network processing date of this dispute, or None when it can."""
    if on > today:
        return "The network processing date cannot be in the future."
    if transaction_date is not None and on < transaction_date:
        return (
            "The network processing date cannot be before the transaction "
            f"({_day(transaction_date)})."
        )
    first, last = calendars.FED.first, calendars.FED.last
    if not first <= on <= last:
        return (
            f"The network processing date must be between {_day(first)} and {_day(last)}, "
            "the dates the banking calendar covers."
        )
    return None
