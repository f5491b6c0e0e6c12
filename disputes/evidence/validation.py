"""Is an uploaded file acceptable evidence? Pure: bytes in, a verdict out.

The type is decided by content (magic bytes, then a real parse), never by the file name or the
browser's claimed type. Accepted: PDF, PNG, JPEG, TIFF, plain text, CSV and e-mail (``.eml``).
Refused, with a message that says what to do instead: executables and archives under any name,
encrypted, damaged or active-content PDFs, images that would decode to absurd sizes
(decompression bombs), truncated or damaged images, web pages, unknown binary formats, empty
files and files over the size limit. ``check`` raises ``Refused``; nothing is stored before it
returns.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
import warnings
from dataclasses import dataclass
from email.parser import BytesHeaderParser

from PIL import Image, UnidentifiedImageError

MAX_PIXELS = 40_000_000  # per image or TIFF page: far above a 300 DPI letter scan (8.4 Mpx)
MAX_PAGES = 500
SNIFF_BYTES = 4096


class Refused(ValueError):
    """The file is not acceptable; ``str(exc)`` tells the person what to do."""

    def __init__(self, message: str, code: str):
        super().__init__(message)
        self.code = code


@dataclass(frozen=True, slots=True)
class Checked:
    content_type: str
    label: str  # "PDF", "PNG image", … as people read it
    size: int
    sha256: str
    pages: int | None = None


# --- what the first bytes say ----------------------------------------------------------------

EXECUTABLES = (
    (b"MZ", "a Windows program"),
    (b"\x7fELF", "a Linux program"),
    (b"\xfe\xed\xfa\xce", "a macOS program"),
    (b"\xfe\xed\xfa\xcf", "a macOS program"),
    (b"\xce\xfa\xed\xfe", "a macOS program"),
    (b"\xcf\xfa\xed\xfe", "a macOS program"),
    (b"\xca\xfe\xba\xbe", "a program (Java class or macOS)"),
    (b"#!", "a script"),
    (b"\x00asm", "a WebAssembly program"),
    (b"dex\n", "an Android program"),
)
ARCHIVES = (
    (b"PK\x03\x04", "a ZIP archive (or an Office document)"),
    (b"PK\x05\x06", "an empty ZIP archive"),
    (b"PK\x07\x08", "a ZIP archive"),
    (b"\x1f\x8b", "a gzip archive"),
    (b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive"),
    (b"Rar!\x1a\x07", "a RAR archive"),
    (b"BZh", "a bzip2 archive"),
    (b"\xfd7zXZ\x00", "an XZ archive"),
    (b"\x28\xb5\x2f\xfd", "a Zstandard archive"),
    (b"MSCF", "a Windows cabinet archive"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "an old Office document or installer"),
    (b"xar!", "a macOS installer archive"),
    (b"\x04\x22\x4d\x18", "an LZ4 archive"),
)
IMAGES = (
    (b"\x89PNG\r\n\x1a\n", "image/png", "PNG", "PNG image"),
    (b"\xff\xd8\xff", "image/jpeg", "JPEG", "JPEG image"),
    (b"II*\x00", "image/tiff", "TIFF", "TIFF image"),
    (b"MM\x00*", "image/tiff", "TIFF", "TIFF image"),
)
WEB_PAGE_STARTS = (b"<!doctype html", b"<html", b"<svg", b"<?xml", b"<script", b"<head", b"<body")
EMAIL_HEADERS = {
    "from",
    "to",
    "subject",
    "date",
    "message-id",
    "received",
    "return-path",
    "mime-version",
    "delivered-to",
    "cc",
    "reply-to",
    "x-mailer",
}
OTHER_FORMATS = (
    (b"GIF8", "a GIF image"),
    (b"RIFF", "a media file (WebP, WAV or AVI)"),
    (b"{\\rtf", "an RTF document"),
    (b"\x00\x00\x00", "a video or HEIC photo"),
    (b"BM", "a BMP image"),
)

ACCEPTED = "PDF, PNG, JPEG, TIFF, plain text, CSV or e-mail (.eml)"


def megabytes(size: int) -> str:
    """A size as people read it: "23.4 MB", "850 KB"."""
    if size < 1_000_000:
        return f"{max(size / 1000, 0.1):,.0f} KB" if size >= 1000 else f"{size} bytes"
    return f"{size / 1_000_000:,.1f} MB"


def check(data: bytes, *, max_bytes: int, size: int | None = None) -> Checked:
    """The verdict on one file's bytes: ``Checked`` or ``Refused`` (never anything else).
    ``size`` is the file's full size when only its first ``max_bytes + 1`` bytes were read."""
    size = len(data) if size is None else max(size, len(data))
    if size == 0:
        raise Refused("This file is empty. Choose the file again and re-upload it.", "empty")
    if size > max_bytes:
        raise Refused(
            f"This file is {megabytes(size)}; the limit is {megabytes(max_bytes)} per file. "
            "Split the PDF, or scan at a lower resolution (300 DPI is plenty), and upload again.",
            "too_large",
        )
    head = data[:SNIFF_BYTES]
    _refuse_programs_and_archives(head)
    digest = hashlib.sha256(data).hexdigest()
    if head.startswith(b"%PDF-"):
        return Checked("application/pdf", "PDF", size, digest, _pdf_pages(data))
    for magic, content_type, pil_format, label in IMAGES:
        if head.startswith(magic):
            pages = _image_pages(data, pil_format, label)
            return Checked(content_type, label, size, digest, pages if pages > 1 else None)
    content_type, label = _text_type(data)
    return Checked(content_type, label, size, digest)


