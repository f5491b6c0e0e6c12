"""Upload validation with real bad files: the type by content, and a reason a person can act on."""

from datetime import UTC, datetime

import pytest

from disputes.evidence import samples
from disputes.evidence.validation import Refused, check
from tests.evidence import badfiles

LIMIT = 15 * 1024 * 1024


@pytest.mark.parametrize(
    ("data", "content_type", "pages"),
    [
        (samples.pdf_document("Proof of delivery", ["x"] * 50), "application/pdf", 2),
        (samples.png_receipt(["Receipt"]), "image/png", None),
        (samples.png_receipt(["Receipt"], fmt="JPEG"), "image/jpeg", None),
        (samples.png_receipt(["Receipt"], fmt="TIFF"), "image/tiff", None),
        (samples.csv_log([["date", "ip"], ["2026-11-02", "203.0.113.9"]]), "text/csv", None),
        (b"Customer called on Nov 3 and confirmed receipt.\n", "text/plain", None),
        (
            samples.eml_message(
                sender="a@shop.example",
                to="b@example.com",
                subject="Your order",
                body="Shipped",
                sent=datetime(2026, 11, 2, tzinfo=UTC),
            ),
            "message/rfc822",
            None,
        ),
    ],
)
def test_accepted_formats_are_typed_by_content(data, content_type, pages):
    checked = check(data, max_bytes=LIMIT)
    assert (checked.content_type, checked.pages) == (content_type, pages)
    assert checked.size == len(data) and len(checked.sha256) == 64


@pytest.mark.parametrize(
    ("make", "code", "words"),
    [
        (badfiles.renamed_executable, "executable", "Linux program, whatever its name says"),
        (badfiles.windows_program, "executable", "Windows program, whatever its name says"),
        (badfiles.encrypted_pdf, "pdf_encrypted", "password-protected or encrypted"),
        (badfiles.png_bomb, "image_bomb", "3,600 megapixels"),
        (badfiles.large_png_bomb, "image_bomb", "8,000 × 8,000 pixels"),
        (badfiles.truncated_jpeg, "image_damaged", "cut short or damaged"),
        (badfiles.zip_named_pdf, "archive", "ZIP archive"),
        (badfiles.truncated_pdf, "pdf_malformed", "damaged or incomplete"),
    ],
)
def test_bad_files_are_refused_with_a_reason(make, code, words):
    with pytest.raises(Refused) as refused:
        check(make(), max_bytes=LIMIT)
    assert refused.value.code == code
    assert words in str(refused.value)


def test_oversize_file_is_refused_naming_the_limit():
    data = samples.pdf_document("Big", ["x"] * 40) + b"%" * 3_000_000
    with pytest.raises(Refused) as refused:
        check(data, max_bytes=2_000_000)
    assert refused.value.code == "too_large"
    assert "the limit is 2.0 MB per file" in str(refused.value)


def test_empty_file_and_unknown_binary_are_refused():
    with pytest.raises(Refused, match="empty"):
        check(b"", max_bytes=LIMIT)
    with pytest.raises(Refused, match="not one we accept"):
        check(bytes(range(256)) * 4, max_bytes=LIMIT)


def test_web_page_renamed_txt_is_refused():
    with pytest.raises(Refused) as refused:
        check(b"<html><script>alert(1)</script></html>", max_bytes=LIMIT)
    assert refused.value.code == "web_page"
