"""Each kind of evidence as bundle content: images scaled to the channel's resolution, PDFs read
page by page, text, CSV and e-mail as readable HTML. Pure: bytes in, HTML or pages out."""

from __future__ import annotations

import base64
import csv
import email
import email.policy
import io
from dataclasses import dataclass
from html import escape
from html.parser import HTMLParser

from PIL import Image, ImageOps, UnidentifiedImageError
from pypdf import PdfReader
from pypdf.errors import PdfReadError

from .masking import mask_card_numbers
from .profiles import Rung

Image.MAX_IMAGE_PIXELS = 120_000_000  # refuse decompression bombs, not large scans

# The image box on a US Letter page (8.5 × 11 in, 0.6 in margins, room for the item heading).
BOX_WIDTH_IN, BOX_HEIGHT_IN = 7.3, 8.6
IMAGE_TYPES = {"image/jpeg", "image/png", "image/tiff", "image/gif", "image/webp", "image/bmp"}
PDF_TYPES = {"application/pdf"}
EMAIL_TYPES = {"message/rfc822"}
CSV_TYPES = {"text/csv"}
TEXT_TYPES = {"text/plain", "text/html", "application/json", "text/markdown"}
MAX_CSV_ROWS = 2000
MAX_TEXT_CHARS = 400_000


@dataclass(frozen=True, slots=True)
class SourceItem:
    """One piece of evidence as the renderer takes it."""

    name: str
    content_type: str
    data: bytes
    title: str = ""  # what it is ("Proof of delivery"); the file name when empty


def kind_of(item: SourceItem) -> str:
    """image, pdf, email, csv, text, or unsupported."""
    content_type = (item.content_type or "").split(";")[0].strip().lower()
    name = item.name.lower()
    if content_type in IMAGE_TYPES:
        return "image"
    if content_type in PDF_TYPES:
        return "pdf"
    if content_type in EMAIL_TYPES or name.endswith(".eml"):
        return "email"
    if content_type in CSV_TYPES or name.endswith(".csv"):
        return "csv"
    if content_type in TEXT_TYPES or content_type.startswith("text/"):
        return "text"
    return "unsupported"


def decode_text(data: bytes) -> str:
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    return data.decode("latin-1")


# --- images -----------------------------------------------------------------------------------


class UnreadableItem(ValueError):
    """The file is not what its type says, or cannot be read."""


def open_frames(data: bytes, *, max_pixels: int | None, dpi: int) -> list[Image.Image]:
    """The image's frames (a multi-page TIFF has several), upright, RGB or greyscale, scaled
    down to fit the image box at ``dpi`` (never up) and under ``max_pixels``."""
    try:
        image = Image.open(io.BytesIO(data))
        frames = []
        for index in range(getattr(image, "n_frames", 1)):
            image.seek(index)
            frames.append(_fitted(image, max_pixels=max_pixels, dpi=dpi))
        return frames
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError) as exc:
        raise UnreadableItem(f"the image cannot be read ({exc})") from exc
    except Image.DecompressionBombError as exc:
        raise UnreadableItem("the image is too large to read") from exc


def _fitted(image: Image.Image, *, max_pixels: int | None, dpi: int) -> Image.Image:
    width, height = _target_size(image.size, dpi=dpi, max_pixels=max_pixels)
    if image.format == "JPEG":
        image.draft("RGB", (width, height))  # decode at 1/2, 1/4 or 1/8 scale when that is enough
    frame = ImageOps.exif_transpose(image)
    if frame.mode not in ("RGB", "L"):
        frame = _flatten(frame)
    if frame.size != (width, height) and (frame.width > width or frame.height > height):
        frame = frame.resize((width, height), Image.Resampling.BICUBIC, reducing_gap=2.0)
    return frame


def _flatten(frame: Image.Image) -> Image.Image:
    if frame.mode in ("RGBA", "LA", "P", "PA"):
        rgba = frame.convert("RGBA")
        white = Image.new("RGB", rgba.size, "white")
        white.paste(rgba, mask=rgba.getchannel("A"))
        return white
    return frame.convert("RGB")


def _target_size(size, *, dpi: int, max_pixels: int | None) -> tuple[int, int]:
    width, height = size
    scale = min(1.0, BOX_WIDTH_IN * dpi / width, BOX_HEIGHT_IN * dpi / height)
    if max_pixels and width * height * scale * scale > max_pixels:
        scale = (max_pixels / (width * height)) ** 0.5
    return max(1, int(width * scale)), max(1, int(height * scale))


