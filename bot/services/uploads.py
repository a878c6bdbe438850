"""Accepting an uploaded document: its content is checked (size, and what it is by parsing
it, whatever it claims) and stored in its uploader's folder."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError

from bot.rules import documents, validators
from bot.rules.models import Document
from bot.telegram_html import MAX_DOWNLOAD
from storage.protocols import DocumentStore


class Uploads:
    """Turns downloaded bytes into a stored ``Document`` or refuses them."""

    def __init__(self, files: DocumentStore) -> None:
        self._files = files

    def accept(
        self,
        data: bytes,
        *,
        owner: int,
        file_id: str,
        file_unique_id: str,
        file_name: str | None,
    ) -> Document:
        """Store the bytes for user ``owner``; ``validators.Invalid`` when they are too big
        or not a JPEG or PNG that decodes or a PDF that opens. CPU-bound (an image is
        decoded): callers run it in a worker thread."""
        if len(data) > MAX_DOWNLOAD:
            raise validators.Invalid("document.too_big")
        mime = documents.identify(data)  # parses it
        sha256, stored_as = self._files.put(data, documents.EXTENSIONS[mime], owner)
        return Document(
            file_id=file_id,
            file_unique_id=file_unique_id,
            file_name=(file_name or "")[:255] or None,
            mime_type=mime,
            size=len(data),
            sha256=sha256,
            stored_as=stored_as,
        )

    def copy(self, document: Mapping[str, Any], *, owner: int) -> Document:
        """A document of another registration of user ``owner``, checked again by its
        content with today's rules and stored for a new registration of theirs (a copy in
        their own folder, so deleting either registration keeps the other's file: a
        deletion removes only the files no registration refers to); ``validators.Invalid``
        when it cannot be read or passes no more. CPU-bound, as ``accept``."""
        try:
            old = Document.model_validate(document)
            data = self._files.read(old.stored_as)
        except (ValidationError, OSError, ValueError):
            raise validators.Invalid("document.unreadable") from None
        return self.accept(
            data,
            owner=owner,
            file_id=old.file_id,
            file_unique_id=old.file_unique_id,
            file_name=old.file_name,
        )

    def read(self, stored_as: str) -> bytes:
        """The checked copy of an accepted document (``Document.stored_as``)."""
        return self._files.read(stored_as)
