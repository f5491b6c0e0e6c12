"""The deadline feed as iCalendar (RFC 5545), written with the ``icalendar`` library: all-day
events only. Pure: it takes the events and the stamp time; no clock, no database. The library
escapes text values, folds content lines at 75 octets and ends lines with CRLF."""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import icalendar

PRODID = "-//Astra Ops//Dispute deadlines//EN"


@dataclass(frozen=True, slots=True)
class AllDayEvent:
    uid: str
    day: date
    summary: str
    description: str = ""
    url: str = ""
    last_modified: datetime | None = None
    sequence: int = 0
    categories: tuple[str, ...] = ()


def _event(event: AllDayEvent, stamp: datetime) -> icalendar.Event:
    out = icalendar.Event()
    out.add("uid", event.uid)
    out.add("dtstamp", stamp)
    out.add("dtstart", event.day)
    if event.day < date.max:  # without DTEND an all-day event lasts its one day (§3.6.1)
        out.add("dtend", event.day + timedelta(days=1))
    out.add("summary", event.summary)
    if event.description:
        out.add("description", event.description)
    if event.url:
        out.add("url", event.url)
    if event.categories:
        out.add("categories", list(event.categories))
    if event.last_modified is not None:
        out.add("last-modified", event.last_modified.astimezone(UTC))
    out.add("sequence", event.sequence)
    out.add("transp", "TRANSPARENT")
    return out


def calendar(
    events: Iterable[AllDayEvent], *, name: str, description: str = "", stamp: datetime
) -> str:
    """The whole VCALENDAR as text, CRLF line endings, every line folded."""
    stamp = stamp.astimezone(UTC)
    cal = icalendar.Calendar()
    cal.add("version", "2.0")
    cal.add("prodid", PRODID)
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    cal.add("x-wr-calname", name)
    cal.add("refresh-interval", timedelta(hours=1), parameters={"VALUE": "DURATION"})
    cal.add("x-published-ttl", "PT1H")
    if description:
        cal.add("x-wr-caldesc", description)
    for event in events:
        cal.add_component(_event(event, stamp))
    return cal.to_ical().decode()
