"""Crash-safe JSON files: write to a temp file, fsync, rename over the target, fsync the folder.

A reader (or a process restarted after ``kill -9``) sees either the old file or the new one,
never a mix: ``os.replace`` is atomic on POSIX, and the fsyncs make the rename survive a power
cut. TinyDB's stock ``JSONStorage`` rewrites in place and can be left unparseable.
"""

from __future__ import annotations

import contextlib
import logging
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
from tinydb import Storage

#: Temp files are hidden siblings ``.<name>.<random>.tmp``; scans skip them, ``clean_temp``
#: removes the leftovers of a crash.
TEMP_SUFFIX = ".tmp"

_MISSING: Any = object()

log = logging.getLogger(__name__)


def dumps(obj: Any) -> bytes:
    """Serialise ``obj`` the one way every file is written: compact UTF-8 JSON.

    The same bytes as ``json.dumps(obj, ensure_ascii=False, separators=(",", ":"))``, made by
    orjson: parsing and writing JSON was most of the storage's CPU time (``bench/flow.py
    --profile``). Keys must be strings (TypeError otherwise); NaN and infinities would become
    ``null``: nothing stored holds floats, and the persistence refuses them before they get here.
    """
    # Insertion order is kept (no sorted keys): TinyDB reads documents back in file order.
    return orjson.dumps(obj)


def fsync_dir(directory: Path) -> None:
    """Make a rename, creation or removal inside ``directory`` durable."""
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_dir_after_change(directory: Path) -> None:
    """``fsync_dir`` once a rename, creation or removal in ``directory`` has happened.

    That change is past the point of no return: every reader already sees it. A failing
    flush must not be reported as a failed change, or callers would undo what stands (a
    released e-mail reservation while the answer holding it is stored). It is logged for
    the operators instead: the change may not survive a power cut, and the disk needs them.
    """
    try:
        fsync_dir(directory)
    except OSError:
        log.error(
            "flushing folder %s failed after a change in it; the change is applied but may "
            "not survive a power cut: check the disk",
            directory,
            exc_info=True,
        )


def make_dirs(directory: Path) -> None:
    """Create ``directory`` and missing parents, fsyncing each parent that gained an entry."""
    missing: list[Path] = []
    current = directory
    while not current.exists():
        missing.append(current)
        current = current.parent
    for path in reversed(missing):
        with contextlib.suppress(FileExistsError):
            path.mkdir()
        fsync_dir(path.parent)


def write_bytes_atomic(path: Path, data: bytes) -> None:
    """Replace ``path`` with ``data`` atomically; on any error the old file is left intact."""
    # os functions rather than Path methods: building Path objects was a tenth of the time
    # of a handled update (bench/flow.py --profile).
    directory = path.parent
    try:
        fd, tmp_name = tempfile.mkstemp(dir=directory, prefix=f".{path.name}.", suffix=TEMP_SUFFIX)
    except FileNotFoundError:
        make_dirs(directory)
        fd, tmp_name = tempfile.mkstemp(dir=directory, prefix=f".{path.name}.", suffix=TEMP_SUFFIX)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp_name, path)  # noqa: PTH105 - see above
    except BaseException:
        # ENOSPC, EIO, KeyboardInterrupt...: drop the partial temp file, keep the old target.
        with contextlib.suppress(OSError):
            os.unlink(tmp_name)  # noqa: PTH108 - see above
        raise
    fsync_dir_after_change(directory)


def write_json_atomic(path: Path, obj: Any) -> None:
    """Write ``obj`` as JSON to ``path`` atomically and durably (see the module docstring)."""
    # Serialise first: a TypeError must not leave a temp file behind.
    write_bytes_atomic(Path(path), dumps(obj))


def read_json(path: Path, default: Any = _MISSING) -> Any:
    """Parse the JSON file at ``path``; return ``default`` if given and the file is missing."""
    try:
        with open(path, "rb") as handle:  # noqa: PTH123 - no Path object per read
            data = handle.read()
    except FileNotFoundError:
        if default is _MISSING:
            raise
        return default
    return orjson.loads(data)


def remove_durable(path: Path) -> bool:
    """Unlink ``path`` and fsync its folder; False when it did not exist."""
    try:
        os.unlink(path)  # noqa: PTH108 - no Path object per removal
    except FileNotFoundError:
        return False
    fsync_dir_after_change(Path(path).parent)
    return True


def is_temp(name: str) -> bool:
    """True for the name of a temp file left by ``write_bytes_atomic``."""
    return name.startswith(".") and name.endswith(TEMP_SUFFIX)


def clean_temp(directory: Path, recursive: bool = True) -> int:
    """Remove temp files a crash left behind under ``directory``; return how many."""
    removed = 0
    for entry in _scan(directory, recursive):
        if is_temp(entry.name):
            with contextlib.suppress(FileNotFoundError):
                Path(entry.path).unlink()
                removed += 1
    return removed


def _scan(directory: Path, recursive: bool) -> Iterator[os.DirEntry[str]]:
    try:
        entries = list(os.scandir(directory))
    except FileNotFoundError:
        return
    for entry in entries:
        if entry.is_dir(follow_symlinks=False):
            if recursive:
                yield from _scan(Path(entry.path), recursive)
        else:
            yield entry


class AtomicJSONStorage(Storage):
    """A TinyDB storage that writes through ``write_json_atomic`` (safe against ``kill -9``)."""

    def __init__(self, path: str | Path, clean_stale: bool = True) -> None:
        """Open ``path`` lazily: nothing is created until the first write."""
        super().__init__()
        self.path = Path(path)
        if clean_stale:
            # Leftovers of a crash are only ever our own temp siblings of this file.
            for stale in self.path.parent.glob(f".{self.path.name}.*{TEMP_SUFFIX}"):
                with contextlib.suppress(FileNotFoundError):
                    stale.unlink()

    def read(self) -> dict[str, dict[str, Any]] | None:
        """The whole database, or None for a missing file (TinyDB then starts empty)."""
        data: dict[str, dict[str, Any]] | None = read_json(self.path, default=None)
        return data

    def write(self, data: dict[str, dict[str, Any]]) -> None:
        """Replace the file with ``data`` atomically."""
        write_json_atomic(self.path, data)
