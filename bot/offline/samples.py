"""Small real documents for people in tests, benchmarks and the console to upload: a JPEG
and a PNG that decode (640×480) and a one-page PDF that opens. The bot parses uploads, so a
file that merely starts like one is refused."""

from __future__ import annotations

import io
from functools import cache

from PIL import Image
from pypdf import PdfWriter

SIZE = (640, 480)


def _image(kind: str, colour: tuple[int, int, int]) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", SIZE, colour).save(out, kind)
    return out.getvalue()


@cache
def jpeg() -> bytes:
    """A 640×480 JPEG (as a phone photo of an ID card would be, only smaller)."""
    return _image("JPEG", (200, 180, 150))


@cache
def png() -> bytes:
    """A 640×480 PNG."""
    return _image("PNG", (150, 180, 200))


@cache
def pdf() -> bytes:
    """A one-page A4 PDF."""
    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()
