"""Reads for the dispute queue (/disputes/): a page of disputes, the CSV export, capped counts.

Pages are found by keyset ("cursor") pagination: the rows after (or before) the last row shown,
in the sort's order, the dispute id breaking ties. Each sort has two partial indexes on (sort
key, id), one over open disputes and one over closed ones (``Dispute.Meta.indexes``), so any
page is a short index range scan and page 500 costs what page 1 costs. "Open or closed" reads
both, each stream at most a page long, and merges them (``state_streams``). Nothing on the page
counts the whole table: counts stop at ``COUNT_CAP``.

A sort whose key may be empty (the due dates, the assignee) keeps the empty rows last in both
directions: the rows with a value and the rows without are two *segments*, read one after the
other. Sorting by client or assignee orders by their names: PostgreSQL walks the clients (or
people) in name order and takes each one's disputes from the (client, id) index (a LATERAL
join), instead of sorting every dispute by a joined name.
"""

import base64
import binascii
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from functools import cache
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import EmptyResultSet
from django.db import connection
from django.db.models import BooleanField, Expression, F, Q, Value
from django.db.models.expressions import RawSQL

from calendar_rules import rules

from .choices import Stage, WorkState
from .models import (
    CLOSED_DISPUTE,
    OPEN_DISPUTE,
    STAGE_RANK,
    STATE_RANK,
    Client,
    Dispute,
    Transaction,
)

COUNT_CAP = 10_000  # a built-in view's count is exact up to here ("10,000+" beyond)
MATCH_CAP = 1000  # any other filters' count: reads rows, not only an index, so it stops sooner
SMALL_SET = 1000  # fewer matches than this: found by the filters' index, then sorted
SEARCH_CAP = 5000
ROW_RELATIONS = ("client", "assignee")


@cache
def reason_short_name(network: str, code: str) -> str:
    """The reason code's short name from the rule tables ("" for a code they do not know)."""
    try:
        return rules.reason_code(network, code).short_name
    except rules.RuleLookupError:
        return ""


def queue_clients() -> list[tuple[int, str, str]]:
    """Every client as (id, slug, name), by name: the client filter's choices."""
    return list(Client.objects.order_by("name", "id").values_list("id", "slug", "name"))


def queue_people():
    """Who a dispute may be assigned to: active users whose role may claim, by name."""
    return list(
        get_user_model()
        .objects.with_perm(
            "disputes.claim_dispute",
            include_superusers=False,
            # Permissions live in the model backend (the other one only refuses lockouts).
            backend="django.contrib.auth.backends.ModelBackend",
        )
        .filter(is_active=True)
        .order_by("first_name", "last_name", "username")
    )


def search_matches(text: str, clients) -> Q:
    """Disputes matching a search, in any state: case id by prefix (any letter case), ARN or ACH
    trace number exactly (spaces ignored), or a client whose name or slug contains the text.

    The case ids and references are resolved first, in one query on their indexes, so the page
    query gets a short list of ids instead of a LIKE the planner might check row by row along a
    sort index. A prefix matching more than ``SEARCH_CAP`` cases stays a LIKE (it is not
    selective, so checking it along the sort order is then the cheap plan)."""
    compact = text.strip().replace(" ", "")
    needle = text.strip().casefold()
    by_case = Dispute.objects.order_by().filter(case_id__istartswith=compact).values_list("id")
    by_reference = (
        Dispute.objects.order_by().filter(transaction__network_reference=compact).values_list("id")
    )
    found = [pk for (pk,) in by_case.union(by_reference, all=True)[: SEARCH_CAP + 1]]
    if len(found) <= SEARCH_CAP:
        matches = Q(id__in=found)
    else:
        references = Transaction.objects.filter(network_reference=compact).values("id")
        matches = Q(case_id__istartswith=compact) | Q(transaction_id__in=references)
    client_ids = [pk for pk, slug, name in clients if needle in name.casefold() or needle in slug]
    if client_ids:
        matches |= Q(client_id__in=client_ids)
    return matches


# --- keyset comparison -------------------------------------------------------------------------


