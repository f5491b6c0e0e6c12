"""Processors' card dispute reports and transaction volumes: atomic, idempotent, errors with
line numbers, unmatched merchants."""

import pytest

from disputes.history.verify import verify
from disputes.intake import card_csv, services
from disputes.intake.models import (
    IntakeFile,
    MerchantAccount,
    TransactionVolume,
    UnmatchedOriginator,
)
from disputes.intake.sources import load, sources
from disputes.models import Dispute
from tests.factories import ClientFactory

pytestmark = pytest.mark.django_db

VISA = (
    "Case Number,Reason Code,ARN,Merchant ID,Merchant Name,Dispute Amount,Currency,"
    "Transaction Date,Dispute Processing Date,Card Last 4\n"
    "VC-1001,13.1,74000000000000000000011,M-100,Acme Shop,125.00,USD,2026-10-30,2026-11-27,4242\n"
    "VC-1002,10.4,74000000000000000000012,M-999,Unknown Shop,80.10,USD,2026-10-29,2026-11-27,\n"
)
MASTERCARD = (
    "Claim ID;Chargeback Reason;Acquirer Reference Number;MID;DBA;Amount (minor units);"
    "Currency Code;Txn Date;Chargeback Date;PAN Last4\n"
    "MC-77;4853;85000000000000000000001;M-100;Acme Shop;4999;USD;10/30/2026;11/27/2026;5100\n"
)


@pytest.fixture
def acme(db):
    client = ClientFactory(name="Acme", slug="acme")
    MerchantAccount.objects.create(client=client, merchant_id="M-100")
    return client


def run(kind, text, source="", name="report.csv"):
    intake_file, _ = services.receive_file(
        kind=kind, name=name, content=text.encode(), source=source
    )
    return services.import_file(intake_file_id=intake_file.pk)


def test_visa_report_opens_disputes_and_holds_unknown_merchants(acme):
    imported = run(IntakeFile.Kind.CARD, VISA, "acme_visa")
    assert imported.status == IntakeFile.Status.DONE, imported.error
    assert imported.summary == {"opened": 2, "already_imported": 0, "unmatched": 1}
    matched = Dispute.objects.get(case_id="VC-1001")
    assert (matched.network, matched.client, matched.reason_code) == ("visa", acme, "13.1")
    assert [e.kind for e in matched.events.all()] == ["opened", "imported"]
    assert UnmatchedOriginator.objects.get().identifier == "M-999"
    assert verify().breaks == []


def test_mastercard_mapping_reads_minor_units_and_its_dates(acme):
    run(IntakeFile.Kind.CARD, MASTERCARD, "northgate_mastercard")
    dispute = Dispute.objects.get(case_id="MC-77")
    assert str(dispute.amount) == "49.99"
    assert dispute.stage_started_on.isoformat() == "2026-11-27"


def test_report_imported_twice_changes_nothing(acme):
    run(IntakeFile.Kind.CARD, VISA, "acme_visa")
    again = run(IntakeFile.Kind.CARD, VISA + "\n", "acme_visa", name="again.csv")
    assert again.summary["already_imported"] == 2
    assert Dispute.objects.count() == 2


def test_bad_row_refuses_the_whole_report_naming_line_and_column(acme):
    bad = VISA.replace("80.10", "eighty")
    imported = run(IntakeFile.Kind.CARD, bad, "acme_visa")
    assert imported.status == IntakeFile.Status.FAILED
    assert imported.error == "Line 3, Dispute Amount: not an amount: 'eighty'"
    assert Dispute.objects.count() == 0


def test_unknown_reason_code_is_refused_with_its_line():
    with pytest.raises(card_csv.CardCsvError, match=r"^Line 2, Reason Code: '99.9'"):
        card_csv.parse(VISA.replace("13.1", "99.9"), sources().card_sources["acme_visa"])


def test_sources_file_is_validated_on_load(tmp_path):
    broken = tmp_path / "intake_sources.yaml"
    broken.write_text(
        "card_sources:\n  x:\n    network: amex\n    amount_unit: major\n    columns: {}\n"
        "nacha_change_codes: {C01: x}\n"
    )
    with pytest.raises(ValueError, match=r"card_sources\.x\.network"):
        load(broken)


VOLUMES = (
    "client,day,rail,transaction_type,count,amount,currency\n"
    "acme,2026-11-30,ach,ach_debit,1200,98000.00,USD\n"
    "acme,2026-11-30,card,purchase,5400,310500.25,USD\n"
)


def test_volumes_import_and_reimport(acme):
    first = run(IntakeFile.Kind.VOLUMES, VOLUMES, name="volumes.csv")
    assert first.summary == {"created": 2, "updated": 0, "unchanged": 0}
    changed = run(IntakeFile.Kind.VOLUMES, VOLUMES.replace("1200", "1300"), name="v2.csv")
    assert changed.summary == {"created": 0, "updated": 1, "unchanged": 1}
    assert TransactionVolume.objects.get(rail="ach").count == 1300


def test_volumes_with_an_unknown_client_import_nothing(acme):
    unknown = "nobody,2026-11-30,ach,ach_debit,1,1.00,USD\n"
    imported = run(IntakeFile.Kind.VOLUMES, VOLUMES + unknown)
    assert imported.status == IntakeFile.Status.FAILED
    assert imported.error == "Line 4, client: no client 'nobody'"
    assert TransactionVolume.objects.count() == 0
