import json
from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from calendar_rules import deadlines, rules
from calendar_rules.calendars import FED

D = date.fromisoformat

# (network, code, stage, anchor, network_due, internal_due with the default 2-day buffer).
# Dates were counted by hand; the comment says what each row exercises.
CASES = [
    # --- Visa: calendar days, anchor is day 0, never rolled ---------------------------------
    ("visa", "13.1", "dispute_response", "2026-11-02", "2026-12-02", "2026-11-30"),  # brief
    ("visa", "10.4", "dispute", "2026-01-10", "2026-05-10", "2026-05-07"),  # due on a Sunday
    ("visa", "11.2", "dispute", "2027-12-20", "2028-03-04", "2028-03-02"),  # 75 over 2028-02-29
    ("visa", "12.1", "dispute", "2026-10-31", "2027-02-28", "2027-02-25"),  # month ends
    ("visa", "12.7", "dispute", "2026-03-03", "2026-05-17", "2026-05-14"),  # open: 75 days
    ("visa", "13.8", "dispute", "2026-02-01", "2026-06-01", "2026-05-28"),  # from the OCT date
    ("visa", "12.2", "dispute_response", "2026-12-15", "2027-01-14", "2027-01-12"),  # year end
    ("visa", "13.3", "dispute_response", "2025-12-21", "2026-01-20", "2026-01-15"),  # MLK Monday
    ("visa", "13.4", "dispute_response", "2026-06-06", "2026-07-06", "2026-07-02"),  # Sat holiday
    ("visa", "13.5", "dispute_response", "2027-06-06", "2027-07-06", "2027-07-01"),  # Sun holiday
    ("visa", "13.2", "pre_arbitration", "2028-02-10", "2028-03-11", "2028-03-09"),  # leap Feb
    ("visa", "13.6", "pre_arbitration_response", "2026-01-31", "2026-03-02", "2026-02-26"),
    ("visa", "12.3", "arbitration", "2026-12-28", "2027-01-07", "2027-01-05"),  # year end
    ("visa", "10.4", "pre_arbitration", "2026-06-01", "2026-07-01", "2026-06-29"),  # allocation
    ("visa", "11.3", "pre_arbitration_response", "2026-06-01", "2026-07-01", "2026-06-29"),
    ("visa", "10.1", "arbitration", "2026-07-01", "2026-07-11", "2026-07-09"),  # due Saturday
    # --- Mastercard: calendar days from the CSBD --------------------------------------------
    ("mastercard", "4837", "chargeback", "2026-03-03", "2026-07-01", "2026-06-29"),
    ("mastercard", "4808", "chargeback", "2026-03-03", "2026-06-01", "2026-05-28"),  # 90, GK
    ("mastercard", "4842", "chargeback", "2026-03-03", "2026-06-01", "2026-05-28"),  # → 4834
    ("mastercard", "4855", "chargeback", "2026-03-03", "2026-07-01", "2026-06-29"),  # → 4853
    ("mastercard", "4834", "second_presentment", "2026-12-20", "2027-02-03", "2027-02-01"),
    ("mastercard", "4853", "pre_arbitration", "2028-01-20", "2028-03-05", "2028-03-02"),  # leap
    ("mastercard", "4870", "pre_arbitration_response", "2026-02-01", "2026-03-03", "2026-02-27"),
    ("mastercard", "4871", "arbitration", "2026-11-20", "2027-01-04", "2026-12-30"),  # year end
    # --- NACHA: Fed banking days ------------------------------------------------------------
    ("nacha", "R01", "return", "2026-03-03", "2026-03-05", "2026-03-03"),  # brief: Tue → Thu
    ("nacha", "R02", "return", "2026-01-16", "2026-01-21", "2026-01-16"),  # MLK Monday
    ("nacha", "R03", "return", "2026-06-18", "2026-06-23", "2026-06-18"),  # Juneteenth Friday
    ("nacha", "R04", "return", "2026-07-02", "2026-07-06", "2026-07-02"),  # Fri 07-03 open
    ("nacha", "R09", "return", "2027-07-02", "2027-07-07", "2027-07-02"),  # Mon 07-05 closed
    ("nacha", "R08", "return", "2025-12-31", "2026-01-05", "2025-12-31"),  # New Year's Day
    ("nacha", "R12", "return", "2027-12-30", "2028-01-03", "2027-12-30"),  # Fri 12-31 open
    ("nacha", "R24", "return", "2026-12-23", "2026-12-28", "2026-12-23"),  # Christmas
    ("nacha", "R29", "return", "2026-11-25", "2026-11-30", "2026-11-25"),  # Thanksgiving
    ("nacha", "R20", "return", "2028-02-28", "2028-03-01", "2028-02-28"),  # leap day
    ("nacha", "R10", "return", "2026-03-03", "2026-05-04", "2026-04-30"),  # day 60 = Saturday
    ("nacha", "R07", "return", "2027-12-31", "2028-03-01", "2028-02-28"),  # day 60 = 02-29
    ("nacha", "R05", "return", "2026-07-07", "2026-09-08", "2026-09-03"),  # then Labor Day
    ("nacha", "R11", "return", "2027-05-05", "2027-07-06", "2027-07-01"),  # day 60 = Sun 07-04
    ("nacha", "R01", "dishonor", "2026-11-23", "2026-12-01", "2026-11-27"),  # Thanksgiving
    ("nacha", "R10", "dishonor", "2026-12-22", "2026-12-30", "2026-12-28"),  # Christmas
    ("nacha", "R68", "dishonor", "2026-05-05", "2026-05-12", "2026-05-08"),
    ("nacha", "R01", "contest", "2026-02-13", "2026-02-18", "2026-02-13"),  # Presidents Day
    ("nacha", "R10", "authorization_proof", "2026-10-05", "2026-10-20", "2026-10-16"),  # Columbus
    ("nacha", "R10", "wsud_copy", "2026-11-06", "2026-11-23", "2026-11-19"),  # Veterans Day
    ("nacha", "R01", "reinitiation", "2026-03-03", "2026-08-30", "2026-08-27"),  # 180 cd, Sunday
    ("nacha", "R11", "reinitiation", "2026-05-04", "2026-07-03", "2026-07-01"),  # 60 cd correction
    ("nacha", "R06", "r06_response", "2025-12-17", "2026-01-02", "2025-12-30"),  # two holidays
]