class RowCompare(Expression):
    """``(a, b, …) > (x, y, …)``: a row comparison, which a btree index on (a, b, …) answers with
    one range scan (PostgreSQL; SQLite ≥ 3.15 understands it too)."""

    conditional = True
    output_field = BooleanField()

    def __init__(self, keys, op: str, values):
        super().__init__()
        assert op in ("<", ">") and len(keys) == len(values)
        self.keys, self.op, self.values = list(keys), op, list(values)

    def get_source_expressions(self):
        return [*self.keys, *self.values]

    def set_source_expressions(self, exprs):
        self.keys, self.values = exprs[: len(self.keys)], exprs[len(self.keys) :]

    def as_sql(self, compiler, connection):
        sides, params = [], []
        for side in (self.keys, self.values):
            parts = []
            for expression in side:
                sql, part_params = compiler.compile(expression)
                parts.append(sql)
                params.extend(part_params)
            sides.append(f"({', '.join(parts)})")
        return f"{sides[0]} {self.op} {sides[1]}", params


# --- sorts -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Key:
    """One column of a sort: the expression ordered on, how to read it off a fetched dispute,
    and how its value comes back from a cursor (JSON)."""

    expression: Any
    read: Callable[[Dispute], Any]
    parse: Callable[[Any], Any] = lambda value: value
    dump: Callable[[Any], Any] = lambda value: value


def _field(name, parse=lambda v: v, dump=lambda v: v) -> Key:
    return Key(F(name), lambda d: getattr(d, name), parse, dump)


def _str(value) -> str:
    # PostgreSQL text holds no NUL character: a cursor carrying one was not made here.
    if not isinstance(value, str) or "\x00" in value:
        raise ValueError("expected text")
    return value


BIGINT = 2**63


def _int(value) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not -BIGINT <= value < BIGINT:
        raise ValueError("expected an integer")
    return value


def _date(value) -> date:
    return date.fromisoformat(_str(value))


# Wider than any amount column, narrow enough that PostgreSQL's numeric takes it as it is.
DECIMAL_DIGITS = 40


def _decimal(value) -> Decimal:
    """A finite decimal of at most ``DECIMAL_DIGITS`` digits either side of the point (NaN,
    Infinity or 1e999999 in a tampered cursor are refused, not sent to the database)."""
    try:
        number = Decimal(_str(value))
    except InvalidOperation:
        raise ValueError("expected a decimal") from None
    if not number.is_finite() or abs(number.adjusted()) > DECIMAL_DIGITS:
        raise ValueError("expected a decimal")
    _sign, digits, exponent = number.as_tuple()
    if len(digits) > 2 * DECIMAL_DIGITS or exponent < -DECIMAL_DIGITS:
        raise ValueError("expected a decimal")
    return number


ID = _field("id", _int)


