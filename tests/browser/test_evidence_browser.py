"""In a real browser: drop several files on the dispute page, watch one progress bar per file,
see a refused file's reason and the accepted one arrive; a client answers through the link."""

import pytest
from playwright.sync_api import expect

from disputes.evidence import links, samples, services
from disputes.evidence.models import EvidenceItem
from disputes.models import ClientContact
from tests.evidence import badfiles
from tests.factories import ClientFactory, open_dispute

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Drop files on the drop zone, as a person dragging them from their desktop would.
DROP = """(files) => {
    const dt = new DataTransfer();
    for (const [name, b64] of files) {
        const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
        dt.items.add(new File([bytes], name, {type: "application/pdf"}));
    }
    const zone = document.querySelector("[data-dropzone]");
    const init = {dataTransfer: dt, bubbles: true, cancelable: true};
    zone.dispatchEvent(new DragEvent("dragover", init));
    zone.dispatchEvent(new DragEvent("drop", init));
}"""
POD = samples.pdf_document("Proof of delivery", [f"Parcel scan {i}" for i in range(400)])


def test_drag_and_drop_upload_with_a_progress_bar_per_file(log_in, site, cs_user, screenshot):
    dispute = open_dispute(client=ClientFactory(name="Northwind Outfitters"), code="13.1")
    page = log_in(cs_user)
    page.goto(f"{site.url}/disputes/{dispute.pk}/")
    expect(page.locator("#checklist")).to_contain_text("Missing")
    expect(page.locator("[data-gate=blocked]")).to_be_visible()

    page.evaluate(DROP, [["pod.pdf", _b64(POD)], ["invoice.pdf", _b64(badfiles.zip_named_pdf())]])
    expect(page.locator("[data-dropzone] label")).to_have_text("2 files chosen")
    page.get_by_label("What is it?").select_option("proof_of_delivery")
    page.get_by_role("button", name="Upload", exact=True).click()

    items = page.locator(".upload-item")
    expect(items).to_have_count(2)
    done = page.locator(".upload-item.upload-done")
    refused = page.locator(".upload-item.upload-refused")
    expect(done).to_contain_text("pod.pdf")
    expect(done).to_contain_text("Uploaded")
    expect(refused).to_contain_text("ZIP archive")
    assert done.locator("progress").evaluate("bar => bar.value") == 100
    # The page body refreshes: the file is listed, the checklist item satisfied, the gate open.
    expect(page.locator(".evidence-files")).to_contain_text("pod.pdf")
    expect(page.locator("#checklist")).to_contain_text("1 file")
    expect(page.locator("[data-gate=blocked]")).to_have_count(0)
    expect(page.locator(".upload-item")).to_have_count(2)  # the answers stay in view
    page.locator("#evidence").scroll_into_view_if_needed()
    screenshot("evidence-upload-progress")
    assert list(EvidenceItem.objects.values_list("original_name", flat=True)) == ["pod.pdf"]


def test_a_client_answers_through_the_link_on_a_phone(page, site, cs_user, screenshot):
    client = ClientFactory(name="Northwind Outfitters")
    contact = ClientContact.objects.create(client=client, name="Dana Reyes", email="d@n.example")
    dispute = open_dispute(client=client, code="13.1")
    ask = services.request_evidence(
        dispute_id=dispute.pk,
        actor=cs_user,
        expected_version=dispute.version,
        kinds=["proof_of_delivery"],
        contact=contact,
    )
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(site.url + links.upload_path(ask))
    expect(page.get_by_role("heading", level=1)).to_contain_text("Dana Reyes")
    expect(page.locator(".due")).to_contain_text("Please send them by")
    page.set_input_files(
        "#id_upload_file",
        files=[{"name": "delivery.pdf", "mimeType": "application/pdf", "buffer": POD}],
    )
    page.get_by_role("button", name="Send files").click()
    expect(page.locator(".upload-item.upload-done")).to_contain_text("Uploaded")
    expect(page.locator("#received")).to_contain_text("delivery.pdf")
    screenshot("evidence-client-phone", full_page=True)
    item = EvidenceItem.objects.get()
    assert item.on_behalf_of == contact and item.request == ask


def _b64(data: bytes) -> str:
    import base64

    return base64.b64encode(data).decode()
