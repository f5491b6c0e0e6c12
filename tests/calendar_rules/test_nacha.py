from datetime import date

import pytest

from calendar_rules import nacha, rules

D = date.fromisoformat


def test_two_day_return_on_the_deadline_is_timely():
    result = nacha.check_return_timeliness(
        "R01", original_settlement=D("2026-03-03"), return_settlement=D("2026-03-05")
    )
    assert (result.status, result.return_due) == ("timely", D("2026-03-05"))


def test_two_day_return_a_day_late_is_untimely():
    result = nacha.check_return_timeliness(
        "R01", original_settlement=D("2026-03-03"), return_settlement=D("2026-03-06")
    )
    assert result.untimely


def test_untimely_return_can_be_dishonored_with_r68():
    result = nacha.check_return_timeliness(
        "R01", original_settlement=D("2026-03-03"), return_settlement=D("2026-03-06")
    )
    assert result.dishonor_code == "R68"


def test_untimely_return_dishonor_deadline_is_5_banking_days_after_its_settlement():
    # Return settled Fri 2026-11-20: Mon 23, Tue 24, Wed 25, (Thanksgiving), Fri 27, Mon 30.
    result = nacha.check_return_timeliness(
        "R10", original_settlement=D("2026-09-01"), return_settlement=D("2026-11-20")
    )
    assert result.dishonor_due == D("2026-11-30")


def test_extended_return_on_the_banking_day_after_day_60_is_timely():
    result = nacha.check_return_timeliness(
        "R10", original_settlement=D("2026-03-03"), return_settlement=D("2026-05-04")
    )
    assert result.timely


def test_extended_return_after_that_day_is_untimely():
    result = nacha.check_return_timeliness(
        "R10", original_settlement=D("2026-03-03"), return_settlement=D("2026-05-05")
    )
    assert (result.status, result.dishonor_due) == ("untimely", D("2026-05-12"))


def test_made_available_date_wins_over_the_settlement_date():
    result = nacha.check_return_timeliness(
        "R01",
        original_settlement=D("2026-03-03"),
        return_settlement=D("2026-03-06"),
        made_available=D("2026-03-05"),
    )
    assert result.timely


def test_unauthorized_corporate_return_has_only_two_banking_days():
    result = nacha.check_return_timeliness(
        "R29", original_settlement=D("2026-03-03"), return_settlement=D("2026-03-10")
    )
    assert (result.status, result.return_due) == ("untimely", D("2026-03-05"))


def test_timely_return_has_nothing_to_dishonor():
    result = nacha.check_return_timeliness(
        "R01", original_settlement=D("2026-03-03"), return_settlement=D("2026-03-04")
    )
    assert (result.dishonor_code, result.dishonor_due) == (None, None)


def test_untimely_explanation_names_the_dishonor_deadline():
    result = nacha.check_return_timeliness(
        "R10", original_settlement=D("2026-03-03"), return_settlement=D("2026-05-05")
    )
    assert "dishonor it with R68 by 2026-05-12" in result.explanation


@pytest.mark.parametrize("code", ["R06", "R31", "R23"])
def test_returns_without_a_checkable_window_are_undetermined(code):
    result = nacha.check_return_timeliness(
        code, original_settlement=D("2026-03-03"), return_settlement=D("2026-06-01")
    )
    assert (result.status, result.dishonor_code) == ("undetermined", None)


def test_r90_return_timeliness_is_undetermined_and_says_why():
    result = nacha.check_return_timeliness(
        "R90", original_settlement=D("2028-04-03"), return_settlement=D("2028-04-05")
    )
    assert result.status == "undetermined" and "not yet published" in result.explanation


def test_r90_before_its_effective_date_is_refused():
    with pytest.raises(rules.CodeNotInForce):
        nacha.check_return_timeliness(
            "R90", original_settlement=D("2028-03-01"), return_settlement=D("2028-03-03")
        )


def test_dishonored_code_is_not_a_return_of_an_entry():
    with pytest.raises(rules.StageNotApplicable, match="R68 is not a return of an original entry"):
        nacha.check_return_timeliness(
            "R68", original_settlement=D("2026-03-03"), return_settlement=D("2026-03-05")
        )