@dataclass(frozen=True)
class Segment:
    """Rows of a sort that are ordered by ``keys`` then id: all of them, or (``condition``) those
    with or without a value.

    ``leading`` are expressions the rows are also ordered on, ahead of the keys, that hold one
    value in the segment (the empty due date of the rows without one): ordering on them changes
    nothing but lets PostgreSQL read the rows from the (column, id) index."""

    keys: tuple[Key, ...]
    condition: Q | None = None
    leading: tuple = ()
    # The keys' values on every closed dispute, when they have one (the stage and the state
    # sorts: a closed dispute's stage and state are "closed", the last in order). Closed rows
    # are then read in id order, along the primary key: no index over a constant.
    closed_values: tuple | None = None

    @property
    def all_keys(self) -> tuple[Key, ...]:
        return (*self.keys, ID)

    def order(self, *, descending: bool) -> list:
        expressions = [*self.leading, *(key.expression for key in self.all_keys)]
        return [e.desc() if descending else e.asc() for e in expressions]

    def narrow(self, disputes, *, after, descending: bool):
        """The segment's rows after the key values ``after`` (None: all of them), unordered."""
        if self.condition is not None:
            disputes = disputes.filter(self.condition)
        if after is not None:
            expressions = [key.expression for key in self.all_keys]
            values = [Value(value) for value in after]
            disputes = disputes.filter(RowCompare(expressions, "<" if descending else ">", values))
        return disputes

    def read(self, disputes, *, after, limit: int, descending: bool, streams=()) -> list:
        """Up to ``limit`` rows after the key values ``after`` (None: from the start).

        ``streams`` (conditions that split the rows, e.g. open and closed) are each read along
        their own index, ``limit`` rows at most, and merged: the "open or closed" view, which no
        index covers in one piece."""
        disputes = self.narrow(disputes, after=after, descending=descending)
        order = self.order(descending=descending)
        # The ids first, then the rows they name: read for ids alone, the sort's index answers
        # a view's filters from the columns it carries (an index-only scan), where reading
        # whole rows would fetch every row it passes from the table to test them.
        firsts = []
        for stream in streams or (None,):
            rows = disputes if stream is None else disputes.filter(stream)
            if stream is CLOSED_DISPUTE and self.closed_values is not None:
                rows = self._closed_by_id(rows, after=after, descending=descending)
                if rows is None:
                    continue
                firsts.append(rows.order_by("-id" if descending else "id").values("id")[:limit])
            else:
                firsts.append(rows.order_by(*order).values("id")[:limit])
        if not firsts:
            return []
        ids = firsts[0].union(*firsts[1:], all=True) if len(firsts) > 1 else firsts[0]
        return list(disputes.filter(id__in=ids).order_by(*order)[:limit])

    def _closed_by_id(self, rows, *, after, descending: bool):
        """Closed ``rows`` after the cursor ``after``, to read in id order: every one has the
        keys' ``closed_values``, so the cursor's id decides (when the cursor is a closed row)
        or the cursor is before all of them or after all of them (None: no rows)."""
        if after is None:
            return rows
        keys, last_id = tuple(after[:-1]), after[-1]
        if keys == self.closed_values:
            return rows.filter(id__lt=last_id) if descending else rows.filter(id__gt=last_id)
        passed = keys > self.closed_values if not descending else keys < self.closed_values
        return None if passed else rows


@dataclass(frozen=True)
class GroupSegment(Segment):
    """Rows ordered by a related row's names (client, assignee), then its id, then the dispute
    id. On PostgreSQL it walks the related rows in name order and takes each one's disputes from
    the (foreign key, id) index; elsewhere it orders the join (fine for the demo's SQLite)."""

    fk: str = ""
    model: Any = None
    names: tuple[str, ...] = ()
    lateral = True  # tests turn it off to check both ways give the same order

    def read(self, disputes, *, after, limit: int, descending: bool, streams=()) -> list:
        """As ``Segment.read``, in one query: the ids of the rest of the current client's (or
        person's) disputes after the cursor and of the first disputes of the ones after it, as
        a subquery; the rows they name, in order. Each one's disputes come from the (foreign
        key, id) index over open disputes, or over closed ones, or (``streams``) both merged."""
        if not (self.lateral and connection.vendor == "postgresql"):
            return super().read(disputes, after=after, limit=limit, descending=descending)
        if self.condition is not None:
            disputes = disputes.filter(self.condition)
        op = "<" if descending else ">"
        groups, parts = self.model._default_manager.all(), []
        try:
            if after is not None:
                group_id, last_id = after[-2:]
                rest = disputes.filter(**{f"{self.fk}_id": group_id})
                rest = rest.filter(RowCompare([F("id")], op, [Value(last_id)]))
                parts.append(_first_ids(rest, limit, descending, streams))
                group_keys = [F(name) for name in (*self.names, "id")]
                groups = groups.filter(RowCompare(group_keys, op, [Value(v) for v in after[:-1]]))
            parts.append(self._lateral_ids(disputes, groups, limit, descending, streams))
        except EmptyResultSet:  # e.g. a search that matched nothing
            return []
        ids = RawSQL(
            " UNION ALL ".join(f"({sql})" for sql, _params in parts),
            tuple(param for _sql, params in parts for param in params),
        )
        found = disputes.filter(id__in=ids).order_by(*self.order(descending=descending))
        return list(found[:limit])

    def _lateral_ids(self, disputes, groups, limit, descending, streams) -> tuple[str, tuple]:
        """SQL of the first ``limit`` dispute ids of ``groups``, walked in name order."""
        direction = "DESC" if descending else "ASC"
        inner = disputes.filter(**{f"{self.fk}_id": RawSQL('"queue_group"."id"', ())})
        inner_sql, inner_params = _first_ids(inner, limit, descending, streams)
        outer = groups.order_by().values("id", *self.names)
        outer_sql, outer_params = outer.query.sql_with_params()
        order = ", ".join(f'"queue_group"."{n}" {direction}' for n in (*self.names, "id"))
        sql = (
            f'SELECT "queue_page"."id" FROM ({outer_sql}) AS "queue_group" '
            f'CROSS JOIN LATERAL ({inner_sql}) AS "queue_page" '
            f'ORDER BY {order}, "queue_page"."id" {direction} LIMIT %s'
        )
        return sql, (*outer_params, *inner_params, limit)


