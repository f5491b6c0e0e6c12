"""Write NACHA return files from plain values: the published record layouts, with controls
computed. Used by the demo data, ``benchmark_nacha`` and the tests' fixtures. Pure."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from .nacha import FILLER


@dataclass
class ReturnLine:
    code: str
    original_trace: str
    amount: Decimal
    rdfi: str = "09100001"
    account: str = "123456789"
    name: str = "RECEIVER"
    transaction_code: str = "26"
    # Dishonored and contested returns.
    return_trace: str = ""
    return_reason: str = ""


@dataclass
class ReturnBatch:
    company_id: str
    company_name: str
    sec_code: str = "PPD"
    effective: date = date(2026, 11, 30)
    settlement: date | None = None
    odfi: str = "02100002"
    service_class: str = "225"
    lines: list[ReturnLine] = field(default_factory=list)


def _pad(value, width: int, *, digits=False) -> str:
    text = str(value)
    text = text.rjust(width, "0") if digits else text.ljust(width)
    if len(text) != width:
        raise ValueError(f"{value!r} does not fit {width} characters")
    return text


def file_header(created: date, modifier: str = "A") -> str:
    return (
        "101"
        + " 021000021"
        + " 091000019"
        + created.strftime("%y%m%d")
        + "0830"
        + modifier
        + "094101"
        + _pad("ASTRA ODFI", 23)
        + _pad("FED ACH OPERATOR", 23)
        + _pad("", 8)
    )


def batch_header(batch: ReturnBatch, number: int) -> str:
    settled = batch.settlement or batch.effective
    return (
        "5"
        + batch.service_class
        + _pad(batch.company_name[:16], 16)
        + _pad("", 20)
        + _pad(batch.company_id, 10)
        + batch.sec_code
        + _pad("RETURNS", 10)
        + _pad("", 6)
        + batch.effective.strftime("%y%m%d")
        + f"{settled.timetuple().tm_yday:03d}"
        + "1"
        + batch.odfi
        + f"{number:07d}"
    )


def entry(line: ReturnLine, trace: str) -> str:
    cents = int(Decimal(line.amount) * 100)
    return (
        "6"
        + line.transaction_code
        + line.rdfi
        + "1"
        + _pad(line.account, 17)
        + _pad(cents, 10, digits=True)
        + _pad("", 15)
        + _pad(line.name[:22], 22)
        + "  "
        + "1"
        + trace
    )


def addenda(line: ReturnLine, trace: str) -> str:
    if line.code.startswith("C"):
        return (
            "798"
            + line.code
            + line.original_trace
            + _pad("", 6)
            + line.rdfi
            + _pad(line.account, 29)
            + _pad("", 15)
            + trace
        )
    number = int(line.code[1:])
    if 61 <= number <= 70:
        return (
            "799"
            + line.code
            + line.original_trace
            + _pad("", 6)
            + line.rdfi
            + _pad("", 3)
            + _pad(line.return_trace, 15, digits=True)
            + "000"
            + _pad(line.return_reason[1:] or "01", 2, digits=True)
            + _pad("", 21)
            + trace
        )
    if 71 <= number <= 77:
        return (
            "799"
            + line.code
            + line.original_trace
            + _pad("", 6)
            + line.rdfi
            + "000"
            + _pad(line.return_trace, 15, digits=True)
            + "000"
            + _pad(line.return_reason[1:] or "01", 2, digits=True)
            + _pad("", 15, digits=True)
            + "000"
            + "00"
            + " "
            + trace
        )
    return "799" + line.code + line.original_trace + _pad("", 6) + line.rdfi + _pad("", 44) + trace


def batch_control(
    batch: ReturnBatch, number: int, count: int, entry_hash: int, debit: int, credit: int
) -> str:
    return (
        "8"
        + batch.service_class
        + _pad(count, 6, digits=True)
        + _pad(entry_hash % 10**10, 10, digits=True)
        + _pad(debit, 12, digits=True)
        + _pad(credit, 12, digits=True)
        + _pad(batch.company_id, 10)
        + _pad("", 19)
        + _pad("", 6)
        + batch.odfi
        + f"{number:07d}"
    )


def write(
    batches: list[ReturnBatch], *, created: date, modifier="A", blocking=True, newline="\n"
) -> str:
    """The whole file as text, controls computed, padded to blocks of ten with 9s."""
    records = [file_header(created, modifier)]
    total = {"count": 0, "hash": 0, "debit": 0, "credit": 0}
    sequence = 0
    for number, batch in enumerate(batches, start=1):
        records.append(batch_header(batch, number))
        count = entry_hash = debit = credit = 0
        for line in batch.lines:
            sequence += 1
            trace = f"{line.rdfi}{sequence:07d}"
            records.append(entry(line, trace))
            records.append(addenda(line, trace))
            count += 2
            entry_hash += int(line.rdfi)
            cents = int(Decimal(line.amount) * 100)
            if line.transaction_code[1] in "56789":
                debit += cents
            else:
                credit += cents
        records.append(batch_control(batch, number, count, entry_hash, debit, credit))
        total["count"] += count
        total["hash"] += entry_hash % 10**10
        total["debit"] += debit
        total["credit"] += credit
    blocks = -(-(len(records) + 1) // 10)
    records.append(
        "9"
        + _pad(len(batches), 6, digits=True)
        + _pad(blocks, 6, digits=True)
        + _pad(total["count"], 8, digits=True)
        + _pad(total["hash"] % 10**10, 10, digits=True)
        + _pad(total["debit"], 12, digits=True)
        + _pad(total["credit"], 12, digits=True)
        + _pad("", 39)
    )
    if blocking:
        while len(records) % 10:
            records.append(FILLER)
    for record in records:
        assert len(record) == 94, (len(record), record)
    return newline.join(records) + newline
