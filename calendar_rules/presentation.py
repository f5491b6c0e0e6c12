"""The rule tables as rows for the /rules/ page (pure: no Django, no clock)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from . import calendars, deadlines, rules

CONVENTIONS = (
    "Card-network windows (Visa, Mastercard) count calendar days: the day a window starts from "
    "is day 0, the deadline is that day plus N days, and it is never rolled to a business day. "
    "NACHA windows count Federal Reserve banking days (Monday to Friday, minus Fed holidays; a "
    "Sunday holiday closes the Monday; a Saturday holiday leaves the Friday open). A NACHA "
    "return is due at opening of business on the 2nd banking day after settlement (2-day "
    "codes) or on the banking day after the 60th calendar day (extended codes). Where the card "
    "processor or the sponsor bank wants an answer earlier, its cut-off comes first; the "
    "internal target is the earlier of the two minus a buffer in banking days (default 2). "
    "Each window says how it is known: the network's own text, a secondary source, not "
    "confirmed by a source, or sources that disagree or are silent. An ops lead confirms a "
    "window for Astra, or sets it, with the document it comes from."
)


# How sure the table is of a figure, in words a lead reads (never the tags themselves).
CONFIDENCE_WORDS = {
    "verified": "Network's own text",
    "secondary": "Secondary source",
    "GK": "Not confirmed by a source",
    "open": "Sources disagree or are silent",
}
DOUBTS = {
    "GK": (
        "No source we could read states this window; it is the figure the industry usually "
        "quotes. An ops lead should confirm it for Astra, with the document it comes from, "
        "before the team relies on it."
    ),
    "open": (
        "The sources disagree on this window, or none publishes it; the earlier figure is used. "
        "An ops lead should confirm it for Astra with the document that settles it."
    ),
}


def confidence_words(confidence: str) -> str:
    return CONFIDENCE_WORDS.get(confidence, confidence)


def anchor_id(network: str, code: str) -> str:
    """The /rules/ page's anchor of a code: ``visa-13.1``, ``nacha-R05``."""
    return f"{network}-{code}"


@dataclass(frozen=True, slots=True)
class Source:
    key: str
    where: str

    @property
    def url(self) -> str:
        return self.where.split()[0] if self.where.startswith("http") else ""


@dataclass(frozen=True, slots=True)
class RuleRow:
    """One (code, stage) line of the page; ``stage`` is empty for a legacy code's own line."""

    code: str
    name: str
    family: str  # Visa flow, Mastercard category, Nacha return class
    stage: str
    actor: str
    window: str
    anchor: str
    alternative: str
    in_force: str
    confidence: str
    sources: tuple[Source, ...]
    note: str
    first_of_code: bool
    rule_key: str = ""
    network: str = ""

    @property
    def code_anchor(self) -> str:
        return anchor_id(self.network, self.code)

    @property
    def confidence_words(self) -> str:
        return confidence_words(self.confidence)

    @property
    def doubtful(self) -> bool:
        return self.confidence in DOUBTS

    @property
    def stage_words(self) -> str:
        return deadlines.stage_words(self.stage) if self.stage else ""


@dataclass(frozen=True, slots=True)
class NetworkSection:
    network: str
    label: str
    version: str
    buffers: str
    rows: tuple[RuleRow, ...]


def window_text(rule: rules.StageRule) -> str:
    if rule.days is None:
        return "not published"
    text = f"{rule.days} {rule.day_unit} day{'s' if rule.days != 1 else ''}"
    if rule.roll == "next_banking_day":
        text += ", then the next banking day"
    return text


def alternative_text(rule: rules.StageRule, anchors: dict[str, str]) -> str:
    parts = []
    if rule.alt_anchor_event:
        parts.append(f"or {rule.alt_days} days from the {anchors[rule.alt_anchor_event]}")
    if rule.cap_days is not None:
        parts.append(f"never after {rule.cap_days} days from the start date")
    if rule.wait_days:
        base = "the start date (no alternative date)" if rule.wait_from == "anchor" else "that date"
        parts.append(f"earliest {rule.wait_days} days after {base}")
    return "; ".join(parts)