def _refuse_programs_and_archives(head: bytes) -> None:
    for magic, what in EXECUTABLES:
        if head.startswith(magic):
            raise Refused(
                f"This file is {what}, whatever its name says. Programs are never accepted as "
                f"evidence: upload the document itself as {ACCEPTED}.",
                "executable",
            )
    for magic, what in ARCHIVES:
        if head.startswith(magic):
            raise Refused(
                f"This file is {what}, whatever its name says. Archives are not accepted: "
                "unpack it and upload each document on its own (Office documents: save as PDF).",
                "archive",
            )
    if len(head) > 262 and head[257:262] == b"ustar":
        raise Refused(
            "This file is a tar archive, whatever its name says. Unpack it and upload each "
            "document on its own.",
            "archive",
        )


# --- PDF --------------------------------------------------------------------------------------


def _damaged_pdf() -> Refused:
    return Refused(
        "This PDF is damaged or incomplete and cannot be opened. Export or scan it again from "
        "the original and upload the new copy.",
        "pdf_malformed",
    )


def _pdf_pages(data: bytes) -> int:
    from pypdf import PdfReader  # loaded on the first PDF, not by every command's start
    from pypdf.errors import PyPdfError

    if b"%%EOF" not in data[-2048:]:
        raise _damaged_pdf()  # cut short in transfer: the end-of-file marker is missing
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            reader = PdfReader(io.BytesIO(data), strict=False)
            if reader.is_encrypted:
                raise Refused(
                    "This PDF is password-protected or encrypted, so it cannot go into the "
                    "bundle. Open it, save an unprotected copy (Print → Save as PDF) and upload "
                    "that.",
                    "pdf_encrypted",
                )
            pages = len(reader.pages)
            for page in reader.pages:
                page.mediabox  # noqa: B018  (every page must parse)
            active = _active_content(reader)
    except Refused:
        raise
    except (PyPdfError, ValueError, KeyError, TypeError, AttributeError, OSError, RecursionError):
        raise _damaged_pdf() from None
    if pages == 0:
        raise Refused("This PDF has no pages. Upload the document with its pages.", "pdf_empty")
    if pages > MAX_PAGES:
        raise Refused(
            f"This PDF has {pages} pages; at most {MAX_PAGES} are accepted. Upload only the pages "
            "that prove the point.",
            "pdf_too_many_pages",
        )
    if active:
        raise Refused(
            f"This PDF contains {active}, which is not allowed in evidence. Print it to a new "
            "PDF (Print → Save as PDF) and upload that copy.",
            "pdf_active_content",
        )
    return pages


