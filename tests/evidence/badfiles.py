"""Real bad files, made in code: what people (and attackers) actually upload."""

import io
import struct
import sys
import zipfile
import zlib
from pathlib import Path

from disputes.evidence import samples


def renamed_executable() -> bytes:
    """The Python interpreter running the tests: a real program, to be named invoice.pdf."""
    return Path(sys.executable).resolve().read_bytes()[:200_000]


def windows_program() -> bytes:
    """A minimal PE program header (DOS stub + PE signature), as a renamed .exe starts."""
    dos = bytearray(b"MZ" + b"\x90\x00" + b"\x00" * 60)
    struct.pack_into("<I", dos, 0x3C, 64)
    return bytes(dos) + b"PE\x00\x00" + b"\x4c\x01" + b"\x00" * 200


def encrypted_pdf() -> bytes:
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter()
    writer.append(PdfReader(io.BytesIO(samples.pdf_document("Invoice", ["Total 99.00"]))))
    writer.encrypt(user_password="secret", owner_password="owner")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_bomb(width=60_000, height=60_000) -> bytes:
    """A PNG of a few hundred bytes that claims 3.6 gigapixels: its rows of zeros compress
    to almost nothing (the classic decompression bomb)."""
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    compressor = zlib.compressobj(9)
    row = b"\x00" + b"\x00" * (width // 8 + 1)
    data = b"".join(compressor.compress(row) for _ in range(200)) + compressor.flush()
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", header)
        + _png_chunk(b"IDAT", data)
        + _png_chunk(b"IEND", b"")
    )


def large_png_bomb() -> bytes:
    """Within Pillow's own limit but over ours: 8,000 × 8,000 (64 megapixels)."""
    return png_bomb(8_000, 8_000)


def truncated_jpeg() -> bytes:
    photo = samples.png_receipt(["Signed delivery slip"] * 12, size=(900, 700), fmt="JPEG")
    return photo[: len(photo) // 2]


def zip_named_pdf() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("invoice.pdf", samples.pdf_document("Invoice", ["Total 99.00"]))
    return out.getvalue()


def truncated_pdf() -> bytes:
    document = samples.pdf_document("Proof of delivery", ["Delivered"] * 60)
    return document[: len(document) * 2 // 3]
