"""The iCalendar writer (RFC 5545): escaping, folding, all-day events. Pure: no database."""

from datetime import UTC, date, datetime

import pytest

from disputes import ical

STAMP = datetime(2026, 11, 24, 15, 30, 5, tzinfo=UTC)


def unfold(text: str) -> list[str]:
    return text.replace("\r\n ", "").split("\r\n")


def feed(**event) -> str:
    event = {"uid": "u", "day": date(2026, 1, 2), "summary": "s", **event}
    return ical.calendar([ical.AllDayEvent(**event)], name="n", stamp=STAMP)


@pytest.mark.parametrize(
    ("raw", "escaped"),
    [
        ("Acme, Inc.", "Acme\\, Inc."),
        ("a;b", "a\\;b"),
        ("back\\slash", "back\\\\slash"),
        ("two\nlines", "two\\nlines"),
        ("plain: colon", "plain: colon"),
    ],
)
def test_text_values_are_escaped(raw, escaped):
    assert f"SUMMARY:{escaped}" in unfold(feed(summary=raw))


def test_long_lines_fold_at_75_octets_with_a_leading_space():
    text = feed(description="x" * 200)
    parts = text.split("\r\n")
    assert all(len(part.encode()) <= 75 for part in parts)
    assert "DESCRIPTION:" + "x" * 200 in unfold(text)


def test_folding_never_splits_a_multibyte_character():
    text = feed(summary="€" * 60)  # 3 octets each
    for part in text.split("\r\n"):
        assert len(part.encode()) <= 75
        part.encode().decode()  # each physical line is valid UTF-8 by itself
    assert "SUMMARY:" + "€" * 60 in unfold(text)


def test_an_all_day_event_spans_one_date():
    event = ical.AllDayEvent(uid="dispute-1-internal@ops", day=date(2026, 12, 31), summary="S")
    lines = unfold(ical.calendar([event], name="Cal", stamp=STAMP))
    assert "DTSTART;VALUE=DATE:20261231" in lines
    assert "DTEND;VALUE=DATE:20270101" in lines
    assert "DTSTAMP:20261124T153005Z" in lines
    assert "UID:dispute-1-internal@ops" in lines


def test_the_calendar_is_wrapped_with_version_and_prodid_and_ends_with_crlf():
    text = ical.calendar([], name="Astra Ops: my disputes", stamp=STAMP)
    lines = unfold(text)
    assert lines[0] == "BEGIN:VCALENDAR"
    assert "VERSION:2.0" in lines and f"PRODID:{ical.PRODID}" in lines
    assert lines[-2:] == ["END:VCALENDAR", ""]
    assert text.endswith("\r\n")
    assert "\n" not in text.replace("\r\n", "")


def test_summary_and_description_are_escaped_inside_the_event():
    event = ical.AllDayEvent(
        uid="u",
        day=date(2026, 1, 2),
        summary="Internal due: Visa 13.1 V1 $125.00 Acme, Inc; East",
        description="Why: 30 days\nhttps://ops.example/disputes/1/",
        url="https://ops.example/disputes/1/",
    )
    lines = unfold(ical.calendar([event], name="n", stamp=STAMP))
    assert "SUMMARY:Internal due: Visa 13.1 V1 $125.00 Acme\\, Inc\\; East" in lines
    assert "DESCRIPTION:Why: 30 days\\nhttps://ops.example/disputes/1/" in lines
    assert "URL:https://ops.example/disputes/1/" in lines


def test_last_modified_is_written_in_utc():
    moment = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
    event = ical.AllDayEvent(uid="u", day=date(2026, 1, 2), summary="s", last_modified=moment,
                             sequence=3)  # fmt: skip
    lines = unfold(ical.calendar([event], name="n", stamp=STAMP))
    assert "LAST-MODIFIED:20261124T100000Z" in lines
    assert "SEQUENCE:3" in lines
