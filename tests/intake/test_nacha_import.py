"""Importing NACHA return files: disputes, events, flags, notices; atomic and idempotent."""

from datetime import date

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from disputes.choices import Rail, ReferenceKind, Stage, TransactionType
from disputes.history.verify import verify
from disputes.intake import services
from disputes.intake.models import ChangeNotice, IntakeFile, ReviewFlag, UnmatchedOriginator
from disputes.models import AchCompany, CaseEvent, Dispute
from tests.api.test_api import api_as
from tests.factories import ClientFactory, TransactionFactory
from tests.intake.fixtures import answers, two_batches

pytestmark = pytest.mark.django_db


@pytest.fixture
def acme(db):
    client = ClientFactory(name="Acme Utilities", slug="acme")
    AchCompany.objects.create(client=client, company_id="1234567890", company_name="ACME")
    return client


def run(text, name="RET20261130.ach", user=None, **kwargs):
    intake_file, _ = services.receive_file(
        kind=IntakeFile.Kind.NACHA, name=name, content=text.encode(), uploaded_by=user
    )
    return services.import_file(intake_file_id=intake_file.pk, **kwargs)


@pytest.mark.parametrize("bulk_threshold", [None, 0], ids=["per-dispute", "bulk"])
def test_each_return_opens_its_dispute_with_events(acme, bulk_threshold):
    imported = run(two_batches(), bulk_threshold=bulk_threshold)
    assert imported.status == IntakeFile.Status.DONE, imported.error
    assert imported.summary["opened"] == 3
    dispute = Dispute.objects.get(case_id="091000010000001")
    assert (dispute.network, dispute.reason_code, dispute.stage) == ("nacha", "R01", Stage.RETURN)
    assert dispute.client == acme
    assert dispute.return_settled_on.isoformat() == "2026-11-27"
    assert dispute.network_due is not None
    kinds = list(dispute.events.values_list("kind", "system_actor"))
    assert kinds == [("opened", "NACHA import"), ("imported", "NACHA import")]
    assert dispute.events.first().payload["source"] == "RET20261130.ach, line 4"
    assert verify().breaks == []


def test_unmatched_company_still_opens_and_waits_for_a_client(acme, lead):
    run(two_batches())
    dispute = Dispute.objects.get(case_id="091000010000003")
    record = UnmatchedOriginator.objects.get(dispute=dispute)
    assert record.identifier == "9876543210"
    assert dispute.network_due is not None  # the dishonor window runs regardless
    services.match_originator(unmatched_id=record.pk, client=acme, actor=lead)
    dispute.refresh_from_db()
    assert dispute.client == acme
    assert dispute.events.last().kind == "originator_matched"
    assert AchCompany.objects.filter(company_id="9876543210", client=acme).exists()
    assert verify().breaks == []


def test_misfit_codes_are_imported_and_flagged(acme):
    run(two_batches())
    flagged = dict(ReviewFlag.objects.values_list("dispute__case_id", "reason"))
    assert set(flagged) == {"091000010000002", "091000010000003"}  # R29 on PPD, R10 on CCD
    assert "corporate" in flagged["091000010000002"]


def test_change_notices_are_recorded_not_disputes(acme):
    run(two_batches())
    notice = ChangeNotice.objects.get()
    assert (notice.code, notice.corrected_data, notice.client) == ("C01", "55544433", None)
    assert not Dispute.objects.filter(case_id="091000010000004").exists()


def test_same_file_twice_changes_nothing(acme):
    first = run(two_batches())
    events = CaseEvent.objects.count()
    again = run(two_batches())
    assert again.pk == first.pk
    assert CaseEvent.objects.count() == events
    assert IntakeFile.objects.count() == 1


def test_same_return_in_two_files_is_one_dispute(acme):
    run(two_batches())
    events = CaseEvent.objects.count()
    second = run(two_batches(modifier="Z"), name="RET-again.ach")
    assert second.status == IntakeFile.Status.DONE
    assert second.summary["opened"] == 0
    assert second.summary["already_imported"] == 4
    assert Dispute.objects.count() == 3
    assert CaseEvent.objects.count() == events
    assert ChangeNotice.objects.count() == 1


def test_malformed_file_imports_nothing(acme):
    lines = two_batches().splitlines()
    lines[-12] = lines[-12][:50]  # a record near the end
    imported = run("\n".join(lines))
    assert imported.status == IntakeFile.Status.FAILED
    assert imported.error.startswith(f"Line {imported.error_line}, ")
    assert Dispute.objects.count() == 0
    assert ChangeNotice.objects.count() == 0


