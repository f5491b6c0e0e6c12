"""The case history of a dispute: record events, register kinds, react after commit.

Writers:
* ``record_event(dispute=…, kind=…, actor=…, payload=…)`` appends one event to a dispute whose
  row the caller has locked and saved (``disputes.services`` does both for every act).
* Bulk writers (demo seeding, the deadline recompute, imports, the missed-deadline sweep)
  build rows with ``event_row`` and link them with ``chain.link``: the same content and the
  same hash as ``record_event``. ``heads`` reads many chains' heads at once and
  ``append_linked`` inserts linked rows with their subscribers, for writers that hold the
  disputes' row locks.

Kinds are registered once (``register_kind``) with the label a person reads and, optionally, a
function that says how the event reads on the timeline; a new kind plugs in without touching
the chain, the verifier or the timeline code. Subscribers (``on_event``) run after the
transaction that recorded the event commits, never inside it: mail and Celery tasks go there.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from functools import partial

from django.db import connection, transaction
from django.db.models import OuterRef, Subquery
from django.utils import timezone

from . import chain

SNAPSHOT_FIELDS = (
    "stage",
    "state",
    "outcome",
    "assignee_id",
    "version",
    "network_due",
    "internal_due",
    "client_evidence_due",
    "deadline_rule",
)


@dataclass(frozen=True, slots=True)
class Described:
    """How one event reads on the timeline."""

    title: str
    body: str = ""
    changes: tuple[str, ...] = ()
    facts: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, slots=True)
class EventKind:
    name: str
    label: str
    describe: Callable | None = None  # (event, dispute) -> Described
    system_only: bool = False
    subscribers: list = field(default_factory=list, compare=False)


KINDS: dict[str, EventKind] = {}


def register_kind(name: str, label: str, *, describe=None, system_only=False) -> EventKind:
    """Declare an event kind. Registering the same name twice with another label is an error."""
    existing = KINDS.get(name)
    if existing is not None:
        if existing.label != label:
            raise ValueError(f"Event kind {name!r} is already registered as {existing.label!r}.")
        return existing
    KINDS[name] = EventKind(name, label, describe, system_only)
    return KINDS[name]


def on_event(*names: str):
    """Decorator: call ``fn(event)`` after the commit of every event of these kinds."""

    def register(fn):
        for name in names:
            KINDS[name].subscribers.append(fn)
        return fn

    return register


_PLAIN = frozenset({str, int, bool, float, type(None)})


def jsonable(value):
    """A payload value as JSON: model instances by id and name, dates ISO, money as text."""
    if type(value) in _PLAIN:  # most values: returned as they are, without the checks below
        return value
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if hasattr(value, "pk"):
        return value.pk
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def snapshot(dispute) -> dict:
    return {name: getattr(dispute, name) for name in SNAPSHOT_FIELDS}


def event_row(
    *, dispute, seq: int, kind: str, actor=None, system_actor="", payload=None, at=None
) -> dict:
    """The column values (attnames) of one event, before linking. Pure."""
    if kind not in KINDS:
        raise ValueError(f"Unknown event kind {kind!r}: register it with register_kind().")
    if actor is None and not system_actor:
        raise ValueError("An event needs an actor: a user, or the system process that acted.")
    return {
        "dispute_id": dispute.pk,
        "seq": seq,
        "kind": kind,
        "actor_id": getattr(actor, "pk", actor),
        "system_actor": system_actor,
        "created_at": at or timezone.now(),
        "payload": jsonable(payload or {}),
        **snapshot(dispute),
    }


def head(dispute_id: int) -> tuple[int, str]:
    """(last seq, last hash) of a dispute's history; (0, "") when it has none."""
    from .models import CaseEvent

    last = (
        CaseEvent.objects.filter(dispute_id=dispute_id)
        .order_by("-seq")
        .values_list("seq", "row_hash")
        .first()
    )
    return last or (0, "")


def heads(dispute_ids) -> dict[int, tuple[int, str]]:
    """``head`` of several disputes in one query; a dispute with no history is left out."""
    from .models import CaseEvent

    ids = list(dispute_ids)
    events = CaseEvent.objects.filter(dispute_id__in=ids)
    if connection.vendor == "postgresql":
        last = events.order_by("dispute_id", "-seq").distinct("dispute_id")
    else:  # no DISTINCT ON (the demo's SQLite): each dispute's highest seq
        top = CaseEvent.objects.filter(dispute_id=OuterRef("dispute_id")).order_by("-seq")
        last = events.filter(seq=Subquery(top.values("seq")[:1]))
    rows = last.values_list("dispute_id", "seq", "row_hash")
    return {dispute_id: (seq, row_hash) for dispute_id, seq, row_hash in rows}


def append_linked(rows: list[dict]) -> list:
    """Insert rows built by ``event_row`` and linked by ``chain.link`` (one query), and schedule
    each kind's subscribers after commit, as ``record_event`` does; returns the events.

    The caller runs inside ``transaction.atomic`` holding the row locks of the rows' disputes,
    and linked each dispute's rows onto its head read under that lock."""
    from .models import CaseEvent

    if not connection.in_atomic_block:
        raise RuntimeError("append_linked must run inside the acts' transaction.")
    events = CaseEvent.objects.bulk_create([CaseEvent(**row) for row in rows])
    for event in events:
        for subscriber in KINDS[event.kind].subscribers:
            transaction.on_commit(partial(subscriber, event), robust=True)
    return events


def record_event(*, dispute, kind: str, actor=None, system_actor="", payload=None, at=None):
    """Append one event to ``dispute``'s history and return it.

    The caller runs inside ``transaction.atomic`` holding the dispute's row lock (SELECT … FOR
    UPDATE), and has saved the dispute as the act left it: the event's snapshot is taken from
    it. Subscribers of the kind are scheduled to run after commit."""
    if not connection.in_atomic_block:
        raise RuntimeError("record_event must run inside the act's transaction.")
    last_seq, prev_hash = head(dispute.pk)
    row = event_row(
        dispute=dispute,
        seq=last_seq + 1,
        kind=kind,
        actor=actor,
        system_actor=system_actor,
        payload=payload,
        at=at,
    )
    chain.link([row], prev_hash)
    return append_linked([row])[0]


from . import kinds  # noqa: E402,F401  (the core kinds register themselves)
