"""Nacha's network-wide settings in ``nacha.yaml``: reinitiation limits, rate thresholds and
the dishonor code for an untimely return. Validated like the rest of the table."""

from __future__ import annotations

from typing import Any

from .model import CONFIDENCES, RETURN_CLASSES

REINITIATION_REQUIRED = (
    "max_reinitiations",
    "within_calendar_days",
    "anchor",
    "codes",
    "confidence",
    "sources",
)
REINITIATION_KEYS = {*REINITIATION_REQUIRED, "note"}
THRESHOLD_REQUIRED = ("threshold_pct", "return_class", "sources", "confidence")
THRESHOLD_KEYS = {*THRESHOLD_REQUIRED, "window", "excluded_sec_codes", "note"}


class NachaPolicies:
    """Mixin for the table reader (needs ``Checks`` and ``self.anchor``/``self.sources``)."""

    def nacha_policies(self, raw: dict, versions) -> dict[str, Any]:
        for name in ("reinitiation", "return_rate_thresholds", "untimely_return_dishonor_code"):
            if name not in raw:
                self.fail(name, "is required for nacha")
        reinit = self.mapping(raw["reinitiation"], "reinitiation")
        self.check_keys(reinit, REINITIATION_KEYS, "reinitiation", REINITIATION_REQUIRED)
        reinitiation = {
            "max_reinitiations": self.count(
                reinit["max_reinitiations"], "reinitiation.max_reinitiations"
            ),
            "within_calendar_days": self.count(
                reinit["within_calendar_days"], "reinitiation.within_calendar_days"
            ),
            "anchor": self.anchor(reinit["anchor"], "reinitiation.anchor"),
            "codes": tuple(self.known_codes(reinit["codes"], versions, "reinitiation.codes")),
            "confidence": self.choice(reinit["confidence"], CONFIDENCES, "reinitiation.confidence"),
            "source_keys": self.source_keys(
                reinit["sources"], self.sources, "reinitiation.sources", reinit["confidence"]
            ),
            "note": self.optional_text(reinit.get("note"), "reinitiation.note"),
        }
        dishonor_code = self.text(
            raw["untimely_return_dishonor_code"], "untimely_return_dishonor_code"
        )
        self.known_codes([dishonor_code], versions, "untimely_return_dishonor_code")
        return {
            "reinitiation": reinitiation,
            "return_rate_thresholds": self.thresholds(raw["return_rate_thresholds"], versions),
            "untimely_return_dishonor_code": dishonor_code,
        }

    def known_codes(self, value, versions, key: str) -> list[str]:
        if not isinstance(value, list) or not value:
            self.fail(key, "must be a non-empty list of codes")
        for i, code in enumerate(value):
            if code not in versions:
                self.fail(f"{key}[{i}]", f"unknown code {code!r}")
        return value

    def thresholds(self, value, versions) -> dict[str, dict]:
        value = self.mapping(value, "return_rate_thresholds")
        out = {}
        for name, spec in value.items():
            key = f"return_rate_thresholds.{name}"
            spec = self.mapping(spec, key)
            self.check_keys(spec, THRESHOLD_KEYS, key, THRESHOLD_REQUIRED)
            pct = spec["threshold_pct"]
            if isinstance(pct, bool) or not isinstance(pct, int | float) or not 0 < pct < 100:
                self.fail(f"{key}.threshold_pct", f"must be a percentage, got {pct!r}")
            return_class = spec["return_class"]
            if return_class != "any":
                self.choice(return_class, RETURN_CLASSES, f"{key}.return_class")
            out[name] = {
                "threshold_pct": float(pct),
                "return_class": return_class,
                "window": self.optional_text(spec.get("window"), f"{key}.window"),
                "excluded_sec_codes": tuple(spec.get("excluded_sec_codes") or ()),
                "confidence": self.choice(spec["confidence"], CONFIDENCES, f"{key}.confidence"),
                "source_keys": self.source_keys(
                    spec["sources"], self.sources, f"{key}.sources", spec["confidence"]
                ),
                "note": self.optional_text(spec.get("note"), f"{key}.note"),
            }
        return out
