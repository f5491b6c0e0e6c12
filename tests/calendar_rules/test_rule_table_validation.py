"""A malformed table fails loudly, naming the file and the key."""

import shutil

import pytest
import yaml

from calendar_rules import rules
from calendar_rules.rules.loader import RULES_DIR


@pytest.fixture
def tables_dir(tmp_path):
    for name in ("visa.yaml", "mastercard.yaml", "nacha.yaml"):
        shutil.copy(RULES_DIR / name, tmp_path / name)
    return tmp_path


def edit(directory, name, change):
    """Load ``name`` from ``directory``, let ``change`` mutate it, and write it back."""
    path = directory / name
    data = yaml.safe_load(path.read_text())
    change(data)
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True))


def visa_code(data, code):
    return next(c for c in data["codes"] if c["code"] == code)


def test_copied_tables_load(tables_dir):
    assert set(rules.load_tables(tables_dir).networks) == {"visa", "mastercard", "nacha"}


def test_rewritten_yaml_keeps_the_same_rules(tables_dir):
    edit(tables_dir, "visa.yaml", lambda data: None)
    assert rules.load_tables(tables_dir).network("visa").codes == rules.reason_codes("visa")


CASES = [
    (
        "visa.yaml",
        lambda d: visa_code(d, "13.1")["stages"]["dispute"].update(days="abc"),
        "codes[16] (13.1).stages.dispute.days",
        "integer >= 0",
    ),
    (
        "visa.yaml",
        lambda d: visa_code(d, "13.1")["stages"]["dispute"].update(dayz=120),
        "codes[16] (13.1).stages.dispute.dayz",
        "unknown key",
    ),
    (
        "visa.yaml",
        lambda d: d["windows"]["dispute_120"].update(confidence="probable"),
        "windows.dispute_120.confidence",
        "verified, secondary, GK, open",
    ),
    (
        "visa.yaml",
        lambda d: d["windows"]["dispute_120"].update(sources=["S-NOWHERE"]),
        "windows.dispute_120.sources[0]",
        "unknown source key",
    ),
    (
        "visa.yaml",
        lambda d: visa_code(d, "10.1").update(code=10.1),
        "codes[0].code",
        "quote codes",
    ),
    (
        "visa.yaml",
        lambda d: visa_code(d, "10.4").update(category="14"),
        "codes[3] (10.4).flow",
        "no flow covers this category",
    ),
    (
        "visa.yaml",
        lambda d: d["windows"]["dispute_120"].update(anchor="purchase_date"),
        "windows.dispute_120.anchor",
        "unknown anchor event",
    ),
    (
        "visa.yaml",
        lambda d: visa_code(d, "13.2").update(short_name="x" * 33),
        "codes[17] (13.2).short_name",
        "at most 32",
    ),
    (
        "visa.yaml",
        lambda d: d["buffers"].pop("default"),
        "buffers.default",
        "is required",
    ),
    (
        "visa.yaml",
        lambda d: d["buffers"].update(representment=2),
        "buffers.representment",
        "unknown stage",
    ),
    (
        "visa.yaml",
        lambda d: d["windows"]["dispute_75"].update(cap_days=540),
        "windows.dispute_75.cap_days",
        "needs alt_anchor",
    ),
    (
        "visa.yaml",
        lambda d: d.update(network="mastercard"),
        "network",
        "does not match the file name",
    ),
    (
        "mastercard.yaml",
        lambda d: next(c for c in d["codes"] if c["code"] == "4855").update(maps_to="4999x"),
        "codes[18] (4855).maps_to",
        "not a current code",
    ),
    (
        "mastercard.yaml",
        lambda d: d["windows"]["second_presentment"].update(actor="merchant"),
        "windows.second_presentment.actor",
        "issuer, acquirer, RDFI, ODFI",
    ),
    (
        "nacha.yaml",
        lambda d: d["codes"][0].update(return_class="fraud"),
        "codes[0] (R01).return_class",
        "unauthorized, administrative, other, dishonored, contested",
    ),
    (
        "nacha.yaml",
        lambda d: d["codes"][1].update(effective_from="2021-13-01"),
        "codes[1] (R02).effective_from",
        "YYYY-MM-DD",
    ),
    (
        "nacha.yaml",
        lambda d: d["codes"][1].update(effective_from="2026-01-01", effective_to="2025-01-01"),
        "codes[1] (R02).effective_to",
        "before effective_from",
    ),
    (
        "nacha.yaml",
        lambda d: d["codes"].append(dict(d["codes"][0])),
        f"codes[{len(rules.reason_codes('nacha'))}] (R01).effective_from",
        "overlaps another R01 row",
    ),
    (
        "nacha.yaml",
        lambda d: d["windows"]["return_r90"].pop("unavailable"),
        "windows.return_r90.unavailable",
        "required when days is null",
    ),
    (
        "nacha.yaml",
        lambda d: d["return_rate_thresholds"]["unauthorized"].update(threshold_pct="half"),
        "return_rate_thresholds.unauthorized.threshold_pct",
        "percentage",
    ),
    (
        "nacha.yaml",
        lambda d: d["reinitiation"].update(codes=["R01", "R99"]),
        "reinitiation.codes[1]",
        "unknown code",
    ),
]


@pytest.mark.parametrize(("name", "change", "key", "problem"), CASES, ids=[c[2] for c in CASES])
def test_malformed_table_names_the_file_and_the_key(tables_dir, name, change, key, problem):
    edit(tables_dir, name, change)
    with pytest.raises(rules.RuleTableError) as caught:
        rules.load_tables(tables_dir)
    assert (caught.value.path.name, caught.value.key) == (name, key)
    assert problem in str(caught.value)


def test_error_message_starts_with_the_file_path(tables_dir):
    edit(tables_dir, "visa.yaml", lambda d: d["buffers"].pop("default"))
    with pytest.raises(rules.RuleTableError, match=rf"^{tables_dir / 'visa.yaml'}: buffers"):
        rules.load_tables(tables_dir)


def test_duplicate_key_in_a_mapping_is_an_error(tables_dir):
    path = tables_dir / "visa.yaml"
    path.write_text(path.read_text().replace("label: Visa\n", "label: Visa\nlabel: Visa2\n"))
    with pytest.raises(rules.RuleTableError, match="duplicate key 'label'"):
        rules.load_tables(tables_dir)


def test_invalid_yaml_names_the_file(tables_dir):
    (tables_dir / "nacha.yaml").write_text("network: [nacha\n")
    with pytest.raises(rules.RuleTableError) as caught:
        rules.load_tables(tables_dir)
    assert (caught.value.path.name, caught.value.key) == ("nacha.yaml", "(yaml)")


def test_missing_table_names_the_file(tables_dir):
    (tables_dir / "mastercard.yaml").unlink()
    with pytest.raises(rules.RuleTableError, match=r"mastercard\.yaml: \(file\)"):
        rules.load_tables(tables_dir)
