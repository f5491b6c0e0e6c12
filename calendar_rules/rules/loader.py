"""Read the YAML rule tables, validate every key, and build the rows.

A malformed table raises ``RuleTableError`` naming the file and the key path, e.g.
``visa.yaml: codes[12] (13.1).stages.dispute.days: must be an integer >= 0, got 'abc'``.
Unknown keys are errors too (a typo must not silently drop a rule), and so are duplicate keys
in a mapping (YAML would otherwise keep the last one).

File layout (see the header comment of each table):

``network``, ``label``, ``day_unit``, ``stages`` (ordered), ``buffers`` (``default`` and per
stage, in Fed banking days), ``anchors`` (event → label), ``sources`` (key → where),
``windows`` (named, reusable stage rules), ``flows`` (name → ``stage_set`` and, for Visa,
``categories``), ``stage_sets`` (name → stage → rule), ``codes`` (a list; a code may appear
more than once with disjoint effective dates), and for Nacha ``reinitiation``,
``return_rate_thresholds`` and ``untimely_return_dishonor_code``.

A stage rule is written inline, as the name of a window, or as ``{window: name, …overrides}``.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import Any

import yaml

from .checks import Checks
from .model import (
    ACTORS,
    CONFIDENCES,
    DAY_UNITS,
    NETWORKS,
    RETURN_CLASSES,
    ROLLS,
    SEC_CODES,
    WAIT_FROM,
    ReasonCode,
    RuleTableError,
    StageRule,
)
from .policies import NachaPolicies

RULES_DIR = Path(__file__).resolve().parent
SHORT_NAME_MAX = 32

TOP_KEYS = {
    "network",
    "label",
    "day_unit",
    "stages",
    "buffers",
    "anchors",
    "sources",
    "windows",
    "flows",
    "stage_sets",
    "codes",
    "default_flow",
}
EXTRA_TOP_KEYS = {
    "nacha": {"reinitiation", "return_rate_thresholds", "untimely_return_dishonor_code"},
}
RULE_KEYS = {
    "actor",
    "days",
    "day_unit",
    "anchor",
    "roll",
    "alt_anchor",
    "alt_days",
    "cap_days",
    "wait",
    "effective_from",
    "effective_to",
    "confidence",
    "sources",
    "note",
    "unavailable",
    "due_note",
}
REQUIRED_RULE_KEYS = ("actor", "days", "anchor", "confidence", "sources")
CODE_KEYS = {
    "code",
    "name",
    "short_name",
    "category",
    "flow",
    "maps_to",
    "prearbitration_optional",
    "return_class",
    "wsud_required",
    "entry_sec_codes",
    "other_entry_code",
    "reinitiable",
    "effective_from",
    "effective_to",
    "confidence",
    "sources",
    "note",
    "stages",
}


@dataclass(slots=True)
class NetworkTable:
    """One network's validated table."""

    network: str
    label: str
    path: Path
    day_unit: str
    stages: tuple[str, ...]
    buffers: dict[str, int]
    anchors: dict[str, str]
    sources: dict[str, str]
    codes: list[ReasonCode]
    # code -> versions sorted by effective_from; each with its stage rules.
    versions: dict[str, list[tuple[ReasonCode, dict[str, StageRule]]]]
    policies: dict[str, Any] = field(default_factory=dict)

    def buffer_for(self, stage: str) -> int:
        return self.buffers.get(stage, self.buffers["default"])


class _DuplicateKeyLoader(yaml.CSafeLoader if hasattr(yaml, "CSafeLoader") else yaml.SafeLoader):
    """Safe YAML loading that refuses a mapping with the same key twice."""


def _construct_mapping(loader, node, deep=False):
    seen = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key!r}", key_node.start_mark
            )
        seen.add(key)
    return yaml.SafeLoader.construct_mapping(loader, node, deep)


_DuplicateKeyLoader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping
)


def table_files(directory: Path = RULES_DIR) -> list[Path]:
    return [directory / f"{network}.yaml" for network in NETWORKS]


