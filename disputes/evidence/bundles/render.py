"""The bundle renderer: a cover, the rebuttal letter, an index and every item, as one PDF.

Pure: it takes a cover (a dict), the letter's text and the items (bytes, content type, name) and
returns PDF bytes with the page each part starts on; it reads no database and no clock.

How it is put together (WeasyPrint lays out HTML; pypdf merges PDFs page by page):
1. ``prepare``: each item is read once (images decoded and scaled to the channel's resolution,
   PDFs opened, text turned into HTML); ``progress(done, total)`` is called after each item.
2. ``render(rung)``: every non-PDF item is laid out in one WeasyPrint document (one section per
   item; the page each starts on comes from its anchor), the front (cover, letter, index with
   the page each item starts on) in another, and the pages are joined in order with PDF items
   merged page by page. Bookmarks mark the cover, the letter, the index and each item.
3. Page numbers: one WeasyPrint overlay with a footer per page ("Case …, item, page i of n"),
   sized to each page, stamped onto every page (merged PDF pages included).
A lower rung of the recompression ladder re-encodes only the images; the front, the text and
the merged PDFs are reused.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from html import escape

from PIL import ImageFile
from pypdf import PdfReader, PdfWriter
from pypdf.generic import ArrayObject, DictionaryObject, NameObject, StreamObject
from weasyprint import CSS, HTML

from . import items as item_kinds
from .items import SourceItem, UnreadableItem
from .masking import mask_card_numbers, shows_card_number
from .profiles import Rung

# WeasyPrint turns on Pillow's "load truncated images" for the whole process when imported;
# the evidence upload check relies on Pillow refusing a damaged image: back to Pillow's default.
ImageFile.LOAD_TRUNCATED_IMAGES = False

Progress = Callable[[int, int], None]
THREADS = 2  # this machine's cores; image work releases the GIL

STYLE = CSS(
    string="""