@pytest.mark.parametrize(
    ("network", "code", "stage", "anchor", "network_due", "internal_due"),
    CASES,
    ids=[f"{c[0]}-{c[1]}-{c[2]}-{c[3]}" for c in CASES],
)
def test_table_driven_deadline(network, code, stage, anchor, network_due, internal_due):
    d = deadlines.compute(network=network, code=code, stage=stage, anchor=D(anchor))
    assert (d.network_due, d.internal_due) == (D(network_due), D(internal_due))


def test_explanation_reads_as_one_sentence():
    d = deadlines.compute(
        network="visa", code="13.1", stage="dispute_response", anchor=D("2026-11-02")
    )
    assert d.explanation == (
        "Visa 13.1 dispute response: 30 calendar days from the dispute processing date "
        "2026-11-02 → 2026-12-02; internal buffer 2 business days → 2026-11-30"
    )


def test_nacha_return_explanation_says_opening_of_business():
    d = deadlines.compute(network="nacha", code="R01", stage="return", anchor=D("2026-03-03"))
    assert "2026-03-05 (available to the ODFI by opening of business)" in d.explanation


def test_extended_return_explanation_shows_the_roll():
    d = deadlines.compute(network="nacha", code="R10", stage="return", anchor=D("2026-03-03"))
    assert "→ 2026-05-02, then the next banking day → 2026-05-04" in d.explanation


def test_legacy_code_explanation_names_the_current_code():
    d = deadlines.compute(
        network="mastercard", code="4855", stage="chargeback", anchor=D("2026-03-03")
    )
    assert d.explanation.startswith("Mastercard 4855 (legacy, uses 4853) chargeback:")


def test_legacy_code_deadline_records_the_current_rule():
    d = deadlines.compute(
        network="mastercard", code="4855", stage="chargeback", anchor=D("2026-03-03")
    )
    assert (d.code, d.rule_key) == ("4855", "mastercard:4853:chargeback")


def test_explanation_names_the_rule_and_dates_not_the_tables_doubt():
    d = deadlines.compute(
        network="mastercard", code="4853", stage="arbitration", anchor=D("2026-03-03")
    )
    assert d.confidence == "open"
    assert d.explanation == (
        "Mastercard 4853 arbitration: 45 calendar days from the pre-arbitration response date "
        "2026-03-03 → 2026-04-17; internal buffer 2 business days → 2026-04-15"
    )


def test_a_window_set_for_astra_replaces_the_tables_and_says_so():
    d = deadlines.compute(
        network="mastercard",
        code="4853",
        stage="arbitration",
        anchor=D("2026-03-03"),
        window_days=30,
    )
    assert (d.network_due, d.days, d.overridden) == (D("2026-04-02"), 30, True)
    assert "30 calendar days (window set for Astra)" in d.explanation


