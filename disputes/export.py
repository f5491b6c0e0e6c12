"""The queue's CSV export: every dispute the queue's filters match, in the queue's order.

On PostgreSQL the rows never pass through Python: each part ("segment") of the queue's sort is
one ``COPY (…) TO STDOUT (FORMAT csv)`` of the queue's own filters, read along the queue's own
indexes (``copy_rows``: sorting is off in the export's transaction, so the rows go out as the
index gives them, the first at once, instead of after a sort of every match), whose columns
spell every label the way the pages do (the label dictionaries below, the urgency wording of
``Dispute.urgency``, ``money``); psycopg streams what PostgreSQL writes in blocks of ~64 KB:
memory stays flat and a million rows take seconds, not minutes. Elsewhere (SQLite, the demo)
the same columns are written row by row in Python (``python_lines``); a test holds the two to
the same bytes.

Every text cell is formula-safe: a cell that starts with ``=``, ``+``, ``-`` or ``@`` (also
after leading spaces, tabs or line breaks), or with a tab or carriage return, gets a leading
``'`` so a spreadsheet shows it as text instead of running it.
"""

import csv
import re
from collections.abc import Iterator
from datetime import date, timedelta

import psycopg
from django.conf import settings
from django.core.exceptions import EmptyResultSet
from django.db import connection, transaction
from django.db.models import F, Max, Q
from django.urls import reverse

from calendar_rules import calendars, rules

from . import selectors
from .choices import Network, Outcome, Party, Rail, ReferenceKind, Stage, WorkState
from .filters import person_name
from .models import CLOSED_DISPUTE, OPEN_DISPUTE, Dispute
from .templatetags.disputes_tags import MINOR_UNITS, SYMBOLS, money

COLUMNS = (
    "id",
    "case_id",
    "network",
    "rail",
    "reason_code",
    "reason",
    "client",
    "amount",
    "currency",
    "amount_display",
    "stage",
    "state",
    "assignee",
    "received_on",
    "internal_due",
    "network_due",
    "client_evidence_due",
    "urgency",
    "deadline_rule",
    "deadline_explanation",
    "reference_kind",
    "network_reference",
    "url",
)
NETWORK_LABELS = dict(Network.choices)
RAIL_LABELS = dict(Rail.choices)
STAGE_LABELS = dict(Stage.choices)
STATE_LABELS = dict(WorkState.choices)
OUTCOME_LABELS = dict(Outcome.choices)
REFERENCE_LABELS = dict(ReferenceKind.choices)
CHUNK_BYTES = 64 * 1024

# A spreadsheet runs a cell as a formula when it starts with one of these, even after blanks.
FORMULA = re.compile(r"^(?:[\t\r]|[ \t\r\n\f\v]*[-=+@])")
FORMULA_SQL = r"^([\t\r]|[ \t\r\n\f\v]*[-=+@])"


def safe_cell(value) -> str:
    """The text of a cell, with a leading ``'`` when a spreadsheet would read it as a formula."""
    text = "" if value is None else str(value)
    return f"'{text}" if FORMULA.match(text) else text


def detail_url_parts() -> tuple[str, str]:
    """The dispute page's absolute URL around its id: (before, after)."""
    sentinel = 987654321
    head, tail = reverse("disputes:detail", args=[sentinel]).split(str(sentinel))
    return f"{settings.SITE_URL}{head}", tail


def csv_chunks(user, params, today: date) -> Iterator[bytes]:
    """The export as bytes: the header at once, then the rows (COPY on PostgreSQL)."""
    yield (",".join(COLUMNS) + "\n").encode()
    if connection.vendor == "postgresql":
        yield from copy_rows(user, params, today)
    else:
        for line in python_lines(user, params, today):
            yield line.encode()


# --- PostgreSQL: COPY ---------------------------------------------------------------------------


