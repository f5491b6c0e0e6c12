"""The missed-deadline sweep: a sweep over state, safe to repeat and to run late."""

from datetime import date, datetime
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from .. import history, states
from ..choices import Party
from ..models import Dispute
from .models import MissedDeadline

SWEEP_ACTOR = "Missed-deadline sweep"


def business_date(now: datetime) -> date:
    return timezone.localdate(now, timezone=ZoneInfo(settings.OPS_TIME_ZONE))


def _passed(dispute, today: date) -> bool:
    """Our window at this stage closed before ``today`` and nothing was filed: a filing moves
    the stage on, and the new stage's deadline replaces this one."""
    return (
        dispute.is_open
        and dispute.due_party == Party.ASTRA
        and dispute.network_due is not None
        and dispute.network_due < today
    )


def candidates(today: date) -> list[int]:
    """Ids of open disputes whose own window closed before ``today`` and is not yet recorded
    as missed."""
    recorded = MissedDeadline.objects.filter(
        dispute_id=OuterRef("pk"), stage=OuterRef("stage"), network_due=OuterRef("network_due")
    )
    return list(
        Dispute.objects.open()
        .filter(due_party=Party.ASTRA, network_due__lt=today)
        .exclude(Exists(recorded))
        .order_by("id")
        .values_list("id", flat=True)
    )


# Disputes locked and recorded per transaction: a few hundred keep the locks short and the
# sweep to a handful of queries per batch instead of several per dispute.
BATCH = 500


def record_missed_deadlines(*, now: datetime | None = None, batch: int = BATCH) -> int:
    """Record every one of our windows that has passed with no filing, as of ``now``.

    Returns the number recorded. Each is recorded once per dispute, stage and network due date
    (a second run, or two sweeps at once, record nothing twice), never on a closed dispute,
    each in the same transaction as its ``deadline_missed`` event (one transaction a batch)."""
    now = now or timezone.now()
    today = business_date(now)
    ids = candidates(today)
    return sum(
        record_missed_batch(dispute_ids=ids[start : start + batch], today=today, now=now)
        for start in range(0, len(ids), batch)
    )


def record_missed_deadline(*, dispute_id: int, today: date, now: datetime) -> bool:
    """Record one dispute's missed window if, under its row lock, it is still missed and not
    yet recorded. Returns whether it recorded one."""
    return record_missed_batch(dispute_ids=[dispute_id], today=today, now=now) == 1


@transaction.atomic
def record_missed_batch(*, dispute_ids: list[int], today: date, now: datetime) -> int:
    """Lock these disputes (in id order, so two sweeps never deadlock), keep those still missed
    under the lock and not yet recorded, and record each: its event linked onto its chain's
    head and its row. Returns how many it recorded."""
    locked = Dispute.objects.select_for_update().filter(pk__in=dispute_ids).order_by("id")
    # filed, closed or recomputed since the sweep read them: left alone
    missed = [dispute for dispute in locked if _passed(dispute, today)]
    recorded = set(
        MissedDeadline.objects.filter(dispute_id__in=[d.pk for d in missed]).values_list(
            "dispute_id", "stage", "network_due"
        )
    )
    missed = [d for d in missed if (d.pk, d.stage, d.network_due) not in recorded]
    if not missed:
        return 0
    heads = history.heads(d.pk for d in missed)
    rows = []
    for dispute in missed:
        last_seq, prev_hash = heads.get(dispute.pk, (0, ""))
        row = _event_row(dispute, seq=last_seq + 1, now=now)
        history.chain.link([row], prev_hash)
        rows.append(row)
    history.append_linked(rows)
    MissedDeadline.objects.bulk_create(
        _missed_row(dispute, event_seq=row["seq"], now=now)
        for dispute, row in zip(missed, rows, strict=True)
    )
    return len(missed)


def _window(dispute) -> str:
    clock = states.clock_for(dispute.network, dispute.flow, dispute.stage)
    return clock.rule_stage if clock else dispute.stage


def _event_row(dispute, *, seq: int, now: datetime) -> dict:
    return history.event_row(
        dispute=dispute,
        seq=seq,
        kind="deadline_missed",
        system_actor=SWEEP_ACTOR,
        at=now,
        payload={
            "stage": dispute.stage,
            "window": _window(dispute),
            "network_due": dispute.network_due,
            "internal_due": dispute.internal_due,
            "rule": dispute.deadline_rule,
            "rules_version": dispute.rules_version,
        },
    )


def _missed_row(dispute, *, event_seq: int, now: datetime) -> MissedDeadline:
    return MissedDeadline(
        dispute=dispute,
        stage=dispute.stage,
        network_due=dispute.network_due,
        window=_window(dispute),
        internal_due=dispute.internal_due,
        deadline_rule=dispute.deadline_rule,
        recorded_at=now,
        event_seq=event_seq,
    )