def test_a_window_set_for_astra_makes_an_unpublished_window_countable():
    d = deadlines.compute(
        network="nacha", code="R90", stage="return", anchor=D("2028-03-17"), window_days=2
    )
    assert d.network_due == D("2028-03-21")


def test_deadline_carries_rule_metadata():
    d = deadlines.compute(
        network="visa", code="13.1", stage="dispute_response", anchor=D("2026-11-02")
    )
    assert (d.rule_key, d.anchor_event, d.actor, d.day_unit, d.days, d.rules_version) == (
        "visa:13.1:dispute_response",
        "dispute_processing_date",
        "acquirer",
        "calendar",
        30,
        rules.rules_version(),
    )


def test_deadline_is_frozen():
    d = deadlines.compute(network="visa", code="13.1", stage="dispute", anchor=D("2026-11-02"))
    with pytest.raises(AttributeError):
        d.network_due = D("2030-01-01")


def test_as_dict_is_json_ready():
    d = deadlines.compute(network="nacha", code="R10", stage="return", anchor=D("2026-03-03"))
    payload = json.loads(json.dumps(d.as_dict()))
    assert (payload["network_due"], payload["internal_due"], payload["explanation"]) == (
        "2026-05-04",
        "2026-04-30",
        d.explanation,
    )


# --- alternative anchors, caps and waits ----------------------------------------------------


def test_visa_13_1_without_expected_date_counts_from_tpd():
    d = deadlines.compute(network="visa", code="13.1", stage="dispute", anchor=D("2026-01-10"))
    assert d.network_due == D("2026-05-10")


def test_visa_13_1_without_expected_date_waits_15_days():
    d = deadlines.compute(network="visa", code="13.1", stage="dispute", anchor=D("2026-01-10"))
    assert d.earliest_filing_date == D("2026-01-25")


def test_visa_13_1_expected_date_extends_the_window():
    d = deadlines.compute(
        network="visa",
        code="13.1",
        stage="dispute",
        anchor=D("2026-01-10"),
        alt_date=D("2026-03-01"),
    )
    assert d.network_due == D("2026-06-29")


def test_visa_13_1_is_capped_at_540_days_from_tpd():
    d = deadlines.compute(
        network="visa",
        code="13.1",
        stage="dispute",
        anchor=D("2026-01-10"),
        alt_date=D("2027-06-01"),
    )
    assert d.network_due == D("2027-07-04")


def test_visa_13_1_cap_is_explained():
    d = deadlines.compute(
        network="visa",
        code="13.1",
        stage="dispute",
        anchor=D("2026-01-10"),
        alt_date=D("2027-06-01"),
    )
    assert (
        "the 540-day cap from the transaction processing date 2026-01-10 → 2027-07-04: "
        "2027-07-04" in d.explanation
    )


def test_visa_13_1_with_expected_date_has_no_wait():
    d = deadlines.compute(
        network="visa",
        code="13.1",
        stage="dispute",
        anchor=D("2026-01-10"),
        alt_date=D("2026-03-01"),
    )
    assert d.earliest_filing_date is None


def test_visa_13_6_waits_15_days_from_the_credit_receipt():
    d = deadlines.compute(
        network="visa",
        code="13.6",
        stage="dispute",
        anchor=D("2026-01-10"),
        alt_date=D("2026-03-01"),
    )
    assert (d.network_due, d.earliest_filing_date) == (D("2026-06-29"), D("2026-03-16"))


def test_mastercard_4853_without_delivery_date_waits_30_days():
    d = deadlines.compute(
        network="mastercard", code="4853", stage="chargeback", anchor=D("2026-03-03")
    )
    assert d.earliest_filing_date == D("2026-04-02")


def test_mastercard_4853_is_capped_at_540_days():
    d = deadlines.compute(
        network="mastercard",
        code="4853",
        stage="chargeback",
        anchor=D("2026-01-05"),
        alt_date=D("2027-05-01"),
    )
    assert d.network_due == D("2027-06-29")


def test_mastercard_legacy_4855_takes_the_4853_alternative_date():
    d = deadlines.compute(
        network="mastercard",
        code="4855",
        stage="chargeback",
        anchor=D("2026-01-05"),
        alt_date=D("2026-02-01"),
    )
    assert d.network_due == D("2026-06-01")


def test_no_wait_gives_no_earliest_filing_date():
    d = deadlines.compute(network="visa", code="10.4", stage="dispute", anchor=D("2026-01-10"))
    assert d.earliest_filing_date is None


def test_alt_date_for_a_rule_without_one_is_refused():
    with pytest.raises(rules.AltDateNotApplicable, match="takes no alternative date"):
        deadlines.compute(
            network="visa",
            code="10.4",
            stage="dispute",
            anchor=D("2026-01-10"),
            alt_date=D("2026-03-01"),
        )