def _first_ids(disputes, limit: int, descending: bool, streams) -> tuple[str, tuple]:
    """SQL of the first ``limit`` ids of ``disputes`` in id order: with ``streams``, the first
    of each, merged (each read along its own index)."""
    order = "-id" if descending else "id"
    if len(streams) < 2:
        return disputes.order_by(order).values("id")[:limit].query.sql_with_params()
    firsts = [disputes.filter(s).order_by(order).values("id")[:limit] for s in streams]
    merged = firsts[0].union(*firsts[1:], all=True).order_by(order)[:limit]
    return merged.query.sql_with_params()


@dataclass(frozen=True)
class Sort:
    name: str
    segments: tuple[Segment, ...]
    # How a CSV export orders the same rows in one query.
    export_order: tuple


def _plain(name: str, *keys: Key, closed_values: tuple | None = None) -> Sort:
    expressions = [key.expression for key in keys]
    return Sort(name, (Segment(keys, closed_values=closed_values),), (*expressions, F("id")))


def _nullable(name: str, field: str, parse, dump) -> Sort:
    key = _field(field, parse, dump)
    return Sort(
        name,
        (
            Segment((key,), Q(**{f"{field}__isnull": False})),
            Segment((), Q(**{f"{field}__isnull": True}), leading=(F(field),)),
        ),
        (F(field), F("id")),
    )


def _rank(expression, field: str, values) -> Key:
    """A choice field in workflow order (the expression is ``models.choice_rank``)."""
    ranks = {value: rank for rank, value in enumerate(values)}
    return Key(expression, lambda d: ranks.get(getattr(d, field), len(ranks)), _int)


def _closed_rank(values, closed) -> int:
    """The rank of "closed" among ``values``: the last, which the closed stream relies on."""
    rank = list(values).index(closed)
    assert rank == len(values) - 1, "closed must be the last stage and state in order"
    return rank


def _client_sort() -> Sort:
    keys = (
        Key(F("client__name"), lambda d: d.client.name, _str),
        Key(F("client_id"), lambda d: d.client_id, _int),
    )
    segment = GroupSegment(keys, fk="client", model=Client, names=("name",))
    return Sort("client", (segment,), (F("client__name"), F("client_id"), F("id")))


def _assignee_sort() -> Sort:
    names = ("first_name", "last_name", "username")
    keys = (
        *(Key(F(f"assignee__{n}"), lambda d, n=n: getattr(d.assignee, n), _str) for n in names),
        Key(F("assignee_id"), lambda d: d.assignee_id, _int),
    )
    assigned = GroupSegment(
        keys,
        Q(assignee__isnull=False),
        fk="assignee",
        model=get_user_model(),
        names=names,
    )
    unassigned = Segment((), Q(assignee__isnull=True), leading=(F("assignee_id"),))
    return Sort(
        "assignee",
        (assigned, unassigned),
        (*(F(f"assignee__{n}") for n in names), F("assignee_id"), F("id")),
    )


