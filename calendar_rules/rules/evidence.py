"""The evidence checklist table (``evidence.yaml``): which evidence a reason code requires or
recommends, validated on load like the network tables (errors name the file and the key).

``checklist(network, code)`` returns the matching row: the code's own row, else its category's,
else the network default; a legacy Mastercard code uses the row of the code it maps to. Pure:
no database, no clock.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

import yaml

from .checks import Checks
from .loader import RULES_DIR, _DuplicateKeyLoader
from .model import CONFIDENCES, NETWORKS, RuleLookupError, RuleTableError

EVIDENCE_FILE = RULES_DIR / "evidence.yaml"
NEEDS = ("required", "recommended")
TOP_KEYS = {"request_lead_banking_days", "sources", "kinds", "checklists"}
KIND_KEYS = {"label", "satisfied_by"}
ROW_KEYS = {"network", "codes", "categories", "default", "items", "confidence", "sources", "note"}
ITEM_KEYS = {"kind", "need", "note"}


@dataclass(frozen=True, slots=True)
class EvidenceKind:
    key: str
    label: str
    satisfied_by: str


@dataclass(frozen=True, slots=True)
class ChecklistItem:
    kind: EvidenceKind
    need: str  # required | recommended
    note: str = ""

    @property
    def required(self) -> bool:
        return self.need == "required"


@dataclass(frozen=True, slots=True)
class Checklist:
    network: str
    matched_by: str  # "code 13.1", "category 10", "network default"
    items: tuple[ChecklistItem, ...]
    confidence: str
    source_keys: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class EvidenceTable:
    request_lead_banking_days: int
    kinds: dict[str, EvidenceKind]
    by_code: dict[tuple[str, str], Checklist]
    by_category: dict[tuple[str, str], Checklist]
    defaults: dict[str, Checklist]

    def kind(self, key: str) -> EvidenceKind:
        try:
            return self.kinds[key]
        except KeyError:
            raise RuleLookupError(f"unknown evidence kind {key!r}") from None

    def checklist(self, network: str, code: str) -> Checklist:
        from . import reason_code

        network = (network or "").strip().lower()
        code = (code or "").strip().upper()
        if network not in self.defaults:
            raise RuleLookupError(f"no evidence checklist for network {network!r}")
        try:
            row = reason_code(network, code)
        except RuleLookupError:
            row = None
        current = row.maps_to if row is not None and row.maps_to else code
        found = self.by_code.get((network, current))
        if found is None and row is not None and row.category:
            found = self.by_category.get((network, row.category))
        return found or self.defaults[network]


class _EvidenceReader(Checks):
    def read(self, raw) -> EvidenceTable:
        raw = self.mapping(raw, "(top level)")
        self.check_keys(raw, TOP_KEYS, "", required=tuple(sorted(TOP_KEYS)))
        lead = self.count(raw["request_lead_banking_days"], "request_lead_banking_days")
        self.sources = self._sources(raw["sources"])
        self.kinds = self._kinds(raw["kinds"])
        by_code, by_category, defaults = {}, {}, {}
        rows = raw["checklists"]
        if not isinstance(rows, list):
            self.fail("checklists", "must be a list")
        for i, spec in enumerate(rows):
            key = f"checklists[{i}]"
            checklist, codes, categories = self._row(spec, key)
            network = checklist.network
            for code in codes:
                if (network, code) in by_code:
                    self.fail(f"{key}.codes", f"{network} {code} is already in another row")
                by_code[(network, code)] = _matched(checklist, f"code {code}")
            for category in categories:
                if (network, category) in by_category:
                    self.fail(f"{key}.categories", f"{network} {category} is already listed")
                by_category[(network, category)] = _matched(checklist, f"category {category}")
            if spec.get("default"):
                if network in defaults:
                    self.fail(f"{key}.default", f"{network} already has a default row")
                defaults[network] = _matched(checklist, "network default")
        for network in NETWORKS:
            if network not in defaults:
                self.fail("checklists", f"{network} has no default row (default: true)")
        return EvidenceTable(lead, self.kinds, by_code, by_category, defaults)

    def _sources(self, value) -> dict[str, str]:
        value = self.mapping(value, "sources")
        return {str(k): self.text(v, f"sources.{k}") for k, v in value.items()}

    def _kinds(self, value) -> dict[str, EvidenceKind]:
        value = self.mapping(value, "kinds")
        kinds = {}
        for name, spec in value.items():
            key = f"kinds.{name}"
            self.identifier(name, key)
            spec = self.mapping(spec, key)
            self.check_keys(spec, KIND_KEYS, key, required=("label", "satisfied_by"))
            kinds[name] = EvidenceKind(
                name,
                self.text(spec["label"], f"{key}.label", max_len=60),
                self.text(spec["satisfied_by"], f"{key}.satisfied_by"),
            )
        if "other" not in kinds:
            self.fail("kinds", "must define the kind 'other'")
        return kinds

    def _row(self, spec, key: str) -> tuple[Checklist, list[str], list[str]]:
        from . import reason_codes

        spec = self.mapping(spec, key)
        self.check_keys(spec, ROW_KEYS, key, required=("network", "items", "confidence", "sources"))
        network = self.choice(spec["network"], NETWORKS, f"{key}.network")
        selectors = [name for name in ("codes", "categories", "default") if spec.get(name)]
        if len(selectors) != 1:
            self.fail(key, "needs exactly one of codes, categories or default: true")
        known = reason_codes(network)
        codes = self._listed(spec.get("codes"), {row.code for row in known}, f"{key}.codes")
        categories = self._listed(
            spec.get("categories"), {row.category for row in known}, f"{key}.categories"
        )
        if "default" in spec:
            self.flag(spec["default"], f"{key}.default")
        confidence = self.choice(spec["confidence"], CONFIDENCES, f"{key}.confidence")
        sources = self.source_keys(spec["sources"], self.sources, f"{key}.sources", confidence)
        items = self._items(spec["items"], f"{key}.items")
        return Checklist(network, "", items, confidence, sources), codes, categories

    def _listed(self, value, known: set, key: str) -> list[str]:
        if value is None:
            return []
        if not isinstance(value, list) or not value:
            self.fail(key, "must be a non-empty list")
        for i, name in enumerate(value):
            if name not in known:
                self.fail(f"{key}[{i}]", f"{name!r} is not in the network's rule table")
        return list(value)

    def _items(self, value, key: str) -> tuple[ChecklistItem, ...]:
        if not isinstance(value, list) or not value:
            self.fail(key, "must be a non-empty list")
        items, seen = [], set()
        for i, spec in enumerate(value):
            where = f"{key}[{i}]"
            spec = self.mapping(spec, where)
            self.check_keys(spec, ITEM_KEYS, where, required=("kind", "need"))
            kind = self.choice(spec["kind"], self.kinds, f"{where}.kind")
            if kind in seen:
                self.fail(f"{where}.kind", f"{kind} is listed twice")
            seen.add(kind)
            need = self.choice(spec["need"], NEEDS, f"{where}.need")
            items.append(
                ChecklistItem(self.kinds[kind], need, self.optional_text(spec.get("note"), where))
            )
        return tuple(items)


def _matched(checklist: Checklist, matched_by: str) -> Checklist:
    return Checklist(
        checklist.network, matched_by, checklist.items, checklist.confidence, checklist.source_keys
    )


def load_evidence(path: Path | str = EVIDENCE_FILE) -> EvidenceTable:
    """Read and validate the evidence table at ``path`` (uncached)."""
    path = Path(path)
    try:
        raw = yaml.load(path.read_text(encoding="utf-8"), Loader=_DuplicateKeyLoader)
    except FileNotFoundError as exc:
        raise RuleTableError(path, "(file)", "evidence table not found") from exc
    except yaml.YAMLError as exc:
        raise RuleTableError(path, "(yaml)", str(exc).replace("\n", " ")) from exc
    return _EvidenceReader(path).read(raw)


@cache
def evidence_table() -> EvidenceTable:
    """The shipped table, loaded and validated once per process."""
    return load_evidence()


def checklist(network: str, code: str) -> Checklist:
    return evidence_table().checklist(network, code)
