"""Card numbers in anything a bundle renders are masked to the first six and last four digits.

A card number is 13 to 19 digits, optionally grouped by single spaces or dashes, that passes the
Luhn check and is not part of a longer run of digits (so case ids, ARNs and ACH trace numbers
stay readable unless they happen to be a valid card number).
"""

import re

MASK = "•"
_CANDIDATE = re.compile(r"(?<![\d-])\d(?:[ -]?\d){12,18}(?![\d])")


def luhn_ok(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        n = int(ch)
        if i % 2 == 1:
            n = n * 2 - 9 if n > 4 else n * 2
        total += n
    return total % 10 == 0


def _card_digits(text: str) -> str:
    """The digits of ``text`` when they make a card number, else ""."""
    digits = re.sub(r"\D", "", text)
    return digits if 13 <= len(digits) <= 19 and luhn_ok(digits) else ""


def _mask_match(match: re.Match) -> str:
    text = match.group(0)
    digits = _card_digits(text)
    if not digits:
        return text
    keep = {*range(6), *range(len(digits) - 4, len(digits))}
    out, seen = [], 0
    for ch in text:
        if ch.isdigit():
            out.append(ch if seen in keep else MASK)
            seen += 1
        else:
            out.append(ch)
    return "".join(out)


def mask_card_numbers(text: str) -> str:
    """``text`` with every card number masked to its first six and last four digits."""
    return _CANDIDATE.sub(_mask_match, text) if text else text


def shows_card_number(text: str) -> bool:
    """Whether ``text`` shows a card number in full (one ``mask_card_numbers`` would mask)."""
    return any(_card_digits(match.group(0)) for match in _CANDIDATE.finditer(text or ""))
