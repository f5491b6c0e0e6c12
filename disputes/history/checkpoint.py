"""Signed checkpoints of every chain's head, kept outside the database.

A checkpoint is one gzip'd text file in the ``audit`` storage (local folder, or S3 in
production): a header line (time, dispute and event totals), one ``<dispute id> <length>
<head hash>`` line per dispute, and a last line with the HMAC of everything before it. Someone
who can rewrite the database cannot rewrite history that a checkpoint has seen without the
checkpoint saying so: the chains may only have grown since, from the same heads.
"""

import gzip
import io
import json
from dataclasses import dataclass

from django.core.files.base import ContentFile
from django.core.files.storage import storages
from django.db import connection
from django.utils import timezone

from . import chain

HEAD_CHARS = 32  # a 128-bit prefix of each head hash: plenty to detect a change, half the size
PREFIX = "checkpoint-"


@dataclass
class Checkpoint:
    name: str
    created_at: str
    disputes: int
    events: int
    heads: dict  # dispute id -> (length, head hash prefix)


def _storage():
    return storages["audit"]


def current_heads() -> dict[int, tuple[int, str]]:
    from .models import CaseEvent

    rows = CaseEvent.objects.values_list("dispute_id", "seq", "row_hash")
    if connection.vendor == "postgresql":
        rows = rows.order_by("dispute_id", "-seq").distinct("dispute_id")
        return {d: (seq, h[:HEAD_CHARS]) for d, seq, h in rows.iterator(chunk_size=20000)}
    heads = {}
    for dispute_id, seq, row_hash in rows.order_by("dispute_id", "seq").iterator(chunk_size=20000):
        heads[dispute_id] = (seq, row_hash[:HEAD_CHARS])
    return heads


def write(now=None) -> Checkpoint:
    """Write a checkpoint of every chain's head; returns it."""
    now = now or timezone.now()
    heads = current_heads()
    created_at = now.isoformat()
    header = {
        "format": 1,
        "created_at": created_at,
        "disputes": len(heads),
        "events": sum(length for length, _ in heads.values()),
    }
    lines = [json.dumps(header, sort_keys=True)]
    lines.extend(f"{d} {length} {h}" for d, (length, h) in sorted(heads.items()))
    body = ("\n".join(lines) + "\n").encode()
    signed = body + f"signature {chain.sign(body)}\n".encode()
    name = f"{PREFIX}{now:%Y%m%dT%H%M%S%fZ}.txt.gz"
    _storage().save(name, ContentFile(gzip.compress(signed, compresslevel=6)))
    return Checkpoint(name, created_at, header["disputes"], header["events"], heads)


class CheckpointInvalid(Exception):
    pass


def latest() -> Checkpoint | None:
    """The newest checkpoint, or None when there is none. Raises CheckpointInvalid when its
    signature does not match (it was edited, or written with another key)."""
    try:
        _dirs, files = _storage().listdir("")
    except FileNotFoundError:
        return None
    names = sorted(f for f in files if f.startswith(PREFIX))
    if not names:
        return None
    name = names[-1]
    with _storage().open(name, "rb") as handle:
        data = gzip.decompress(handle.read())
    body, _, last = data.rstrip(b"\n").rpartition(b"\n")
    body += b"\n"
    if last != f"signature {chain.sign(body)}".encode():
        raise CheckpointInvalid(
            f"checkpoint {name} was edited or is not signed with this installation's key"
        )
    lines = io.StringIO(body.decode())
    header = json.loads(lines.readline())
    heads = {}
    for line in lines:
        dispute_id, length, head = line.split()
        heads[int(dispute_id)] = (int(length), head)
    return Checkpoint(name, header["created_at"], header["disputes"], header["events"], heads)
