"""Read a transaction-volumes file (CSV): daily counts and amounts per client, rail and
transaction type. Pure; errors name the line and the column."""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation

COLUMNS = ("client", "day", "rail", "transaction_type", "count", "amount", "currency")


class VolumeCsvError(ValueError):
    def __init__(self, line: int, column: str, problem: str):
        self.line, self.column, self.problem = line, column, problem
        super().__init__(f"Line {line}" + (f", {column}" if column else "") + f": {problem}")


@dataclass(frozen=True, slots=True)
class VolumeRow:
    line: int
    client: str  # the client's slug
    day: date
    rail: str
    transaction_type: str
    count: int
    amount: Decimal
    currency: str


def parse(data: bytes | str, *, rails, transaction_types) -> list[VolumeRow]:
    if isinstance(data, bytes):
        try:
            data = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise VolumeCsvError(data[: exc.start].count(b"\n") + 1, "", "not UTF-8 text") from None
    if "\x00" in data:
        raise VolumeCsvError(data[: data.index("\x00")].count("\n") + 1, "", "contains a NUL byte")
    reader = csv.DictReader(io.StringIO(data, newline=""), strict=True)
    try:
        missing = [c for c in COLUMNS if c not in (reader.fieldnames or [])]
        if missing:
            raise VolumeCsvError(1, missing[0], "column missing from the heading")
        rows, seen = [], {}
        for raw in reader:
            if not any((v or "").strip() for v in raw.values() if isinstance(v, str)):
                continue
            row = parse_row(reader.line_num, raw, rails=rails, transaction_types=transaction_types)
            key = (row.client, row.day, row.rail, row.transaction_type)
            if key in seen:
                raise VolumeCsvError(
                    row.line, "day", f"the same client, day, rail and type are on line {seen[key]}"
                )
            seen[key] = row.line
            rows.append(row)
    except csv.Error as exc:
        raise VolumeCsvError(reader.line_num or 1, "", f"not readable as CSV: {exc}") from None
    return rows


def parse_row(line: int, raw: dict, *, rails, transaction_types) -> VolumeRow:
    def cell(name):
        value = raw.get(name)
        value = value.strip() if isinstance(value, str) else ""
        if not value:
            raise VolumeCsvError(line, name, "is empty")
        return value

    try:
        day = date.fromisoformat(cell("day"))
    except ValueError:
        raise VolumeCsvError(line, "day", f"not a date (YYYY-MM-DD): {raw.get('day')!r}") from None
    rail, kind = cell("rail"), cell("transaction_type")
    if rail not in rails:
        raise VolumeCsvError(line, "rail", f"not a rail: {rail!r}")
    if kind not in transaction_types:
        raise VolumeCsvError(line, "transaction_type", f"not a transaction type: {kind!r}")
    count = cell("count")
    if not count.isdigit() or len(count) > 12:
        raise VolumeCsvError(line, "count", f"not a whole number: {count!r}")
    try:
        amount = Decimal(cell("amount"))
    except InvalidOperation:
        raise VolumeCsvError(line, "amount", f"not an amount: {raw.get('amount')!r}") from None
    if (
        not amount.is_finite()
        or amount < 0
        or amount >= Decimal("1e15")
        or amount != amount.quantize(Decimal("0.01"))
    ):
        raise VolumeCsvError(line, "amount", f"not an amount in cents: {raw.get('amount')!r}")
    currency = cell("currency").upper()
    if not re.fullmatch(r"[A-Z]{3}", currency):
        raise VolumeCsvError(line, "currency", f"not a currency code: {currency!r}")
    return VolumeRow(
        line,
        cell("client")[:80],
        day,
        rail,
        kind,
        int(count),
        amount.quantize(Decimal("0.01")),
        currency,
    )
