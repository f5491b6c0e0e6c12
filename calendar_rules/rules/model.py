"""The rows of the network rule tables, and the errors their lookups raise."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

NETWORKS = ("visa", "mastercard", "nacha")
CONFIDENCES = ("verified", "secondary", "GK", "open")
DAY_UNITS = ("calendar", "banking")
ACTORS = ("issuer", "acquirer", "RDFI", "ODFI")
RETURN_CLASSES = ("unauthorized", "administrative", "other", "dishonored", "contested")
ROLLS = ("next_banking_day",)
SEC_CODES = ("PPD", "CCD", "CTX", "CBR", "WEB", "TEL", "ARC", "BOC", "POP", "RCK", "IAT", "XCK")
WAIT_FROM = ("anchor", "alt_date")


class RuleTableError(Exception):
    """A rule table is malformed. The message names the file and the key."""

    def __init__(self, path: Path | str, key: str, problem: str):
        self.path = Path(path)
        self.key = key
        self.problem = problem
        super().__init__(f"{self.path}: {key}: {problem}")


class RuleLookupError(ValueError):
    """A request the rule tables cannot answer (unknown code, stage not applicable, …)."""


class UnknownNetwork(RuleLookupError):
    pass


class UnknownReasonCode(RuleLookupError):
    pass


class RuleNotInForce(RuleLookupError):
    """The code or the stage rule is not in force on the date asked about."""


class CodeNotInForce(RuleNotInForce):
    pass


class StageNotApplicable(RuleLookupError):
    pass


class AltDateNotApplicable(RuleLookupError):
    """An alternative anchor date was given for a rule that has none."""


class WindowNotPublished(RuleLookupError):
    """The rule exists but has no time frame to count (R90, R06 as agreed, an open figure)."""


@dataclass(frozen=True, slots=True)
class ReasonCode:
    """One version of a reason code (a code may have several, with disjoint effective dates).

    ``flow`` is ``allocation``/``collaboration`` for Visa, ``chargeback`` for Mastercard and the
    Nacha entry family (``return``, ``dishonored_return``, ``contested_dishonored_return``,
    ``enrollment``). ``maps_to`` is the current code a legacy Mastercard code uses.
    """

    network: str
    code: str
    name: str
    short_name: str
    category: str | None
    flow: str
    maps_to: str | None
    prearbitration_optional: bool
    return_class: str | None
    wsud_required: bool
    reinitiable: bool
    effective_from: date | None
    effective_to: date | None
    confidence: str
    source_keys: tuple[str, ...]
    note: str
    stages: tuple[str, ...]
    # Nacha: the SEC codes of the entries this code may return (empty: any entry), and the code
    # to use instead on any other entry (R11 on a CCD entry is an R29).
    entry_sec_codes: tuple[str, ...] = ()
    other_entry_code: str = ""

    @property
    def is_legacy(self) -> bool:
        return self.maps_to is not None

    def in_force(self, on: date | None) -> bool:
        return _in_force(self.effective_from, self.effective_to, on)

    def fits_entry(self, sec_code: str) -> bool:
        """Whether this code may return an entry of ``sec_code`` (unknown entry: yes)."""
        return not (self.entry_sec_codes and sec_code) or sec_code in self.entry_sec_codes

    def wsud_applies(self, sec_code: str) -> bool:
        """A WSUD exists for this return: the code needs one and the entry is of its kind."""
        return self.wsud_required and self.fits_entry(sec_code)


@dataclass(frozen=True, slots=True)
class StageRule:
    """The window one party has at one stage of one code.

    ``code`` is the code whose row this is (for a legacy Mastercard code, the current code it
    maps to). ``days`` is None when no time frame can be counted; ``unavailable`` says why.
    With an alternative anchor date the deadline is ``min(alt + alt_days, anchor + cap_days)``
    (no cap when ``cap_days`` is None). A wait gives the earliest filing date: ``wait_days``
    after the anchor when no alternative date is given (``wait_from == "anchor"``), or after
    the alternative date when one is (``wait_from == "alt_date"``).
    """

    network: str
    code: str
    stage: str
    actor: str
    days: int | None
    day_unit: str
    anchor_event: str
    roll: str | None
    alt_anchor_event: str | None
    alt_days: int | None
    cap_days: int | None
    wait_days: int | None
    wait_from: str | None
    effective_from: date | None
    effective_to: date | None
    confidence: str
    source_keys: tuple[str, ...]
    note: str
    unavailable: str
    due_note: str
    window: str | None

    @property
    def rule_key(self) -> str:
        return f"{self.network}:{self.code}:{self.stage}"

    def in_force(self, on: date | None) -> bool:
        return _in_force(self.effective_from, self.effective_to, on)


def _in_force(start: date | None, end: date | None, on: date | None) -> bool:
    if on is None:
        return True
    return (start is None or start <= on) and (end is None or on <= end)
