"""What an uploaded document may be: JPEG, PNG or PDF, at most the Bot API's 20 MB.

The type is read from the file's first bytes, never from its name or declared MIME type.
"""

from __future__ import annotations

MAX_BYTES = 20 * 1024 * 1024  # bots can download at most 20 MB through getFile

_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"%PDF-", "application/pdf"),
)

EXTENSIONS = {"image/jpeg": "jpg", "image/png": "png", "application/pdf": "pdf"}


def sniff(data: bytes) -> str | None:
    """The MIME type of an accepted document, or None when it is none of them."""
    for signature, mime in _SIGNATURES:
        if data.startswith(signature):
            return mime
    return None


def declared_ok(mime_type: str | None) -> bool:
    """Whether a declared MIME type (before downloading) could be an accepted one."""
    return mime_type is None or mime_type in EXTENSIONS
