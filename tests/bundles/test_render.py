"""The bundle renderer and preflight, pure: no database."""

import io
from dataclasses import replace

import pytest
from pypdf import PdfReader

from calendar_rules.rules import RuleTableError
from disputes.evidence import samples
from disputes.evidence.bundles import preflight, profiles
from disputes.evidence.bundles.items import SourceItem
from disputes.evidence.bundles.masking import mask_card_numbers, shows_card_number
from disputes.evidence.bundles.render import BundleRenderer
from tests.bundles.conftest import CARD, COVER, sample_items

LADDER = profiles.channels().ladder


def render(items, profile_name="visa_resolve_online", **changes):
    profile = replace(profiles.profile(profile_name), **changes)
    renderer = BundleRenderer(cover=COVER, letter=f"We delivered.\n\nCard {CARD}.", items=items)
    return (*preflight.fit(renderer, profile, LADDER), renderer)


def outline_titles(reader) -> list[tuple[str, int]]:
    return [(entry.title, reader.get_destination_page_number(entry)) for entry in reader.outline]


def test_a_rendered_bundle_has_cover_letter_index_items_bookmarks_and_page_numbers():
    rendered, verdict, _ = render(sample_items())
    reader = PdfReader(io.BytesIO(rendered.pdf))
    # cover, letter, index, image, PDF (2 pages), text, CSV, e-mail
    assert len(reader.pages) == rendered.pages == 9
    assert outline_titles(reader) == [
        ("Cover", 0),
        ("Rebuttal letter", 1),
        ("Index of evidence", 2),
        ("Item 1: Receipt", 3),
        ("Item 2: invoice.pdf", 4),
        ("Item 3: notes.txt", 6),
        ("Item 4: orders.csv", 7),
        ("Item 5: mail.eml", 8),
    ]
    texts = [page.extract_text() for page in reader.pages]
    assert "CASE-77" in texts[0] and "13.1 Merchandise/services not received" in texts[0]
    assert "Network deadline: Dec 20, 2026" in texts[0]
    for number, text in enumerate(texts, start=1):
        assert f"Page {number} of 9" in text
    index = texts[2]
    assert "Starts on page" in index
    assert "Item 2: invoice.pdf PDF 2 5" in index and "Item 5: mail.eml E-mail 1 9" in index
    assert verdict.fits and verdict.problems == []


@pytest.mark.parametrize("letter", ["", "  \n\n  "])
def test_without_a_letter_the_bundle_goes_from_cover_to_index(letter):
    """No placeholder page in what goes to the network: the letter's page and its bookmark are
    left out, and every page number and index entry counts without them."""
    rendered = BundleRenderer(cover=COVER, letter=letter, items=sample_items()).render(LADDER[0])
    reader = PdfReader(io.BytesIO(rendered.pdf))
    assert len(reader.pages) == rendered.pages == 8
    titles = outline_titles(reader)
    assert titles[:3] == [("Cover", 0), ("Index of evidence", 1), ("Item 1: Receipt", 2)]
    texts = [page.extract_text() for page in reader.pages]
    assert not any("Rebuttal letter" in text or "No rebuttal" in text for text in texts)
    assert "Page 2 of 8" in texts[1] and "Item 2: invoice.pdf PDF 2 4" in texts[1]


def test_card_numbers_are_masked_in_everything_rendered():
    rendered, _verdict, _ = render(sample_items())
    pages = [p.extract_text() for p in PdfReader(io.BytesIO(rendered.pdf)).pages]
    text = " ".join(pages)
    assert "4111 1111 1111 1111" not in text and "4111111111111111" not in text
    # the letter, the text item and the CSV
    for page in (pages[1], pages[6], pages[7]):
        assert "4111 11•• •••• 1111" in page


def test_masking_keeps_numbers_that_are_not_card_numbers():
    assert mask_card_numbers("trace 091000019999999") == "trace 091000019999999"
    assert mask_card_numbers("5555-5555-5555-4444") == "5555-55••-••••-4444"


def test_a_card_number_is_told_from_masked_and_other_numbers():
    assert shows_card_number(f"Card {CARD} was used")
    assert shows_card_number("5555-5555-5555-4444")
    assert not shows_card_number(mask_card_numbers(f"Card {CARD}"))
    assert not shows_card_number("4111 1111 1111 1112")  # fails the Luhn check
    assert not shows_card_number("ARN 74000000000000000000001 trace 091000019999999")
    assert not shows_card_number("")


def test_a_merged_pdf_showing_a_card_number_is_a_warning_naming_its_pages():
    """Astra masks card numbers in what it writes; inside a PDF it merges it cannot, so the
    verdict says where one shows (never the number itself). A warning: the bundle still fits."""
    lines = ["Nothing to see on this line."] * 70 + [f"Order 1 paid with {CARD}"]  # page 2
    statement = samples.pdf_document("Statement", lines)
    items = [*sample_items(), SourceItem("statement.pdf", "application/pdf", statement)]
    _rendered, verdict, _ = render(items)
    found = [w for w in verdict.warnings if "full card number" in w]
    assert found == [
        "Item 6: statement.pdf (statement.pdf) shows a full card number on page 2: mask it in "
        "the file before filing (card numbers are masked in what Astra writes, not inside the "
        "PDFs it merges)."
    ]
    assert verdict.fits and CARD not in " ".join(verdict.lines())
    assert not any("full card number" in w for w in render(sample_items())[1].warnings)


