from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from calendar_rules.calendars import FED, BankingCalendar, CalendarRangeError

# network_rules.md §4.2: the 39 weekday closures of the Reserve Banks, 2025-2028 [S-FRB-K8].
FED_CLOSURES = {
    2025: [
        "2025-01-01",
        "2025-01-20",
        "2025-02-17",
        "2025-05-26",
        "2025-06-19",
        "2025-07-04",
        "2025-09-01",
        "2025-10-13",
        "2025-11-11",
        "2025-11-27",
        "2025-12-25",
    ],
    2026: [
        "2026-01-01",
        "2026-01-19",
        "2026-02-16",
        "2026-05-25",
        "2026-06-19",
        "2026-09-07",
        "2026-10-12",
        "2026-11-11",
        "2026-11-26",
        "2026-12-25",
    ],
    2027: [
        "2027-01-01",
        "2027-01-18",
        "2027-02-15",
        "2027-05-31",
        "2027-07-05",
        "2027-09-06",
        "2027-10-11",
        "2027-11-11",
        "2027-11-25",
    ],
    2028: [
        "2028-01-17",
        "2028-02-21",
        "2028-05-29",
        "2028-06-19",
        "2028-07-04",
        "2028-09-04",
        "2028-10-09",
        "2028-11-23",
        "2028-12-25",
    ],
}
ALL_CLOSURES = [date.fromisoformat(d) for days in FED_CLOSURES.values() for d in days]
# Saturday holidays: the Board closes the Friday before, the Reserve Banks stay open.
BOARD_ONLY_FRIDAYS = ["2026-07-03", "2027-06-18", "2027-12-24", "2027-12-31", "2028-11-10"]
days_2000_2090 = st.dates(min_value=date(2000, 1, 1), max_value=date(2090, 12, 31))


def test_published_closures_number_39():
    assert len(ALL_CLOSURES) == 39


@pytest.mark.parametrize("day", ALL_CLOSURES, ids=str)
def test_published_closure_is_not_a_banking_day(day):
    assert not FED.is_banking_day(day)


@pytest.mark.parametrize("year", sorted(FED_CLOSURES))
def test_closures_of_year_match_the_published_list(year):
    assert [d.isoformat() for d in FED.closures(year)] == FED_CLOSURES[year]


@pytest.mark.parametrize("day", BOARD_ONLY_FRIDAYS)
def test_friday_before_saturday_holiday_is_a_banking_day(day):
    assert FED.is_banking_day(date.fromisoformat(day))


def test_sunday_holiday_closes_the_monday():
    assert not FED.is_banking_day(date(2027, 7, 5))


def test_national_day_of_mourning_is_a_banking_day():
    # 2025-01-09 (President Carter): Fed offices closed, systems open [S-ABA-CARTER].
    assert FED.is_banking_day(date(2025, 1, 9))


def test_good_friday_is_a_banking_day():
    assert FED.is_banking_day(date(2025, 4, 18))


def test_weekend_is_not_a_banking_day():
    assert not FED.is_banking_day(date(2026, 3, 7))


def test_ordinary_weekday_is_a_banking_day():
    assert FED.is_banking_day(date(2026, 3, 4))


def test_every_weekday_not_listed_is_a_banking_day_2025_to_2028():
    closed = set(ALL_CLOSURES)
    day = date(2025, 1, 1)
    mismatches = []
    while day <= date(2028, 12, 31):
        expected = day.weekday() < 5 and day not in closed
        if FED.is_banking_day(day) != expected:
            mismatches.append(day)
        day += timedelta(1)
    assert mismatches == []


def test_closure_names_the_holiday():
    assert FED.closure_name(date(2027, 7, 5)) == "Independence Day (observed)"


def test_closure_name_is_empty_for_an_open_day():
    assert FED.closure_name(date(2026, 7, 3)) == ""


@pytest.mark.parametrize(
    ("start", "n", "expected"),
    [
        ("2026-03-03", 2, "2026-03-05"),  # plain week
        ("2026-03-06", 1, "2026-03-09"),  # Friday to Monday
        ("2026-01-16", 1, "2026-01-20"),  # over MLK Monday
        ("2026-06-18", 1, "2026-06-22"),  # over Juneteenth Friday
        ("2026-07-02", 1, "2026-07-03"),  # Saturday holiday: Friday open
        ("2027-07-02", 1, "2027-07-06"),  # Sunday holiday: Monday closed
        ("2025-12-31", 1, "2026-01-02"),  # year end, New Year's Day
        ("2027-12-30", 2, "2028-01-03"),  # 2027-12-31 open (Saturday New Year)
        ("2028-02-28", 1, "2028-02-29"),  # leap day is a Tuesday
        ("2026-03-07", 1, "2026-03-09"),  # from a Saturday: next banking day
        ("2026-03-09", -1, "2026-03-06"),  # back over a weekend
        ("2026-01-20", -1, "2026-01-16"),  # back over MLK Monday
        ("2026-03-08", -1, "2026-03-06"),  # from a Sunday: previous banking day
        ("2026-03-07", 0, "2026-03-07"),  # zero days: unchanged
    ],
)
def test_add_banking_days(start, n, expected):
    assert FED.add_banking_days(date.fromisoformat(start), n) == date.fromisoformat(expected)


