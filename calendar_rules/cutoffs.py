"""Processor and sponsor-bank cut-offs: the dates Astra's contracts set before the network's.

Read from ``rules/cutoffs.yaml`` and validated once (a malformed row raises ``RuleTableError``
naming the file and the key). Pure: no clock, no database.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from functools import cache
from pathlib import Path

import yaml

from . import calendars
from .rules import NETWORKS, RULES_DIR, RuleTableError, network_table

CUTOFFS_FILE = RULES_DIR / "cutoffs.yaml"
PARTIES = {"processor": "processor", "sponsor_bank": "sponsor bank"}
REQUIRED = ("network", "stage", "party", "name", "days", "day_unit", "effective_from", "source")
KEYS = {*REQUIRED, "effective_to", "note"}


@dataclass(frozen=True, slots=True)
class Cutoff:
    """One contract cut-off: ``days`` (calendar or banking) from the stage window's anchor."""

    network: str
    stage: str
    party: str
    name: str  # "Card processor", "Sponsor bank"
    days: int
    day_unit: str
    effective_from: date
    effective_to: date | None
    source: str
    note: str

    @property
    def label(self) -> str:
        return f"{self.name} cut-off"

    @property
    def window_text(self) -> str:
        unit = "calendar" if self.day_unit == "calendar" else "banking"
        return f"{self.days} {unit} day{'s' if self.days != 1 else ''}"

    def due(self, anchor: date, calendar: calendars.BankingCalendar = calendars.FED) -> date:
        if self.day_unit == "banking":
            return calendar.add_banking_days(anchor, self.days)
        return anchor + timedelta(self.days)

    def in_force(self, on: date) -> bool:
        return self.effective_from <= on and (self.effective_to is None or on <= self.effective_to)


def load_cutoffs(path: Path = CUTOFFS_FILE) -> tuple[Cutoff, ...]:
    try:
        raw = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as exc:
        raise RuleTableError(path, "(file)", str(exc)) from None
    rows = raw.get("cutoffs") if isinstance(raw, dict) else None
    if not isinstance(rows, list):
        raise RuleTableError(path, "cutoffs", "must be a list")
    return tuple(_row(path, f"cutoffs[{i}]", spec) for i, spec in enumerate(rows))


def _row(path: Path, key: str, spec) -> Cutoff:
    def fail(where: str, problem: str):
        raise RuleTableError(path, f"{key}.{where}" if where else key, problem)

    if not isinstance(spec, dict):
        fail("", "must be a mapping")
    for name in REQUIRED:
        if name not in spec:
            fail(name, "is required")
    for name in spec:
        if name not in KEYS:
            fail(name, f"unknown key (known: {', '.join(sorted(KEYS))})")
    if spec["network"] not in NETWORKS:
        fail("network", f"unknown network {spec['network']!r}")
    if spec["stage"] not in network_table(spec["network"]).stages:
        fail("stage", f"{spec['network']} has no stage {spec['stage']!r}")
    if spec["party"] not in PARTIES:
        fail("party", f"must be one of {', '.join(PARTIES)}")
    days = spec["days"]
    if isinstance(days, bool) or not isinstance(days, int) or days < 1:
        fail("days", f"must be a whole number of days >= 1, got {days!r}")
    if spec["day_unit"] not in ("calendar", "banking"):
        fail("day_unit", "must be calendar or banking")
    for name in ("effective_from", "effective_to"):
        if spec.get(name) is not None and not isinstance(spec[name], date):
            fail(name, "must be a date (YYYY-MM-DD)")
    return Cutoff(
        network=spec["network"],
        stage=spec["stage"],
        party=spec["party"],
        name=str(spec["name"]),
        days=days,
        day_unit=spec["day_unit"],
        effective_from=spec["effective_from"],
        effective_to=spec.get("effective_to"),
        source=str(spec["source"]),
        note=str(spec.get("note") or ""),
    )


@cache
def cutoffs() -> tuple[Cutoff, ...]:
    """The shipped cut-offs, loaded and validated once per process."""
    return load_cutoffs()


def cutoff_for(network: str, stage: str, on: date) -> Cutoff | None:
    """The cut-off in force on ``on`` (the window's anchor) for this network and stage."""
    for cutoff in cutoffs():
        if cutoff.network == network and cutoff.stage == stage and cutoff.in_force(on):
            return cutoff
    return None
