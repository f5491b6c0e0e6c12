"""Verifying the tamper-evident audit trail: every dispute's transitions form a hash chain."""

from dataclasses import dataclass

from .models import DisputeTransition, chain_hash


@dataclass(frozen=True)
class ChainBreak:
    dispute_id: int
    seq: int
    problem: str

    def __str__(self):
        return f"dispute {self.dispute_id} row {self.seq}: {self.problem}"


def verify_chains(dispute_ids=None, chunk_size: int = 5000) -> tuple[int, list[ChainBreak]]:
    """Recompute every row's hash in (dispute, seq) order.

    Returns (rows checked, breaks). A break is an edited row (hash mismatch), a row whose
    ``prev_hash`` is not its predecessor's hash, or a gap in the sequence (a deleted row).
    """
    rows = DisputeTransition.objects.order_by("dispute_id", "seq")
    if dispute_ids is not None:
        rows = rows.filter(dispute_id__in=list(dispute_ids))
    breaks: list[ChainBreak] = []
    checked = 0
    current, expected_seq, prev_hash = None, 1, ""
    for row in rows.iterator(chunk_size=chunk_size):
        checked += 1
        if row.dispute_id != current:
            current, expected_seq, prev_hash = row.dispute_id, 1, ""
        if row.seq != expected_seq:
            breaks.append(ChainBreak(row.dispute_id, row.seq, f"expected row {expected_seq}"))
        if row.prev_hash != prev_hash:
            breaks.append(ChainBreak(row.dispute_id, row.seq, "does not follow the row before"))
        if chain_hash(row.prev_hash, row.content()) != row.row_hash:
            breaks.append(ChainBreak(row.dispute_id, row.seq, "content does not match its hash"))
        expected_seq, prev_hash = row.seq + 1, row.row_hash
    return checked, breaks
