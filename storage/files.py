"""Uploaded documents, stored by content under ``DATA_DIR/files``.

Names come from the SHA-256 of the content, never from the user's file name, so nothing a
user sends can choose a path.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from storage.atomic import write_bytes_atomic


class FileStore:
    """Content-addressed files: ``files/<first two hex>/<sha256>.<ext>``."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.root = data_dir / "files"

    def put(self, data: bytes, extension: str) -> tuple[str, str]:
        """Store bytes durably; returns (sha256, path relative to DATA_DIR)."""
        if not extension.isalnum():
            raise ValueError("extension must be alphanumeric")
        digest = hashlib.sha256(data).hexdigest()
        relative = Path("files") / digest[:2] / f"{digest}.{extension}"
        target = self.data_dir / relative
        if not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            write_bytes_atomic(target, data)
        return digest, relative.as_posix()

    def read(self, relative: str) -> bytes:
        """The bytes of a stored file (the path must stay inside ``files/``)."""
        target = (self.data_dir / relative).resolve()
        if not target.is_relative_to(self.root.resolve()):
            raise ValueError("path outside the file store")
        return target.read_bytes()
