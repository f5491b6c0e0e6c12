"""Scalar checks for the rule-table loader: each failure names the file and the key path."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

from .model import RuleTableError

IDENTIFIER = re.compile(r"^[a-z][a-z0-9_]*$")


class Checks:
    """Validators over one file (``self.path``); they return the clean value or raise."""

    def __init__(self, path: Path):
        self.path = path

    def fail(self, key: str, problem: str):
        raise RuleTableError(self.path, key, problem)

    def mapping(self, value, key: str) -> dict:
        if not isinstance(value, dict):
            self.fail(key, f"must be a mapping, got {type(value).__name__}")
        return value

    def check_keys(self, value: dict, allowed: set[str], key: str, required=()):
        for name in value:
            if name not in allowed:
                self.fail(f"{key}.{name}" if key else str(name), "unknown key")
        for name in required:
            if name not in value:
                self.fail(f"{key}.{name}" if key else name, "is required")

    def text(self, value, key: str, *, max_len: int | None = None) -> str:
        if not isinstance(value, str) or not value.strip():
            self.fail(key, f"must be a non-empty string, got {value!r} (quote codes like '10.1')")
        if max_len is not None and len(value) > max_len:
            self.fail(key, f"must be at most {max_len} characters, got {len(value)}")
        return value.strip()

    def identifier(self, value, key: str) -> str:
        if not isinstance(value, str) or not IDENTIFIER.match(value):
            self.fail(key, f"must be a snake_case identifier, got {value!r}")
        return value

    def choice(self, value, choices, key: str) -> str:
        if value not in choices:
            self.fail(key, f"must be one of {', '.join(choices)}, got {value!r}")
        return value

    def count(self, value, key: str, *, nullable=False) -> int | None:
        if value is None and nullable:
            return None
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            self.fail(key, f"must be an integer >= 0, got {value!r}")
        return value

    def flag(self, value, key: str) -> bool:
        if not isinstance(value, bool):
            self.fail(key, f"must be true or false, got {value!r}")
        return value

    def day(self, value, key: str) -> date | None:
        if value is None:
            return None
        if isinstance(value, date):
            return value
        if isinstance(value, str):
            try:
                return date.fromisoformat(value)
            except ValueError:
                pass
        self.fail(key, f"must be a date YYYY-MM-DD, got {value!r}")

    def effective(self, spec: dict, key: str) -> tuple[date | None, date | None]:
        start = self.day(spec.get("effective_from"), f"{key}.effective_from")
        end = self.day(spec.get("effective_to"), f"{key}.effective_to")
        if start and end and end < start:
            self.fail(f"{key}.effective_to", f"{end} is before effective_from {start}")
        return start, end

    def source_keys(
        self, value, sources: dict[str, str], key: str, confidence: str
    ) -> tuple[str, ...]:
        """Source keys, all declared under ``sources``. Only GK and open rows may cite none."""
        if not isinstance(value, list):
            self.fail(key, "must be a list of source keys")
        if not value and confidence not in ("GK", "open"):
            self.fail(key, f"a {confidence} figure needs at least one source key")
        for i, name in enumerate(value):
            if name not in sources:
                self.fail(f"{key}[{i}]", f"unknown source key {name!r} (add it under sources)")
        return tuple(value)

    def optional_text(self, value, key: str) -> str:
        return "" if value in (None, "") else self.text(value, key)
