"""Demo timelines read true: events in order from the opening, comments and codes that fit the
network and the transaction, notes and missed deadlines to show, one checkpoint at the end."""

import io
from datetime import UTC, datetime

import pytest
import time_machine
from django.core.management import call_command
from django.db.models import F
from django.utils import timezone

from disputes import demo
from disputes.choices import Network, TransactionType
from disputes.demo import CONSUMER_ONLY_NACHA, CORPORATE_ONLY_NACHA, NOT_RECEIVED_CODES
from disputes.history import checkpoint
from disputes.history.verify import verify
from disputes.models import CaseEvent, Dispute

pytestmark = pytest.mark.django_db


def test_demo_histories_read_true_with_notes_missed_deadlines_and_a_checkpoint():
    """One seeded demo (seeding is the slow part), both checks on it."""
    out = io.StringIO()
    call_command("seed_demo", disputes=900, seed=11, stdout=out)
    histories_read_true()
    notes_missed_deadlines_and_a_checkpoint(out.getvalue())


def histories_read_true():
    assert not CaseEvent.objects.filter(created_at__lt=F("dispute__opened_at")).exists()
    now = timezone.now()
    assert not CaseEvent.objects.filter(created_at__gt=now).exists()
    assert not Dispute.objects.filter(opened_at__gt=now).exists()
    nacha = CaseEvent.objects.filter(dispute__network=Network.NACHA)
    assert not nacha.filter(payload__comment__icontains="issuer").exists()
    assert not nacha.filter(payload__body__icontains="issuer").exists()
    assert nacha.filter(payload__comment__icontains="RDFI").exists()
    # Drawn disputes fit their entries; an imported file may carry a mismatch, which the
    # import flags for review instead (tests/intake).
    ach = Dispute.objects.filter(network=Network.NACHA).exclude(events__kind="imported")
    assert set(
        ach.filter(reason_code__in=CONSUMER_ONLY_NACHA).values_list(
            "transaction__sec_code", flat=True
        )
    ) <= {"PPD", "WEB", "TEL"}
    assert set(
        ach.filter(reason_code__in=CORPORATE_ONLY_NACHA).values_list(
            "transaction__sec_code", flat=True
        )
    ) <= {"CCD", "CTX"}
    assert not Dispute.objects.filter(
        reason_code__in=NOT_RECEIVED_CODES, transaction__transaction_type=TransactionType.PUSH_OCT
    ).exists()


def notes_missed_deadlines_and_a_checkpoint(seeded: str):
    assert CaseEvent.objects.filter(kind="note_added").count() > 50
    missed = CaseEvent.objects.filter(kind="deadline_missed").count()
    assert missed > 0
    assert f"Recorded {missed:,} missed deadlines" in seeded
    latest = checkpoint.latest()
    assert latest is not None and latest.events == CaseEvent.objects.count()
    report = verify()
    assert report.breaks == []
    assert report.checkpoint.startswith(latest.name)


@pytest.mark.parametrize("hour", [5, 12, 23])  # UTC: just past midnight in New York, noon, evening
def test_nothing_seeded_is_dated_after_the_seeding_whatever_the_hour(hour):
    """Disputes drawn for today open earlier than now, and their events follow: seeded just
    after midnight, no dispute opens in the afternoon still to come."""
    with time_machine.travel(datetime(2026, 12, 2, hour, 30, tzinfo=UTC), tick=True):
        demo.seed(disputes=150, seed_value=5, workers=1)
        now = timezone.now()
        assert not Dispute.objects.filter(opened_at__gt=now).exists()
        assert not CaseEvent.objects.filter(created_at__gt=now).exists()
        assert not CaseEvent.objects.filter(created_at__lt=F("dispute__opened_at")).exists()
