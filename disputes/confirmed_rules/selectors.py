"""Reads of confirmed rules: the one in effect for a window, and the latest per row."""

from __future__ import annotations

from collections import defaultdict
from datetime import date

from .models import RuleConfirmation


class ConfirmationIndex:
    """Every confirmation, by rule key, newest effective date first: loaded with one query so a
    recompute over a million disputes asks the database once."""

    def __init__(self, rows=()):
        self._by_key: dict[str, list[RuleConfirmation]] = defaultdict(list)
        for row in rows:
            self._by_key[row.rule_key].append(row)
        for rows_of_key in self._by_key.values():
            rows_of_key.sort(key=lambda r: (r.effective_from, r.confirmed_at, r.id), reverse=True)

    @classmethod
    def load(cls) -> ConfirmationIndex:
        return cls(RuleConfirmation.objects.select_related("confirmed_by"))

    def __bool__(self) -> bool:
        return bool(self._by_key)

    def in_effect(self, rule_key: str, on: date) -> RuleConfirmation | None:
        """The confirmation that governs a window starting ``on`` (None: the table's word)."""
        for row in self._by_key.get(rule_key, ()):
            if row.effective_from <= on:
                return row
        return None

    def latest(self, rule_key: str) -> RuleConfirmation | None:
        rows = self._by_key.get(rule_key)
        return max(rows, key=lambda r: (r.confirmed_at, r.id)) if rows else None

    def __iter__(self):
        return iter(self._by_key)


def history(limit: int = 50) -> list[RuleConfirmation]:
    """The latest confirmations, newest first, for the /rules/ page."""
    return list(RuleConfirmation.objects.select_related("confirmed_by")[:limit])