def copy_rows(user, params, today: date) -> Iterator[bytes]:
    """The rows as PostgreSQL writes them, gathered into blocks of about ``CHUNK_BYTES``.

    One COPY per segment of the queue's sort (the rows with a due date, then those without),
    all in one transaction that reads one snapshot. Sorting is turned off in it, so PostgreSQL
    reads each segment along the same indexes the queue pages by (merging the open and closed
    ones for "open or closed") and writes the first rows at once, instead of sorting every
    matching dispute before the first one goes out."""
    outermost = not connection.in_atomic_block
    with transaction.atomic(), connection.cursor() as cursor:
        if outermost:  # each COPY sees the same disputes: nothing moves between segments
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        # Rows in index order, never sorted first; a client's (or person's) disputes read from
        # the (client, id) index, not by passing every dispute in id order (the planner's
        # choice at the default random_page_cost, wrong for a table in memory). The plan is
        # costed for every row, so it would be JIT-compiled: seconds before the first row, for
        # nothing a stream needs.
        cursor.execute(
            "SET LOCAL enable_sort = off; SET LOCAL random_page_cost = 1.1; SET LOCAL jit = off"
        )
        raw = cursor.cursor  # the psycopg cursor under Django's wrapper
        block = bytearray()
        for statement in copy_statements(user, params, today):
            with raw.copy(statement) as copy:
                while data := copy.read():
                    block += data
                    if len(block) >= CHUNK_BYTES:
                        yield bytes(block)
                        block.clear()
        if block:
            yield bytes(block)


def copy_statements(user, params, today: date) -> Iterator[str]:
    """``COPY (…) TO STDOUT`` of each segment of the queue's sort, in order, with every value
    inlined (COPY takes no parameters): one per segment, and for a name sort one per client
    (or person) in name order; none for a segment the filters leave empty."""
    sort, descending = selectors.parse_sort(params.sort)
    streams = selectors.state_streams(params)
    disputes = selectors.queue_disputes(user, params).order_by()
    select_list = None
    for segment in sort.segments:
        try:
            if isinstance(segment, selectors.GroupSegment):
                sources = _group_sources(disputes, segment, streams, descending)
            else:
                sources = _sources(disputes, segment, streams, descending)
        except EmptyResultSet:  # e.g. a search that matched nothing
            continue
        for source_sql, source_params in sources:
            select_list = select_list or _select_list(today)
            sql = f"COPY (SELECT {select_list} FROM ({source_sql}) AS d) TO STDOUT (FORMAT csv)"
            connection.ensure_connection()
            yield psycopg.ClientCursor(connection.connection).mogrify(sql, source_params)


# The inner query's columns, in this order: the dispute's own, then the client's, the
# assignee's and the transaction's (joined once the rows are in order).
_SOURCE = (
    "id",
    "case_id",
    "network",
    "rail",
    "reason_code",
    "client__name",
    "amount",
    "currency",
    "stage",
    "state",
    "assignee__first_name",
    "assignee__last_name",
    "assignee__username",
    "received_on",
    "internal_due",
    "network_due",
    "client_evidence_due",
    "outcome",
    "due_party",
    "deadline_rule",
    "deadline_explanation",
    "transaction__reference_kind",
    "transaction__network_reference",
)
_COL = {name: f"d.col{i}" for i, name in enumerate(_SOURCE)}
_OWN = [name for name in _SOURCE if "__" not in name]
_RELATED = {"client": "c", "assignee": "u", "transaction": "t"}
_FOREIGN_KEYS = tuple(f"{relation}_id" for relation in _RELATED)


def _joined(rows_sql: str, order: str) -> str:
    """The export's columns (``col0``…) of the rows ``s``, the related names joined to them."""
    columns = []
    for i, name in enumerate(_SOURCE):
        relation, _, field = name.partition("__")
        if field:
            model = Dispute._meta.get_field(relation).related_model
            column = model._meta.get_field(field).column
            columns.append(f'{_RELATED[relation]}."{column}" AS col{i}')
        else:
            columns.append(f's."{Dispute._meta.get_field(name).column}" AS col{i}')
    joins = []
    for relation, alias in _RELATED.items():
        model = Dispute._meta.get_field(relation).related_model
        kind = "LEFT JOIN" if Dispute._meta.get_field(relation).null else "JOIN"
        joins.append(f'{kind} "{model._meta.db_table}" {alias} ON {alias}.id = s."{relation}_id"')
    return f"SELECT {', '.join(columns)} FROM {rows_sql} {' '.join(joins)} ORDER BY {order}"