def in_force_text(start: date | None, end: date | None) -> str:
    if start and end:
        return f"{start} to {end}"
    if start:
        return f"from {start}"
    if end:
        return f"until {end}"
    return ""


def _family(row: rules.ReasonCode) -> str:
    if row.network == "visa":
        return row.flow.title()
    if row.network == "nacha":
        return row.return_class + (" · WSUD" if row.wsud_required else "")
    return (row.category or "").replace("_", " ")


def network_section(network: str) -> NetworkSection:
    table = rules.network_table(network)
    rows: list[RuleRow] = []
    for row in table.codes:
        rows.extend(_rows_of(table, row))
    buffers = ", ".join(
        f"{deadlines.stage_words(stage)} {days}" for stage, days in table.buffers.items()
    )
    return NetworkSection(table.network, table.label, rules.rules_version(), buffers, tuple(rows))


def _rows_of(table, row: rules.ReasonCode) -> list[RuleRow]:
    code_sources = tuple(Source(k, table.sources[k]) for k in row.source_keys)
    family = _family(row)
    if row.maps_to is not None:
        note = f"Legacy code: uses the windows of {row.maps_to}. {row.note}".strip()
        return [
            RuleRow(
                row.code,
                row.name,
                family,
                "",
                "",
                "",
                "",
                "",
                in_force_text(row.effective_from, row.effective_to),
                row.confidence,
                code_sources,
                note,
                True,
                network=table.network,
            )
        ]
    stage_rules = list(next(rs for r, rs in table.versions[row.code] if r is row).values())
    if not stage_rules:
        return [
            RuleRow(
                row.code,
                row.name,
                family,
                "",
                "",
                "no windows",
                "",
                "",
                in_force_text(row.effective_from, row.effective_to),
                row.confidence,
                code_sources,
                row.note,
                True,
                network=table.network,
            )
        ]
    out = []
    for i, rule in enumerate(stage_rules):
        note = rule.note or rule.unavailable
        if i == 0 and row.note:
            note = f"{row.note} {note}".strip()
        out.append(
            RuleRow(
                code=row.code,
                name=row.name,
                family=family + (" · pre-arb optional" if row.prearbitration_optional else ""),
                stage=rule.stage,
                actor=rule.actor,
                window=window_text(rule),
                anchor=table.anchors[rule.anchor_event],
                alternative=alternative_text(rule, table.anchors),
                in_force=in_force_text(
                    max(filter(None, (row.effective_from, rule.effective_from)), default=None),
                    min(filter(None, (row.effective_to, rule.effective_to)), default=None),
                ),
                confidence=rule.confidence,
                sources=tuple(Source(k, table.sources[k]) for k in rule.source_keys),
                note=note,
                first_of_code=i == 0,
                rule_key=rule.rule_key,
                network=table.network,
            )
        )
    return out


def sections(network: str | None = None, query: str = "") -> list[NetworkSection]:
    """One section per network, or just ``network`` when it names one; with ``query``, only
    the codes whose code starts with it or whose name contains it."""
    names = [network] if network in rules.NETWORKS else list(rules.NETWORKS)
    out = [network_section(name) for name in names]
    query = query.strip().lower()
    if not query:
        return out
    return [
        NetworkSection(s.network, s.label, s.version, s.buffers, rows)
        for s in out
        if (rows := tuple(r for r in s.rows if _matches(r, query)))
    ]


def _matches(row: RuleRow, query: str) -> bool:
    return row.code.lower().startswith(query) or query in row.name.lower()


def closures(year: int) -> list[tuple[date, str]]:
    """The Fed's weekday closures of ``year`` with the holiday names."""
    fed = calendars.FED
    return [(day, fed.closure_name(day)) for day in fed.closures(year)]
