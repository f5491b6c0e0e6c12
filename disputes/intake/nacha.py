"""Read a NACHA return file: pure, no Django, no database, no clock.

``parse(data)`` takes the bytes (or text) of a file of 94-character records as an ACH operator
delivers returns to an ODFI and returns a ``ReturnFile``, or raises ``NachaFormatError`` naming
the line, the record and the field ("Line 14, entry detail, amount: must be 10 digits, got
'12a'"). Nothing is half-read: a file either parses whole or is refused.

Records (Nacha Operating Rules, Appendix Three, "ACH Record Format Specifications"):

* 1 file header, then batches: 5 batch header, 6 entry detail, 7 addenda, 8 batch control;
  then 9 file control, then any number of blocking filler records (94 nines).
* Addenda type 99: a return (R01…), a dishonored return (R61–R70, the ODFI's), or a contested
  dishonored return (R71–R77, the RDFI's); each has its own layout. Type 98: a notification
  of change (C01…).
* Controls checked: entry/addenda counts, entry hash (sum of the 8-digit receiving DFI
  identifications, last 10 digits), total debit and credit amounts, batch count, block count.

LF or CRLF line ends; a file sent without line breaks (records back to back) is read as well.
Return codes are checked against the rule tables (``calendar_rules.rules``): an unknown code is
refused with its line, never guessed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from calendar_rules import rules

RECORD_LENGTH = 94
FILLER = "9" * RECORD_LENGTH
DISHONOR_CODES = frozenset(f"R{n}" for n in range(61, 71))
CONTEST_CODES = frozenset(f"R{n}" for n in range(71, 78))
CORPORATE_SEC = frozenset({"CCD", "CTX"})
RECORD_NAMES = {
    "1": "file header",
    "5": "batch header",
    "6": "entry detail",
    "7": "addenda",
    "8": "batch control",
    "9": "file control",
}


class NachaFormatError(ValueError):
    """The file is not a well-formed NACHA return file. Says where: line, record, field."""

    def __init__(self, line: int, record: str, field_name: str, problem: str):
        self.line, self.record, self.field, self.problem = line, record, field_name, problem
        where = f"Line {line}, {record}" + (f", {field_name}" if field_name else "")
        super().__init__(f"{where}: {problem}")


@dataclass(frozen=True, slots=True)
class FileHeader:
    immediate_destination: str
    immediate_origin: str
    created_on: date
    file_id_modifier: str
    destination_name: str
    origin_name: str


@dataclass(frozen=True, slots=True)
class ReturnAddenda:
    """Addenda 99 or 98. ``kind``: return, dishonored, contested or change (NOC)."""

    line: int
    kind: str
    code: str
    original_trace: str
    original_rdfi: str
    information: str = ""
    corrected_data: str = ""
    date_of_death: date | None = None
    # Dishonored and contested returns refer to the return they answer.
    return_trace: str = ""
    return_reason: str = ""


@dataclass(frozen=True, slots=True)
class Entry:
    line: int
    transaction_code: str
    rdfi: str
    account: str
    amount: Decimal
    individual_id: str
    individual_name: str
    trace: str
    addenda: ReturnAddenda

    @property
    def is_debit(self) -> bool:
        return self.transaction_code[1] in "56789"

    @property
    def account_last4(self) -> str:
        return self.account[-4:]


@dataclass(slots=True)
class Batch:
    line: int
    number: str
    service_class: str
    company_name: str
    company_id: str
    sec_code: str
    entry_description: str
    effective_date: date
    settlement_date: date
    odfi: str
    entries: list[Entry] = field(default_factory=list)


@dataclass(slots=True)
class ReturnFile:
    header: FileHeader
    batches: list[Batch]
    records: int  # lines read, filler included

    def entries(self):
        for batch in self.batches:
            for entry in batch.entries:
                yield batch, entry


# --- fields ---------------------------------------------------------------------------------


class _Record:
    """One 94-character record and the line it came from; field readers raise with both."""

    __slots__ = ("line", "name", "text")

    def __init__(self, line: int, text: str):
        self.line, self.text = line, text
        self.name = RECORD_NAMES.get(text[:1], "record")

    def fail(self, field_name: str, problem: str) -> NachaFormatError:
        return NachaFormatError(self.line, self.name, field_name, problem)

    def alpha(self, start: int, end: int) -> str:
        """Positions ``start``–``end`` (1-based, inclusive, as the layouts print them)."""
        return self.text[start - 1 : end].strip()

    def digits(self, start: int, end: int, field_name: str, *, blank_ok=False) -> str:
        value = self.text[start - 1 : end]
        if blank_ok and not value.strip():
            return ""
        if not value.isdigit() or not value.isascii():
            raise self.fail(field_name, f"must be {end - start + 1} digits, got {value!r}")
        return value

    def number(self, start: int, end: int, field_name: str) -> int:
        return int(self.digits(start, end, field_name))

    def cents(self, start: int, end: int, field_name: str) -> Decimal:
        return Decimal(self.number(start, end, field_name)) / 100

    def yymmdd(self, start: int, end: int, field_name: str, *, blank_ok=False) -> date | None:
        value = self.digits(start, end, field_name, blank_ok=blank_ok)
        if not value:
            return None
        try:
            return date(2000 + int(value[:2]), int(value[2:4]), int(value[4:6]))
        except ValueError:
            raise self.fail(field_name, f"not a date (YYMMDD): {value!r}") from None

    def expect(self, start: int, end: int, field_name: str, expected: str) -> None:
        if self.text[start - 1 : end] != expected:
            got = self.text[start - 1 : end]
            raise self.fail(field_name, f"must be {expected!r}, got {got!r}")


def julian(day_of_year: str, near: date) -> date | None:
    """A 3-digit settlement day of the year, in the year that puts it nearest ``near``."""
    if not day_of_year.strip():
        return None
    number = int(day_of_year)
    candidates = []
    for year in (near.year - 1, near.year, near.year + 1):
        length = 366 if date(year, 12, 31).timetuple().tm_yday == 366 else 365
        if 1 <= number <= length:
            candidates.append(date.fromordinal(date(year, 1, 1).toordinal() + number - 1))
    if not candidates:
        return None
    return min(candidates, key=lambda d: abs((d - near).days))


# --- lines ----------------------------------------------------------------------------------


def split_records(data: bytes | str) -> list[_Record]:
    """The records of a file with their line numbers: LF or CRLF, or no line breaks at all."""
    if isinstance(data, bytes):
        try:
            data = data.decode("ascii")
        except UnicodeDecodeError as exc:
            line = data[: exc.start].count(b"\n") + 1
            raise NachaFormatError(line, "record", "", "not ASCII text") from None
    lines = data.split("\n")
    if lines and lines[-1] in ("", "\r"):
        lines.pop()
    if len(lines) == 1 and len(lines[0]) > RECORD_LENGTH and len(lines[0]) % RECORD_LENGTH == 0:
        text = lines[0]
        lines = [text[i : i + RECORD_LENGTH] for i in range(0, len(text), RECORD_LENGTH)]
    if not lines:
        raise NachaFormatError(1, "file header", "", "the file is empty")
    records = []
    for number, raw in enumerate(lines, start=1):
        text = raw[:-1] if raw.endswith("\r") else raw
        if not text.isprintable() or not text.isascii():
            raise NachaFormatError(number, "record", "", "contains characters that are not text")
        if len(text) != RECORD_LENGTH:
            name = RECORD_NAMES.get(text[:1], "record")
            raise NachaFormatError(
                number, name, "record length", f"must be 94 characters, got {len(text)}"
            )
        records.append(_Record(number, text))
    return records


# --- records --------------------------------------------------------------------------------


def _file_header(rec: _Record) -> FileHeader:
    if rec.text[0] != "1":
        raise NachaFormatError(
            rec.line, "file header", "record type", "the file must start with a file header (1)"
        )
    rec.digits(2, 3, "priority code")
    rec.expect(35, 37, "record size", "094")
    rec.expect(40, 40, "format code", "1")
    created = rec.yymmdd(24, 29, "file creation date")
    modifier = rec.text[33]
    if not (modifier.isupper() or modifier.isdigit()):
        raise rec.fail("file ID modifier", f"must be A–Z or 0–9, got {modifier!r}")
    return FileHeader(
        immediate_destination=rec.alpha(4, 13),
        immediate_origin=rec.alpha(14, 23),
        created_on=created,
        file_id_modifier=modifier,
        destination_name=rec.alpha(41, 63),
        origin_name=rec.alpha(64, 86),
    )


SERVICE_CLASSES = ("200", "220", "225")
SEC_CODE = re.compile(r"^[A-Z]{3}$")


def _batch_header(rec: _Record, header: FileHeader) -> Batch:
    service_class = rec.digits(2, 4, "service class code")
    if service_class not in SERVICE_CLASSES:
        raise rec.fail("service class code", f"must be 200, 220 or 225, got {service_class!r}")
    company_id = rec.alpha(41, 50)
    if not company_id:
        raise rec.fail("company identification", "is blank")
    sec_code = rec.text[50:53]
    if not SEC_CODE.match(sec_code):
        raise rec.fail("standard entry class code", f"must be three letters, got {sec_code!r}")
    effective = rec.yymmdd(70, 75, "effective entry date", blank_ok=True) or header.created_on
    settlement = rec.digits(76, 78, "settlement date (Julian)", blank_ok=True)
    settled = julian(settlement, effective) if settlement else effective
    if settled is None:
        raise rec.fail("settlement date (Julian)", f"not a day of the year: {settlement!r}")
    return Batch(
        line=rec.line,
        number=rec.digits(88, 94, "batch number"),
        service_class=service_class,
        company_name=rec.alpha(5, 20),
        company_id=company_id,
        sec_code=sec_code,
        entry_description=rec.alpha(54, 63),
        effective_date=effective,
        settlement_date=settled,
        odfi=rec.digits(80, 87, "originating DFI identification"),
    )


def _entry(rec: _Record) -> tuple[str, dict]:
    code = rec.digits(2, 3, "transaction code")
    if code[1] not in "123456789" or code[0] not in "2345":
        raise rec.fail("transaction code", f"not an ACH transaction code: {code!r}")
    indicator = rec.text[78]
    if indicator not in "01":
        raise rec.fail("addenda record indicator", f"must be 0 or 1, got {indicator!r}")
    if indicator != "1":
        raise rec.fail(
            "addenda record indicator",
            "a return or notification of change carries an addenda record (type 99 or 98)",
        )
    return code, {
        "line": rec.line,
        "transaction_code": code,
        "rdfi": rec.digits(4, 11, "receiving DFI identification"),
        "account": rec.alpha(13, 29),
        "amount": rec.cents(30, 39, "amount"),
        "individual_id": rec.alpha(40, 54),
        "individual_name": rec.alpha(55, 76),
        "trace": rec.digits(80, 94, "trace number"),
    }


_KNOWN_CODES: set[str] = set()


def _known_code(rec: _Record, code: str, field_name: str) -> None:
    if code in _KNOWN_CODES:
        return
    try:
        rules.reason_code("nacha", code)
        _KNOWN_CODES.add(code)
    except rules.RuleLookupError:
        raise rec.fail(
            field_name, f"{code} is not a NACHA return code in the rule tables"
        ) from None


def _addenda(rec: _Record, batch: Batch, change_codes) -> ReturnAddenda:
    kind_digits = rec.text[1:3]
    if kind_digits == "98":
        code = rec.text[3:6]
        if code not in change_codes:
            raise rec.fail("change code", f"{code!r} is not a NACHA change code")
        return ReturnAddenda(
            line=rec.line,
            kind="change",
            code=code,
            original_trace=rec.digits(7, 21, "original entry trace number"),
            original_rdfi=rec.digits(28, 35, "original receiving DFI identification"),
            corrected_data=rec.alpha(36, 64),
        )
    if kind_digits != "99":
        raise rec.fail(
            "addenda type code", f"must be 99 (return) or 98 (change), got {kind_digits!r}"
        )
    code = rec.text[3:6]
    if not re.fullmatch(r"R\d\d", code):
        raise rec.fail("return reason code", f"must be R and two digits, got {code!r}")
    _known_code(rec, code, "return reason code")
    common = {
        "line": rec.line,
        "code": code,
        "original_trace": rec.digits(7, 21, "original entry trace number"),
        "original_rdfi": rec.digits(28, 35, "original receiving DFI identification"),
    }
    if code in DISHONOR_CODES:
        return ReturnAddenda(
            kind="dishonored",
            return_trace=rec.digits(39, 53, "return trace number"),
            return_reason="R" + rec.digits(57, 58, "return reason code"),
            information=rec.alpha(59, 79),
            **common,
        )
    if code in CONTEST_CODES:
        rec.yymmdd(22, 27, "date original entry returned", blank_ok=True)
        return ReturnAddenda(
            kind="contested",
            return_trace=rec.digits(39, 53, "return trace number"),
            return_reason="R" + rec.digits(57, 58, "return reason code"),
            **common,
        )
    return ReturnAddenda(
        kind="return",
        date_of_death=rec.yymmdd(22, 27, "date of death", blank_ok=True),
        information=rec.alpha(36, 79),
        **common,
    )


# --- controls -------------------------------------------------------------------------------


@dataclass(slots=True)
class _Totals:
    count: int = 0
    entry_hash: int = 0
    debit: int = 0
    credit: int = 0

    def add_entry(self, rdfi: str, amount: Decimal, is_debit: bool) -> None:
        self.count += 1
        self.entry_hash += int(rdfi)
        cents = int(amount * 100)
        if is_debit:
            self.debit += cents
        else:
            self.credit += cents


def _check_controls(rec: _Record, totals: _Totals, positions: dict) -> None:
    """Compare a control record's count, hash and totals with what was read."""
    checks = (
        ("entry/addenda count", totals.count),
        ("entry hash", totals.entry_hash % 10**10),
        ("total debit entry dollar amount", totals.debit),
        ("total credit entry dollar amount", totals.credit),
    )
    for name, actual in checks:
        start, end = positions[name]
        stated = rec.number(start, end, name)
        if stated != actual:
            raise rec.fail(name, f"states {stated}, the records add up to {actual}")


