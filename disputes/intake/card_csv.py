"""Read a processor's dispute report (CSV): pure, no Django, no database.

``parse(data, source)`` maps the processor's columns to ours through its mapping in
``intake_sources.yaml`` and returns the rows as ``CardNotification``s, or raises
``CardCsvError`` naming the line and the column ("Line 7, Dispute Amount: not an amount:
'12,3x'"). A file either parses whole or is refused. Reason codes are checked against the
network's rule table: an unknown code is refused with its line.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from calendar_rules import rules

from .sources import CardSource

MAX_FIELD = 200


class CardCsvError(ValueError):
    def __init__(self, line: int, column: str, problem: str):
        self.line, self.column, self.problem = line, column, problem
        where = f"Line {line}" + (f", {column}" if column else "")
        super().__init__(f"{where}: {problem}")


@dataclass(frozen=True, slots=True)
class CardNotification:
    line: int
    network: str
    case_id: str
    reason_code: str
    arn: str
    merchant_id: str
    merchant_name: str
    amount: Decimal
    currency: str
    transaction_date: date
    processing_date: date
    card_last4: str


def _text(data: bytes | str) -> str:
    if isinstance(data, str):
        return data
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise CardCsvError(data[: exc.start].count(b"\n") + 1, "", "not UTF-8 text") from None


def parse(data: bytes | str, source: CardSource) -> list[CardNotification]:
    text = _text(data)
    if "\x00" in text:
        raise CardCsvError(text[: text.index("\x00")].count("\n") + 1, "", "contains a NUL byte")
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=source.delimiter, strict=True)
    try:
        heading = next(reader, None)
        if not heading:
            raise CardCsvError(1, "", "the file is empty: a heading row is expected")
        heading = [h.strip() for h in heading]
        where = {}
        for name, column in source.columns.items():
            if column not in heading:
                if name in ("card_last4", "merchant_name"):
                    continue
                raise CardCsvError(1, column, f"column missing from the heading ({source.label})")
            where[name] = heading.index(column)
        rows, seen = [], {}
        for values in reader:
            line = reader.line_num
            if not any(v.strip() for v in values):
                continue
            row = _row(line, values, where, source)
            if row.case_id in seen:
                raise CardCsvError(
                    line,
                    source.columns["case_id"],
                    f"case {row.case_id} is already on line {seen[row.case_id]}",
                )
            seen[row.case_id] = line
            rows.append(row)
    except csv.Error as exc:
        raise CardCsvError(reader.line_num or 1, "", f"not readable as CSV: {exc}") from None
    return rows


def _row(line: int, values: list[str], where: dict, source: CardSource) -> CardNotification:
    def cell(name: str) -> str:
        if name not in where:
            return ""
        index = where[name]
        if index >= len(values):
            raise CardCsvError(line, source.columns[name], "missing (the row is short)")
        value = values[index].strip()
        if len(value) > MAX_FIELD:
            raise CardCsvError(line, source.columns[name], "too long")
        return value

    def required(name: str) -> str:
        value = cell(name)
        if not value:
            raise CardCsvError(line, source.columns[name], "is empty")
        return value

    def day(name: str) -> date:
        value = required(name)
        try:
            parsed = datetime.strptime(value, source.date_format).date()
        except ValueError:
            raise CardCsvError(
                line, source.columns[name], f"not a date ({source.date_format}): {value!r}"
            ) from None
        if not 2000 <= parsed.year <= 2099:
            raise CardCsvError(line, source.columns[name], f"not a plausible date: {value!r}")
        return parsed

    case_id = required("case_id")
    if len(case_id) > 40 or not re.fullmatch(r"[A-Za-z0-9._-]+", case_id):
        raise CardCsvError(line, source.columns["case_id"], f"not a case id: {case_id!r}")
    code = required("reason_code")
    try:
        code = rules.reason_code(source.network, code).code
    except rules.RuleLookupError:
        raise CardCsvError(
            line,
            source.columns["reason_code"],
            f"{code!r} is not a {source.network.title()} reason code in the rule tables",
        ) from None
    currency = required("currency").upper()
    if not re.fullmatch(r"[A-Z]{3}", currency):
        raise CardCsvError(line, source.columns["currency"], f"not a currency code: {currency!r}")
    arn = required("arn")
    if len(arn) > 64:
        raise CardCsvError(line, source.columns["arn"], "too long")
    last4 = cell("card_last4")
    if last4 and not re.fullmatch(r"\d{4}", last4):
        raise CardCsvError(line, source.columns["card_last4"], f"not four digits: {last4!r}")
    return CardNotification(
        line=line,
        network=source.network,
        case_id=case_id,
        reason_code=code,
        arn=arn,
        merchant_id=required("merchant_id")[:40],
        merchant_name=cell("merchant_name")[:200],
        amount=_amount(line, required("amount"), source),
        currency=currency,
        transaction_date=day("transaction_date"),
        processing_date=day("processing_date"),
        card_last4=last4,
    )


def _amount(line: int, value: str, source: CardSource) -> Decimal:
    column = source.columns["amount"]
    try:
        if source.amount_unit == "minor":
            if not value.isdigit():
                raise InvalidOperation
            amount = Decimal(int(value)) / 100
        else:
            amount = Decimal(value.replace(",", ""))
    except (InvalidOperation, ValueError):
        raise CardCsvError(line, column, f"not an amount: {value!r}") from None
    if (
        not amount.is_finite()
        or amount <= 0
        or amount >= Decimal("1e15")
        or amount != amount.quantize(Decimal("0.01"))
    ):
        raise CardCsvError(line, column, f"not a positive amount in cents: {value!r}")
    return amount.quantize(Decimal("0.01"))