# --- buffers --------------------------------------------------------------------------------


def test_buffer_override_for_the_stage():
    d = deadlines.compute(
        network="visa",
        code="13.1",
        stage="dispute_response",
        anchor=D("2026-11-02"),
        buffers={"dispute_response": 5},
    )
    assert d.internal_due == D("2026-11-24")  # back over Thanksgiving


def test_buffer_override_default_applies_to_other_stages():
    d = deadlines.compute(
        network="visa",
        code="13.1",
        stage="dispute_response",
        anchor=D("2026-11-02"),
        buffers={"default": 1},
    )
    assert d.internal_due == D("2026-12-01")


def test_zero_buffer_keeps_the_network_date():
    d = deadlines.compute(
        network="visa", code="10.4", stage="dispute", anchor=D("2026-01-10"), buffers={"default": 0}
    )
    assert d.internal_due == D("2026-05-10")


def test_zero_buffer_is_explained():
    d = deadlines.compute(
        network="visa", code="10.4", stage="dispute", anchor=D("2026-01-10"), buffers={"default": 0}
    )
    assert d.explanation.endswith("; no internal buffer")


def test_negative_buffer_is_refused():
    with pytest.raises(ValueError, match="buffer for dispute must be an integer >= 0"):
        deadlines.compute(
            network="visa",
            code="10.4",
            stage="dispute",
            anchor=D("2026-01-10"),
            buffers={"dispute": -1},
        )


def test_table_buffers_come_from_the_yaml(tmp_path):
    import shutil

    import yaml

    for name in ("visa.yaml", "mastercard.yaml", "nacha.yaml"):
        shutil.copy(rules.RULES_DIR / name, tmp_path / name)
    data = yaml.safe_load((tmp_path / "visa.yaml").read_text())
    data["buffers"]["dispute_response"] = 4
    (tmp_path / "visa.yaml").write_text(yaml.safe_dump(data, sort_keys=False))
    engine = deadlines.DeadlineEngine(rules.load_tables(tmp_path))
    d = engine.compute("visa", "13.1", "dispute_response", D("2026-11-02"))
    assert (d.buffer_days, d.internal_due) == (4, D("2026-11-25"))


# --- refusals -------------------------------------------------------------------------------


def test_stage_not_applicable_to_an_allocation_code():
    with pytest.raises(rules.StageNotApplicable, match=r"Visa 10.4 .*no dispute_response stage"):
        deadlines.compute(
            network="visa", code="10.4", stage="dispute_response", anchor=D("2026-01-10")
        )


def test_unknown_code_is_refused():
    with pytest.raises(rules.UnknownReasonCode):
        deadlines.compute(
            network="mastercard", code="4899", stage="chargeback", anchor=D("2026-01-10")
        )


def test_code_not_in_force_on_the_anchor_date():
    with pytest.raises(rules.CodeNotInForce, match="R90 is not in force on 2028-03-16"):
        deadlines.compute(network="nacha", code="R90", stage="return", anchor=D("2028-03-16"))


def test_r90_return_deadline_is_refused_with_a_clear_message():
    with pytest.raises(rules.WindowNotPublished, match=r"R90 .*not yet published"):
        deadlines.compute(network="nacha", code="R90", stage="return", anchor=D("2028-03-17"))


def test_r90_dishonor_window_is_computed():
    d = deadlines.compute(network="nacha", code="R90", stage="dishonor", anchor=D("2028-03-20"))
    assert d.network_due == D("2028-03-27")


def test_r06_return_has_no_time_frame():
    with pytest.raises(rules.WindowNotPublished, match="as agreed with the ODFI"):
        deadlines.compute(network="nacha", code="R06", stage="return", anchor=D("2026-01-10"))


def test_r06_response_rule_not_in_force_before_april_2025():
    with pytest.raises(rules.RuleNotInForce, match="in force from 2025-04-01"):
        deadlines.compute(network="nacha", code="R06", stage="r06_response", anchor=D("2025-03-31"))


def test_mastercard_regional_code_window_is_refused():
    with pytest.raises(rules.WindowNotPublished, match="4850"):
        deadlines.compute(
            network="mastercard", code="4850", stage="chargeback", anchor=D("2026-01-10")
        )


def test_wsud_copy_does_not_apply_to_r01():
    with pytest.raises(rules.StageNotApplicable):
        deadlines.compute(network="nacha", code="R01", stage="wsud_copy", anchor=D("2026-01-12"))


def test_enrollment_code_has_no_return_stage():
    with pytest.raises(rules.StageNotApplicable, match="its stages: none"):
        deadlines.compute(network="nacha", code="R41", stage="return", anchor=D("2026-01-12"))


@pytest.mark.parametrize("anchor", ["2021-03-31", "2021-04-01"])
def test_r11_keeps_the_extended_window_across_its_class_change(anchor):
    # Day 60 is Sun 2021-05-30 / Mon 2021-05-31 (Memorial Day): both are due Tue 2021-06-01.
    d = deadlines.compute(network="nacha", code="R11", stage="return", anchor=D(anchor))
    assert d.network_due == D("2021-06-01")


def test_names_are_normalized():
    d = deadlines.compute(network="NACHA", code="r01", stage="return", anchor=D("2026-03-03"))
    assert d.network_due == D("2026-03-05")


# --- properties -----------------------------------------------------------------------------

ENGINE = deadlines.engine()
KEYS = ENGINE.valid_keys()
BANKING_KEYS = [
    k
    for k in KEYS
    if rules.stage_rule(k[0], k[1], k[2]).day_unit == "banking"
    or rules.stage_rule(k[0], k[1], k[2]).roll
]
CALENDAR_KEYS = [
    k
    for k in KEYS
    if rules.stage_rule(k[0], k[1], k[2]).day_unit == "calendar"
    and not rules.stage_rule(k[0], k[1], k[2]).roll
]
CARD_KEYS = [k for k in KEYS if k[0] != "nacha"]


def _anchor(key, data):
    first = max(key[3], date(2000, 1, 1))
    last = min(key[4], date(2090, 12, 31))
    return data.draw(st.dates(min_value=first, max_value=last))


@given(st.data())
def test_banking_day_deadlines_never_land_on_a_closed_day(data):
    key = data.draw(st.sampled_from(BANKING_KEYS))
    d = ENGINE.compute(key[0], key[1], key[2], _anchor(key, data))
    assert FED.is_banking_day(d.network_due)


@given(st.data())
def test_calendar_day_deadlines_equal_anchor_plus_n(data):
    key = data.draw(st.sampled_from(CALENDAR_KEYS))
    anchor = _anchor(key, data)
    d = ENGINE.compute(key[0], key[1], key[2], anchor)
    assert d.network_due == anchor + timedelta(d.days)


@given(st.data())
def test_card_deadlines_are_never_rolled(data):
    key = data.draw(st.sampled_from(CARD_KEYS))
    anchor = _anchor(key, data)
    d = ENGINE.compute(key[0], key[1], key[2], anchor)
    assert d.network_due == anchor + timedelta(rules.stage_rule(*key[:3]).days)


@given(st.data(), st.integers(min_value=1, max_value=60))
def test_a_later_anchor_never_gives_an_earlier_deadline(data, shift):
    key = data.draw(st.sampled_from(KEYS))
    anchor = _anchor(key, data)
    later = anchor + timedelta(shift)
    if later > key[4]:
        later = anchor
    assert (
        ENGINE.compute(*key[:3], later).network_due >= ENGINE.compute(*key[:3], anchor).network_due
    )


@given(st.data())
def test_more_buffer_never_gives_a_later_internal_deadline(data):
    key = data.draw(st.sampled_from(KEYS))
    anchor = _anchor(key, data)
    buffer = data.draw(st.integers(min_value=0, max_value=20))
    less = ENGINE.compute(*key[:3], anchor, buffers={"default": buffer}).internal_due
    more = ENGINE.compute(*key[:3], anchor, buffers={"default": buffer + 1}).internal_due
    assert more <= less


@given(st.data())
def test_internal_deadline_is_a_banking_day_before_the_network_deadline(data):
    key = data.draw(st.sampled_from(KEYS))
    d = ENGINE.compute(*key[:3], _anchor(key, data))
    assert d.internal_due < d.network_due and FED.is_banking_day(d.internal_due)


@given(st.data(), st.integers(min_value=0, max_value=800))
def test_alternative_deadline_never_exceeds_the_cap(data, offset):
    key = data.draw(st.sampled_from([k for k in KEYS if k[5]]))
    anchor = _anchor(key, data)
    rule = rules.stage_rule(*key[:3])
    d = ENGINE.compute(*key[:3], anchor, alt_date=anchor + timedelta(offset))
    assert rule.cap_days is None or d.network_due <= anchor + timedelta(rule.cap_days)


@given(st.data())
def test_every_explanation_names_both_dates(data):
    key = data.draw(st.sampled_from(KEYS))
    d = ENGINE.compute(*key[:3], _anchor(key, data))
    assert str(d.network_due) in d.explanation and str(d.internal_due) in d.explanation