def _source(disputes, segment, streams, descending: bool) -> tuple[str, tuple]:
    """A segment's rows in its order, read along the (key, id) index."""
    rows = segment.narrow(disputes, after=None, descending=descending)
    keys = [*segment.leading, *(key.expression for key in segment.keys)]
    return _ordered(rows, keys, streams, descending)


def _sources(disputes, segment, streams, descending: bool) -> list[tuple[str, tuple]]:
    """A segment's rows in order. Closed rows of a sort whose keys are constant on them (stage,
    state) are read in id order along the primary key, after the open rows ("closed" is the
    last stage and state), or before them in descending order."""
    if segment.closed_values is None or not any(s is CLOSED_DISPUTE for s in streams):
        return [_source(disputes, segment, streams, descending)]
    rows = segment.narrow(disputes, after=None, descending=descending)
    closed = _ordered(rows.filter(CLOSED_DISPUTE), [], (), descending)
    others = [s for s in streams if s is not CLOSED_DISPUTE]
    if not others:
        return [closed]
    opened = _source(disputes, segment, others, descending)
    return [closed, opened] if descending else [opened, closed]


def _group_sources(disputes, segment, streams, descending: bool) -> Iterator[tuple[str, tuple]]:
    """A name sort's rows: for each client (or person) in name order, its disputes from the
    (foreign key, id) index."""
    names = (*segment.names, "id")
    groups = segment.model._default_manager.order_by(
        *(f"-{name}" if descending else name for name in names)
    )
    rows = segment.narrow(disputes, after=None, descending=descending)
    for group_id in list(groups.values_list("id", flat=True)):
        yield _ordered(rows.filter(**{f"{segment.fk}_id": group_id}), [], streams, descending)


def _ordered(rows, keys, streams, descending: bool) -> tuple[str, tuple]:
    """``rows`` ordered by ``keys`` then id, the keys as columns of the rows so that PostgreSQL
    reads them along the (key, id) index; several streams (open, closed) are each read in order
    along their own index and merged (a Merge Append)."""
    rows = rows.annotate(**{f"sort_key{i}": key for i, key in enumerate(keys)})
    columns = (*_OWN, *_FOREIGN_KEYS, *(f"sort_key{i}" for i in range(len(keys))))
    direction = "DESC" if descending else "ASC"
    order = [F(f"sort_key{i}") for i in range(len(keys))] + [F("id")]
    order = [e.desc() if descending else e.asc() for e in order]
    parts, params = [], []
    for stream in streams or [Q()]:
        sql, part_params = (
            rows.filter(stream).values(*columns).order_by(*order).query.sql_with_params()
        )
        parts.append(f"({sql})")
        params.extend(part_params)
    outer_order = [f's."sort_key{i}" {direction}' for i in range(len(keys))]
    outer_order.append(f's."id" {direction}')
    return _joined(f"({' UNION ALL '.join(parts)}) AS s", ", ".join(outer_order)), tuple(params)


class _Params(list):
    """The outer query's values, written into it as SQL literals (a column's expression is
    repeated in its CASE, so it cannot hold placeholders); ``%`` doubled for psycopg."""

    def add(self, value) -> str:
        if isinstance(value, date):
            return f"'{value.isoformat()}'::date"
        if isinstance(value, list):
            return f"'{{{','.join(str(int(v)) for v in value)}}}'::int[]"
        text = str(value).replace("'", "''").replace("%", "%%")
        return f"'{text}'"


def _label(column: str, labels: dict, p: _Params, default: str | None = None) -> str:
    """CASE column WHEN value THEN label … ELSE default (the stored value when not given)."""
    whens = " ".join(f"WHEN {p.add(k)} THEN {p.add(v)}" for k, v in labels.items())
    return f"(CASE {column} {whens} ELSE {default or column} END)"


def _safe(expression: str) -> str:
    # NULLIF: COPY writes NULL as an empty field and '' as "" ; Python's csv writes both bare.
    return (
        f"(CASE WHEN {expression} ~ '{FORMULA_SQL}' THEN '''' || {expression} "
        f"ELSE NULLIF({expression}, '') END)"
    )