SORTS = {
    sort.name: sort
    for sort in (
        _nullable("due", "internal_due", _date, date.isoformat),
        _nullable("network_due", "network_due", _date, date.isoformat),
        _plain("case", _field("case_id", _str)),
        _plain("network", _field("network", _str), _field("rail", _str)),
        _plain("reason", _field("reason_code", _str)),
        _client_sort(),
        _plain("amount", _field("amount", _decimal, str)),
        _plain(
            "stage",
            _rank(STAGE_RANK, "stage", Stage.values),
            closed_values=(_closed_rank(Stage.values, Stage.CLOSED),),
        ),
        _plain(
            "state",
            _rank(STATE_RANK, "state", WorkState.values),
            closed_values=(_closed_rank(WorkState.values, WorkState.CLOSED),),
        ),
        _assignee_sort(),
        _plain("received", _field("received_on", _date, date.isoformat)),
    )
}


def parse_sort(value: str) -> tuple[Sort, bool]:
    """ "-amount" → (the amount sort, descending)."""
    descending = value.startswith("-")
    return SORTS.get(value.lstrip("-"), SORTS["due"]), descending


# --- cursors -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Position:
    """Where a row sits in a sort: its segment and its key values (id last)."""

    segment: int
    values: tuple


def encode_cursor(sort_param: str, sort: Sort, segment: int, row: Dispute) -> str:
    keys = sort.segments[segment].all_keys
    payload = [sort_param, segment, [key.dump(key.read(row)) for key in keys]]
    raw = json.dumps(payload, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, sort_param: str, sort: Sort) -> Position | None:
    """The position a cursor names, or None when it is not one of this sort's (a cursor is only
    a position: a forged one shows another page of the same query, nothing more)."""
    if not cursor:
        return None
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        given_sort, segment, values = json.loads(raw)
        if given_sort != sort_param or not 0 <= segment < len(sort.segments):
            return None
        keys = sort.segments[segment].all_keys
        if len(values) != len(keys):
            return None
        return Position(segment, tuple(key.parse(v) for key, v in zip(keys, values, strict=True)))
    except (ValueError, TypeError, RecursionError, binascii.Error, json.JSONDecodeError):
        return None


# --- the page ----------------------------------------------------------------------------------


@dataclass
class QueuePage:
    rows: list[Dispute]
    sort: str
    size: int
    next_cursor: str | None
    previous_cursor: str | None

    @property
    def is_first(self) -> bool:
        return self.previous_cursor is None


def queue_disputes(user, params, values: dict | None = None):
    """The disputes the user may read, narrowed by the queue's filters (open ones by default),
    or by ``values`` (a built-in view's filters) instead of the submitted ones."""
    readable = Dispute.objects.for_user(user)
    if values is not None:
        return params.apply(readable, values)
    return params.filter_queryset(readable)


def for_queue(user, params, *, matching: int | None = None) -> QueuePage:
    """One page of the queue for ``params`` (a validated ``disputes.filters.QueueFilter``):
    its rows in order and the cursors of the pages before and after it.

    ``matching`` is how many disputes the filters match, when known (``capped_counts``). Below
    ``SMALL_SET`` the matches are few, so they are found first, by the filters' own best index,
    and sorted, rather than looked for along the sort's index: when the filters correlate with
    the sort (received last week, ordered by due date) that walk can pass most of the open
    disputes before it fills a page.

    Costs one query per segment the page touches (one or two; a client or assignee sort adds one
    to load the rows it found), whatever the page number or size."""
    disputes = queue_disputes(user, params).select_related(*ROW_RELATIONS)
    if matching is not None and matching < SMALL_SET:
        # A LIMITed subquery is planned on its own: the filters' best index, then a hash join.
        disputes = disputes.filter(id__in=disputes.order_by().values("id")[:SMALL_SET])
    sort_param = params.sort
    sort, descending = parse_sort(sort_param)
    streams = state_streams(params)
    size = params.size
    cleaned = params.cleaned
    before = decode_cursor(cleaned.get("before") or "", sort_param, sort)
    after = decode_cursor(cleaned.get("after") or "", sort_param, sort)
    if before:
        found = _walk(disputes, sort, descending, before, size + 1, streams, backwards=True)
        if len(found) >= size:
            found.reverse()
            rows = found[-size:]
            has_previous = len(found) > size
            return _page(sort_param, sort, size, rows, has_next=True, has_previous=has_previous)
        after = None  # fewer than a page before it: show the first page
    found = _walk(disputes, sort, descending, after, size + 1, streams, backwards=False)
    rows = found[:size]
    return _page(sort_param, sort, size, rows, has_next=len(found) > size, has_previous=bool(after))