BATCH_CONTROL = {
    "entry/addenda count": (5, 10),
    "entry hash": (11, 20),
    "total debit entry dollar amount": (21, 32),
    "total credit entry dollar amount": (33, 44),
}
FILE_CONTROL = {
    "entry/addenda count": (14, 21),
    "entry hash": (22, 31),
    "total debit entry dollar amount": (32, 43),
    "total credit entry dollar amount": (44, 55),
}


def _batch_control(rec: _Record, batch: Batch, totals: _Totals) -> None:
    if rec.digits(2, 4, "service class code") != batch.service_class:
        raise rec.fail("service class code", f"must match the batch header's {batch.service_class}")
    if rec.alpha(45, 54) != batch.company_id:
        raise rec.fail(
            "company identification", f"must match the batch header's {batch.company_id!r}"
        )
    if rec.digits(88, 94, "batch number") != batch.number:
        raise rec.fail("batch number", f"must match the batch header's {batch.number}")
    _check_controls(rec, totals, BATCH_CONTROL)


def _file_control(rec: _Record, batches: int, totals: _Totals, records: int) -> None:
    stated = rec.number(2, 7, "batch count")
    if stated != batches:
        raise rec.fail("batch count", f"states {stated}, the file has {batches}")
    blocks = -(-records // 10)
    stated = rec.number(8, 13, "block count")
    if stated != blocks:
        raise rec.fail("block count", f"states {stated}, {records} records make {blocks}")
    _check_controls(rec, totals, FILE_CONTROL)


# --- the file -------------------------------------------------------------------------------


def parse(data: bytes | str, *, change_codes=None) -> ReturnFile:
    """Read a whole NACHA return file; raise NachaFormatError at the first thing wrong."""
    change_codes = change_codes or DEFAULT_CHANGE_CODES
    records = split_records(data)
    header = _file_header(records[0])
    batches: list[Batch] = []
    file_totals = _Totals()
    batch = batch_totals = entry = None
    index = 1
    while index < len(records):
        rec = records[index]
        kind = rec.text[0]
        if batch is None:
            if kind == "5":
                batch, batch_totals = _batch_header(rec, header), _Totals()
            elif kind == "9":
                _file_control(rec, len(batches), file_totals, index + 1)
                _filler(records[index + 1 :])
                return ReturnFile(header, batches, len(records))
            else:
                raise rec.fail(
                    "record type",
                    f"expected a batch header (5) or the file control (9), got {kind!r}",
                )
        elif kind == "6":
            if entry is not None:
                raise records[index - 1].fail(
                    "addenda", "the entry before this one has no addenda record"
                )
            _code, entry = _entry(rec)
            batch_totals.add_entry(entry["rdfi"], entry["amount"], _code[1] in "56789")
        elif kind == "7":
            if entry is None:
                raise rec.fail("record type", "an addenda record must follow its entry detail")
            addenda = _addenda(rec, batch, change_codes)
            batch.entries.append(Entry(addenda=addenda, **entry))
            batch_totals.count += 1
            entry = None
        elif kind == "8":
            if entry is not None:
                raise records[index - 1].fail("addenda", "this entry has no addenda record")
            _batch_control(rec, batch, batch_totals)
            _merge(file_totals, batch_totals)
            batches.append(batch)
            batch = None
        else:
            raise rec.fail(
                "record type",
                f"expected an entry (6), addenda (7) or batch control (8), got {kind!r}",
            )
        index += 1
    last = records[-1].line
    if batch is not None:
        raise NachaFormatError(
            last,
            "batch control",
            "",
            f"batch {batch.number} (line {batch.line}) has no batch control record",
        )
    raise NachaFormatError(
        last, "file control", "", "the file ends without a file control record (9)"
    )


def _merge(file_totals: _Totals, batch_totals: _Totals) -> None:
    file_totals.count += batch_totals.count
    file_totals.entry_hash += batch_totals.entry_hash % 10**10
    file_totals.debit += batch_totals.debit
    file_totals.credit += batch_totals.credit


def _filler(rest: list[_Record]) -> None:
    for rec in rest:
        if rec.text != FILLER:
            raise NachaFormatError(
                rec.line,
                "blocking filler",
                "",
                "after the file control only records of 94 nines may follow",
            )


# Nacha Operating Rules, Appendix Five: change codes (C01–C14; C61–C69 refused NOCs).
DEFAULT_CHANGE_CODES = frozenset(
    [f"C{n:02d}" for n in (1, 2, 3, 5, 6, 7, 8, 9, 13, 14)] + [f"C{n}" for n in range(61, 70)]
)


# --- does the code fit the entry? --------------------------------------------------------------


def misfit(code: str, sec_code: str, fit_rules: dict) -> str:
    """Why a known return code does not fit the entry's SEC code ("" when it does): e.g. R29
    (corporate customer) on a consumer entry. Such a return is imported and flagged."""
    rule = fit_rules.get(code)
    if not rule:
        return ""
    corporate = sec_code in CORPORATE_SEC
    wants = rule["accounts"]
    if wants == "corporate" and not corporate:
        return f"{code} is for corporate entries (CCD, CTX); this return is on a {sec_code} entry."
    if wants == "consumer" and corporate:
        return f"{code} is for consumer entries; this return is on a {sec_code} (corporate) entry."
    return ""
