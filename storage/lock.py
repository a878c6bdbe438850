"""One bot process per data folder: TinyDB files are safe from one process only."""

from __future__ import annotations

import contextlib
import fcntl
import os
from pathlib import Path
from types import TracebackType

LOCK_NAME = ".lock"


class DataDirLocked(RuntimeError):
    """Another process (or another open in this process) holds the data folder."""


class DataDirLock:
    """An exclusive, non-blocking ``flock`` on ``<data_dir>/.lock``, held until ``close``.

    The kernel drops the lock when the process dies (even on ``kill -9``), so a crash never
    leaves a stale lock behind. flock locks belong to the open file description, so a second
    ``DataDirLock`` on the same folder in the same process is refused too.
    """

    def __init__(self, data_dir: Path) -> None:
        """Take the lock or raise ``DataDirLocked``; ``data_dir`` must exist."""
        self.data_dir = Path(data_dir)
        self.path = self.data_dir / LOCK_NAME
        # O_CLOEXEC (Python's default) keeps child processes from inheriting the lock.
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _read_pid(fd)
            os.close(fd)
            by = f" (pid {holder})" if holder else ""
            raise DataDirLocked(
                f"data directory {self.data_dir} is locked: another bot process{by} "
                "is using it; stop it or choose another DATA_DIR"
            ) from None
        except BaseException:
            os.close(fd)
            raise
        # The pid is for the error message of the next process only; the lock is the flock.
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        self._fd: int | None = fd

    @property
    def held(self) -> bool:
        """True until ``close``."""
        return self._fd is not None

    def close(self) -> None:
        """Release the lock (idempotent)."""
        if self._fd is None:
            return
        fd, self._fd = self._fd, None
        with contextlib.suppress(OSError):
            fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)

    def __enter__(self) -> DataDirLock:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def _read_pid(fd: int) -> int | None:
    with contextlib.suppress(OSError, ValueError):
        return int(os.pread(fd, 32, 0).decode().strip())
    return None
