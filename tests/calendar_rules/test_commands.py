"""The management commands (need Django settings; collected only under pytest-django)."""

import json
import re
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError


def run(*args):
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_compute_deadline_first_line_is_the_network_deadline():
    out = run(
        "compute_deadline",
        "--network",
        "visa",
        "--code",
        "13.1",
        "--stage",
        "dispute_response",
        "--from",
        "2026-11-02",
    )
    assert out.splitlines()[0] == "2026-12-02"


def test_compute_deadline_prints_the_explanation():
    out = run(
        "compute_deadline",
        "--network",
        "nacha",
        "--code",
        "R01",
        "--stage",
        "return",
        "--from",
        "2026-03-03",
    )
    assert "NACHA R01 return: 2 banking days" in out


def test_compute_deadline_json():
    out = run(
        "compute_deadline",
        "--network",
        "visa",
        "--code",
        "13.1",
        "--stage",
        "dispute_response",
        "--from",
        "2026-11-02",
        "--json",
    )
    payload = json.loads(out)
    assert (
        payload["network_due"],
        payload["internal_due"],
        payload["day_unit"],
        payload["days"],
        payload["anchor_date"],
        payload["rule_key"],
    ) == ("2026-12-02", "2026-11-30", "calendar", 30, "2026-11-02", "visa:13.1:dispute_response")


def test_compute_deadline_json_includes_the_sources():
    out = run(
        "compute_deadline",
        "--network",
        "visa",
        "--code",
        "13.1",
        "--stage",
        "dispute_response",
        "--from",
        "2026-11-02",
        "--json",
    )
    assert json.loads(out)["sources"]["S-CHARGEFLOW"].startswith("https://")


def test_compute_deadline_with_alt_date():
    out = run(
        "compute_deadline",
        "--network",
        "visa",
        "--code",
        "13.1",
        "--stage",
        "dispute",
        "--from",
        "2026-01-10",
        "--alt-date",
        "2027-06-01",
    )
    assert out.splitlines()[0] == "2027-07-04"


def test_compute_deadline_unknown_code_fails():
    with pytest.raises(CommandError, match=r"UnknownReasonCode: Visa has no reason code '14.1'"):
        run(
            "compute_deadline",
            "--network",
            "visa",
            "--code",
            "14.1",
            "--stage",
            "dispute",
            "--from",
            "2026-01-10",
        )


def test_compute_deadline_stage_not_applicable_fails():
    with pytest.raises(CommandError, match=r"StageNotApplicable: .*10.4.*dispute_response"):
        run(
            "compute_deadline",
            "--network",
            "visa",
            "--code",
            "10.4",
            "--stage",
            "dispute_response",
            "--from",
            "2026-01-10",
        )


def test_compute_deadline_code_not_in_force_fails():
    with pytest.raises(CommandError, match="CodeNotInForce: NACHA R90 is not in force"):
        run(
            "compute_deadline",
            "--network",
            "nacha",
            "--code",
            "R90",
            "--stage",
            "return",
            "--from",
            "2027-01-04",
        )


def test_compute_deadline_unpublished_window_fails():
    with pytest.raises(CommandError, match="WindowNotPublished"):
        run(
            "compute_deadline",
            "--network",
            "nacha",
            "--code",
            "R90",
            "--stage",
            "return",
            "--from",
            "2028-04-03",
        )


def test_compute_deadline_bad_date_fails():
    with pytest.raises(CommandError, match="not a date"):
        run(
            "compute_deadline",
            "--network",
            "visa",
            "--code",
            "13.1",
            "--stage",
            "dispute",
            "--from",
            "2026-02-30",
        )


def test_benchmark_deadlines_reports_a_rate():
    out = run("benchmark_deadlines", "--n", "2000", "--seed", "3")
    assert re.search(r"2,000 deadlines in [\d.]+ s: [\d,]+ deadlines/s", out)
