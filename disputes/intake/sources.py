"""The intake's data (``calendar_rules/rules/intake_sources.yaml``), read and validated once.

A malformed file raises ``SourcesError`` naming the key ("card_sources.acme_visa.columns:
missing case_id"). Pure: no Django.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

import yaml

PATH = Path(__file__).resolve().parents[2] / "calendar_rules" / "rules" / "intake_sources.yaml"
REQUIRED_COLUMNS = (
    "case_id",
    "reason_code",
    "arn",
    "merchant_id",
    "amount",
    "currency",
    "transaction_date",
    "processing_date",
)
OPTIONAL_COLUMNS = ("card_last4", "merchant_name")


class SourcesError(ValueError):
    def __init__(self, key: str, problem: str):
        super().__init__(f"{PATH.name}: {key}: {problem}")


@dataclass(frozen=True, slots=True)
class CardSource:
    key: str
    label: str
    network: str
    delimiter: str
    date_format: str
    amount_unit: str
    columns: dict  # our field → heading


@dataclass(frozen=True, slots=True)
class IntakeSources:
    card_sources: dict  # key → CardSource
    nacha_return_fit: dict  # code → {"accounts": …, "note": …}
    nacha_change_codes: dict  # code → name
    volume_columns: tuple


def _card_source(key: str, raw) -> CardSource:
    where = f"card_sources.{key}"
    if not isinstance(raw, dict):
        raise SourcesError(where, "must be a mapping")
    unknown = set(raw) - {"label", "network", "delimiter", "date_format", "amount_unit", "columns"}
    if unknown:
        raise SourcesError(where, f"unknown keys {sorted(unknown)}")
    if raw.get("network") not in ("visa", "mastercard"):
        raise SourcesError(f"{where}.network", "must be visa or mastercard")
    if raw.get("amount_unit") not in ("major", "minor"):
        raise SourcesError(f"{where}.amount_unit", "must be major or minor")
    delimiter = raw.get("delimiter", ",")
    if not isinstance(delimiter, str) or len(delimiter) != 1:
        raise SourcesError(f"{where}.delimiter", "must be one character")
    columns = raw.get("columns") or {}
    for name in REQUIRED_COLUMNS:
        if not isinstance(columns.get(name), str) or not columns[name].strip():
            raise SourcesError(f"{where}.columns", f"missing {name}")
    extra = set(columns) - set(REQUIRED_COLUMNS) - set(OPTIONAL_COLUMNS)
    if extra:
        raise SourcesError(f"{where}.columns", f"unknown fields {sorted(extra)}")
    return CardSource(
        key=key,
        label=str(raw.get("label") or key),
        network=raw["network"],
        delimiter=delimiter,
        date_format=str(raw.get("date_format") or "%Y-%m-%d"),
        amount_unit=raw["amount_unit"],
        columns=dict(columns),
    )


def load(path: Path = PATH) -> IntakeSources:
    raw = yaml.safe_load(path.read_text()) or {}
    cards = {
        key: _card_source(key, value) for key, value in (raw.get("card_sources") or {}).items()
    }
    fit = raw.get("nacha_return_fit") or {}
    for code, rule in fit.items():
        if not isinstance(rule, dict) or rule.get("accounts") not in ("consumer", "corporate"):
            raise SourcesError(f"nacha_return_fit.{code}.accounts", "must be consumer or corporate")
    changes = {str(k): str(v) for k, v in (raw.get("nacha_change_codes") or {}).items()}
    if not changes:
        raise SourcesError("nacha_change_codes", "must list the change codes")
    return IntakeSources(cards, fit, changes, tuple(raw.get("volume_columns") or ()))


@cache
def sources() -> IntakeSources:
    return load()