def display_inches(size, dpi: int) -> tuple[float, float]:
    """How large the image prints: it fills the box unless it is too small to at 72 DPI."""
    width, height = size
    scale = min(BOX_WIDTH_IN / width, BOX_HEIGHT_IN / height, 1 / 72)
    return round(width * scale, 3), round(height * scale, 3)


def image_html(frames: list[Image.Image], rung: Rung) -> str:
    """The frames as <img> elements, scaled to ``rung.dpi`` and JPEG-encoded at its quality."""
    parts = []
    for frame in frames:
        width_in, height_in = display_inches(frame.size, rung.dpi)
        pixels = (max(1, round(width_in * rung.dpi)), max(1, round(height_in * rung.dpi)))
        if frame.width > pixels[0]:
            frame = frame.resize(pixels, Image.Resampling.BICUBIC, reducing_gap=2.0)
        buffer = io.BytesIO()
        frame.save(buffer, "JPEG", quality=rung.jpeg_quality, dpi=(rung.dpi, rung.dpi))
        encoded = base64.b64encode(buffer.getvalue()).decode("ascii")
        parts.append(
            f'<img class="evidence-image" alt="" src="data:image/jpeg;base64,{encoded}" '
            f'style="width:{width_in}in;height:{height_in}in">'
        )
    return '<div class="frame-break"></div>'.join(parts)


# --- PDFs -------------------------------------------------------------------------------------


def read_pdf(data: bytes) -> PdfReader:
    """The PDF's reader; an encrypted PDF that opens with an empty password is accepted."""
    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted and not reader.decrypt(""):
            raise UnreadableItem("the PDF is protected by a password")
        if len(reader.pages) == 0:
            raise UnreadableItem("the PDF has no pages")
        return reader
    except (PdfReadError, ValueError, KeyError, TypeError, OSError) as exc:
        raise UnreadableItem(f"the PDF cannot be read ({exc})") from exc


# --- text, CSV, e-mail ------------------------------------------------------------------------


def text_html(data: bytes, content_type: str) -> str:
    text = decode_text(data)
    if "html" in content_type:
        text = _html_to_text(text)
    if len(text) > MAX_TEXT_CHARS:
        text = text[:MAX_TEXT_CHARS] + "\n… (cut: the rest of the file is not included)"
    return f'<pre class="evidence-text">{escape(mask_card_numbers(text))}</pre>'


def csv_html(data: bytes) -> str:
    text = decode_text(data)
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t|")
    except csv.Error:
        dialect = csv.excel
    rows = []
    for index, row in enumerate(csv.reader(io.StringIO(text), dialect)):
        if index >= MAX_CSV_ROWS:
            rows.append(f'<tr><td colspan="99">… {MAX_CSV_ROWS} rows shown</td></tr>')
            break
        cell = "th" if index == 0 else "td"
        cells = "".join(f"<{cell}>{escape(mask_card_numbers(value))}</{cell}>" for value in row)
        rows.append(f"<tr>{cells}</tr>")
    return f'<table class="evidence-csv">{"".join(rows)}</table>'


def email_html(data: bytes) -> str:
    message = email.message_from_bytes(data, policy=email.policy.default)
    headers = "".join(
        f"<tr><th>{name}</th><td>{escape(mask_card_numbers(str(message.get(name, ''))))}</td></tr>"
        for name in ("From", "To", "Cc", "Date", "Subject")
        if message.get(name)
    )
    body_part = message.get_body(preferencelist=("plain", "html"))
    body = ""
    if body_part is not None:
        body = body_part.get_content()
        if body_part.get_content_subtype() == "html":
            body = _html_to_text(body)
    attachments = [part.get_filename() or "unnamed" for part in message.iter_attachments()]
    listed = ""
    if attachments:
        names = ", ".join(escape(name) for name in attachments)
        listed = f'<p class="attachments">Attachments (not included here): {names}</p>'
    return (
        f'<table class="email-headers">{headers}</table>'
        f'<pre class="evidence-text">{escape(mask_card_numbers(body.strip()))}</pre>{listed}'
    )


class _TextOnly(HTMLParser):
    BLOCKS = {"p", "div", "br", "tr", "li", "h1", "h2", "h3", "h4", "table"}

    def __init__(self):
        super().__init__()
        self.out, self.skip = [], 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style"):
            self.skip += 1
        elif tag in self.BLOCKS:
            self.out.append("\n")

    def handle_endtag(self, tag):
        if tag in ("script", "style"):
            self.skip = max(0, self.skip - 1)

    def handle_data(self, data):
        if not self.skip:
            self.out.append(data)


def _html_to_text(markup: str) -> str:
    parser = _TextOnly()
    parser.feed(markup)
    return "".join(parser.out).strip()