def test_dishonor_deadline_skips_christmas():
    assert nacha.dishonor_deadline(D("2026-12-22")) == D("2026-12-30")


# --- reinitiation ---------------------------------------------------------------------------


@pytest.mark.parametrize("code", ["R01", "R09"])
def test_first_reinitiation_is_allowed(code):
    allowed, _ = nacha.reinitiation_allowed(code, D("2026-03-03"), D("2026-03-10"), 0)
    assert allowed


def test_second_reinitiation_is_allowed():
    assert nacha.reinitiation_allowed("R01", D("2026-03-03"), D("2026-03-20"), 1).allowed


def test_third_reinitiation_is_refused():
    allowed, reason = nacha.reinitiation_allowed("R01", D("2026-03-03"), D("2026-03-30"), 2)
    assert not allowed and "at most 2 times" in reason


def test_reinitiation_on_day_180_is_allowed():
    assert nacha.reinitiation_allowed("R09", D("2026-03-03"), D("2026-08-30"), 0).allowed


def test_reinitiation_on_day_181_is_refused():
    allowed, reason = nacha.reinitiation_allowed("R09", D("2026-03-03"), D("2026-08-31"), 0)
    assert not allowed and "last day was 2026-08-30" in reason


def test_reinitiation_before_the_original_settlement_is_refused():
    assert not nacha.reinitiation_allowed("R01", D("2026-03-03"), D("2026-03-02"), 0).allowed


def test_reinitiation_window_spans_a_leap_day():
    # 2028-01-01 + 180 days = 2028-06-29 in a leap year (06-30 otherwise).
    assert nacha.reinitiation_deadline(D("2028-01-01")) == D("2028-06-29")


@pytest.mark.parametrize(
    ("code", "reason"),
    [
        ("R10", "unauthorized return"),
        ("R08", "only after the Receiver authorizes"),
        ("R11", "within 60 days"),
        ("R02", "after the cause of the return is corrected"),
        ("R68", "not a return of an original entry"),
    ],
)
def test_other_codes_are_not_reinitiable_and_say_why(code, reason):
    allowed, why = nacha.reinitiation_allowed(code, D("2026-03-03"), D("2026-03-10"), 0)
    assert not allowed and reason in why


def test_negative_reinitiation_count_is_an_error():
    with pytest.raises(ValueError, match="count"):
        nacha.reinitiation_allowed("R01", D("2026-03-03"), D("2026-03-10"), -1)


def test_reinitiation_result_unpacks_as_a_pair():
    allowed, reason = nacha.reinitiation_allowed("R01", D("2026-03-03"), D("2026-03-10"), 0)
    assert (allowed, reason.startswith("R01: reinitiation 1 of 2")) == (True, True)


# --- return classes and thresholds ----------------------------------------------------------


def test_unauthorized_codes():
    assert nacha.unauthorized_codes() == ("R05", "R07", "R10", "R11", "R29", "R51")


def test_r11_was_not_unauthorized_before_april_2021():
    assert "R11" not in nacha.unauthorized_codes(on=D("2021-03-31"))


def test_administrative_codes():
    assert nacha.administrative_codes() == ("R02", "R03", "R04")


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("R01", "other"),
        ("R03", "administrative"),
        ("R10", "unauthorized"),
        ("R68", "dishonored"),
        ("R73", "contested"),
    ],
)
def test_return_class(code, expected):
    assert nacha.return_class(code) == expected


@pytest.mark.parametrize(
    ("name", "pct"), [("unauthorized", 0.5), ("administrative", 3.0), ("overall", 15.0)]
)
def test_rate_thresholds_come_from_the_table(name, pct):
    assert nacha.rate_thresholds()[name].threshold_pct == pct


def test_overall_threshold_counts_every_code_and_excludes_rck():
    overall = nacha.rate_thresholds()["overall"]
    assert (overall.return_class, overall.codes, overall.excluded_sec_codes) == (
        "any",
        (),
        ("RCK",),
    )


def test_unauthorized_threshold_lists_its_codes():
    assert nacha.rate_thresholds()["unauthorized"].codes == nacha.unauthorized_codes()
