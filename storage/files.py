"""Uploaded documents, stored by content in their uploader's folder under ``DATA_DIR/files``.

Names come from the SHA-256 of the content, never from the user's file name, so nothing a
user sends can choose a path. Each user's files have a folder of their own, so deleting a
user's drafts can delete the files they uploaded without looking at anybody else's data.
Files stored before that (``files/<first two hex>/<sha256>.<ext>``, shared by content) are
still read.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Collection
from pathlib import Path

from storage.atomic import is_temp, remove_durable, write_bytes_atomic


def document_name(data: bytes, extension: str, owner: int) -> tuple[str, str]:
    """(sha256, ``files/<uid % 256 as 2 hex>/<uid>/<sha256>.<ext>``): the one naming rule of
    every ``DocumentStore``; ``ValueError`` for a bad extension or user id."""
    if not extension.isalnum():
        raise ValueError("extension must be alphanumeric")
    if owner <= 0:
        raise ValueError(f"invalid user id {owner}")
    digest = hashlib.sha256(data).hexdigest()
    return digest, f"{owner_folder(owner)}/{digest}.{extension}"


def owner_folder(owner: int) -> str:
    """Where user ``owner``'s documents are named: ``files/<uid % 256 as 2 hex>/<uid>``."""
    return f"files/{owner % 256:02x}/{owner}"


class FileStore:
    """Content-addressed files: ``files/<uid % 256 as 2 hex>/<uid>/<sha256>.<ext>``."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.root = data_dir / "files"

    def _folder(self, owner: int) -> Path:
        return Path(owner_folder(owner))

    def put(self, data: bytes, extension: str, owner: int) -> tuple[str, str]:
        """Store bytes durably for user ``owner``; (sha256, path relative to DATA_DIR)."""
        digest, relative = document_name(data, extension, owner)
        target = self.data_dir / relative
        if not target.exists():
            write_bytes_atomic(target, data)
        return digest, relative

    def read(self, relative: str) -> bytes:
        """The bytes of a stored file (the path must stay inside ``files/``)."""
        target = (self.data_dir / relative).resolve()
        if not target.is_relative_to(self.root.resolve()):
            raise ValueError("path outside the file store")
        return target.read_bytes()

    def sweep(self, owner: int, keep: Collection[str]) -> int:
        """Delete the files of user ``owner`` that are not in ``keep`` (paths relative to
        DATA_DIR, as ``put`` returns them); how many were deleted."""
        folder = self.data_dir / self._folder(owner)
        try:
            entries = list(os.scandir(folder))
        except FileNotFoundError:
            return 0
        removed = 0
        for entry in entries:
            relative = (self._folder(owner) / entry.name).as_posix()
            if entry.is_file() and not is_temp(entry.name) and relative not in keep:
                removed += remove_durable(Path(entry.path))
        return removed
