"""Small, real evidence files made in code: the demo data and the tests upload these.

``pdf_document`` writes a valid one-page-per-chunk PDF with text (no dependency beyond the
standard library); ``png_receipt`` draws a receipt-like image with Pillow; ``csv_log`` and
``eml_message`` are text formats the upload accepts.
"""

import io
from datetime import datetime

LINES_PER_PAGE = 40


def _escape(text: str) -> str:
    text = text.encode("latin-1", "replace").decode("latin-1")
    return text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def _page_stream(title: str, lines: list[str]) -> bytes:
    ops = ["BT", "/F1 16 Tf", "56 760 Td", f"({_escape(title)}) Tj", "/F1 10 Tf", "0 -28 Td"]
    for line in lines:
        ops += [f"({_escape(line)}) Tj", "0 -15 Td"]
    ops.append("ET")
    return "\n".join(ops).encode("latin-1")


def pdf_document(title: str, lines: list[str]) -> bytes:
    """A real PDF (US Letter) with ``title`` and ``lines`` of text, as many pages as needed."""
    chunks = [lines[i : i + LINES_PER_PAGE] for i in range(0, max(len(lines), 1), LINES_PER_PAGE)]
    objects: list[bytes] = []
    page_ids = []
    font_id = 3
    objects.append(b"<< /Type /Catalog /Pages 2 0 R >>")
    objects.append(b"")  # pages, filled below
    objects.append(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
    for chunk in chunks:
        stream = _page_stream(title, chunk)
        objects.append(b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream")
        content_id = len(objects)
        objects.append(
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 "
            + b"%d 0 R >> >> /Contents %d 0 R >>" % (font_id, content_id)
        )
        page_ids.append(len(objects))
    kids = " ".join(f"{i} 0 R" for i in page_ids).encode()
    objects[1] = b"<< /Type /Pages /Kids [" + kids + b"] /Count %d >>" % len(page_ids)
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % number + body + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    for offset in offsets:
        out.write(b"%010d 00000 n \n" % offset)
    out.write(
        b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    )
    return out.getvalue()


def png_receipt(lines: list[str], *, size=(480, 360), fmt: str = "PNG") -> bytes:
    """A receipt-like image with ``lines`` of text (PNG, JPEG or TIFF)."""
    from PIL import Image, ImageDraw

    image = Image.new("RGB", size, "white")
    draw = ImageDraw.Draw(image)
    draw.rectangle([8, 8, size[0] - 9, size[1] - 9], outline=(40, 60, 90), width=2)
    for i, line in enumerate(lines):
        draw.text((24, 24 + i * 20), line, fill=(20, 20, 20))
    out = io.BytesIO()
    image.save(out, fmt)
    return out.getvalue()


def csv_log(rows: list[list[str]]) -> bytes:
    import csv

    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    return out.getvalue().encode()


def eml_message(*, sender: str, to: str, subject: str, body: str, sent: datetime) -> bytes:
    from email.message import EmailMessage
    from email.utils import format_datetime

    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = format_datetime(sent)
    message["Message-ID"] = f"<{abs(hash((sender, subject, sent)))}@mail.example>"
    message.set_content(body)
    return bytes(message)