def _iso(column: str) -> str:
    return f"to_char({column}, 'YYYY-MM-DD')"


def _money(p: _Params) -> str:
    """``money(amount, currency)`` in SQL: the currency's minor units, half-even rounding as
    Python's Decimal, thousands separators, the symbol or the code."""
    amount, currency = _COL["amount"], _COL["currency"]
    whole = (
        f"(CASE WHEN {amount} - trunc({amount}) = 0.5 AND mod(trunc({amount}), 2) = 0 "
        f"THEN trunc({amount}) ELSE round({amount}) END)"
    )
    groups = "FM" + "999," * 6 + "990"
    places = {2: f"to_char({amount}, '{groups}.00')"}
    for digits in sorted(set(MINOR_UNITS.values())):
        if digits == 0:
            places[0] = f"to_char({whole}, '{groups}')"
        elif digits != 2:
            places[digits] = f"to_char({amount}, '{groups}.{'0' * digits}')"
    by_currency = " ".join(
        f"WHEN {p.add(code)} THEN {places[digits]}" for code, digits in MINOR_UNITS.items()
    )
    text = f"(CASE {currency} {by_currency} ELSE {places[2]} END)"
    symbols = " ".join(f"WHEN {p.add(code)} THEN {p.add(sym)}" for code, sym in SYMBOLS.items())
    return (
        f"(CASE {currency} {symbols} ELSE '' END) || {text} || "
        f"(CASE WHEN {currency} IN ({', '.join(p.add(c) for c in SYMBOLS)}) "
        f"THEN '' ELSE ' ' || {currency} END)"
    )


def _urgency(today: date, p: _Params) -> str:
    """``Dispute.urgency(today).label`` in SQL (the same cases in the same order)."""
    c = _COL
    t = p.add(today)
    on = f"to_char({c['network_due']}, 'Mon FMDD')"
    internal_on = f"to_char({c['internal_due']}, 'Mon FMDD')"
    who = f"(CASE WHEN {c['network']} = {p.add(Network.NACHA)} THEN 'RDFI' ELSE 'Issuer' END)"
    late = f"({t} - {c['internal_due']})"
    left = f"({p.add(_banking_days_ahead(today))})[{c['internal_due']} - {t}]"
    closed = _label(c["outcome"], {"": "Closed", **OUTCOME_LABELS}, p)
    counterparty = f"{c['due_party']} = {p.add(Party.COUNTERPARTY)}"
    return f"""(CASE
        WHEN {c["state"]} = {p.add(WorkState.CLOSED)} THEN {closed}
        WHEN {c["state"]} = {p.add(WorkState.AWAITING_EVIDENCE)}
             AND {c["client_evidence_due"]} < {t} THEN 'Evidence overdue'
        WHEN {c["internal_due"]} IS NULL OR {c["network_due"]} IS NULL THEN 'No network clock'
        WHEN {counterparty} AND {c["network_due"]} < {t} THEN {who} || ' window closed'
        WHEN {counterparty} THEN 'Waiting until ' || {on}
        WHEN {c["network_due"]} < {t} THEN 'Missed network date'
        WHEN {c["internal_due"]} < {t} THEN {late} || (CASE WHEN {late} = 1
             THEN ' day overdue' ELSE ' days overdue' END)
        WHEN {c["internal_due"]} = {t} THEN 'Due today'
        WHEN {left} IS NULL THEN 'Due ' || {internal_on}
        WHEN {left} = 1 THEN '1 banking day'
        ELSE {left} || ' banking days' END)"""


def _banking_days_ahead(today: date) -> list[int]:
    """[banking days from ``today`` to today + k for k = 1, 2, …] up to the latest internal due
    of an open dispute (one index lookup)."""
    latest = Dispute.objects.filter(OPEN_DISPUTE).aggregate(latest=Max("internal_due"))["latest"]
    if latest is None or latest <= today:
        return [0]
    latest = min(latest, calendars.FED.last)
    fed = calendars.FED
    return [
        fed.banking_days_between(today, today + timedelta(days=k))
        for k in range(1, (latest - today).days + 1)
    ]