def noisy_photo(width=900, height=700) -> SourceItem:
    from PIL import Image

    image = Image.effect_noise((width, height), 80).convert("RGB")
    out = io.BytesIO()
    image.save(out, "JPEG", quality=95)
    return SourceItem("photo.jpg", "image/jpeg", out.getvalue(), "Photo of the parcel")


def test_preflight_recompresses_images_until_a_too_large_bundle_fits():
    items = [noisy_photo()]
    top, _verdict, _ = render(items)
    bottom, _verdict, _ = render(items, max_bytes=1_000, recommended_bytes=None)
    limit = (top.size + bottom.size) // 2
    rendered, verdict, _ = render(items, max_bytes=limit, recommended_bytes=None)
    assert top.size > limit  # at the top rung it would not fit …
    assert verdict.fits and rendered.size <= limit  # … a lower rung does
    assert rendered.rung != LADDER[0]
    assert len(verdict.tried) > 1
    assert any("recompressed" in line for line in verdict.warnings)


def test_a_bundle_that_cannot_fit_says_which_items_to_remove_with_their_sizes():
    big_pdf = SourceItem("statement.pdf", "application/pdf", sample_items()[1].data)
    items = [noisy_photo(), big_pdf, sample_items()[2]]
    _rendered, verdict, _ = render(items, max_bytes=20_000, recommended_bytes=None)
    assert not verdict.fits
    assert verdict.headline.startswith("Does not fit Visa Resolve Online")
    assert any("takes at most 20 KB" in line for line in verdict.problems)
    assert verdict.remove and verdict.remove[0].startswith("Item 1: Photo of the parcel (about ")
    lines = verdict.lines()
    assert lines[-1].startswith("Remove or split: Item 1: Photo of the parcel")
    assert verdict.tried[-1].startswith("72 DPI, JPEG quality 35")  # the whole ladder was tried


def test_too_many_pages_names_the_longest_items():
    _rendered, verdict, _ = render(sample_items(), max_pages=7)
    assert not verdict.fits
    assert "9 pages; Visa Resolve Online takes at most 7." in verdict.problems
    assert verdict.remove == ["Item 2: invoice.pdf (about 4 KB, 2 pages)"]


def test_pages_above_the_fee_free_count_are_a_warning_not_a_refusal():
    _rendered, verdict, _ = render(sample_items(), "mastercom", fee_free_pages=5)
    assert verdict.fits
    assert any("4 above the 5 Mastercom takes before charging" in w for w in verdict.warnings)


def test_an_unreadable_item_is_named_and_refuses_the_bundle():
    items = [SourceItem("scan.pdf", "application/pdf", b"%PDF-1.4 broken")]
    rendered, verdict, _ = render(items)
    assert not verdict.fits
    assert verdict.problems[0].startswith("Item 1: scan.pdf (scan.pdf): the PDF cannot be read")
    assert "could not be included" in PdfReader(io.BytesIO(rendered.pdf)).pages[3].extract_text()


def test_progress_counts_items_done_of_items_total():
    seen = []
    renderer = BundleRenderer(
        cover=COVER, letter="", items=sample_items(), progress=lambda d, t: seen.append((d, t))
    )
    renderer.render(LADDER[0])
    assert seen == [(n, 5) for n in range(6)]


def test_the_shipped_channel_table_has_the_networks_channels():
    table = profiles.channels()
    mastercom = table.profile("mastercom")
    assert (mastercom.max_bytes, mastercom.recommended_bytes) == (18_000_000, 14_500_000)
    assert (mastercom.fee_free_pages, mastercom.max_dpi) == (19, 300)
    assert table.default_for("mastercard") is mastercom
    assert table.profile("adyen").max_bytes == 2_000_000
    assert table.profile("stripe").max_pages == 49
    assert mastercom.document_name("MC-2026-00123", 12) == "202600123v12.pdf"  # 16 in all
    assert len(mastercom.document_name("MC-2026-00123-LONG-ID", 3)) <= 16


BROKEN_TABLES = [
    ("max_bytes: 18000000", "max_bytes: 18 MB", "channels.mastercom.max_bytes: must be an integer"),
    ("formats: [jpeg, tiff, pdf]", "formats: [jpeg, tiff]", "channels.mastercom.formats: must"),
    ("  mastercard: mastercom", "  mastercard: nacha_rdfi", "defaults.mastercard: nacha_rdfi"),
    ("max_pixels: 30000000", "max_pixel: 30000000", "channels.mastercom.max_pixel: unknown key"),
    ("- {dpi: 300, jpeg_quality: 70}", "- {dpi: 400, jpeg_quality: 70}", "ladder.1.: each rung"),
]


@pytest.mark.parametrize(("before", "after", "message"), BROKEN_TABLES)
def test_a_malformed_channel_table_names_the_key(tmp_path, before, after, message):
    text = profiles.CHANNELS_FILE.read_text()
    assert before in text
    path = tmp_path / "channels.yaml"
    path.write_text(text.replace(before, after, 1))
    with pytest.raises(RuleTableError, match=message):
        profiles.load_channels(path)
