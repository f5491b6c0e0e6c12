"""The bundle benchmark: a 20-item bundle (10 photos of 3–5 MB, 5 multi-page PDFs, 5 text
items) rendered by the bundle renderer and, side by side in the same run, by bare WeasyPrint
plus pypdf doing the same work in one function. Each run is a forked child, so its peak memory
is its own."""

from __future__ import annotations

import io
import multiprocessing
import resource
import time
from email.message import EmailMessage

from PIL import Image, ImageFilter
from pypdf import PdfReader, PdfWriter
from weasyprint import HTML

from .items import SourceItem
from .preflight import fit
from .profiles import channels, profile
from .render import STYLE, BundleRenderer

COVER = {
    "title": "Mastercard chargeback: response of Astra for case MC-BENCH-1",
    "subtitle": "4853 Cardholder dispute",
    "case_id": "MC-BENCH-1",
    "facts": [("Network", "Mastercard"), ("Case id", "MC-BENCH-1"), ("Amount", "$1,250.00")],
    "deadline": "Dec 20, 2026",
}
LETTER = "\n\n".join(
    f"Paragraph {n}: the cardholder received the goods on the agreed date; see the proof of "
    "delivery, the signed receipt and the correspondence in the items that follow." * 2
    for n in range(1, 7)
)


def sample_items() -> list[SourceItem]:
    """10 photos (3–5 MB JPEG, 4000×3000), 5 PDFs (3–7 pages), 5 text items."""
    tile = Image.effect_noise((1000, 750), 60).convert("L")
    soft = tile.filter(ImageFilter.GaussianBlur(1))
    base = Image.merge("RGB", (tile, soft, tile.transpose(Image.Transpose.FLIP_LEFT_RIGHT)))
    base = base.resize((4000, 3000), Image.Resampling.BILINEAR)
    items = []
    for n in range(10):
        buffer = io.BytesIO()
        photo = base if n % 2 == 0 else base.transpose(Image.Transpose.FLIP_TOP_BOTTOM)
        photo.save(buffer, "JPEG", quality=(88, 90, 92, 94)[n % 4])
        items.append(SourceItem(f"photo-{n + 1}.jpg", "image/jpeg", buffer.getvalue()))
    for n in range(5):
        pages = "".join(
            f"<section><h1>Invoice {n + 1}, page {p + 1}</h1>"
            + "<p>Line item, quantity, unit price, amount. </p>" * 40
            + "</section>"
            for p in range(3 + n)
        )
        pdf = HTML(string=pages).write_pdf(stylesheets=[STYLE])
        items.append(SourceItem(f"invoice-{n + 1}.pdf", "application/pdf", pdf))
    log = "\n".join(f"2026-11-{d:02d} 10:{d:02d} login from 203.0.113.{d}" for d in range(1, 29))
    csv = "date,order,amount,card\n" + "\n".join(
        f"2026-11-{d:02d},A{d:04d},{d * 3}.50,4111111111111111" for d in range(1, 29)
    )
    message = EmailMessage()
    message["From"], message["To"] = "shop@example.com", "cardholder@example.com"
    message["Subject"], message["Date"] = "Your order shipped", "Mon, 02 Nov 2026 10:00:00 +0000"
    message.set_content("Your order A0001 shipped today.\nTracking: 1Z999AA10123456784\n" * 10)
    items += [
        SourceItem("access-log.txt", "text/plain", log.encode()),
        SourceItem("orders.csv", "text/csv", csv.encode()),
        SourceItem("shipping.eml", "message/rfc822", message.as_bytes()),
        SourceItem("notes.txt", "text/plain", (log + "\n").encode() * 3),
        SourceItem("refunds.csv", "text/csv", csv.encode()),
    ]
    return items


def run_renderer(items: list[SourceItem], channel: str = "mastercom") -> tuple[int, int]:
    renderer = BundleRenderer(cover=COVER, letter=LETTER, items=items, max_dpi=300)
    rendered, _verdict = fit(renderer, profile(channel), channels().ladder)
    return rendered.size, rendered.pages


def run_bare(items: list[SourceItem]) -> tuple[int, int]:
    """The same work with bare WeasyPrint and pypdf: one HTML document with the cover, letter,
    text and the photos (WeasyPrint scales them to 300 DPI at JPEG quality 85, with page
    numbers from CSS), then the PDFs appended and bookmarks added."""
    import base64
    from html import escape

    sections = [f"<section><h1>{escape(COVER['title'])}</h1></section>"]
    sections.append(f"<section><h1>Rebuttal letter</h1><p>{escape(LETTER)}</p></section>")
    pdfs = []
    for item in items:
        if item.content_type == "image/jpeg":
            data = base64.b64encode(item.data).decode()
            sections.append(
                f"<section><h2>{item.name}</h2><img style='width:7.3in' "
                f"src='data:image/jpeg;base64,{data}'></section>"
            )
        elif item.content_type == "application/pdf":
            pdfs.append(item)
        else:
            text = item.data.decode("utf-8", "replace")
            sections.append(f"<section><h2>{item.name}</h2><pre>{escape(text)}</pre></section>")
    css = "@page { @bottom-right { content: 'Page ' counter(page) } } section {break-before: page}"
    from weasyprint import CSS

    html = HTML(string=f"<html><body>{''.join(sections)}</body></html>")
    main = html.write_pdf(stylesheets=[STYLE, CSS(string=css)], dpi=300, jpeg_quality=85)
    writer = PdfWriter()
    writer.append(PdfReader(io.BytesIO(main)))
    for item in pdfs:
        start = len(writer.pages)
        writer.append(PdfReader(io.BytesIO(item.data)))
        writer.add_outline_item(item.name, start)
    buffer = io.BytesIO()
    writer.write(buffer)
    return len(buffer.getvalue()), len(writer.pages)


def _child(target, items, pipe):
    before = resource.getrusage(resource.RUSAGE_SELF)
    started = time.perf_counter()
    size, pages = target(items)
    elapsed = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_SELF)
    cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    pipe.send((elapsed, size, pages, after.ru_maxrss, cpu))
    pipe.close()


def measure(target, items) -> tuple[float, int, int, int, float]:
    """(seconds, bytes, pages, peak RSS in KB, CPU seconds) of ``target(items)``, run in a
    forked child."""
    context = multiprocessing.get_context("fork")
    receiver, sender = context.Pipe(duplex=False)
    process = context.Process(target=_child, args=(target, items, sender))
    process.start()
    result = receiver.recv()
    process.join()
    return result