def version_of(paths: list[Path]) -> str:
    """sha256 over the tables' bytes (in network order), first 12 hex digits."""
    digest = hashlib.sha256()
    for path in paths:
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def load_network(path: Path) -> NetworkTable:
    try:
        raw = yaml.load(path.read_text(encoding="utf-8"), Loader=_DuplicateKeyLoader)
    except FileNotFoundError as exc:
        raise RuleTableError(path, "(file)", "rule table not found") from exc
    except yaml.YAMLError as exc:
        raise RuleTableError(path, "(yaml)", str(exc).replace("\n", " ")) from exc
    return _TableReader(path).read(raw)


class _TableReader(Checks, NachaPolicies):
    """Validates one file. Every error names ``self.path`` and the key path."""

    # --- the file ---------------------------------------------------------------------------

    def read(self, raw) -> NetworkTable:
        raw = self.mapping(raw, "(top level)")
        network = self.choice(raw.get("network"), NETWORKS, "network")
        if self.path.stem != network:
            self.fail("network", f"{network!r} does not match the file name {self.path.name}")
        self.check_keys(
            raw,
            TOP_KEYS | EXTRA_TOP_KEYS.get(network, set()),
            "",
            required=(
                "network",
                "label",
                "day_unit",
                "stages",
                "buffers",
                "anchors",
                "sources",
                "flows",
                "codes",
            ),
        )
        self.network = network
        self.day_unit = self.choice(raw["day_unit"], DAY_UNITS, "day_unit")
        self.stages = self.stage_list(raw["stages"])
        self.anchors = self.anchor_labels(raw["anchors"])
        self.sources = self.source_list(raw["sources"])
        buffers = self.buffers(raw["buffers"])
        self.windows = self.read_windows(raw.get("windows") or {})
        self.stage_sets = self.read_stage_sets(raw.get("stage_sets") or {})
        self.flows, self.flow_by_category = self.read_flows(raw["flows"])
        self.default_flow = raw.get("default_flow")
        if self.default_flow is not None and self.default_flow not in self.flows:
            self.fail("default_flow", f"unknown flow {self.default_flow!r}")
        codes, versions = self.read_codes(raw["codes"])
        policies = {}
        if network == "nacha":
            policies = self.nacha_policies(raw, versions)
        return NetworkTable(
            network=network,
            label=self.text(raw["label"], "label"),
            path=self.path,
            day_unit=self.day_unit,
            stages=self.stages,
            buffers=buffers,
            anchors=self.anchors,
            sources=self.sources,
            codes=codes,
            versions=versions,
            policies=policies,
        )

    def stage_list(self, value) -> tuple[str, ...]:
        if not isinstance(value, list) or not value:
            self.fail("stages", "must be a non-empty list of stage names")
        names = tuple(self.identifier(v, f"stages[{i}]") for i, v in enumerate(value))
        if len(set(names)) != len(names):
            self.fail("stages", "lists a stage twice")
        return names

    def anchor_labels(self, value) -> dict[str, str]:
        value = self.mapping(value, "anchors")
        return {
            self.identifier(name, f"anchors.{name}"): self.text(label, f"anchors.{name}")
            for name, label in value.items()
        }

    def source_list(self, value) -> dict[str, str]:
        value = self.mapping(value, "sources")
        out = {}
        for name, where in value.items():
            if not isinstance(name, str) or not re.match(r"^S-[A-Z0-9-]+$", name):
                self.fail(f"sources.{name}", "source keys look like S-NAME")
            out[name] = self.text(where, f"sources.{name}")
        return out

    def buffers(self, value) -> dict[str, int]:
        value = self.mapping(value, "buffers")
        if "default" not in value:
            self.fail("buffers.default", "is required")
        out = {}
        for name, days in value.items():
            if name != "default" and name not in self.stages:
                self.fail(f"buffers.{name}", f"unknown stage (stages: {', '.join(self.stages)})")
            out[name] = self.count(days, f"buffers.{name}")
        return out

    def read_windows(self, value) -> dict[str, dict]:
        """Named rules; each is validated here so an error names the window itself."""
        value = self.mapping(value, "windows")
        self.windows = {}
        for name, spec in value.items():
            key = f"windows.{name}"
            self.identifier(name, key)
            self.stage_rule("*", name, self.mapping(spec, key), key)
        return value

    def read_stage_sets(self, value) -> dict[str, dict]:
        value = self.mapping(value, "stage_sets")
        for name, stage_map in value.items():
            key = f"stage_sets.{name}"
            for stage in self.mapping(stage_map, key):
                self.stage_name(stage, f"{key}.{stage}")
        return value

    def stage_name(self, stage, key: str) -> str:
        if stage not in self.stages:
            self.fail(key, f"unknown stage {stage!r} (stages: {', '.join(self.stages)})")
        return stage

    def read_flows(self, value) -> tuple[dict[str, dict], dict[str, str]]:
        value = self.mapping(value, "flows")
        by_category = {}
        for name, spec in value.items():
            key = f"flows.{name}"
            self.identifier(name, key)
            spec = self.mapping(spec, key)
            self.check_keys(spec, {"categories", "stage_set", "note"}, key, ("stage_set",))
            if spec["stage_set"] not in self.stage_sets:
                self.fail(f"{key}.stage_set", f"unknown stage set {spec['stage_set']!r}")
            for i, category in enumerate(spec.get("categories") or []):
                category = self.text(category, f"{key}.categories[{i}]")
                if category in by_category:
                    self.fail(f"{key}.categories[{i}]", f"category {category} is in two flows")
                by_category[category] = name
        return value, by_category

    # --- stage rules ------------------------------------------------------------------------

    def resolve_rule(self, spec, key: str) -> tuple[dict, str | None]:
        """A rule spec (window name, inline mapping, or window + overrides) as one mapping."""
        if isinstance(spec, str):
            if spec not in self.windows:
                self.fail(key, f"unknown window {spec!r}")
            return dict(self.windows[spec]), spec
        spec = dict(self.mapping(spec, key))
        window = spec.pop("window", None)
        if window is None:
            return spec, None
        if window not in self.windows:
            self.fail(f"{key}.window", f"unknown window {window!r}")
        return {**self.windows[window], **spec}, window

    def stage_rule(self, code: str, stage: str, spec, key: str) -> StageRule:
        rule, window = self.resolve_rule(spec, key)
        self.check_keys(rule, RULE_KEYS, key, REQUIRED_RULE_KEYS)
        days = self.count(rule["days"], f"{key}.days", nullable=True)
        unavailable = rule.get("unavailable") or ""
        if days is None and not unavailable:
            self.fail(f"{key}.unavailable", "is required when days is null (say why)")
        if days is not None and unavailable:
            self.fail(f"{key}.unavailable", "only allowed when days is null")
        alt_anchor = rule.get("alt_anchor")
        day_unit = self.choice(rule.get("day_unit", self.day_unit), DAY_UNITS, f"{key}.day_unit")
        if alt_anchor is not None:
            self.anchor(alt_anchor, f"{key}.alt_anchor")
            if day_unit != "calendar":
                self.fail(f"{key}.alt_anchor", "alternative anchors need calendar days")
        for name in ("alt_days", "cap_days"):
            if name in rule and alt_anchor is None:
                self.fail(f"{key}.{name}", "needs alt_anchor")
        wait_days, wait_from = self.wait(rule.get("wait"), alt_anchor, f"{key}.wait")
        effective_from, effective_to = self.effective(rule, key)
        confidence = self.choice(rule["confidence"], CONFIDENCES, f"{key}.confidence")
        roll = rule.get("roll")
        if roll is not None:
            self.choice(roll, ROLLS, f"{key}.roll")
        return StageRule(
            network=self.network,
            code=code,
            stage=stage,
            actor=self.choice(rule["actor"], ACTORS, f"{key}.actor"),
            days=days,
            day_unit=day_unit,
            anchor_event=self.anchor(rule["anchor"], f"{key}.anchor"),
            roll=roll,
            alt_anchor_event=alt_anchor,
            alt_days=self.count(rule.get("alt_days", days), f"{key}.alt_days", nullable=True)
            if alt_anchor
            else None,
            cap_days=self.count(rule.get("cap_days"), f"{key}.cap_days", nullable=True),
            wait_days=wait_days,
            wait_from=wait_from,
            effective_from=effective_from,
            effective_to=effective_to,
            confidence=confidence,
            source_keys=self.source_keys(
                rule["sources"], self.sources, f"{key}.sources", confidence
            ),
            note=self.optional_text(rule.get("note"), f"{key}.note"),
            unavailable=self.optional_text(unavailable, f"{key}.unavailable"),
            due_note=self.optional_text(rule.get("due_note"), f"{key}.due_note"),
            window=window,
        )

    def anchor(self, value, key: str) -> str:
        if value not in self.anchors:
            self.fail(key, f"unknown anchor event {value!r} (declare it under anchors)")
        return value

    def wait(self, value, alt_anchor, key: str) -> tuple[int | None, str | None]:
        if value is None:
            return None, None
        value = self.mapping(value, key)
        self.check_keys(value, {"days", "from"}, key, ("days", "from"))
        wait_from = self.choice(value["from"], WAIT_FROM, f"{key}.from")
        if wait_from == "alt_date" and alt_anchor is None:
            self.fail(f"{key}.from", "alt_date needs alt_anchor")
        return self.count(value["days"], f"{key}.days"), wait_from

    # --- codes ------------------------------------------------------------------------------

    def read_codes(self, value):
        if not isinstance(value, list) or not value:
            self.fail("codes", "must be a non-empty list")
        specs = []
        for i, spec in enumerate(value):
            key = f"codes[{i}]"
            spec = self.mapping(spec, key)
            code = self.text(spec.get("code"), f"{key}.code")
            key = f"{key} ({code})"
            self.check_keys(spec, CODE_KEYS, key, ("code", "name", "confidence", "sources"))
            specs.append((key, code, spec))
        current: dict[str, ReasonCode] = {}
        rows: list[tuple[str, ReasonCode, dict[str, StageRule]]] = []
        for key, code, spec in specs:
            if "maps_to" not in spec:
                row, rules = self.current_code(code, spec, key)
                rows.append((key, row, rules))
                current[code] = row
        for key, code, spec in specs:
            if "maps_to" in spec:
                target = self.text(spec["maps_to"], f"{key}.maps_to")
                if target not in current:
                    self.fail(f"{key}.maps_to", f"{target!r} is not a current code in this table")
                # A legacy row has no rules of its own: lookups use the target's.
                rows.append((key, self.legacy_code(code, spec, current[target], key), {}))
        return self.index_versions(rows, specs)

    def index_versions(self, rows, specs):
        position = {key: i for i, (key, _, _) in enumerate(specs)}
        rows.sort(key=lambda row: position[row[0]])
        versions: dict[str, list[tuple[ReasonCode, dict[str, StageRule]]]] = {}
        for key, row, rules in rows:
            existing = versions.setdefault(row.code, [])
            for other, _ in existing:
                if _overlap(other, row):
                    self.fail(
                        f"{key}.effective_from",
                        f"overlaps another {row.code} row "
                        f"({other.effective_from or '…'} to {other.effective_to or '…'})",
                    )
            existing.append((row, rules))
        for existing in versions.values():
            existing.sort(key=lambda pair: pair[0].effective_from or date.min)
        return [row for _, row, _ in rows], versions

    def flow_of(self, spec: dict, category: str | None, key: str) -> str:
        derived = self.flow_by_category.get(category) if category else None
        flow = spec.get("flow", derived or self.default_flow)
        if flow is None:
            self.fail(f"{key}.flow", "is required (no flow covers this category)")
        if flow not in self.flows:
            self.fail(f"{key}.flow", f"unknown flow {flow!r}")
        if derived and flow != derived:
            self.fail(f"{key}.flow", f"category {category} belongs to the {derived} flow")
        return flow

    def current_code(self, code: str, spec: dict, key: str):
        category = spec.get("category")
        if category is not None:
            category = self.text(category, f"{key}.category")
        elif self.flow_by_category:
            self.fail(f"{key}.category", "is required")
        flow = self.flow_of(spec, category, key)
        stage_specs = dict(self.stage_sets[self.flows[flow]["stage_set"]])
        own = self.mapping(spec.get("stages") or {}, f"{key}.stages")
        for stage, stage_spec in own.items():
            self.stage_name(stage, f"{key}.stages.{stage}")
            stage_specs[stage] = stage_spec
        rules = {
            stage: self.stage_rule(code, stage, stage_spec, f"{key}.stages.{stage}")
            for stage, stage_spec in stage_specs.items()
            if stage_spec is not None
        }
        ordered = tuple(s for s in self.stages if s in rules)
        return self.reason_code(code, spec, key, category, flow, ordered), {
            s: rules[s] for s in ordered
        }

    def legacy_code(self, code: str, spec: dict, target: ReasonCode, key: str) -> ReasonCode:
        for name in ("stages", "flow", "prearbitration_optional", "return_class"):
            if name in spec:
                self.fail(f"{key}.{name}", "a legacy code takes this from the code it maps to")
        category = self.text(spec["category"], f"{key}.category") if "category" in spec else None
        row = self.reason_code(code, spec, key, category, target.flow, target.stages)
        return replace(
            row, maps_to=target.code, prearbitration_optional=target.prearbitration_optional
        )

    def reason_code(self, code, spec, key, category, flow, stages) -> ReasonCode:
        name = self.text(spec["name"], f"{key}.name")
        short_name = spec.get("short_name")
        if short_name is None:
            if len(name) > SHORT_NAME_MAX:
                self.fail(f"{key}.short_name", f"is required: name is over {SHORT_NAME_MAX} chars")
            short_name = name
        return_class = spec.get("return_class")
        if self.network == "nacha":
            self.choice(return_class, RETURN_CLASSES, f"{key}.return_class")
        elif return_class is not None:
            self.fail(f"{key}.return_class", "only Nacha codes have a return class")
        if "prearbitration_optional" in spec and self.network != "mastercard":
            self.fail(f"{key}.prearbitration_optional", "only Mastercard codes carry this flag")
        effective_from, effective_to = self.effective(spec, key)
        confidence = self.choice(spec["confidence"], CONFIDENCES, f"{key}.confidence")
        return ReasonCode(
            network=self.network,
            code=code,
            name=name,
            short_name=self.text(short_name, f"{key}.short_name", max_len=SHORT_NAME_MAX),
            category=category,
            flow=flow,
            maps_to=None,
            prearbitration_optional=self.flag(
                spec.get("prearbitration_optional", False), f"{key}.prearbitration_optional"
            ),
            return_class=return_class,
            wsud_required=self.flag(spec.get("wsud_required", False), f"{key}.wsud_required"),
            entry_sec_codes=self.sec_codes(spec.get("entry_sec_codes"), f"{key}.entry_sec_codes"),
            other_entry_code=self.optional_text(
                spec.get("other_entry_code"), f"{key}.other_entry_code"
            ),
            reinitiable=self.flag(spec.get("reinitiable", False), f"{key}.reinitiable"),
            effective_from=effective_from,
            effective_to=effective_to,
            confidence=confidence,
            source_keys=self.source_keys(
                spec["sources"], self.sources, f"{key}.sources", confidence
            ),
            note=self.optional_text(spec.get("note"), f"{key}.note"),
            stages=stages,
        )

    def sec_codes(self, value, key: str) -> tuple[str, ...]:
        """The SEC codes of the entries a Nacha code may return (empty: any entry)."""
        if value is None:
            return ()
        if self.network != "nacha":
            self.fail(key, "only Nacha codes name SEC codes")
        if not isinstance(value, list) or not value:
            self.fail(key, "must be a non-empty list of SEC codes")
        for i, code in enumerate(value):
            if code not in SEC_CODES:
                known = ", ".join(SEC_CODES)
                self.fail(f"{key}[{i}]", f"unknown SEC code {code!r} (known: {known})")
        return tuple(value)


def _overlap(a: ReasonCode, b: ReasonCode) -> bool:
    a_start, a_end = a.effective_from or date.min, a.effective_to or date.max
    b_start, b_end = b.effective_from or date.min, b.effective_to or date.max
    return a_start <= b_end and b_start <= a_end
