"""A small iCalendar (RFC 5545) writer for the deadline feed: all-day events only.

Pure: it takes the events and the stamp time; no clock, no database. Text values are escaped
(RFC 5545 §3.3.11) and content lines folded at 75 octets (§3.1) without splitting a UTF-8
character; lines end with CRLF.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

PRODID = "-//Astra Ops//Dispute deadlines//EN"
MAX_LINE_OCTETS = 75


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


def escape_text(value: str) -> str:
    """A TEXT value: backslash, semicolon and comma escaped, newlines as ``\\n``."""
    return (
        value.replace("\\", "\\\\")
        .replace(";", "\\;")
        .replace(",", "\\,")
        .replace("\r\n", "\\n")
        .replace("\r", "\\n")
        .replace("\n", "\\n")
    )


def fold(line: str) -> str:
    """One content line folded into lines of at most 75 octets, continuations led by a space."""
    encoded = line.encode()
    if len(encoded) <= MAX_LINE_OCTETS:
        return line
    parts, current, size, limit = [], [], 0, MAX_LINE_OCTETS
    for char in line:
        width = len(char.encode())
        if size + width > limit:
            parts.append("".join(current))
            # Continuation lines start with a space, which counts towards their 75 octets.
            current, size, limit = [], 0, MAX_LINE_OCTETS - 1
        current.append(char)
        size += width
    parts.append("".join(current))
    return "\r\n ".join(parts)


def _utc_stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def _event_lines(event: AllDayEvent, stamp: str) -> list[str]:
    lines = [
        "BEGIN:VEVENT",
        f"UID:{escape_text(event.uid)}",
        f"DTSTAMP:{stamp}",
        f"DTSTART;VALUE=DATE:{event.day:%Y%m%d}",
        # An all-day event without DTEND lasts the one day (§3.6.1): the last date has no next.
        *(
            [f"DTEND;VALUE=DATE:{event.day + timedelta(days=1):%Y%m%d}"]
            if event.day < date.max
            else []
        ),
        f"SUMMARY:{escape_text(event.summary)}",
    ]
    if event.description:
        lines.append(f"DESCRIPTION:{escape_text(event.description)}")
    if event.url:
        lines.append(f"URL:{event.url}")
    if event.categories:
        lines.append("CATEGORIES:" + ",".join(escape_text(c) for c in event.categories))
    if event.last_modified is not None:
        lines.append(f"LAST-MODIFIED:{_utc_stamp(event.last_modified)}")
    lines += [f"SEQUENCE:{event.sequence}", "TRANSP:TRANSPARENT", "END:VEVENT"]
    return lines


def calendar(
    events: Iterable[AllDayEvent], *, name: str, description: str = "", stamp: datetime
) -> str:
    """The whole VCALENDAR as text, CRLF line endings, every line folded."""
    dtstamp = _utc_stamp(stamp)
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        f"PRODID:{PRODID}",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        f"X-WR-CALNAME:{escape_text(name)}",
        "REFRESH-INTERVAL;VALUE=DURATION:PT1H",
        "X-PUBLISHED-TTL:PT1H",
    ]
    if description:
        lines.append(f"X-WR-CALDESC:{escape_text(description)}")
    for event in events:
        lines += _event_lines(event, dtstamp)
    lines.append("END:VCALENDAR")
    return "".join(f"{fold(line)}\r\n" for line in lines)
