"""Deadlines from the rule tables: the network's date, our internal date, and why.

``compute(network=…, code=…, stage=…, anchor=…)`` returns a ``Deadline``:

* ``network_due``: the anchor plus the rule's window. Card networks count calendar days with the
  anchor as day 0 and never roll to a business day. Nacha counts Fed banking days; a 60-day
  (extended) return is the banking day after the 60th calendar day. The date is the last day
  the act is on time (for a Nacha return: the banking day at whose opening of business the
  return must be available to the ODFI).
* ``internal_due``: ``network_due`` minus a buffer in Fed banking days (``buffers`` in each
  table, per stage, default 2; ``compute(buffers={"default": 1, "dispute_response": 3})``
  overrides it for one call).
* ``earliest_filing_date``: where the rule has a wait (Visa 13.1, 13.6; Mastercard 4853).
* ``explanation``: one sentence, e.g. "Visa 13.1 dispute response: 30 calendar days from the
  dispute processing date 2026-11-02 → 2026-12-02; internal buffer 2 business days →
  2026-11-30".

With ``alt_date`` (an expected-receipt or delivery date, for rules with an alternative anchor):
``network_due = min(alt_date + alt_days, anchor + cap_days)``.

The code and the stage rule must be in force on the anchor date. Rules without a countable
window (Nacha R90 until its time frame is published, R06/R31 returns "as agreed", Mastercard
regional codes) raise ``rules.WindowNotPublished`` rather than guess.

Pure: no clock, no database. Lookups are precomputed per (network, code, stage).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from . import calendars, rules
from .rules import (
    AltDateNotApplicable,
    RuleLookupError,
    RuleNotInForce,
    RuleTables,
    StageRule,
    WindowNotPublished,
)

__all__ = ["Deadline", "DeadlineEngine", "compute", "engine"]

_CONFIDENCE_FLAGS = {
    "verified": "",
    "secondary": "",
    "GK": " [GK figure: verify against the rule book]",
    "open": " [open figure: see the rule's note]",
}


@dataclass(frozen=True, slots=True)
class Deadline:
    """One computed deadline and everything needed to explain it.

    ``explanation`` is a property: the sentence is formatted when read, not when computed, so
    that recomputing a million deadlines does not format a million sentences.
    """

    network: str
    code: str
    stage: str
    network_due: date
    internal_due: date
    day_unit: str
    days: int
    anchor_event: str
    anchor_date: date
    alt_date: date | None
    actor: str
    rule_key: str
    rules_version: str
    confidence: str
    source_keys: tuple[str, ...]
    earliest_filing_date: date | None
    buffer_days: int
    _entry: _Entry = field(repr=False, compare=False)

    @property
    def explanation(self) -> str:
        """One sentence: the window, the dates counted, the buffer, and any GK/open flag."""
        return self._entry.explain(self)

    @property
    def note(self) -> str:
        """The rule's note from the table (caveats, source disagreements)."""
        return self._entry.rule.note

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready: dates as ISO strings, source keys as a list, with the explanation."""
        out = {}
        for name in self.__slots__:
            if name.startswith("_"):
                continue
            value = getattr(self, name)
            if isinstance(value, date):
                value = value.isoformat()
            elif isinstance(value, tuple):
                value = list(value)
            out[name] = value
        out["explanation"] = self.explanation
        return out


class _Entry:
    """A stage rule compiled for one requested (network, code, stage) and date range."""

    __slots__ = (
        "actor",
        "alt_days",
        "alt_label",
        "anchor_event",
        "anchor_label",
        "banking",
        "buffer",
        "cap_days",
        "code",
        "confidence",
        "day_unit",
        "days",
        "delta",
        "due_note",
        "flag",
        "hi",
        "label",
        "lo",
        "network",
        "refusal",
        "roll",
        "rule",
        "rule_key",
        "source_keys",
        "stage",
        "text",
        "wait",
        "wait_days",
        "wait_from",
    )

    def __init__(
        self,
        *,
        label: str,
        network: str,
        code: str,
        rule: StageRule,
        lo: int,
        hi: int,
        anchor_label: str,
        alt_label: str,
        buffer: int,
    ):
        self.lo, self.hi = lo, hi
        self.label = label
        self.network, self.code, self.stage = network, code, rule.stage
        self.rule = rule
        self.rule_key = rule.rule_key
        self.actor = rule.actor
        self.days = rule.days
        self.day_unit = rule.day_unit
        self.banking = rule.day_unit == "banking"
        self.roll = rule.roll == "next_banking_day"
        self.anchor_event = rule.anchor_event
        self.anchor_label = anchor_label
        self.alt_label = alt_label
        self.alt_days = rule.alt_days
        self.cap_days = rule.cap_days
        self.wait_days = rule.wait_days
        self.wait_from = rule.wait_from
        self.confidence = rule.confidence
        self.source_keys = rule.source_keys
        self.due_note = f" ({rule.due_note})" if rule.due_note else ""
        self.flag = _CONFIDENCE_FLAGS[rule.confidence]
        self.buffer = buffer
        self.refusal = (
            f"{label}: no deadline computed: {rule.unavailable} (rule {rule.rule_key})"
            if rule.days is None
            else ""
        )
        self.text = f"{rule.days} {rule.day_unit} day{'s' if rule.days != 1 else ''}"
        self.delta = timedelta(rule.days or 0)
        self.wait = timedelta(rule.wait_days or 0)

    def explain(self, d: Deadline) -> str:
        """The one-sentence explanation of ``d``, computed by this entry."""
        anchor = d.anchor_date.isoformat()
        if d.alt_date is None:
            counted = f"{self.text} from the {self.anchor_label} {anchor} → "
            if self.roll:
                counted += (
                    f"{(d.anchor_date + self.delta).isoformat()}, then the next banking day → "
                )
        else:
            from_alt = d.alt_date + timedelta(self.alt_days)
            counted = f"{self.alt_days} calendar days from the {self.alt_label} {d.alt_date}"
            if self.cap_days is None:
                counted += " → "
            else:
                cap = d.anchor_date + timedelta(self.cap_days)
                counted = (
                    f"the earlier of {counted} → {from_alt} and the {self.cap_days}-day cap "
                    f"from the {self.anchor_label} {anchor} → {cap}: "
                )
        earliest = d.earliest_filing_date
        buffer = d.buffer_days
        return (
            f"{self.label}: {counted}{d.network_due}{self.due_note}"
            + (f"; earliest filing {earliest}" if earliest else "")
            + (
                f"; internal buffer {buffer} business day{'s' if buffer != 1 else ''} → "
                f"{d.internal_due}"
                if buffer
                else "; no internal buffer"
            )
            + self.flag
        )


class DeadlineEngine:
    """Computes deadlines from one ``RuleTables`` (the shipped tables unless given others)."""

    def __init__(self, tables: RuleTables, calendar: calendars.BankingCalendar = calendars.FED):
        self.tables = tables
        self.version = tables.version
        self.calendar = calendar
        self._entries: dict[tuple[str, str, str], tuple[_Entry, ...]] = {}
        for table in tables.networks.values():
            for code, versions in table.versions.items():
                for row, own_rules in versions:
                    self._compile(table, code, row, own_rules)

    def _compile(self, table, code, row, own_rules):
        lo, hi = _ordinals(row.effective_from, row.effective_to)
        if row.maps_to is None:
            targets = [(own_rules, lo, hi)]
            label = f"{table.label} {code}"
        else:
            label = f"{table.label} {code} (legacy, uses {row.maps_to})"
            targets = []
            for target, target_rules in table.versions[row.maps_to]:
                t_lo, t_hi = _ordinals(target.effective_from, target.effective_to)
                targets.append((target_rules, max(lo, t_lo), min(hi, t_hi)))
        for stage_rules, v_lo, v_hi in targets:
            for stage, rule in stage_rules.items():
                r_lo, r_hi = _ordinals(rule.effective_from, rule.effective_to)
                e_lo, e_hi = max(v_lo, r_lo), min(v_hi, r_hi)
                if e_lo > e_hi:
                    continue
                entry = _Entry(
                    label=f"{label} {stage.replace('_', ' ')}",
                    network=table.network,
                    code=code,
                    rule=rule,
                    lo=e_lo,
                    hi=e_hi,
                    anchor_label=table.anchors[rule.anchor_event],
                    alt_label=table.anchors.get(rule.alt_anchor_event or "", ""),
                    buffer=table.buffer_for(stage),
                )
                key = (table.network, code, stage)
                self._entries[key] = (*self._entries.get(key, ()), entry)

    def valid_keys(self) -> list[tuple[str, str, str, date, date, bool]]:
        """Every computable (network, code, stage) with its first and last anchor date (within
        the calendar) and whether it takes an alternative date."""
        first, last = self.calendar.first.toordinal(), self.calendar.last.toordinal()
        out = []
        for (network, code, stage), entries in self._entries.items():
            for entry in entries:
                if entry.refusal:
                    continue
                lo, hi = max(entry.lo, first + 30), min(entry.hi, last - 800)
                if lo <= hi:
                    out.append(
                        (
                            network,
                            code,
                            stage,
                            date.fromordinal(lo),
                            date.fromordinal(hi),
                            entry.alt_days is not None,
                        )
                    )
        return out

    def compute(
        self,
        network: str,
        code: str,
        stage: str,
        anchor: date,
        alt_date: date | None = None,
        buffers: Mapping[str, int] | None = None,
    ) -> Deadline:
        entries = self._entries.get((network, code, stage))
        if entries is None:
            entries = self._lookup_slowly(network, code, stage)
        ordinal = anchor.toordinal()
        for entry in entries:
            if entry.lo <= ordinal <= entry.hi:
                break
        else:
            self._raise_not_in_force(network, code, stage, anchor)
        if entry.refusal:
            raise WindowNotPublished(entry.refusal)
        calendar = self.calendar
        if alt_date is None:
            if entry.banking:
                due = calendar.add_banking_days(anchor, entry.days)
            else:
                due = anchor + entry.delta
            if entry.roll:
                due = calendar.next_banking_day(due)
            earliest = anchor + entry.wait if entry.wait_from == "anchor" else None
        else:
            due = self._alternative(entry, anchor, alt_date)
            earliest = alt_date + entry.wait if entry.wait_from == "alt_date" else None
        buffer = entry.buffer if buffers is None else _buffer(buffers, stage, entry.buffer)
        return Deadline(
            entry.network,
            entry.code,
            entry.stage,
            due,
            calendar.add_banking_days(due, -buffer) if buffer else due,
            entry.day_unit,
            entry.days,
            entry.anchor_event,
            anchor,
            alt_date,
            entry.actor,
            entry.rule_key,
            self.version,
            entry.confidence,
            entry.source_keys,
            earliest,
            buffer,
            entry,
        )

    @staticmethod
    def _alternative(entry: _Entry, anchor: date, alt_date: date) -> date:
        """min(alt_date + alt_days, anchor + cap_days)."""
        if entry.alt_days is None:
            raise AltDateNotApplicable(
                f"{entry.label} counts only from the {entry.anchor_label}; "
                f"it takes no alternative date (rule {entry.rule_key})"
            )
        from_alt = alt_date + timedelta(entry.alt_days)
        if entry.cap_days is None:
            return from_alt
        return min(from_alt, anchor + timedelta(entry.cap_days))

    def _lookup_slowly(self, network, code, stage) -> tuple[_Entry, ...]:
        """Retry with normalized names, else raise the error that says what is wrong."""
        key = (rules.normalize_network(network), rules.normalize_code(code), stage)
        entries = self._entries.get(key)
        if entries is not None:
            return entries
        self.tables.stage_rule(network, code, stage)  # raises the precise RuleLookupError
        raise RuleLookupError(f"no rule for {network} {code} {stage}")  # pragma: no cover

    def _raise_not_in_force(self, network, code, stage, anchor):
        self.tables.stage_rule(network, code, stage, on=anchor)  # raises the precise error
        raise RuleNotInForce(  # pragma: no cover (the tables agree with the compiled ranges)
            f"{network} {code} {stage} is not in force on {anchor.isoformat()}"
        )


def _ordinals(start: date | None, end: date | None) -> tuple[int, int]:
    return (start or date.min).toordinal(), (end or date.max).toordinal()


def _buffer(buffers: Mapping[str, int], stage: str, table_default: int) -> int:
    value = buffers.get(stage, buffers.get("default", table_default))
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"the buffer for {stage} must be an integer >= 0, got {value!r}")
    return value


_ENGINE: DeadlineEngine | None = None


def engine() -> DeadlineEngine:
    """The engine over the shipped tables (built once, on first use)."""
    global _ENGINE
    if _ENGINE is None:
        _ENGINE = DeadlineEngine(rules.tables())
    return _ENGINE


def compute(
    *,
    network: str,
    code: str,
    stage: str,
    anchor: date,
    alt_date: date | None = None,
    buffers: Mapping[str, int] | None = None,
) -> Deadline:
    """The network and internal deadline of ``stage`` for ``code``, counted from ``anchor``.

    Raises ``rules.RuleLookupError`` subclasses (all ``ValueError``): unknown network or code,
    code or rule not in force on ``anchor``, stage not applicable to the code, an alternative
    date the rule does not take, or a window that is not published.
    """
    return (_ENGINE or engine()).compute(network, code, stage, anchor, alt_date, buffers)


def client_evidence_due(
    internal_due: date,
    *,
    today: date,
    lead_days: int,
    calendar: calendars.BankingCalendar = calendars.FED,
) -> date:
    """When a client should send evidence: ``lead_days`` Fed banking days before our internal
    due date (so we have time to review it), but never before the next banking day after
    ``today`` (a request due in the past helps no one)."""
    due = calendar.add_banking_days(internal_due, -lead_days)
    return max(due, calendar.next_banking_day(today))