@page { size: letter; margin: 0.6in 0.6in 0.8in 0.6in; }
body { font-family: "DejaVu Sans", sans-serif; font-size: 10pt; color: #111; line-height: 1.4; }
h1 { font-size: 17pt; margin: 0 0 0.2in; }
h2 { font-size: 12pt; margin: 0 0 0.12in; }
section { break-before: page; }
section:first-child { break-before: auto; }
.frame-break { break-before: page; }
.meta { color: #555; font-size: 8.5pt; margin: 0 0 0.12in; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; vertical-align: top; padding: 3pt 6pt; border-bottom: 0.5pt solid #ccc; }
.facts th { width: 36%; color: #444; font-weight: normal; }
.deadline { margin: 0.25in 0; padding: 8pt 10pt; border: 1.5pt solid #111; font-size: 12pt; }
.letter p { margin: 0 0 8pt; }
.index td.num, .index th.num { text-align: right; white-space: nowrap; }
pre.evidence-text { white-space: pre-wrap; word-wrap: break-word; font-family: "DejaVu Sans Mono",
  monospace; font-size: 8.5pt; margin: 0; }
table.evidence-csv { font-size: 7.5pt; }
table.evidence-csv th, table.evidence-csv td { border: 0.5pt solid #bbb; padding: 2pt 3pt; }
table.email-headers { margin-bottom: 10pt; }
table.email-headers th { width: 14%; }
img.evidence-image { display: block; margin: 0 auto; }
.unreadable { border: 1.5pt solid #900; padding: 10pt; }
"""
)
KIND_LABELS = {
    "image": "Image",
    "pdf": "PDF",
    "email": "E-mail",
    "csv": "Spreadsheet (CSV)",
    "text": "Text",
    "unsupported": "Not included",
}


@dataclass(slots=True)
class Section:
    """One bookmarked part of the bundle: its first page (1-based) and length."""

    title: str
    first_page: int
    pages: int
    bytes: int = 0  # what the part adds to the file, about (items only)
    item: int | None = None  # the item's position in the input list


@dataclass(slots=True)
class Rendered:
    pdf: bytes
    pages: int
    sections: list[Section]
    rung: Rung
    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def size(self) -> int:
        return len(self.pdf)

    def item_sections(self) -> list[Section]:
        return [section for section in self.sections if section.item is not None]


@dataclass(slots=True)
class _Prepared:
    kind: str
    title: str
    frames: list = field(default_factory=list)  # images: PIL frames at the channel resolution
    reader: PdfReader | None = None
    html: str = ""
    problem: str = ""
    card_pages: list[int] = field(default_factory=list)  # a merged PDF's pages showing a PAN


def _card_number_pages(reader: PdfReader) -> list[int]:
    """The pages (from 1) of a merged PDF whose text shows a card number in full. A page whose
    text cannot be extracted (scanned, or malformed) is not searched."""
    pages = []
    for number, page in enumerate(reader.pages, start=1):
        try:
            text = page.extract_text() or ""
        except Exception:  # pypdf raises many kinds on broken content streams
            continue
        if shows_card_number(text):
            pages.append(number)
    return pages


def item_title(index: int, item: SourceItem) -> str:
    label = item.title.strip() or item.name
    return f"Item {index + 1}: {label}"


class BundleRenderer:
    """Renders one bundle; ``render`` may be called again with a lower rung of the ladder."""

    def __init__(
        self,
        *,
        cover: dict,
        letter: str,
        items: Sequence[SourceItem],
        max_dpi: int = 300,
        max_pixels: int | None = None,
        progress: Progress | None = None,
    ):
        self.cover = cover
        self.letter = letter or ""
        self.items = list(items)
        self.max_dpi = max_dpi
        self.max_pixels = max_pixels
        self.progress = progress or (lambda done, total: None)
        self.prepared: list[_Prepared] | None = None
        self._front: tuple[bytes, int, int, int] | None = None  # pdf, cover, letter, index pages
        self._overlay: bytes | None = None

    # --- 1. read every item once ----------------------------------------------------------

    def prepare(self) -> None:
        """Read every item, two at a time (Pillow decodes and scales without the GIL); the
        progress callback runs in this thread, in the order items finish."""
        total = len(self.items)
        prepared: list[_Prepared | None] = [None] * total
        self.progress(0, total)
        with ThreadPoolExecutor(max_workers=THREADS) as pool:
            futures = {
                pool.submit(self._prepare, index, item): index
                for index, item in enumerate(self.items)
            }
            for done, future in enumerate(as_completed(futures), start=1):
                prepared[futures[future]] = future.result()
                self.progress(done, total)
        self.prepared = prepared

    def _prepare(self, index: int, item: SourceItem) -> _Prepared:
        kind = item_kinds.kind_of(item)
        prepared = _Prepared(kind=kind, title=mask_card_numbers(item_title(index, item)))
        try:
            if kind == "image":
                prepared.frames = item_kinds.open_frames(
                    item.data, max_pixels=self.max_pixels, dpi=self.max_dpi
                )
            elif kind == "pdf":
                prepared.reader = item_kinds.read_pdf(item.data)
                prepared.card_pages = _card_number_pages(prepared.reader)
            elif kind == "email":
                prepared.html = item_kinds.email_html(item.data)
            elif kind == "csv":
                prepared.html = item_kinds.csv_html(item.data)
            elif kind == "text":
                prepared.html = item_kinds.text_html(item.data, item.content_type)
            else:
                raise UnreadableItem(
                    f"files of type {item.content_type or 'unknown'} cannot go in a bundle; "
                    "convert it to PDF"
                )
        except UnreadableItem as exc:
            prepared.kind, prepared.problem = "unsupported", str(exc)
        return prepared

    # --- 2. lay out and join ----------------------------------------------------------------

    def render(self, rung: Rung) -> Rendered:
        if self.prepared is None:
            self.prepare()
        body_pdf, starts, image_bytes = self._items_document(rung)
        body = PdfReader(io.BytesIO(body_pdf)) if body_pdf else None
        item_pages = self._item_page_counts(starts, len(body.pages) if body else 0)
        front_pdf, cover_pages, letter_pages, index_pages = self._front_document(item_pages)
        writer = PdfWriter()
        for page in PdfReader(io.BytesIO(front_pdf)).pages:
            writer.add_page(page)
        sections = [
            Section("Cover", 1, cover_pages),
            Section("Rebuttal letter", cover_pages + 1, letter_pages),
            Section("Index of evidence", cover_pages + letter_pages + 1, index_pages),
        ]
        for index, prepared in enumerate(self.prepared):
            first = len(writer.pages) + 1
            if prepared.reader is not None:
                pages = prepared.reader.pages
                size = len(self.items[index].data)
            else:
                pages = body.pages[starts[index] : starts[index] + item_pages[index]]
                size = image_bytes.get(index, len(prepared.html))
            for page in pages:
                writer.add_page(page)
            sections.append(Section(prepared.title, first, len(pages), size, item=index))
        self._stamp(writer, sections)
        for section in sections:
            if section.pages:
                writer.add_outline_item(title=section.title, page_number=section.first_page - 1)
        writer.add_metadata({"/Title": self.cover.get("title", "Dispute response")})
        writer.page_mode = "/UseOutlines"
        buffer = io.BytesIO()
        writer.write(buffer)
        problems = [
            f"{p.title} ({self.items[i].name}): {p.problem}"
            for i, p in enumerate(self.prepared)
            if p.problem
        ]
        warnings = [
            f"{p.title} ({self.items[i].name}) shows a full card number on page"
            f"{'s' if len(p.card_pages) > 1 else ''} {', '.join(map(str, p.card_pages))}: "
            "mask it in the file before filing (card numbers are masked in what Astra writes, "
            "not inside the PDFs it merges)."
            for i, p in enumerate(self.prepared)
            if p.card_pages
        ]
        return Rendered(buffer.getvalue(), len(writer.pages), sections, rung, problems, warnings)

    def _items_document(self, rung: Rung) -> tuple[bytes, dict[int, int], dict[int, int]]:
        """Every non-PDF item in one WeasyPrint document: (pdf, {item: first page index},
        {image item: bytes of its encoded images})."""
        sections, image_bytes = [], {}
        with ThreadPoolExecutor(max_workers=THREADS) as pool:
            images = {
                index: pool.submit(item_kinds.image_html, prepared.frames, rung)
                for index, prepared in enumerate(self.prepared)
                if prepared.frames
            }
        for index, prepared in enumerate(self.prepared):
            if prepared.reader is not None:
                continue
            if prepared.frames:
                content = images[index].result()
                image_bytes[index] = len(content) * 3 // 4
            elif prepared.problem:
                content = (
                    f'<div class="unreadable"><p>This file could not be included: '
                    f"{escape(prepared.problem)}.</p></div>"
                )
            else:
                content = prepared.html
            meta = escape(f"{self.items[index].name} · {KIND_LABELS[prepared.kind]}")
            sections.append(
                f'<section id="item-{index}"><h2>{escape(prepared.title)}</h2>'
                f'<p class="meta">{meta}</p>{content}</section>'
            )
        if not sections:
            return b"", {}, {}
        document = HTML(string=f"<html><body>{''.join(sections)}</body></html>").render(
            stylesheets=[STYLE]
        )
        starts = {}
        for page_index, page in enumerate(document.pages):
            for anchor in page.anchors:
                if anchor.startswith("item-"):
                    starts.setdefault(int(anchor[5:]), page_index)
        return document.write_pdf(), starts, image_bytes

    def _item_page_counts(self, starts: dict[int, int], body_pages: int) -> list[int]:
        counts = []
        ordered = sorted(starts.items(), key=lambda pair: pair[1])
        following = {
            index: (ordered[n + 1][1] if n + 1 < len(ordered) else body_pages)
            for n, (index, _start) in enumerate(ordered)
        }
        for index, prepared in enumerate(self.prepared):
            if prepared.reader is not None:
                counts.append(len(prepared.reader.pages))
            else:
                counts.append(following[index] - starts[index])
        return counts

    def _front_document(self, item_pages: list[int]) -> tuple[bytes, int, int, int]:
        """The cover, the letter and the index, with the page each item starts on. The index
        is laid out once with placeholders to learn how many pages the front takes."""
        if self._front is not None and self._front_for == item_pages:
            return self._front
        sizes = self._front_sizes(item_pages)
        front_pages = sum(sizes)
        starts, page = [], front_pages + 1
        for count in item_pages:
            starts.append(page)
            page += count
        html = self._front_html(item_pages, [str(n) for n in starts])
        pdf = HTML(string=html).write_pdf(stylesheets=[STYLE])
        self._front, self._front_for = (pdf, *sizes), list(item_pages)
        return self._front

    def _front_sizes(self, item_pages: list[int]) -> tuple[int, int, int]:
        html = self._front_html(item_pages, ["9999"] * len(item_pages))
        document = HTML(string=html).render(stylesheets=[STYLE])
        first = {}
        for page_index, page in enumerate(document.pages):
            for anchor in page.anchors:
                first.setdefault(anchor, page_index)
        index_at = first["index"]
        letter_at = first.get("letter", index_at)  # no letter: no letter page
        return letter_at, index_at - letter_at, len(document.pages) - index_at

    def _front_html(self, item_pages: list[int], starts: list[str]) -> str:
        return (
            f"<html><body>{self._cover_html()}{self._letter_html()}"
            f"{self._index_html(item_pages, starts)}</body></html>"
        )

    def _cover_html(self) -> str:
        cover = self.cover
        facts = "".join(
            f"<tr><th>{escape(str(label))}</th><td>{escape(mask_card_numbers(str(value)))}</td></tr>"
            for label, value in cover.get("facts", ())
        )
        deadline = cover.get("deadline")
        deadline_html = (
            f'<p class="deadline">Network deadline: <strong>{escape(deadline)}</strong></p>'
            if deadline
            else ""
        )
        subtitle = cover.get("subtitle")
        subtitle_html = f'<p class="meta">{escape(subtitle)}</p>' if subtitle else ""
        return (
            f'<section id="cover"><h1>{escape(cover.get("title", "Dispute response"))}</h1>'
            f'{subtitle_html}{deadline_html}<table class="facts">{facts}</table></section>'
        )

    def _letter_html(self) -> str:
        """The rebuttal letter's page; none at all when there is no letter (the bundle goes from
        the cover to the index, and its outline has no letter)."""
        paragraphs = [p.strip() for p in self.letter.replace("\r\n", "\n").split("\n\n")]
        body = "".join(
            f"<p>{escape(mask_card_numbers(p)).replace(chr(10), '<br>')}</p>"
            for p in paragraphs
            if p
        )
        if not body:
            return ""
        return f'<section id="letter" class="letter"><h1>Rebuttal letter</h1>{body}</section>'

    def _index_html(self, item_pages: list[int], starts: list[str]) -> str:
        rows = "".join(
            f"<tr><td>{escape(p.title)}</td><td>{KIND_LABELS[p.kind]}</td>"
            f'<td class="num">{item_pages[i]}</td><td class="num">{starts[i]}</td></tr>'
            for i, p in enumerate(self.prepared)
        )
        return (
            '<section id="index"><h1>Index of evidence</h1><table class="index">'
            '<tr><th>Item</th><th>Kind</th><th class="num">Pages</th>'
            f'<th class="num">Starts on page</th></tr>{rows}</table></section>'
        )

    # --- 3. page numbers --------------------------------------------------------------------

    def _stamp(self, writer: PdfWriter, sections: list[Section]) -> None:
        """A footer on every page: page i of n, the case and the part it belongs to. Drawn
        with a standard PDF font straight into each page's content (nothing to lay out)."""
        total = len(writer.pages)
        titles = [""] * total
        for section in sections:
            for offset in range(section.pages):
                titles[section.first_page - 1 + offset] = section.title
        font = writer._add_object(FOOTER_FONT.clone(writer))
        case = str(self.cover.get("case_id", ""))
        for number, (page, title) in enumerate(zip(writer.pages, titles, strict=True), start=1):
            if page.get("/Rotate"):
                page.transfer_rotation_to_content()
            footer = f"Page {number} of {total}   ·   Case {case}   ·   {title}"
            _add_footer(writer, page, font, footer)


FOOTER_FONT = DictionaryObject(
    {
        NameObject("/Type"): NameObject("/Font"),
        NameObject("/Subtype"): NameObject("/Type1"),
        NameObject("/BaseFont"): NameObject("/Helvetica"),
        NameObject("/Encoding"): NameObject("/WinAnsiEncoding"),
    }
)
FOOTER_FONT_NAME = "/AstraFooter"


def _pdf_text(text: str) -> bytes:
    raw = text.encode("cp1252", "replace")
    return raw.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)")


def _add_footer(writer: PdfWriter, page, font, text: str) -> None:
    box = page.mediabox
    x, y = float(box.left) + 0.6 * 72, float(box.bottom) + 0.3 * 72
    resources = page.get("/Resources")
    if resources is None:
        resources = DictionaryObject()
        page[NameObject("/Resources")] = resources
    resources = resources.get_object()
    fonts = resources.get("/Font")
    if fonts is None:
        fonts = DictionaryObject()
        resources[NameObject("/Font")] = fonts
    fonts.get_object()[NameObject(FOOTER_FONT_NAME)] = font
    before, after = StreamObject(), StreamObject()
    before.set_data(b"q\n")
    after.set_data(
        b"\nQ\nq BT "
        + FOOTER_FONT_NAME.encode()
        + b" 7.5 Tf 0.25 g "
        + f"{x:.2f} {y:.2f} Td (".encode()
        + _pdf_text(text)
        + b") Tj ET Q\n"
    )
    contents = page.get("/Contents")
    parts = []
    if contents is not None:
        resolved = contents.get_object()
        if isinstance(resolved, ArrayObject):
            parts = list(resolved)
        else:
            parts = [contents if hasattr(contents, "idnum") else writer._add_object(resolved)]
    page[NameObject("/Contents")] = ArrayObject(
        [writer._add_object(before), *parts, writer._add_object(after)]
    )
