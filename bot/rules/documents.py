"""What an uploaded document may be: a JPEG or PNG image that decodes with sane dimensions,
or a PDF that opens and has pages; at most the Bot API's 20 MB.

The type is read from the file's content, never from its name or declared MIME type, and
the content is then parsed by a maintained library (Pillow, pypdf): a file that only starts
like a PDF (``%PDF-`` followed by HTML) is refused. Files are shown and forwarded under a
name made from the field and the detected type (``licence.pdf``, ``id-front.jpg``), never
the sender's (``licence.pdf.exe``).
"""

from __future__ import annotations

import io
import warnings

from PIL import Image
from pypdf import PdfReader

from bot.rules.validators import Invalid

#: A photo of an ID card or a licence narrower than this cannot be read by a reviewer.
MIN_SIDE = 200
#: Larger than any phone camera; keeps a decompression bomb from being decoded at all.
MAX_SIDE = 12_000
MAX_PIXELS = 50_000_000

_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"%PDF-", "application/pdf"),
)
_FORMATS = {"image/jpeg": "JPEG", "image/png": "PNG"}

EXTENSIONS = {"image/jpeg": "jpg", "image/png": "png", "application/pdf": "pdf"}


def sniff(data: bytes) -> str | None:
    """The MIME type the content claims to be (by its first bytes), or None."""
    for signature, mime in _SIGNATURES:
        if data.startswith(signature):
            return mime
    return None


def declared_ok(mime_type: str | None) -> bool:
    """Whether a declared MIME type (before downloading) could be an accepted one."""
    return mime_type is None or mime_type in EXTENSIONS


def identify(data: bytes) -> str:
    """The MIME type of an accepted document, after parsing it; raises ``Invalid``.

    CPU-bound (an image is decoded): call it off the event loop."""
    mime = sniff(data)
    if mime is None:
        # Its declared type passed (a ".pdf", an image): the content is what fails, so the
        # applicant is told it could not be read, not that the type is wrong.
        raise Invalid("document.unreadable")
    # Hostile files make parsers warn (and tests turn warnings into errors): the verdict is
    # ours to give, from what the parse finds.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if mime == "application/pdf":
            _check_pdf(data)
        else:
            _check_image(data, _FORMATS[mime])
    return mime


def _check_pdf(data: bytes) -> None:
    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted:
            raise Invalid("document.encrypted")
        pages = len(reader.pages)
    except Invalid:
        raise
    except Exception:  # any parse failure of untrusted input means "not a PDF we can use"
        raise Invalid("document.unreadable") from None
    if pages < 1:
        raise Invalid("document.unreadable")


def _check_image(data: bytes, expected_format: str) -> None:
    try:
        with Image.open(io.BytesIO(data)) as image:
            if image.format != expected_format:
                raise Invalid("document.unreadable")
            width, height = image.size
            if min(width, height) < MIN_SIDE:
                raise Invalid("document.image_small", min=MIN_SIDE)
            if max(width, height) > MAX_SIDE or width * height > MAX_PIXELS:
                raise Invalid("document.image_large", max=MAX_SIDE)
            # A JPEG is decoded at 1/8 scale: enough to find a broken or truncated stream.
            image.draft("RGB", (max(width // 8, 1), max(height // 8, 1)))
            image.load()
    except Invalid:
        raise
    except Exception:  # truncated, corrupt, or not the format its first bytes claim
        raise Invalid("document.unreadable") from None


def file_name(field_key: str, mime_type: str) -> str:
    """The name a document is shown and forwarded under: the field and the detected type
    (``licence.pdf``, ``id-front.jpg``)."""
    stem = field_key.removeprefix("legal_").replace("_", "-")
    return f"{stem}.{EXTENSIONS.get(mime_type, 'bin')}"
