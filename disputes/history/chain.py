"""The keyed hash chain: what an event's hash covers, and how rows are linked.

The key comes from settings (``AUDIT_HMAC_KEY``, from the environment), never from the database,
so someone who can write the table but does not hold the key cannot re-hash a rewritten chain.
Pure functions over plain mappings, so that the service, the bulk writers (demo seeding, the
deadline recompute, imports) and the verifier compute exactly the same thing.
"""

import hashlib
import hmac
import json
from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime
from json.encoder import c_make_encoder, encode_basestring_ascii

from django.conf import settings

# The columns a hash covers, in the order they are written (attnames of CaseEvent).
CONTENT_FIELDS = (
    "dispute_id",
    "seq",
    "kind",
    "actor_id",
    "system_actor",
    "created_at",
    "payload",
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


def _canonical(value):
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return value


# The content columns that hold dates and times; every other one is a str, int, None or the
# JSON payload, which json.dumps writes as it is.
_TIME_FIELDS = ("created_at", "network_due", "internal_due", "client_evidence_due")
_ENCODE = json.JSONEncoder(sort_keys=True, separators=(",", ":"), default=str).encode


def content(row: Mapping) -> bytes:
    """The canonical bytes of an event's content, from a mapping of its column attnames."""
    # The verifier runs this for every event: only the time columns need converting.
    canonical = {name: row[name] for name in CONTENT_FIELDS}
    for name in _TIME_FIELDS:
        value = canonical[name]
        if value is not None:
            canonical[name] = _canonical(value)
    return _ENCODE(canonical).encode()


# In the canonical JSON (keys sorted) the payload sits just before "seq". Inside a JSON string
# a quote is always escaped, so the first ',"seq":' of a row's text without its payload is the
# key itself: the payload's text goes there (see ``content_and_payload``).
_SORTED = sorted(CONTENT_FIELDS)
assert _SORTED[_SORTED.index("payload") + 1] == "seq"
_SEQ_KEY = ',"seq":'


def content_and_payload(row: Mapping) -> tuple[bytes, str]:
    """``content(row)`` and the payload's JSON text, encoding the payload once. The JSON of a
    mapping is made of its members' JSON, so the payload's text put in at its key's place gives
    the very bytes ``content`` gives."""
    canonical = {name: row[name] for name in CONTENT_FIELDS if name != "payload"}
    payload_json = _ENCODE(row["payload"])
    for name in _TIME_FIELDS:
        value = canonical[name]
        if value is not None:
            canonical[name] = _canonical(value)
    head, tail = _ENCODE(canonical).split(_SEQ_KEY, 1)
    return f'{head},"payload":{payload_json}{_SEQ_KEY}{tail}'.encode(), payload_json


def key() -> bytes:
    return settings.AUDIT_HMAC_KEY.encode()


def row_hash(prev_hash: str, row: Mapping, secret: bytes | None = None) -> str:
    message = prev_hash.encode() + b"|" + content(row)
    return hmac.new(secret or key(), message, hashlib.sha256).hexdigest()


def link(rows: Iterable[dict], prev_hash: str = "", secret: bytes | None = None) -> str:
    """Set ``prev_hash`` and ``row_hash`` on consecutive rows of one dispute, starting after
    ``prev_hash``; returns the new head."""
    secret = secret or key()
    for row in rows:
        row["prev_hash"] = prev_hash
        row["row_hash"] = prev_hash = row_hash(prev_hash, row, secret)
    return prev_hash


def link_for_copy(rows: Iterable[dict], prev_hash: str = "", secret: bytes | None = None) -> str:
    """``link`` for bulk writers that COPY the rows: the same ``prev_hash`` and ``row_hash``,
    with the HMAC keyed once, and each row's payload JSON kept in ``row["payload_json"]`` so
    the writer sends the text that was hashed instead of encoding the payload again."""
    keyed = hmac.new(secret or key(), digestmod=hashlib.sha256)
    for row in rows:
        message, row["payload_json"] = content_and_payload(row)
        mac = keyed.copy()
        mac.update(prev_hash.encode() + b"|" + message)
        row["prev_hash"] = prev_hash
        row["row_hash"] = prev_hash = mac.hexdigest()
    return prev_hash


def _made_once(*, sort_keys: bool):
    """``JSONEncoder(sort_keys=…, separators=(",", ":"), default=str).encode``, its C encoder
    made once instead of at every call (without the check for circular references, which an
    event's plain values cannot have)."""
    if c_make_encoder is None:
        return json.JSONEncoder(sort_keys=sort_keys, separators=(",", ":"), default=str).encode
    encoder = c_make_encoder(
        None, str, encode_basestring_ascii, None, ":", ",", sort_keys, False, True
    )
    return lambda value: "".join(encoder(value, 0))


# The content columns in the order of the canonical JSON; an encoder that keeps a mapping's
# order for the row, and the sorting one for its payload.
CANONICAL_ORDER = tuple(_SORTED)
_ENCODE_AS_IS = _made_once(sort_keys=False)
_ENCODE_SORTED = _made_once(sort_keys=True)
_NO_PAYLOAD = '"payload":null'


def link_canonical(rows: Iterable[dict], prev_hash: str = "", secret: bytes | None = None) -> str:
    """``link_for_copy`` for rows a bulk writer builds in canonical form: the content columns
    in ``CANONICAL_ORDER`` and no others, their times already as canonical text (``UTC``
    ISO, as ``content`` writes them). The JSON of such a row, encoded as it is, is its
    content: one encoding of the row and one of its payload per event. Raises ValueError for
    a row not in that form (dates may stay dates: the encoder writes them as ISO text)."""
    keyed = hmac.new(secret or key(), digestmod=hashlib.sha256)
    for row in rows:
        if tuple(row) != CANONICAL_ORDER or type(row["created_at"]) is not str:
            raise ValueError(f"Not a canonical event row: {row!r}")
        payload = row["payload"]
        row["payload"] = None  # the same place in the row: encoded apart, sorted, and put in
        text = _ENCODE_AS_IS(row)
        row["payload"] = payload
        row["payload_json"] = payload_json = _ENCODE_SORTED(payload)
        # the first '"payload":null' is the key's: in a JSON string a quote is escaped
        message = text.replace(_NO_PAYLOAD, f'"payload":{payload_json}', 1)
        mac = keyed.copy()
        mac.update(f"{prev_hash}|{message}".encode())
        row["prev_hash"] = prev_hash
        row["row_hash"] = prev_hash = mac.hexdigest()
    return prev_hash


def sign(message: bytes) -> str:
    """An HMAC of a checkpoint or other record kept outside the table."""
    return hmac.new(key(), message, hashlib.sha256).hexdigest()
