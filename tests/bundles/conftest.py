from datetime import UTC, datetime

import pytest

from disputes.evidence import samples
from disputes.evidence.bundles.items import SourceItem
from disputes.evidence.services import Upload, save_letter, upload_evidence
from tests.factories import ClientFactory, open_dispute

CARD = "4111 1111 1111 1111"


@pytest.fixture(autouse=True)
def evidence_files(settings, tmp_path):
    """Evidence and bundle files of a test go to its own directory."""
    return files_in(settings, tmp_path)


def files_in(settings, tmp_path):
    settings.STORAGES = {
        **settings.STORAGES,
        "evidence": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path / "evidence")},
        },
    }
    return tmp_path / "evidence"


def sample_items() -> list[SourceItem]:
    """Five small items: an image, a two-page PDF, text, CSV and an e-mail."""
    lines = [f"Line {n}: shipped to 1 Main St" for n in range(60)]
    return [
        SourceItem("receipt.png", "image/png", samples.png_receipt(["Receipt", CARD]), "Receipt"),
        SourceItem("invoice.pdf", "application/pdf", samples.pdf_document("Invoice", lines)),
        SourceItem("notes.txt", "text/plain", f"Called the cardholder. Card {CARD}.".encode()),
        SourceItem("orders.csv", "text/csv", samples.csv_log([["order", "card"], ["A1", CARD]])),
        SourceItem(
            "mail.eml",
            "message/rfc822",
            samples.eml_message(
                sender="shop@example.com",
                to="cardholder@example.com",
                subject="Your order shipped",
                body="Tracking 1Z999AA10123456784",
                sent=datetime(2026, 11, 2, tzinfo=UTC),
            ),
        ),
    ]


COVER = {
    "title": "Visa dispute: response of Astra for case CASE-77",
    "subtitle": "13.1 Merchandise/services not received",
    "case_id": "CASE-77",
    "facts": [("Case id", "CASE-77"), ("Reason code", "13.1 Merchandise/services not received")],
    "deadline": "Dec 20, 2026",
}


@pytest.fixture
def bundled_dispute(db, agent):
    return make_bundled_dispute(agent)


def make_bundled_dispute(agent):
    """A Visa 13.1 dispute with three evidence files and a rebuttal letter."""
    dispute = open_dispute(client=ClientFactory(name="Northwind"), code="13.1")
    files = {
        "proof_of_delivery": Upload("pod.pdf", samples.pdf_document("Proof of delivery", ["x"])),
        "transaction_receipt": Upload("receipt.png", samples.png_receipt(["Receipt", CARD])),
        "customer_communication": Upload("notes.txt", b"Customer confirmed delivery."),
    }
    for kind, upload in files.items():
        result = upload_evidence(dispute_id=dispute.pk, uploads=[upload], kind=kind, actor=agent)
        assert result.saved, result.refused
    save_letter(
        dispute_id=dispute.pk,
        actor=agent,
        body=f"We delivered the goods.\n\nCard {CARD} was used.",
        family="default",
    )
    return dispute