def _active_content(reader) -> str:
    """Scripts, launch actions or attached files in the document catalogue, in words."""
    root = reader.trailer.get("/Root")
    root = root.get_object() if root is not None else {}
    names = root.get("/Names")
    names = names.get_object() if names is not None else {}
    if "/JavaScript" in names or "/JS" in str(root.get("/OpenAction", "")):
        return "scripts"
    if "/EmbeddedFiles" in names:
        return "attached files"
    if "/AA" in root:
        return "automatic actions"
    return ""


# --- images -----------------------------------------------------------------------------------


def _bomb(pixels: int, label: str, size: tuple[int, int] | None = None) -> Refused:
    shape = f"{size[0]:,} × {size[1]:,} pixels, " if size else ""
    return Refused(
        f"This {label} would open as {shape}{pixels / 1_000_000:,.0f} megapixels, more than "
        f"the {MAX_PIXELS // 1_000_000} megapixel limit (a decompression bomb, or a scan at far "
        "too high a resolution). Export or scan it at a lower resolution (300 DPI is plenty) "
        "and upload again.",
        "image_bomb",
    )


def _damaged_image(label: str) -> Refused:
    return Refused(
        f"This {label} is cut short or damaged and cannot be opened in full. Save or export it "
        "again from the original and upload the new copy.",
        "image_damaged",
    )


def _image_pages(data: bytes, pil_format: str, label: str) -> int:
    """Open, check the size before decoding, then decode every frame fully."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data), formats=[pil_format]) as image:
                frames = getattr(image, "n_frames", 1)
                if frames > MAX_PAGES:
                    raise Refused(
                        f"This {label} has {frames} pages; at most {MAX_PAGES} are accepted.",
                        "image_too_many_pages",
                    )
                for frame in range(frames):
                    image.seek(frame)
                    width, height = image.size
                    if width * height > MAX_PIXELS:
                        raise _bomb(width * height, label, (width, height))
                    image.load()
    except Refused:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        found = re.search(r"\((\d+) pixels\)", str(exc))
        raise _bomb(int(found.group(1)) if found else MAX_PIXELS * 10, label) from None
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, EOFError, IndexError):
        raise _damaged_image(label) from None
    return frames


# --- text, CSV, e-mail ---------------------------------------------------------------------------


def _decode(data: bytes) -> str | None:
    """The text, if this is text: UTF-8 (with or without BOM, or UTF-16 with BOM), else a
    Windows-1252 file with no control characters. None for binary data."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            return None
    if b"\x00" in data:
        return None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            text = data.decode("cp1252")
        except UnicodeDecodeError:
            return None
    allowed = {"\t", "\n", "\r", "\f"}
    sample = text[:SNIFF_BYTES]
    if any(ord(ch) < 32 and ch not in allowed for ch in sample):
        return None
    return text


def _text_type(data: bytes) -> tuple[str, str]:
    text = _decode(data)
    if text is None:
        for magic, what in OTHER_FORMATS:
            if data.startswith(magic):
                raise Refused(
                    f"This file is {what}, which is not accepted. Convert it to {ACCEPTED}.",
                    "unsupported",
                )
        raise Refused(
            f"This file's format is not one we accept. Upload {ACCEPTED}; documents from Word "
            "or Excel: save as PDF first.",
            "unsupported",
        )
    start = text.lstrip()[:64].lower().encode()
    if start.startswith(WEB_PAGE_STARTS):
        raise Refused(
            "This file is a web page, SVG or XML document, which can carry scripts. Open it and "
            "print it to PDF, then upload the PDF.",
            "web_page",
        )
    if _is_email(data):
        return "message/rfc822", "E-mail"
    if _is_csv(text):
        return "text/csv", "CSV"
    return "text/plain", "Text"


def _is_email(data: bytes) -> bool:
    headers = BytesHeaderParser().parsebytes(data[: SNIFF_BYTES * 4])
    names = {name.lower() for name in headers}
    return "from" in names and len(names & EMAIL_HEADERS) >= 3


def _is_csv(text: str) -> bool:
    lines = [line for line in text[:SNIFF_BYTES].splitlines() if line.strip()][:20]
    if len(lines) < 2:
        return False
    try:
        dialect = csv.Sniffer().sniff("\n".join(lines), delimiters=",;\t|")
    except csv.Error:
        return False
    widths = {len(row) for row in csv.reader(lines, dialect)}
    return len(widths) == 1 and widths.pop() >= 2
