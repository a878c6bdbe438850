"""A throwaway PostgreSQL cluster for tests and benchmarks: ``initdb`` into a temp folder,
``pg_ctl start`` listening on a Unix socket inside it only, removed on ``stop``.

The server binaries come from PATH, or from Debian's ``/usr/lib/postgresql/<version>/bin``
(where ``apt-get install postgresql`` puts them). The server refuses to run as root: as root,
the cluster runs as the unprivileged user ``pgtest`` (created once with ``useradd -r``).
"""

from __future__ import annotations

import contextlib
import itertools
import os
import pwd
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import psycopg
from psycopg import sql
from psycopg.conninfo import make_conninfo

SERVER_USER = "pgtest"
_DEBIAN_BIN = Path("/usr/lib/postgresql")
_DROP = sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)")


class NoServer(RuntimeError):
    """No PostgreSQL server binaries on this machine, or the cluster would not start."""


def server_bin_dir() -> Path | None:
    """The folder holding ``initdb`` and ``pg_ctl``: PATH first, then Debian's newest."""
    found = shutil.which("initdb")
    if found and shutil.which("pg_ctl"):
        return Path(found).resolve().parent

    def version(path: Path) -> int:
        digits = re.match(r"\d+", path.name)
        return int(digits.group()) if digits else 0

    for candidate in sorted(_DEBIAN_BIN.glob("*"), key=version, reverse=True):
        if (candidate / "bin" / "initdb").exists() and (candidate / "bin" / "pg_ctl").exists():
            return candidate / "bin"
    return None


def _server_user() -> pwd.struct_passwd | None:
    """The user the server runs as: ``pgtest`` when we are root (created if missing)."""
    if os.geteuid() != 0:
        return None
    try:
        return pwd.getpwnam(SERVER_USER)
    except KeyError:
        subprocess.run(
            [
                "useradd",
                "--system",
                "--no-create-home",
                "--shell",
                "/usr/sbin/nologin",
                SERVER_USER,
            ],
            check=True,
            capture_output=True,
        )
        return pwd.getpwnam(SERVER_USER)


class ThrowawayCluster:
    """One PostgreSQL cluster in a temp folder; ``database()`` hands out fresh databases."""

    def __init__(self, *, durable: bool = False) -> None:
        """``durable=False`` turns fsync off (tests: the machine never crashes under them);
        benchmarks ask for ``durable=True``, the server's defaults."""
        self.durable = durable
        self.folder: Path | None = None
        self.conninfo = ""
        self._names = itertools.count(1)

    def start(self) -> str:
        """Start the cluster; the conninfo of its ``postgres`` database."""
        bin_dir = server_bin_dir()
        if bin_dir is None:
            raise NoServer(
                "no PostgreSQL server on this machine (initdb/pg_ctl neither on PATH nor in "
                f"{_DEBIAN_BIN}/*/bin): install the Debian package postgresql"
            )
        user = _server_user()
        self.folder = Path(tempfile.mkdtemp(prefix="pg-throwaway-"))
        data = self.folder / "data"
        if user is not None:
            os.chown(self.folder, user.pw_uid, user.pw_gid)
        options = [f"-k {self.folder}", "-p 5432", "-c listen_addresses=''"]
        if not self.durable:
            options += ["-c fsync=off", "-c synchronous_commit=off", "-c full_page_writes=off"]
        try:
            _run(user, bin_dir / "initdb", "-D", data, "-U", "postgres", "--auth=trust",
                 "--encoding=UTF8", "--locale=C", "--no-sync")  # fmt: skip
            _run(user, bin_dir / "pg_ctl", "-D", data, "-l", self.folder / "server.log", "-w",
                 "-o", " ".join(options), "start")  # fmt: skip
        except (subprocess.CalledProcessError, OSError) as exc:
            log = self.folder / "server.log"
            tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
            output = getattr(exc, "stderr", b"") or b""
            self.stop()
            raise NoServer(
                f"PostgreSQL would not start: {exc}\n{output.decode(errors='replace')}\n{tail}"
            ) from exc
        self.conninfo = make_conninfo(
            host=str(self.folder), port="5432", user="postgres", dbname="postgres"
        )
        return self.conninfo

    def database(self) -> str:
        """A new, empty database in the cluster; its conninfo."""
        return create_database(self.conninfo, f"throwaway_{next(self._names)}")

    def stop(self) -> None:
        """Stop the server at once and remove every file (idempotent)."""
        if self.folder is None:
            return
        folder, self.folder = self.folder, None
        data = folder / "data"
        bin_dir = server_bin_dir()
        if (data / "postmaster.pid").exists() and bin_dir is not None:
            with contextlib.suppress(subprocess.CalledProcessError, OSError):
                _run(
                    _server_user(), bin_dir / "pg_ctl", "-D", data, "-m", "immediate", "-w", "stop"
                )
        shutil.rmtree(folder, ignore_errors=True)


def _run(user: pwd.struct_passwd | None, *command: str | Path) -> None:
    """Run a server binary, as ``user`` when given (we are root)."""
    args = [str(part) for part in command]
    if user is not None:
        args = ["runuser", "-u", user.pw_name, "--", *args]
    subprocess.run(args, check=True, capture_output=True, timeout=120)


def create_database(admin_conninfo: str, name: str) -> str:
    """Create database ``name`` (dropping an older one of that name) through
    ``admin_conninfo``; the conninfo that reaches it."""
    with psycopg.connect(admin_conninfo, autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return make_conninfo(admin_conninfo, dbname=name)


def drop_database(admin_conninfo: str, name: str) -> None:
    """Drop database ``name``, closing whatever connections are left on it."""
    with psycopg.connect(admin_conninfo, autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )
