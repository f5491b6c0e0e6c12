"""The NACHA parser: pure, every refusal names its line and field."""

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from disputes.intake import nacha
from tests.intake.fixtures import two_batches


def test_reads_batches_entries_and_addenda():
    parsed = nacha.parse(two_batches())
    assert [b.company_id for b in parsed.batches] == ["1234567890", "9876543210"]
    kinds = [(e.addenda.kind, e.addenda.code) for _, e in parsed.entries()]
    assert kinds == [("return", "R01"), ("return", "R29"), ("return", "R10"), ("change", "C01")]
    assert parsed.records % 10 == 0  # blocked with 9s


def test_reads_crlf_and_unblocked_files():
    crlf = nacha.parse(two_batches(newline="\r\n"))
    plain = nacha.parse(two_batches(blocking=False))
    assert len(list(crlf.entries())) == len(list(plain.entries())) == 4


def test_reads_records_without_line_breaks():
    text = two_batches().replace("\n", "")
    assert len(list(nacha.parse(text).entries())) == 4


def _lines(text):
    return text.splitlines()


def _replace(text, line_no, start, end, value):
    lines = _lines(text)
    line = lines[line_no - 1]
    lines[line_no - 1] = line[: start - 1] + value + line[end:]
    return "\n".join(lines) + "\n"


def test_bad_entry_hash_names_line_and_field():
    text = two_batches()
    batch_control = next(i for i, rec in enumerate(_lines(text), 1) if rec.startswith("8"))
    bad = _replace(text, batch_control, 11, 20, "0000000001")
    with pytest.raises(nacha.NachaFormatError) as error:
        nacha.parse(bad)
    assert error.value.line == batch_control
    assert error.value.field == "entry hash"
    assert str(error.value).startswith(f"Line {batch_control}, batch control, entry hash:")


def test_missing_controls_are_refused():
    text = "\n".join(rec for rec in _lines(two_batches()) if not rec.startswith(("8", "9")))
    with pytest.raises(nacha.NachaFormatError, match=r"batch control|file control"):
        nacha.parse(text)


def test_missing_file_control_is_refused():
    text = "\n".join(rec for rec in _lines(two_batches()) if not rec.startswith("9"))
    with pytest.raises(nacha.NachaFormatError, match="without a file control"):
        nacha.parse(text)


def test_truncated_record_names_its_line():
    lines = _lines(two_batches())
    lines[3] = lines[3][:60]
    with pytest.raises(nacha.NachaFormatError) as error:
        nacha.parse("\n".join(lines))
    assert error.value.line == 4
    assert error.value.field == "record length"


def test_bad_amount_names_the_field():
    bad = _replace(two_batches(), 3, 30, 39, "00000012A4")
    with pytest.raises(nacha.NachaFormatError, match=r"Line 3, entry detail, amount"):
        nacha.parse(bad)


def test_unknown_return_code_is_refused_with_its_line():
    bad = _replace(two_batches(), 4, 4, 6, "R98")
    with pytest.raises(nacha.NachaFormatError) as error:
        nacha.parse(bad)
    assert (error.value.line, error.value.field) == (4, "return reason code")
    assert "R98" in str(error.value)


def test_file_control_totals_checked():
    text = two_batches()
    control = next(i for i, rec in enumerate(_lines(text), 1) if rec.startswith("9"))
    bad = _replace(text, control, 32, 43, "000000000001")
    with pytest.raises(nacha.NachaFormatError, match="total debit entry dollar amount"):
        nacha.parse(bad)


def test_misfit_codes():
    fit = {"R29": {"accounts": "corporate"}, "R10": {"accounts": "consumer"}}
    assert "corporate" in nacha.misfit("R29", "PPD", fit)
    assert nacha.misfit("R29", "CCD", fit) == ""
    assert "consumer" in nacha.misfit("R10", "CCD", fit)
    assert nacha.misfit("R01", "CCD", fit) == ""


VALID = two_batches()


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    position=st.integers(min_value=0, max_value=len(VALID) - 1),
    replacement=st.text(min_size=0, max_size=3),
)
def test_mutated_files_fail_cleanly_or_parse(position, replacement):
    """Any change to a valid file: it still parses, or it is refused naming a line; never
    another exception."""
    mutated = VALID[:position] + replacement + VALID[position + 1 :]
    try:
        nacha.parse(mutated.encode("utf-8", "surrogatepass"))
    except nacha.NachaFormatError as exc:
        assert 1 <= exc.line <= mutated.count("\n") + 2
        assert str(exc).startswith(f"Line {exc.line}, ")


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=400))
def test_random_bytes_fail_cleanly(data):
    with pytest.raises(nacha.NachaFormatError):
        nacha.parse(data)
