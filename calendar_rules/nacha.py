"""Nacha (ACH) answers from the rule table: timeliness, dishonor, reinitiation, return classes.

Pure functions of dates (no clock, no database), counted on the Fed banking calendar.

* ``check_return_timeliness``: was an incoming return on time? If not, the ODFI may dishonor
  it with R68 within 5 banking days after the return's settlement date.
* ``reinitiation_allowed``: R01/R09 may be reinitiated at most twice, within 180 calendar days
  after the original settlement date (Nacha's wording; bank guides say the effective date).
* ``return_class``, ``unauthorized_codes``, ``administrative_codes``, ``rate_thresholds``: the
  classes and thresholds (0.5 / 3 / 15 %) return-rate monitoring needs, from ``nacha.yaml``.
"""

from __future__ import annotations

from contextlib import suppress
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Literal, NamedTuple

from . import deadlines, rules

NETWORK = "nacha"

__all__ = [
    "RateThreshold",
    "Reinitiation",
    "ReturnTimeliness",
    "administrative_codes",
    "check_return_timeliness",
    "dishonor_deadline",
    "rate_thresholds",
    "reinitiation_allowed",
    "reinitiation_deadline",
    "return_class",
    "unauthorized_codes",
]


@dataclass(frozen=True, slots=True)
class ReturnTimeliness:
    """Whether a return arrived within its time frame.

    ``status`` is ``timely``, ``untimely``, or ``undetermined`` (no Nacha time frame, or one
    the ODFI cannot check: R06/R31 as agreed, R23 from the Receiver's notice, R90 until its
    time frame is published). For an untimely return, ``dishonor_code`` (R68) and
    ``dishonor_due`` (5 banking days after the return's settlement) say what the ODFI can do.
    """

    code: str
    status: Literal["timely", "untimely", "undetermined"]
    return_due: date | None
    returned_on: date
    dishonor_code: str | None
    dishonor_due: date | None
    explanation: str
    # False when the original entry is not on file: its settlement date, which the time frame
    # counts from, is unknown, so the status is ``undetermined`` and nothing is guessed.
    original_known: bool = True

    @property
    def timely(self) -> bool:
        return self.status == "timely"

    @property
    def untimely(self) -> bool:
        return self.status == "untimely"


class Reinitiation(NamedTuple):
    """``(allowed, reason)``; unpacks like a tuple."""

    allowed: bool
    reason: str


@dataclass(frozen=True, slots=True)
class RateThreshold:
    name: str
    threshold_pct: float
    return_class: str  # a return class, or "any" for the overall rate
    codes: tuple[str, ...]  # empty for "any"
    window: str
    excluded_sec_codes: tuple[str, ...]
    confidence: str
    source_keys: tuple[str, ...]
    note: str


def check_return_timeliness(
    code: str,
    *,
    original_settlement: date,
    return_settlement: date,
    made_available: date | None = None,
) -> ReturnTimeliness:
    """Judge an incoming return of an original entry.

    The return is timely when it was made available to the ODFI (``made_available``, or when
    that is unknown its settlement date) on or before the return deadline: opening of business
    on that banking day. Raises ``rules.RuleLookupError`` for an unknown code, a code not in
    force on the original settlement date, or a code that is not a return of an entry
    (dishonored, contested and ENR codes).
    """
    row = rules.reason_code(NETWORK, code, on=original_settlement)
    if row.return_class in ("dishonored", "contested") or "return" not in row.stages:
        raise rules.StageNotApplicable(
            f"NACHA {row.code} is not a return of an original entry ({row.flow.replace('_', ' ')})"
        )
    returned_on = made_available or return_settlement
    rule = rules.stage_rule(NETWORK, row.code, "return", on=original_settlement)
    if rule.days is None or rule.anchor_event != "original_settlement_date":
        why = rule.unavailable or (
            f"its window counts from the {rule.anchor_event.replace('_', ' ')}, "
            "which the ODFI does not see"
        )
        return ReturnTimeliness(
            row.code,
            "undetermined",
            None,
            returned_on,
            None,
            None,
            f"NACHA {row.code} return: timeliness not judged: {why}.",
        )
    due = deadlines.compute(
        network=NETWORK, code=row.code, stage="return", anchor=original_settlement
    ).network_due
    if returned_on <= due:
        return ReturnTimeliness(
            row.code,
            "timely",
            due,
            returned_on,
            None,
            None,
            f"NACHA {row.code} return made available {returned_on} is timely: due by opening "
            f"of business {due} (settlement {original_settlement}).",
        )
    dishonor_code = rules.policies(NETWORK)["untimely_return_dishonor_code"]
    dishonor_due = dishonor_deadline(return_settlement)
    return ReturnTimeliness(
        row.code,
        "untimely",
        due,
        returned_on,
        dishonor_code,
        dishonor_due,
        f"NACHA {row.code} return made available {returned_on} is late: it was due by opening "
        f"of business {due} (settlement {original_settlement}); the ODFI may dishonor it with "
        f"{dishonor_code} by {dishonor_due} (5 banking days after the return settled "
        f"{return_settlement}).",
    )


def dishonor_deadline(return_settlement: date) -> date:
    """The last day to transmit a dishonored return: 5 banking days after the return settled."""
    dishonor_code = rules.policies(NETWORK)["untimely_return_dishonor_code"]
    return deadlines.compute(
        network=NETWORK, code=dishonor_code, stage="dishonor", anchor=return_settlement
    ).network_due


def reinitiation_deadline(original_settlement: date) -> date:
    """The last day a reinitiated entry may be sent (180 calendar days after settlement)."""
    policy = rules.policies(NETWORK)["reinitiation"]
    return original_settlement + timedelta(policy["within_calendar_days"])


