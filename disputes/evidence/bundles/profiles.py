"""Channel profiles: what a response bundle must fit for the channel it is sent through.

The table is ``calendar_rules/rules/channels.yaml`` (data beside the network rule tables). It is
validated when loaded; a malformed table raises ``RuleTableError`` naming the file and the key
(``channels.yaml: channels.stripe.max_bytes: must be an integer >= 1, got '4.5 MB'``).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

import yaml

from calendar_rules.rules import NETWORKS, RULES_DIR, RuleTableError
from calendar_rules.rules.checks import Checks
from calendar_rules.rules.model import CONFIDENCES

CHANNELS_FILE = RULES_DIR / "channels.yaml"
FORMATS = ("pdf", "jpeg", "tiff", "png")
CHARSETS = ("alnum", "any")
CHANNEL_KEYS = {
    "label",
    "networks",
    "formats",
    "max_bytes",
    "recommended_bytes",
    "max_pages",
    "fee_free_pages",
    "max_dpi",
    "max_pixels",
    "file_name",
    "confidence",
    "sources",
    "note",
}


@dataclass(frozen=True, slots=True)
class Rung:
    """One step of the recompression ladder."""

    dpi: int
    jpeg_quality: int

    def __str__(self) -> str:
        return f"{self.dpi} DPI, JPEG quality {self.jpeg_quality}"


@dataclass(frozen=True, slots=True)
class Profile:
    """One submission channel's limits. ``None`` means the channel publishes no such limit."""

    name: str
    label: str
    networks: tuple[str, ...]
    formats: tuple[str, ...]
    max_bytes: int | None
    recommended_bytes: int | None
    max_pages: int | None
    fee_free_pages: int | None
    max_dpi: int
    max_pixels: int | None
    name_max_length: int
    name_charset: str
    confidence: str
    source_keys: tuple[str, ...]
    note: str = ""

    @property
    def target_bytes(self) -> int | None:
        """The size the ladder aims for: the recommendation when there is one, else the limit."""
        return self.recommended_bytes or self.max_bytes

    def ladder(self, rungs: tuple[Rung, ...]) -> tuple[Rung, ...]:
        """The rungs this channel may use (none above its resolution); never empty."""
        allowed = tuple(rung for rung in rungs if rung.dpi <= self.max_dpi)
        return allowed or (Rung(self.max_dpi, rungs[-1].jpeg_quality),)

    def document_name(self, case_id: str, version: int) -> str:
        """The bundle's file name under the channel's naming rules."""
        suffix = f"v{version}" if self.name_charset == "alnum" else f"-v{version}"
        stem = case_id
        if self.name_charset == "alnum":
            stem = "".join(ch for ch in stem if ch.isascii() and ch.isalnum())
        room = max(1, self.name_max_length - len(".pdf") - len(suffix))
        return stem[-room:] + suffix + ".pdf"


@dataclass(frozen=True, slots=True)
class ChannelTable:
    profiles: dict[str, Profile]
    defaults: dict[str, str]
    ladder: tuple[Rung, ...]
    sources: dict[str, str]

    def profile(self, name: str) -> Profile:
        try:
            return self.profiles[name]
        except (KeyError, TypeError):
            raise UnknownChannel(
                f"unknown channel {name!r} (known: {', '.join(self.profiles)})"
            ) from None

    def default_for(self, network: str) -> Profile:
        return self.profiles[self.defaults[network]]

    def for_network(self, network: str) -> list[Profile]:
        return [p for p in self.profiles.values() if network in p.networks]


class UnknownChannel(ValueError):
    pass


