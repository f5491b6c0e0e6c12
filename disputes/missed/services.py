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


def record_missed_deadlines(*, now: datetime | None = None) -> int:
    """Record every one of our windows that has passed with no filing, as of ``now``.

    Returns the number recorded. Each is recorded once per dispute, stage and network due date
    (a second run, or two sweeps at once, record nothing twice), never on a closed dispute,
    each in its own transaction with its ``deadline_missed`` event."""
    now = now or timezone.now()
    today = business_date(now)
    return sum(
        record_missed_deadline(dispute_id=i, today=today, now=now) for i in candidates(today)
    )


@transaction.atomic
def record_missed_deadline(*, dispute_id: int, today: date, now: datetime) -> bool:
    """Record one dispute's missed window if, under its row lock, it is still missed and not
    yet recorded. Returns whether it recorded one."""
    from ..services import _locked

    dispute = _locked(dispute_id)
    if not _passed(dispute, today):
        return False  # filed, closed or recomputed since the sweep read it
    key = {"dispute": dispute, "stage": dispute.stage, "network_due": dispute.network_due}
    if MissedDeadline.objects.filter(**key).exists():
        return False
    clock = states.clock_for(dispute.network, dispute.flow, dispute.stage)
    window = clock.rule_stage if clock else dispute.stage
    event = history.record_event(
        dispute=dispute,
        kind="deadline_missed",
        system_actor=SWEEP_ACTOR,
        at=now,
        payload={
            "stage": dispute.stage,
            "window": window,
            "network_due": dispute.network_due,
            "internal_due": dispute.internal_due,
            "rule": dispute.deadline_rule,
            "rules_version": dispute.rules_version,
        },
    )
    MissedDeadline.objects.create(
        **key,
        window=window,
        internal_due=dispute.internal_due,
        deadline_rule=dispute.deadline_rule,
        recorded_at=now,
        event_seq=event.seq,
    )
    return True
