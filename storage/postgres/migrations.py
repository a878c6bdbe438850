"""The database schema as numbered migrations, applied in order at start-up.

Each migration runs in the same transaction as the row recording it in ``schema_version``,
under an advisory lock, so processes starting together apply each one exactly once and a
failed migration leaves the previous version intact. Never edit a migration that has been
released: add the next number.
"""

from __future__ import annotations

from typing import LiteralString, NamedTuple

import psycopg


class Migration(NamedTuple):
    version: int
    name: str
    sql: LiteralString


class SchemaTooNew(RuntimeError):
    """The database was migrated by a newer version of the bot."""


#: Identifies the migrations' advisory lock among the bot's others (``pg_advisory_xact_lock``).
MIGRATION_LOCK = 0x6F6E_0001

MIGRATIONS: tuple[Migration, ...] = (
    Migration(
        1,
        "records",
        """
        CREATE TABLE accounts (
            user_id bigint PRIMARY KEY,
            doc json NOT NULL
        );
        -- id, status, dates and the outbox flag are copies of the document's fields, kept
        -- for the indexes; the document is what is read back.
        CREATE TABLE registrations (
            id text COLLATE "C" PRIMARY KEY,
            user_id bigint NOT NULL,
            status text NOT NULL,
            created_at timestamptz NOT NULL,
            updated_at timestamptz NOT NULL,
            pending boolean NOT NULL,
            doc json NOT NULL
        );
        CREATE INDEX registrations_by_user ON registrations (user_id, created_at, id);
        CREATE INDEX registrations_by_status ON registrations (status, updated_at, id);
        CREATE INDEX registrations_pending ON registrations (id) WHERE pending;
        CREATE TABLE audit (
            seq bigserial PRIMARY KEY,
            subject text NOT NULL,
            doc json NOT NULL
        );
        CREATE INDEX audit_by_subject ON audit (subject, seq);
        -- One row per claimed value: the primary key is what makes a claim exclusive.
        CREATE TABLE unique_claims (
            kind text NOT NULL,
            value text NOT NULL,
            owner text NOT NULL,
            PRIMARY KEY (kind, value)
        );
        CREATE TABLE kv (
            namespace text NOT NULL,
            key text NOT NULL,
            value json NOT NULL,
            PRIMARY KEY (namespace, key)
        );
        """,
    ),
    Migration(
        2,
        "documents",
        """
        -- Uploaded documents, by the same names the file store uses, readable by every
        -- process. owner is 0 for files stored before documents had an owner's folder.
        CREATE TABLE documents (
            name text COLLATE "C" PRIMARY KEY,
            owner bigint NOT NULL,
            data bytea NOT NULL
        );
        CREATE INDEX documents_by_owner ON documents (owner);
        """,
    ),
    Migration(
        3,
        "inbox",
        """
        -- Updates from Telegram, written before Telegram is told they arrived. Handled ones
        -- keep their id for a while, so one Telegram hands over again is not handled twice.
        CREATE TABLE inbox (
            update_id bigint PRIMARY KEY,
            payload json NOT NULL,
            received_at timestamptz NOT NULL DEFAULT now(),
            handled_at timestamptz
        );
        CREATE INDEX inbox_waiting ON inbox (update_id) WHERE handled_at IS NULL;
        """,
    ),
    Migration(
        4,
        "registration numbers",
        """
        -- The public number people see and type instead of the id, which holds the
        -- Telegram user id (bot/rules/numbers.py): a copy of the document's "number" for
        -- its unique index. Rows stored before get one here, in the same format from the
        -- same alphabet, drawn again on a collision.
        ALTER TABLE registrations ADD COLUMN number text COLLATE "C";
        CREATE UNIQUE INDEX registrations_by_number ON registrations (number);
        DO $$
        DECLARE
            row_id text;
            drawn text;
        BEGIN
            FOR row_id IN
                SELECT id FROM registrations WHERE coalesce(doc->>'number', '') = ''
                 ORDER BY id
            LOOP
                LOOP
                    SELECT string_agg(substr('0123456789ABCDEFGHJKMNPQRSTVWXYZ',
                                             1 + floor(random() * 32)::int, 1), '')
                      INTO drawn FROM generate_series(1, 8);
                    drawn := substr(drawn, 1, 4) || '-' || substr(drawn, 5, 4);
                    EXIT WHEN NOT EXISTS (SELECT 1 FROM registrations WHERE number = drawn);
                END LOOP;
                UPDATE registrations
                   SET number = drawn,
                       doc = jsonb_set(doc::jsonb, '{number}', to_jsonb(drawn))::json
                 WHERE id = row_id;
            END LOOP;
        END $$;
        UPDATE registrations SET number = doc->>'number' WHERE number IS NULL;
        ALTER TABLE registrations ALTER COLUMN number SET NOT NULL;
        """,
    ),
    Migration(
        5,
        "claims",
        """
        -- Whose update it is (the user's id, 0 without a user): every process claims the
        -- oldest unhandled update of a sender no other process holds.
        ALTER TABLE inbox ADD COLUMN sender bigint NOT NULL DEFAULT 0;
        CREATE INDEX inbox_waiting_by_sender ON inbox (sender, update_id)
            WHERE handled_at IS NULL;
        """,
    ),
)

LATEST = MIGRATIONS[-1].version

_VERSION_TABLE = """
CREATE TABLE IF NOT EXISTS schema_version (
    version integer PRIMARY KEY,
    name text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
)
"""


def current_version(conn: psycopg.Connection[tuple[object, ...]]) -> int:
    """The highest migration applied (0 for an empty database)."""
    exists = conn.execute("SELECT to_regclass('schema_version') IS NOT NULL").fetchone()
    if not exists or not exists[0]:
        return 0
    row = conn.execute("SELECT coalesce(max(version), 0) FROM schema_version").fetchone()
    return int(row[0]) if row else 0  # type: ignore[call-overload]


def migrate(
    conn: psycopg.Connection[tuple[object, ...]],
    migrations: tuple[Migration, ...] = MIGRATIONS,
) -> list[int]:
    """Apply the migrations the database lacks, in order; the versions applied.

    Refuses (``SchemaTooNew``) a database migrated further than ``migrations`` know: an old
    bot must not write into a schema it does not understand.
    """
    applied: list[int] = []
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (MIGRATION_LOCK,))
        conn.execute(_VERSION_TABLE)
        version = current_version(conn)
        known = migrations[-1].version if migrations else 0
        if version > known:
            raise SchemaTooNew(
                f"the database schema is at version {version}, newer than this bot knows "
                f"({known}): run the newer bot, or point DATABASE_URL at another database"
            )
        for migration in migrations:
            if migration.version <= version:
                continue
            conn.execute(migration.sql)
            conn.execute(
                "INSERT INTO schema_version (version, name) VALUES (%s, %s)",
                (migration.version, migration.name),
            )
            applied.append(migration.version)
    return applied