def test_dishonor_and_contest_update_the_dispute(acme, monkeypatch):
    monkeypatch.setattr(Dispute, "business_today", lambda self: date(2026, 12, 1))
    run(two_batches())
    imported = run(answers("091000010000001"), name="DISHONOR.ach")
    assert imported.status == IntakeFile.Status.DONE, imported.error
    dispute = Dispute.objects.get(case_id="091000010000001")
    assert (dispute.stage, dispute.dishonor_code, dispute.contest_code) == (
        Stage.CONTEST,
        "R68",
        "R73",
    )
    kinds = [e.kind for e in dispute.events.all()]
    assert kinds == ["opened", "imported", "transition", "imported", "transition", "imported"]
    again = run(answers("091000010000001", modifier="C"), name="again.ach")
    assert (again.summary["dishonored"], again.summary["already_imported"]) == (0, 2)
    assert verify().breaks == []


def test_dishonor_the_dispute_cannot_take_is_flagged(acme, monkeypatch):
    """Outside the dishonor window the transition is refused: the entry is recorded and
    flagged, the file still imports."""
    monkeypatch.setattr(Dispute, "business_today", lambda self: date(2027, 1, 15))
    run(two_batches())
    imported = run(answers("091000010000001", contest=None), name="LATE.ach")
    assert imported.status == IntakeFile.Status.DONE
    dispute = Dispute.objects.get(case_id="091000010000001")
    assert dispute.stage == Stage.RETURN
    assert ReviewFlag.objects.filter(dispute=dispute, reason__contains="R68").exists()
    assert verify().breaks == []


VALID = two_batches()


@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    position=st.integers(min_value=0, max_value=len(VALID) - 1),
    replacement=st.text(alphabet="0123456789 R9\n", max_size=2),
)
def test_a_mutated_file_imports_whole_or_not_at_all(acme, position, replacement):
    """Whatever the damage: the import is refused with its line and nothing is written, or the
    file still reads and imports; never an exception, never part of a file."""
    text = VALID[:position] + replacement + VALID[position + 1 :]
    before = (Dispute.objects.count(), CaseEvent.objects.count(), ChangeNotice.objects.count())
    imported = run(text, name=f"fuzz-{position}.ach")
    after = (Dispute.objects.count(), CaseEvent.objects.count(), ChangeNotice.objects.count())
    if imported.status == IntakeFile.Status.FAILED:
        assert imported.error.startswith(f"Line {imported.error_line}")
        assert after == before
    else:
        assert imported.status == IntakeFile.Status.DONE


# --- whether the return was timely: known only when the original entry is on file ----------------


def _original_entry(client, trace: str, settled: date):
    return TransactionFactory(
        client=client,
        rail=Rail.ACH,
        transaction_type=TransactionType.ACH_DEBIT,
        reference_kind=ReferenceKind.TRACE_NUMBER,
        network_reference=trace,
        sec_code="PPD",
        transaction_date=settled,
        settlement_date=settled,
    )


@pytest.mark.parametrize("bulk_threshold", [None, 0], ids=["per-dispute", "bulk"])
def test_timeliness_is_not_known_without_the_original_entry(acme, agent, client, bulk_threshold):
    run(two_batches(), bulk_threshold=bulk_threshold)
    dispute = Dispute.objects.get(case_id="091000010000001")
    assert dispute.transaction.original_entry_on_file is False
    verdict = dispute.return_timeliness()
    assert (verdict.status, verdict.original_known, verdict.timely) == (
        "undetermined",
        False,
        False,
    )
    assert verdict.explanation == "Not known: original entry not on file."
    body = api_as(agent).get(f"/api/v1/disputes/{dispute.pk}/").json()
    assert body["return_timely"] is None
    assert body["return_timeliness"] == "Not known: original entry not on file."
    assert body["transaction"]["original_entry_on_file"] is False
    client.force_login(agent)
    page = client.get(dispute.get_absolute_url()).content.decode()
    assert "Not known: original entry not on file." in page
    assert "Return timely" not in page


@pytest.mark.parametrize("bulk_threshold", [None, 0], ids=["per-dispute", "bulk"])
@pytest.mark.parametrize(
    ("settled", "timely"), [(date(2026, 11, 25), True), (date(2026, 11, 2), False)]
)
def test_timeliness_is_judged_from_the_original_entry_on_file(
    acme, agent, bulk_threshold, settled, timely
):
    _original_entry(acme, "091000010000001", settled)
    run(two_batches(), bulk_threshold=bulk_threshold)
    dispute = Dispute.objects.get(case_id="091000010000001")
    assert dispute.transaction.original_entry_on_file is True
    assert dispute.transaction.settlement_date == settled
    verdict = dispute.return_timeliness()
    assert (verdict.original_known, verdict.timely, verdict.untimely) == (True, timely, not timely)
    body = api_as(agent).get(f"/api/v1/disputes/{dispute.pk}/").json()
    assert body["return_timely"] is timely
    assert str(settled) in body["return_timeliness"]
    assert verify().breaks == []