def reinitiation_allowed(
    code: str, original_settlement: date, on: date, count: int
) -> Reinitiation:
    """May the Originator reinitiate an entry returned with ``code`` on ``on``?

    ``count`` is the number of reinitiations already sent for the original entry. Only the
    codes listed in ``nacha.yaml`` (R01, R09) may be reinitiated without another step; the
    reason says what the other codes need instead.
    """
    if isinstance(count, bool) or not isinstance(count, int) or count < 0:
        raise ValueError(f"count must be an integer >= 0, got {count!r}")
    row = rules.reason_code(NETWORK, code)
    policy = rules.policies(NETWORK)["reinitiation"]
    if row.code not in policy["codes"]:
        return Reinitiation(False, _not_reinitiable_reason(row))
    limit = policy["max_reinitiations"]
    if count >= limit:
        return Reinitiation(
            False,
            f"{row.code} entries may be reinitiated at most {limit} times "
            f"({limit + 1} entries in all); {count} already sent",
        )
    if on < original_settlement:
        return Reinitiation(False, f"{on} is before the original settlement {original_settlement}")
    last_day = reinitiation_deadline(original_settlement)
    if on > last_day:
        return Reinitiation(
            False,
            f"{on} is past the {policy['within_calendar_days']}-day limit: the last day was "
            f"{last_day} ({policy['within_calendar_days']} days after settlement "
            f"{original_settlement})",
        )
    return Reinitiation(
        True,
        f"{row.code}: reinitiation {count + 1} of {limit} allowed until {last_day} "
        f"({policy['within_calendar_days']} days after settlement {original_settlement})",
    )


def _not_reinitiable_reason(row: rules.ReasonCode) -> str:
    if row.code == "R08":
        return "R08 (Payment Stopped) may be reinitiated only after the Receiver authorizes it"
    if row.code == "R11":
        return (
            "R11: correct the error and send a new entry within 60 days of the return's "
            "settlement (stage reinitiation); no reinitiation as such"
        )
    if row.return_class == "unauthorized":
        return f"{row.code} is an unauthorized return: a new entry needs a new authorization"
    if row.return_class in ("dishonored", "contested") or "return" not in row.stages:
        return f"{row.code} is not a return of an original entry"
    return f"{row.code} entries may be reinitiated only after the cause of the return is corrected"


def return_class(code: str, on: date | None = None) -> str:
    """``unauthorized``, ``administrative``, ``other``, ``dishonored`` or ``contested``.

    ``on`` picks the version in force (R11 counts as unauthorized from 2021-04-01)."""
    return rules.reason_code(NETWORK, code, on).return_class


def _codes_of_class(name: str, on: date | None) -> tuple[str, ...]:
    seen: dict[str, None] = {}
    for row in rules.reason_codes(NETWORK):
        if row.code in seen:
            continue
        try:
            version = rules.reason_code(NETWORK, row.code, on)
        except rules.RuleNotInForce:
            continue
        if version.return_class == name:
            seen[row.code] = None
    return tuple(seen)


def unauthorized_codes(on: date | None = None) -> tuple[str, ...]:
    """The codes counted in the unauthorized return rate (R05, R07, R10, R11, R29, R51)."""
    return _codes_of_class("unauthorized", on)


def administrative_codes(on: date | None = None) -> tuple[str, ...]:
    """The codes counted in the administrative return rate (R02, R03, R04)."""
    return _codes_of_class("administrative", on)


def rate_thresholds(on: date | None = None) -> dict[str, RateThreshold]:
    """The return-rate thresholds by name (``unauthorized``, ``administrative``, ``overall``)."""
    out = {}
    for name, spec in rules.policies(NETWORK)["return_rate_thresholds"].items():
        codes = () if spec["return_class"] == "any" else _codes_of_class(spec["return_class"], on)
        out[name] = RateThreshold(
            name=name,
            threshold_pct=spec["threshold_pct"],
            return_class=spec["return_class"],
            codes=codes,
            window=spec["window"],
            excluded_sec_codes=spec["excluded_sec_codes"],
            confidence=spec["confidence"],
            source_keys=spec["source_keys"],
            note=spec["note"],
        )
    return out


SEC_NAMES = {
    "PPD": "a consumer (PPD)",
    "WEB": "an internet (WEB)",
    "TEL": "a telephone (TEL)",
    "CCD": "a corporate (CCD)",
    "CTX": "a corporate trade exchange (CTX)",
    "CBR": "a cross-border corporate (CBR)",
    "ARC": "an accounts receivable (ARC)",
    "BOC": "a back office conversion (BOC)",
    "POP": "a point-of-purchase (POP)",
    "RCK": "a re-presented check (RCK)",
    "IAT": "an international (IAT)",
}


def entry_mismatch(code: str, sec_code: str, on: date | None = None) -> str:
    """Why ``code`` does not fit a return of a ``sec_code`` entry, naming the code that does
    ("R11 is for consumer entries: …, return with R29"); "" when it fits or is unknown."""
    try:
        row = rules.reason_code("nacha", code, on)
    except rules.RuleLookupError:
        return ""
    if row.fits_entry(sec_code):
        return ""
    kinds = ", ".join(row.entry_sec_codes)
    entry = SEC_NAMES.get(sec_code, f"a {sec_code}")
    text = f"{row.code} is for {kinds} entries, not {entry} entry"
    if row.other_entry_code:
        text += f": on this entry the return code is {row.other_entry_code}"
        with suppress(rules.RuleLookupError):
            text += f" ({rules.reason_code('nacha', row.other_entry_code, on).name})"
    return text + "."
