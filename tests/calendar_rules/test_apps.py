"""The app config validates the tables at start-up."""

import shutil

import pytest
from django.apps import apps

from calendar_rules import rules


def test_app_is_installed_under_its_config():
    assert type(apps.get_app_config("calendar_rules")).__name__ == "CalendarRulesConfig"


def test_ready_fails_loudly_on_a_malformed_table(tmp_path, monkeypatch):
    for name in ("visa.yaml", "mastercard.yaml", "nacha.yaml"):
        shutil.copy(rules.RULES_DIR / name, tmp_path / name)
    path = tmp_path / "visa.yaml"
    path.write_text(path.read_text().replace("  default: 2\n", "  default: two\n", 1))
    monkeypatch.setattr(rules, "tables", lambda: rules.load_tables(tmp_path))
    with pytest.raises(rules.RuleTableError, match=r"visa\.yaml: buffers\.default"):
        apps.get_app_config("calendar_rules").ready()