def test_next_banking_day_is_strictly_after():
    assert FED.next_banking_day(date(2026, 3, 4)) == date(2026, 3, 5)


def test_previous_banking_day_is_strictly_before():
    assert FED.previous_banking_day(date(2026, 11, 27)) == date(2026, 11, 25)


def test_on_or_after_keeps_a_banking_day():
    assert FED.on_or_after(date(2026, 3, 4)) == date(2026, 3, 4)


def test_on_or_after_moves_a_holiday_forward():
    assert FED.on_or_after(date(2026, 12, 25)) == date(2026, 12, 28)


def test_banking_days_between_counts_after_start_up_to_end():
    assert FED.banking_days_between(date(2026, 11, 23), date(2026, 12, 1)) == 5


def test_banking_days_between_is_negative_backwards():
    assert FED.banking_days_between(date(2026, 12, 1), date(2026, 11, 23)) == -5


def test_date_before_the_calendar_raises():
    with pytest.raises(CalendarRangeError, match="outside the FED calendar"):
        FED.is_banking_day(date(1998, 12, 31))


def test_counting_past_the_calendar_end_raises():
    with pytest.raises(CalendarRangeError, match="leaves the FED calendar"):
        FED.add_banking_days(date(2100, 12, 30), 5)


def test_calendar_range_error_is_a_value_error():
    assert issubclass(CalendarRangeError, ValueError)


def test_custom_calendar_uses_its_own_closures():
    cal = BankingCalendar(
        "T", first=date(2026, 1, 1), last=date(2026, 12, 31), closed=[date(2026, 3, 4)]
    )
    assert cal.add_banking_days(date(2026, 3, 3), 1) == date(2026, 3, 5)


@given(days_2000_2090, st.integers(min_value=1, max_value=400))
def test_adding_banking_days_lands_on_a_banking_day(day, n):
    assert FED.is_banking_day(FED.add_banking_days(day, n))


# 400 banking days back from 2001 stays inside the calendar (it starts 1999-01-01).
@given(
    st.dates(min_value=date(2001, 1, 1), max_value=date(2090, 12, 31)),
    st.integers(min_value=-400, max_value=-1),
)
def test_subtracting_banking_days_lands_on_a_banking_day(day, n):
    assert FED.is_banking_day(FED.add_banking_days(day, n))


@given(days_2000_2090, st.integers(min_value=0, max_value=400), st.integers(0, 30))
def test_more_banking_days_never_give_an_earlier_date(day, n, extra):
    assert FED.add_banking_days(day, n + extra) >= FED.add_banking_days(day, n)


@given(days_2000_2090, st.integers(min_value=1, max_value=400))
def test_add_banking_days_skips_exactly_n_banking_days(day, n):
    assert FED.banking_days_between(day, FED.add_banking_days(day, n)) == n


@given(days_2000_2090, st.integers(min_value=1, max_value=400))
def test_adding_then_subtracting_returns_to_a_banking_day(day, n):
    start = FED.on_or_after(day)
    assert FED.add_banking_days(FED.add_banking_days(start, n), -n) == start


@given(days_2000_2090)
def test_is_banking_day_agrees_with_the_holidays_package(day):
    import holidays

    fed = holidays.financial_holidays("FED", years=day.year)
    assert FED.is_banking_day(day) == (day.weekday() < 5 and day not in fed)


def test_a_calendar_builds_only_the_years_asked_about():
    asked = []

    def holidays_of(year):
        asked.append(year)
        return {date(year, 3, 4): "Test day"}

    cal = BankingCalendar(
        "T", first=date(1999, 1, 1), last=date(2100, 12, 31), holidays_of=holidays_of
    )
    assert asked == []
    assert cal.add_banking_days(date(2026, 3, 3), 1) == date(2026, 3, 5)
    assert cal.banking_days_between(date(2026, 12, 30), date(2027, 1, 4)) == 3
    assert cal.closure_name(date(2027, 3, 4)) == "Test day"
    assert sorted(asked) == [2026, 2027]


def test_importing_the_calendars_does_not_build_the_fed_calendar():
    import subprocess
    import sys

    probe = (
        "import sys, calendar_rules.calendars as c; "
        "print(len(c.FED._years), 'holidays' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["0", "False"]