class _ChannelReader(Checks):
    def read(self, raw) -> ChannelTable:
        raw = self.mapping(raw, "(top level)")
        self.check_keys(
            raw,
            {"sources", "defaults", "ladder", "channels"},
            "",
            ("sources", "ladder", "channels"),
        )
        sources = {
            str(key): self.text(value, f"sources.{key}")
            for key, value in self.mapping(raw["sources"], "sources").items()
        }
        ladder = self.read_ladder(raw["ladder"])
        channels = self.mapping(raw["channels"], "channels")
        profiles = {
            self.identifier(name, f"channels.{name}"): self.channel(name, spec, sources)
            for name, spec in channels.items()
        }
        if not profiles:
            self.fail("channels", "must name at least one channel")
        defaults = self.read_defaults(raw.get("defaults") or {}, profiles)
        return ChannelTable(profiles=profiles, defaults=defaults, ladder=ladder, sources=sources)

    def read_ladder(self, value) -> tuple[Rung, ...]:
        if not isinstance(value, list) or not value:
            self.fail("ladder", "must be a non-empty list of {dpi, jpeg_quality}")
        rungs = []
        for i, spec in enumerate(value):
            key = f"ladder[{i}]"
            spec = self.mapping(spec, key)
            self.check_keys(spec, {"dpi", "jpeg_quality"}, key, ("dpi", "jpeg_quality"))
            dpi = self.positive(spec["dpi"], f"{key}.dpi")
            quality = self.positive(spec["jpeg_quality"], f"{key}.jpeg_quality")
            if quality > 95:
                self.fail(f"{key}.jpeg_quality", f"must be at most 95, got {quality}")
            if rungs and (dpi, quality) >= (rungs[-1].dpi, rungs[-1].jpeg_quality):
                self.fail(key, "each rung must be smaller than the one before it")
            rungs.append(Rung(dpi, quality))
        return tuple(rungs)

    def read_defaults(self, value, profiles) -> dict[str, str]:
        value = self.mapping(value, "defaults")
        for network in NETWORKS:
            name = value.get(network)
            if name is None:
                self.fail(f"defaults.{network}", "is required (every network needs a channel)")
            if name not in profiles:
                self.fail(f"defaults.{network}", f"unknown channel {name!r}")
            if network not in profiles[name].networks:
                self.fail(f"defaults.{network}", f"{name} does not take {network} disputes")
        for network in value:
            self.choice(network, NETWORKS, f"defaults.{network}")
        return dict(value)

    def channel(self, name: str, spec, sources) -> Profile:
        key = f"channels.{name}"
        spec = self.mapping(spec, key)
        self.check_keys(spec, CHANNEL_KEYS, key, tuple(sorted(CHANNEL_KEYS - {"note"})))
        networks = self.names(spec["networks"], NETWORKS, f"{key}.networks")
        formats = self.names(spec["formats"], FORMATS, f"{key}.formats")
        if "pdf" not in formats:
            self.fail(f"{key}.formats", "must include pdf (a bundle is one PDF)")
        max_bytes = self.limit(spec["max_bytes"], f"{key}.max_bytes")
        recommended = self.limit(spec["recommended_bytes"], f"{key}.recommended_bytes")
        if max_bytes and recommended and recommended > max_bytes:
            self.fail(f"{key}.recommended_bytes", "is above max_bytes")
        file_name = self.mapping(spec["file_name"], f"{key}.file_name")
        self.check_keys(
            file_name, {"max_length", "charset"}, f"{key}.file_name", ("max_length", "charset")
        )
        name_length = self.positive(file_name["max_length"], f"{key}.file_name.max_length")
        if name_length < 8:
            self.fail(f"{key}.file_name.max_length", "must allow at least 8 characters")
        confidence = self.choice(spec["confidence"], CONFIDENCES, f"{key}.confidence")
        return Profile(
            name=name,
            label=self.text(spec["label"], f"{key}.label"),
            networks=networks,
            formats=formats,
            max_bytes=max_bytes,
            recommended_bytes=recommended,
            max_pages=self.limit(spec["max_pages"], f"{key}.max_pages"),
            fee_free_pages=self.limit(spec["fee_free_pages"], f"{key}.fee_free_pages"),
            max_dpi=self.positive(spec["max_dpi"], f"{key}.max_dpi"),
            max_pixels=self.limit(spec["max_pixels"], f"{key}.max_pixels"),
            name_max_length=name_length,
            name_charset=self.choice(file_name["charset"], CHARSETS, f"{key}.file_name.charset"),
            confidence=confidence,
            source_keys=self.source_keys(spec["sources"], sources, f"{key}.sources", confidence),
            note=self.optional_text(spec.get("note"), f"{key}.note"),
        )

    def names(self, value, choices, key: str) -> tuple[str, ...]:
        if not isinstance(value, list) or not value:
            self.fail(key, f"must be a non-empty list of {', '.join(choices)}")
        return tuple(self.choice(v, choices, f"{key}[{i}]") for i, v in enumerate(value))

    def positive(self, value, key: str) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            self.fail(key, f"must be an integer >= 1, got {value!r}")
        return value

    def limit(self, value, key: str) -> int | None:
        return None if value is None else self.positive(value, key)


def load_channels(path: Path | str = CHANNELS_FILE) -> ChannelTable:
    """Read and validate the channel table at ``path`` (uncached)."""
    path = Path(path)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise RuleTableError(path, "(file)", "channel table not found") from exc
    except yaml.YAMLError as exc:
        raise RuleTableError(path, "(yaml)", str(exc).replace("\n", " ")) from exc
    return _ChannelReader(path).read(raw)


@cache
def channels() -> ChannelTable:
    """The shipped channel table, validated once per process."""
    return load_channels()


def profile(name: str) -> Profile:
    return channels().profile(name)


def default_profile(network: str) -> Profile:
    return channels().default_for(network)