def state_streams(params) -> tuple[Q, ...]:
    """How the rows are read in a sort's order: "open or closed" as two streams, open and
    closed, each along its own index (PostgreSQL); closed ones as the closed stream; any other
    state as one."""
    if connection.vendor != "postgresql":
        return ()
    if params.any_state:
        return (OPEN_DISPUTE, CLOSED_DISPUTE)
    if params.closed_only:
        return (CLOSED_DISPUTE,)
    return ()


def _walk(disputes, sort, descending, start, limit: int, streams, *, backwards: bool):
    """Up to ``limit`` (segment, row) pairs from ``start`` (exclusive) onwards, or backwards."""
    count = len(sort.segments)
    order = list(reversed(range(count))) if backwards else list(range(count))
    if start is not None:
        order = order[order.index(start.segment) :]
    found = []
    for index in order:
        after = start.values if start is not None and index == start.segment else None
        rows = sort.segments[index].read(
            disputes,
            after=after,
            limit=limit - len(found),
            descending=descending != backwards,
            streams=streams,
        )
        found.extend((index, row) for row in rows)
        if len(found) >= limit:
            break
    return found


def _page(sort_param, sort, size, found, *, has_next, has_previous) -> QueuePage:
    rows = [row for _segment, row in found]
    for row in rows:
        row.reason_short_name = reason_short_name(row.network, row.reason_code)
    next_cursor = previous_cursor = None
    if found and has_next:
        next_cursor = encode_cursor(sort_param, sort, *found[-1])
    if found and has_previous:
        previous_cursor = encode_cursor(sort_param, sort, *found[0])
    return QueuePage(rows, sort_param, size, next_cursor, previous_cursor)


def queue_rows(ids) -> list[Dispute]:
    """These disputes as queue rows, in the order given (to redraw rows after a change)."""
    found = {d.pk: d for d in Dispute.objects.select_related(*ROW_RELATIONS).filter(pk__in=ids)}
    rows = [found[pk] for pk in ids if pk in found]
    for row in rows:
        row.reason_short_name = reason_short_name(row.network, row.reason_code)
    return rows


def export_queryset(user, params):
    """Every dispute the filters match, in the page's order (the empty keys last both ways, as
    the page's segments put them), in one query: what the CSV export writes."""
    sort, descending = parse_sort(params.sort)
    order = [
        e.desc(nulls_last=True) if descending else e.asc(nulls_last=True) for e in sort.export_order
    ]
    return queue_disputes(user, params).order_by(*order)


def for_export(user, params, chunk_size: int = 2000) -> Iterator[Dispute]:
    """``export_queryset`` as disputes, streamed from a server-side cursor (``chunk_size`` rows
    at a time): the CSV export where it is written row by row (SQLite)."""
    disputes = export_queryset(user, params).select_related("client", "assignee", "transaction")
    for dispute in disputes.iterator(chunk_size=chunk_size):
        dispute.reason_short_name = reason_short_name(dispute.network, dispute.reason_code)
        yield dispute


def capped_counts(querysets, cap: int | list[int] = COUNT_CAP) -> list[int]:
    """How many rows each queryset has, counting no further than its ``cap`` (one for all, or
    one each; the page then shows "10,000+"), all in one query: each count reads at most
    ``cap`` entries (the built-in views' filters each have an index they are counted from
    alone, so theirs read nothing else)."""
    if not querysets:
        return []
    caps = cap if isinstance(cap, list) else [cap] * len(querysets)
    parts, params = [], []
    for index, (queryset, limit) in enumerate(zip(querysets, caps, strict=True)):
        matching = queryset.order_by().values("id")[:limit]
        try:
            sql, sql_params = matching.query.sql_with_params()
        except EmptyResultSet:  # e.g. a search that matched nothing
            sql, sql_params = "SELECT 1 WHERE FALSE", ()
        parts.append(f'(SELECT COUNT(*) FROM ({sql}) AS "count_{index}")')
        params.extend(sql_params)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {', '.join(parts)}", params)
        return list(cursor.fetchone())