def _reason_names() -> dict[str, dict[str, str]]:
    """network → code → the code's short name, for every code in the rule tables."""
    names = {}
    for network in Network.values:
        try:
            codes = rules.reason_codes(network)
        except rules.RuleLookupError:
            continue
        names[network] = {row.code: selectors.reason_short_name(network, row.code) for row in codes}
    return names


def _reason_name(network: str, code: str, p: _Params) -> str:
    """The reason's short name: a CASE on the network, then one on the code (a few dozen
    comparisons a row, not every code of every network). The names come from the rule tables:
    when none reads as a formula, they need no escaping, only '' written as an empty field."""
    names, empty = _reason_names(), "''"
    cases = " ".join(
        f"WHEN {p.add(net)} THEN {_label(code, codes, p, default=empty)}"
        for net, codes in names.items()
    )
    expression = f"(CASE {network} {cases} ELSE '' END)"
    if any(FORMULA.match(name) for codes in names.values() for name in codes.values()):
        return _safe(expression)
    return f"NULLIF({expression}, '')"


def _select_list(today: date) -> str:
    c, p = _COL, _Params()
    head, tail = detail_url_parts()
    full_name = f"btrim({c['assignee__first_name']} || ' ' || {c['assignee__last_name']})"
    assignee = f"COALESCE(NULLIF({full_name}, ''), {c['assignee__username']})"
    empty = "''"
    columns = [
        c["id"],
        _safe(c["case_id"]),
        _label(c["network"], NETWORK_LABELS, p),
        _label(c["rail"], RAIL_LABELS, p),
        _safe(c["reason_code"]),
        _reason_name(c["network"], c["reason_code"], p),
        _safe(c["client__name"]),
        c["amount"],
        _safe(c["currency"]),
        _money(p),
        _label(c["stage"], STAGE_LABELS, p),
        _label(c["state"], STATE_LABELS, p),
        _safe(assignee),
        _iso(c["received_on"]),
        _iso(c["internal_due"]),
        _iso(c["network_due"]),
        _iso(c["client_evidence_due"]),
        # Never empty, never read as a formula: a word or a positive count comes first.
        _urgency(today, p),
        _safe(c["deadline_rule"]),
        _safe(c["deadline_explanation"]),
        f"NULLIF({_label(c['transaction__reference_kind'], REFERENCE_LABELS, p, empty)}, '')",
        _safe(c["transaction__network_reference"]),
        f"{p.add(head)} || {c['id']} || {p.add(tail)}",
    ]
    return ", ".join(columns)


# --- elsewhere: row by row ----------------------------------------------------------------------


class _Echo:
    def write(self, value):
        return value


def python_lines(user, params, today: date) -> Iterator[str]:
    """The rows as CSV lines written in Python (SQLite), the same bytes COPY writes."""
    writer = csv.writer(_Echo(), lineterminator="\n")
    detail_url = detail_url_parts()
    for dispute in selectors.for_export(user, params):
        yield writer.writerow(export_row(dispute, today, detail_url))


def export_row(d, today: date, detail_url: tuple[str, str]) -> list:
    return [
        d.pk,
        safe_cell(d.case_id),
        NETWORK_LABELS.get(d.network, d.network),
        RAIL_LABELS.get(d.rail, d.rail),
        safe_cell(d.reason_code),
        safe_cell(d.reason_short_name),
        safe_cell(d.client.name),
        d.amount,
        safe_cell(d.currency),
        money(d.amount, d.currency),
        STAGE_LABELS.get(d.stage, d.stage),
        STATE_LABELS.get(d.state, d.state),
        safe_cell(person_name(d.assignee)) if d.assignee else "",
        d.received_on,
        d.internal_due or "",
        d.network_due or "",
        d.client_evidence_due or "",
        safe_cell(d.urgency(today).label),
        safe_cell(d.deadline_rule),
        safe_cell(d.deadline_explanation),
        REFERENCE_LABELS.get(d.transaction.reference_kind, ""),
        safe_cell(d.transaction.network_reference),
        f"{detail_url[0]}{d.pk}{detail_url[1]}",
    ]
