"""``python -m bot migrate --from-tinydb DATA_DIR``: copy a TinyDB data folder into PostgreSQL.

Everything is copied: accounts, registrations (their outbox travels inside them, and their
public numbers with them: opening the folder gave those stored before numbers theirs), audit
events, uniqueness claims, key-value entries (PTB's persistence: conversation states and
user data; FAQ, tickets, reviewers' drafts) and uploaded documents, under the same keys and
document names, so stored references stay valid. The copy is one transaction: it lands
whole or not at all.

Idempotent: what the database already holds is kept, never overwritten; a second run copies
nothing. Audit events are appended per subject after the ones the database already has, so
run it before the bot's first start on PostgreSQL (the bot must be stopped: the source
folder's lock and the database's process lock are both taken).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, LiteralString

from psycopg import sql

from storage.atomic import dumps, is_temp, read_json
from storage.postgres.store import Conn, PostgresStorage
from storage.tinydb_store import TinyDBStorage


@dataclass
class Copied:
    """One kind of record: how many the source holds, how many were new to the database,
    how many the database holds afterwards."""

    source: int = 0
    new: int = 0
    in_database: int = 0


@dataclass
class Skipped:
    """What could not be copied, with the reason (printed for the operator)."""

    what: str
    why: str


KINDS = (
    ("accounts", "accounts"),
    ("registrations", "registrations"),
    ("audit events", "audit"),
    ("uniqueness claims", "unique_claims"),
    ("key-value entries", "kv"),
    ("documents", "documents"),
)


def copy_from_tinydb(
    source: TinyDBStorage, target: PostgresStorage
) -> tuple[dict[str, Copied], list[Skipped]]:
    """Copy everything in ``source``'s folder into ``target``'s database, in one transaction."""
    data_dir = source.data_dir
    counts = {kind: Copied() for kind, _ in KINDS}
    skipped: list[Skipped] = []
    with target.connection() as conn, conn.transaction():
        audit: dict[str, list[dict[str, Any]]] = {}
        for user_file in _json_files(data_dir / "users"):
            tables = read_json(user_file, default={})
            for doc in _rows(tables, "account"):
                _insert(conn, counts["accounts"], _ACCOUNT, (doc["user_id"], _json(doc)))
            for doc in _rows(tables, "registrations"):
                pending = any(n.get("state") == "pending" for n in doc.get("outbox", []))
                columns = ("id", "user_id", "status", "created_at", "updated_at", "number")
                values = (*(doc[c] for c in columns), pending, _json(doc))
                _insert(conn, counts["registrations"], _REGISTRATION, values)
            for doc in _rows(tables, "audit"):
                audit.setdefault(doc["subject"], []).append(doc)
            for doc in _rows(tables, "ptb"):  # the user's PTB persistence entries
                kept = (doc["namespace"], doc["key"], _json(doc["value"]))
                _insert(conn, counts["key-value entries"], _KV, kept)
        for audit_file in _json_files(data_dir / "audit"):
            doc = read_json(audit_file)
            audit.setdefault(doc["subject"], []).extend(doc["events"])
        _copy_audit(conn, counts["audit events"], audit)
        for claim_file in _json_files(data_dir / "unique"):
            claim = read_json(claim_file)
            claimed = (claim["kind"], claim["value"], claim["owner"])
            _insert(conn, counts["uniqueness claims"], _CLAIM, claimed)
        for folder in _folders(data_dir / "kv"):
            if folder.name.startswith("_"):
                # A namespace whose name was not safe as a folder name is stored hashed.
                skipped.append(Skipped(f"kv/{folder.name}", "namespace name is hashed"))
                continue
            for entry_file in _json_files(folder):
                entry = read_json(entry_file)
                kept = (folder.name, entry["key"], _json(entry["value"]))
                _insert(conn, counts["key-value entries"], _KV, kept)
        for path in _files(data_dir / "files"):
            name = path.relative_to(data_dir).as_posix()
            parts = name.split("/")
            # files/<hex>/<uid>/<sha>.<ext>; files/<hex>/<sha>.<ext> came before owners.
            owner = int(parts[2]) if len(parts) == 4 and parts[2].isdigit() else 0
            _insert(conn, counts["documents"], _DOCUMENT, (name, owner, path.read_bytes()))
        for kind, table in KINDS:
            count = sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(table))
            total = conn.execute(count).fetchone()
            counts[kind].in_database = int(total[0]) if total else 0
    return counts, skipped


_ACCOUNT = "INSERT INTO accounts (user_id, doc) VALUES (%s, %s::json) ON CONFLICT DO NOTHING"
#: A number another registration holds fails the copy (never skips a registration).
_REGISTRATION = (
    "INSERT INTO registrations "
    "(id, user_id, status, created_at, updated_at, number, pending, doc) "
    "VALUES (%s, %s, %s, %s, %s, %s, %s, %s::json) ON CONFLICT (id) DO NOTHING"
)
_CLAIM = "INSERT INTO unique_claims (kind, value, owner) VALUES (%s, %s, %s) ON CONFLICT DO NOTHING"
_KV = "INSERT INTO kv (namespace, key, value) VALUES (%s, %s, %s::json) ON CONFLICT DO NOTHING"
_DOCUMENT = "INSERT INTO documents (name, owner, data) VALUES (%s, %s, %s) ON CONFLICT DO NOTHING"


def _insert(conn: Conn, counts: Copied, statement: LiteralString, row: tuple[Any, ...]) -> None:
    counts.source += 1
    counts.new += conn.execute(statement, row).rowcount


def _copy_audit(conn: Conn, counts: Copied, audit: dict[str, list[dict[str, Any]]]) -> None:
    """Append each subject's events after those the database already has for it."""
    rows = conn.execute("SELECT subject, count(*) FROM audit GROUP BY subject").fetchall()
    have: dict[str, int] = {str(subject): int(n) for subject, n in rows}
    for subject, events in audit.items():
        counts.source += len(events)
        missing = events[have.get(subject, 0) :]
        if missing:
            with conn.cursor() as cur:
                cur.executemany(
                    "INSERT INTO audit (subject, doc) VALUES (%s, %s::json)",
                    [(subject, _json(e)) for e in missing],
                )
            counts.new += len(missing)


def _json(value: Any) -> str:
    return dumps(value).decode()


def _rows(tables: dict[str, dict[str, Any]], table: str) -> list[dict[str, Any]]:
    """A TinyDB table's documents in insertion order."""
    docs = tables.get(table, {})
    return [docs[doc_id] for doc_id in sorted(docs, key=int)]


def _folders(root: Path) -> list[Path]:
    try:
        return sorted(p for p in root.iterdir() if p.is_dir())
    except FileNotFoundError:
        return []


def _files(root: Path) -> Iterator[Path]:
    """Every regular file under ``root`` (temp files of a crash left out), in name order."""
    for folder, subfolders, names in os.walk(root):
        subfolders.sort()
        for name in sorted(names):
            if not is_temp(name):
                yield Path(folder) / name


def _json_files(root: Path) -> Iterator[Path]:
    return (p for p in _files(root) if p.suffix == ".json")
