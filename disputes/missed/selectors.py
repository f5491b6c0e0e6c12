"""Missed deadlines in words, for the dispute page and the queue."""

from collections.abc import Iterable

from .models import MissedDeadline


def day(value) -> str:
    return f"{value:%b} {value.day}, {value.year}"


def in_words(missed: MissedDeadline) -> str:
    """ "Missed dishonor deadline on Dec 3, 2026" """
    return f"Missed {missed.window.replace('_', ' ')} deadline on {day(missed.network_due)}"


def missed_of(dispute_id: int) -> list[MissedDeadline]:
    """The dispute's missed deadlines, oldest first."""
    return list(MissedDeadline.objects.filter(dispute_id=dispute_id).order_by("network_due"))


def latest_missed(dispute_ids: Iterable[int]) -> dict[int, MissedDeadline]:
    """The latest missed deadline of each of these disputes that has one (one query)."""
    latest = {}
    rows = MissedDeadline.objects.filter(dispute_id__in=list(dispute_ids)).order_by("network_due")
    for missed in rows:  # a dispute misses a handful at most: the last one read wins
        latest[missed.dispute_id] = missed
    return latest
