"""The network rule tables: reason codes and the window of each stage, as data.

The tables are ``visa.yaml``, ``mastercard.yaml`` and ``nacha.yaml`` in this directory. They are
read and validated once (``tables()`` is cached; the Django app loads it at start-up) and a
malformed table raises ``RuleTableError`` naming the file and the key. ``rules_version()``
identifies the tables a deadline was computed from (sha256 of the three files, 12 hex digits).

Lookups raise ``RuleLookupError`` subclasses (all ``ValueError``): ``UnknownNetwork``,
``UnknownReasonCode``, ``CodeNotInForce`` (a ``RuleNotInForce``), ``StageNotApplicable``.
``on=None`` means "whatever the date": the latest version of the code, no effective-date check.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

from .loader import RULES_DIR, NetworkTable, load_network, table_files, version_of
from .model import (
    ACTORS,
    CONFIDENCES,
    DAY_UNITS,
    NETWORKS,
    RETURN_CLASSES,
    AltDateNotApplicable,
    CodeNotInForce,
    ReasonCode,
    RuleLookupError,
    RuleNotInForce,
    RuleTableError,
    StageNotApplicable,
    StageRule,
    UnknownNetwork,
    UnknownReasonCode,
    WindowNotPublished,
)

__all__ = [
    "ACTORS",
    "CONFIDENCES",
    "DAY_UNITS",
    "NETWORKS",
    "RETURN_CLASSES",
    "RULES_DIR",
    "AltDateNotApplicable",
    "CodeNotInForce",
    "NetworkTable",
    "ReasonCode",
    "RuleLookupError",
    "RuleNotInForce",
    "RuleTableError",
    "RuleTables",
    "StageNotApplicable",
    "StageRule",
    "UnknownNetwork",
    "UnknownReasonCode",
    "WindowNotPublished",
    "load_tables",
    "network_table",
    "reason_code",
    "reason_codes",
    "rules_version",
    "stage_rule",
    "stages",
    "tables",
]


def normalize_network(network: str) -> str:
    return network.strip().lower() if isinstance(network, str) else network


def normalize_code(code: str) -> str:
    return code.strip().upper() if isinstance(code, str) else code


@dataclass(frozen=True, slots=True)
class RuleTables:
    """The three validated tables and their version."""

    version: str
    networks: dict[str, NetworkTable]

    def network(self, network: str) -> NetworkTable:
        try:
            return self.networks[normalize_network(network)]
        except (KeyError, TypeError):
            raise UnknownNetwork(
                f"unknown network {network!r} (known: {', '.join(self.networks)})"
            ) from None

    def reason_code(self, network: str, code: str, on: date | None = None) -> ReasonCode:
        return self._version(network, code, on)[0]

    def reason_codes(self, network: str) -> list[ReasonCode]:
        return list(self.network(network).codes)

    def stages(self, network: str) -> tuple[str, ...]:
        return self.network(network).stages

    def stage_rule(self, network: str, code: str, stage: str, on: date | None = None) -> StageRule:
        table = self.network(network)
        row, rules = self._version(network, code, on)
        if stage not in table.stages:
            raise StageNotApplicable(
                f"{table.label} has no stage {stage!r} (stages: {', '.join(table.stages)})"
            )
        if row.maps_to is not None:
            rules = self._version(network, row.maps_to, on)[1]
        rule = rules.get(stage)
        if rule is None:
            raise StageNotApplicable(stage_not_applicable_message(table, row, stage))
        if not rule.in_force(on):
            raise RuleNotInForce(
                f"{table.label} {row.code} {stage.replace('_', ' ')} rule is not in force on "
                f"{on.isoformat()} ({_range_text(rule.effective_from, rule.effective_to)})"
            )
        return rule

    def _version(
        self, network: str, code: str, on: date | None
    ) -> tuple[ReasonCode, dict[str, StageRule]]:
        table = self.network(network)
        versions = table.versions.get(normalize_code(code))
        if not versions:
            raise UnknownReasonCode(f"{table.label} has no reason code {code!r}")
        if on is None:
            return versions[-1]
        for row, rules in versions:
            if row.in_force(on):
                return row, rules
        ranges = "; ".join(_range_text(r.effective_from, r.effective_to) for r, _ in versions)
        raise CodeNotInForce(
            f"{table.label} {versions[-1][0].code} is not in force on {on.isoformat()} ({ranges})"
        )


def stage_not_applicable_message(table: NetworkTable, row: ReasonCode, stage: str) -> str:
    flow = f" ({row.flow} flow)" if row.flow else ""
    applicable = ", ".join(row.stages) or "none"
    return f"{table.label} {row.code}{flow} has no {stage} stage (its stages: {applicable})"


def _range_text(start: date | None, end: date | None) -> str:
    if start and end:
        return f"in force {start.isoformat()} to {end.isoformat()}"
    if start:
        return f"in force from {start.isoformat()}"
    if end:
        return f"retired after {end.isoformat()}"
    return "always in force"


def load_tables(directory: Path | str = RULES_DIR) -> RuleTables:
    """Read and validate the three tables in ``directory`` (uncached)."""
    paths = table_files(Path(directory))
    networks = {table.network: table for table in map(load_network, paths)}
    return RuleTables(version=version_of(paths), networks=networks)


@cache
def tables() -> RuleTables:
    """The tables shipped with the code, loaded and validated once per process."""
    return load_tables()


def rules_version() -> str:
    return tables().version


def network_table(network: str) -> NetworkTable:
    return tables().network(network)


def reason_code(network: str, code: str, on: date | None = None) -> ReasonCode:
    """The code's row (for ``on``, the version in force that day)."""
    return tables().reason_code(network, code, on)


def reason_codes(network: str) -> list[ReasonCode]:
    """Every row of the network's table, in table order (a versioned code appears per version)."""
    return tables().reason_codes(network)


def stage_rule(network: str, code: str, stage: str, on: date | None = None) -> StageRule:
    """The window of ``stage`` for ``code``; a legacy code gets its current code's rule."""
    return tables().stage_rule(network, code, stage, on)


def stages(network: str) -> tuple[str, ...]:
    return tables().stages(network)


def policies(network: str) -> dict[str, Any]:
    """Network-wide settings that are not windows (Nacha reinitiation and rate thresholds)."""
    return tables().network(network).policies
