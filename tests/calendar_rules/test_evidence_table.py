"""The evidence checklist table: validated on load, errors name the file and the key."""

from datetime import date

import pytest
import yaml

from calendar_rules.deadlines import client_evidence_due
from calendar_rules.rules import RuleTableError
from calendar_rules.rules.evidence import EVIDENCE_FILE, checklist, load_evidence


def required(network, code):
    return [i.kind.key for i in checklist(network, code).items if i.required]


@pytest.mark.parametrize(
    ("network", "code", "matched_by", "needs"),
    [
        ("visa", "13.1", "code 13.1", ["proof_of_delivery"]),
        ("visa", "10.4", "code 10.4", ["prior_undisputed_transactions", "customer_identity_match"]),
        ("visa", "13.8", "code 13.8", ["oct_proof"]),
        ("visa", "11.2", "category 11", ["authorization_record"]),
        ("mastercard", "4863", "code 4837", ["authentication_proof"]),  # legacy → current
        ("nacha", "R10", "code R10", ["ach_authorization"]),
        ("nacha", "R01", "network default", []),
    ],
)
def test_each_code_finds_its_row(network, code, matched_by, needs):
    assert checklist(network, code).matched_by == matched_by
    assert required(network, code) == needs


def _broken(tmp_path, change):
    raw = yaml.safe_load(EVIDENCE_FILE.read_text())
    change(raw)
    path = tmp_path / "evidence.yaml"
    path.write_text(yaml.safe_dump(raw, sort_keys=False))
    with pytest.raises(RuleTableError) as error:
        load_evidence(path)
    return str(error.value)


def test_unknown_kind_is_refused(tmp_path):
    def change(raw):
        raw["checklists"][0]["items"][0]["kind"] = "telepathy"

    assert "checklists[0].items[0].kind: must be one of" in _broken(tmp_path, change)


def test_code_not_in_the_network_table_is_refused(tmp_path):
    def change(raw):
        raw["checklists"][0]["codes"] = ["99.9"]

    assert "checklists[0].codes[0]: '99.9' is not in the network's rule table" in _broken(
        tmp_path, change
    )


def test_code_in_two_rows_is_refused(tmp_path):
    def change(raw):
        raw["checklists"][1]["codes"] = ["10.4"]

    assert "visa 10.4 is already in another row" in _broken(tmp_path, change)


def test_network_without_default_is_refused(tmp_path):
    def change(raw):
        raw["checklists"] = [r for r in raw["checklists"] if r.get("network") != "nacha"]

    assert "nacha has no default row" in _broken(tmp_path, change)


def test_unknown_key_is_refused(tmp_path):
    def change(raw):
        raw["checklists"][0]["mandatory"] = True

    assert "checklists[0].mandatory: unknown key" in _broken(tmp_path, change)


def test_client_evidence_due_is_banking_days_before_internal_due():
    # Fri Dec 11, 2026 minus 3 banking days: Tue Dec 8.
    assert client_evidence_due(date(2026, 12, 11), today=date(2026, 12, 1), lead_days=3) == date(
        2026, 12, 8
    )
    # Never earlier than the next banking day after today.
    assert client_evidence_due(date(2026, 12, 3), today=date(2026, 12, 1), lead_days=3) == date(
        2026, 12, 2
    )
