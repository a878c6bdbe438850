"""The whole bot on PostgreSQL (``DATABASE_URL``): an applicant's journey across restarts,
with documents, a reviewer's decision and its notification, nothing written to
``DATA_DIR``; and moving a TinyDB folder over with ``python -m bot migrate``."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import orjson
import psycopg
import pytest
from conftest import REVIEWERS, BotHarness, Clock, make_settings, running
from journey import Applicant, answer, answer_until, reach_form, texts

from bot.rules import form
from bot.rules.models import AuditEvent, Status
from storage.postgres import PostgresStorage
from storage.protocols import CommitFailed, Storage
from storage.tinydb_store import TinyDBStorage


@pytest.fixture
async def pg_harness(tmp_path: Path, clock: Clock, pg_url: str) -> AsyncIterator[BotHarness]:
    async for bot in running(make_settings(tmp_path / "data", DATABASE_URL=pg_url), clock):
        yield bot


async def test_a_journey_on_postgres_survives_restarts_and_ends_in_a_notified_approval(
    pg_harness: BotHarness, tmp_path: Path
) -> None:
    h = pg_harness
    applicant = Applicant(51, zh=False)
    user = h.kit.user(51, language_code="en")
    await reach_form(user, "Third-party developer", zh=False)
    keys = [f.key for f in form.fields_for(applicant.role)]
    for number, key in enumerate(keys, start=1):
        if number in (3, len(keys) // 2):  # restart before a typed field and mid-uploads
            await h.restart()
            user = h.kit.user(51)
            again = await user.send("/apply")
            assert f"Step {number} of {len(keys)}" in texts(again)
        said = await answer(user, applicant, key)
    assert "Please check your registration" in texts(said)
    assert "Submitted for review" in texts(await user.press("Submit for review"))
    await h.deliver()

    stored = h.store.registrations.get("51-isv")
    assert stored is not None and stored.status is Status.SUBMITTED
    documents = [a for a in stored.answers.values() if isinstance(a, dict) and "stored_as" in a]
    assert len(documents) == 3
    for document in documents:
        data = h.store.files.read(document["stored_as"])
        assert len(data) == document["size"]

    reviewer = h.kit.user(REVIEWERS[0], "Rita", language_code="zh")
    await h.restart()
    approved = await reviewer.send("/approve 51-isv", chat=h.admin_group)
    assert "已通过" in texts(approved)
    await h.deliver()
    assert "is approved" in user.messages()[-1].text
    assert [e.action for e in h.store.audit.for_subject("51-isv")][-1] == "approved"
    data_dir = tmp_path / "data"
    assert not (data_dir / "users").exists() and not (data_dir / "files").exists()


# --- moving over: python -m bot migrate --from-tinydb --------------------------------------

COPIED = re.compile(
    r"^  (?P<kind>[a-z -]+?)\s+(?P<source>\d+) in the source\s+(?P<new>\d+) new\s+"
    r"(?P<total>\d+) in the database$"
)


def migrate(data_dir: Path, url: str) -> tuple[int, dict[str, tuple[int, int, int]], str]:
    """Run the command as an operator would; (exit code, kind -> counts, stderr)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "DATA_"))}
    done = subprocess.run(
        [sys.executable, "-m", "bot", "migrate", "--from-tinydb", str(data_dir)],
        env=env | {"DATABASE_URL": url},
        cwd=data_dir.parent,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    counts = {}
    for line in done.stdout.splitlines():
        if match := COPIED.match(line):
            counts[match["kind"]] = (int(match["source"]), int(match["new"]), int(match["total"]))
    return done.returncode, counts, done.stderr


def everything(s: Storage, data_dir: Path) -> dict[str, Any]:
    """What the bot can read back through the storage protocols (the source folder's
    listing names the users, subjects and namespaces to ask about)."""
    users = sorted(int(p.stem) for p in (data_dir / "users").rglob("*.json"))
    registrations = sorted(s.registrations.all(), key=lambda r: r.id)
    subjects = [r.id for r in registrations] + [f"account:{u}" for u in users] + ["system"]
    folders = {p.name for p in (data_dir / "kv").iterdir()}
    # A user's PTB persistence entries live in the user's file (table "ptb").
    in_user_files = {
        doc["namespace"]
        for p in (data_dir / "users").rglob("*.json")
        for doc in orjson.loads(p.read_bytes()).get("ptb", {}).values()
    }
    namespaces = sorted(folders | in_user_files)
    documents = sorted(
        p.relative_to(data_dir).as_posix() for p in (data_dir / "files").rglob("*") if p.is_file()
    )
    claims = [orjson.loads(p.read_bytes()) for p in sorted((data_dir / "unique").rglob("*.json"))]
    return {
        "accounts": [a for a in map(s.accounts.get, users) if a is not None],
        "registrations": registrations,
        "audit": {subject: s.audit.for_subject(subject) for subject in subjects},
        "kv": {ns: dict(s.kv.items(ns)) for ns in namespaces},
        "claims": [s.unique.owner(c["kind"], c["value"]) for c in claims],
        "documents": {name: s.files.read(name) for name in documents},
    }


async def test_migrate_copies_everything_once_and_the_bot_continues_on_postgres(
    harness: BotHarness, tmp_path: Path, clock: Clock, pg_url: str
) -> None:
    # On TinyDB: one applicant approved (documents, claims, outbox, audit), one mid-form,
    # a support ticket, and an event about no registration.
    h = harness
    done, halfway = h.kit.user(61, language_code="en"), h.kit.user(62, language_code="en")
    for user, stop in ((done, None), (halfway, "company_name")):
        await reach_form(user, "Third-party developer", zh=False)
        await answer_until(user, Applicant(user.id, zh=False), stop)
    await done.press("Submit for review")
    await h.deliver()
    await h.kit.user(REVIEWERS[0]).send("/approve 61-isv", chat=h.admin_group)
    await h.deliver()
    asking = h.kit.user(63, language_code="en")
    await asking.send("/support")
    await asking.press("✉️ Open a support ticket")
    await asking.send("How long does the review take?")
    h.store.audit.append(AuditEvent(subject="system", action="digest_sent", at=clock()))
    data_dir = h.settings.DATA_DIR
    await h.stop()

    with TinyDBStorage.open(data_dir) as source:
        expected = everything(source, data_dir)
    assert len(expected["accounts"]) == 3 and len(expected["registrations"]) == 2
    assert "support.tickets" in expected["kv"]
    assert expected["kv"]["ptb.conv.applicant"]  # the half-filled form's place, from 62's file
    assert len(expected["documents"]) >= 3 and len(expected["claims"]) >= 2

    code, counts, stderr = migrate(data_dir, pg_url)
    assert code == 0, stderr
    sizes = {
        "accounts": len(expected["accounts"]),
        "registrations": len(expected["registrations"]),
        "audit events": sum(len(events) for events in expected["audit"].values()),
        "uniqueness claims": len(expected["claims"]),
        "key-value entries": sum(len(entries) for entries in expected["kv"].values()),
        "documents": len(expected["documents"]),
    }
    assert counts == {kind: (n, n, n) for kind, n in sizes.items()}
    with PostgresStorage.open(pg_url) as target:
        assert everything(target, data_dir) == expected
        for registration in expected["registrations"]:  # the same public numbers
            assert target.registrations.by_number(registration.number) == registration

    code, counts, stderr = migrate(data_dir, pg_url)  # idempotent: nothing new the second time
    assert code == 0, stderr
    assert counts == {kind: (n, 0, n) for kind, n in sizes.items()}

    # The bot on PostgreSQL (another DATA_DIR: nothing is read from the old one; the same
    # Telegram, whose message ids go on) continues the half-filled form at the right field,
    # from the copied conversation state.
    h.settings = make_settings(tmp_path / "elsewhere", DATABASE_URL=pg_url)
    await h.start()
    said = await answer(h.kit.user(62), Applicant(62, zh=False), "company_name")
    assert "Step 7 of 17" in texts(said)
    stored = h.store.registrations.get("62-isv")
    assert stored is not None and stored.answers["company_name"] == "Test 62 Ltd"
    approved = h.store.registrations.get("61-isv")
    assert approved is not None and approved.status is Status.APPROVED
    assert not (tmp_path / "elsewhere").exists()


def test_migrate_explains_what_it_needs(tmp_path: Path, pg_url: str) -> None:
    code, _, stderr = migrate(tmp_path / "missing", pg_url)
    assert code == 1 and stderr.startswith("error: --from-tinydb:") and "Traceback" not in stderr


async def test_an_answer_whose_commit_failed_is_asked_again_not_skipped(
    tmp_path: Path, clock: Clock, pg_url: str
) -> None:
    """Processes on PostgreSQL: the commit before the bot's answer fails (a deadlock ended
    by the server, the database gone a moment), and the applicant's answer with it. The
    applicant is told so, and stays at that field (the handler never returned its next
    state): sending the answer again moves on, with the answer stored."""
    h = BotHarness(make_settings(tmp_path / "data", DATABASE_URL=pg_url), clock, shared=True)
    await h.start()
    try:
        applicant = Applicant(61, zh=False)
        user = h.kit.user(61, language_code="en")
        asked = await reach_form(user, "Third-party developer", zh=False)
        assert "Step 1 of" in texts(asked)
        with psycopg.connect(pg_url, autocommit=True) as conn:
            # The first commit holding the legal name is refused by the server.
            conn.execute("CREATE SEQUENCE refusals")
            conn.execute(
                "CREATE FUNCTION refuse_once() RETURNS trigger LANGUAGE plpgsql AS $$BEGIN "
                "IF NEW.doc::text LIKE '%legal_name%' AND nextval('refusals') = 1 THEN "
                "RAISE EXCEPTION 'commit refused (simulated)'; END IF; RETURN NULL; END$$"
            )
            conn.execute(
                "CREATE CONSTRAINT TRIGGER refuse AFTER INSERT OR UPDATE ON registrations "
                "DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION refuse_once()"
            )
        h.kit.raise_errors = False  # the handler's answer fails with its commit
        told = await answer(user, applicant, "legal_name")
        h.kit.raise_errors = True
        assert "something went wrong" in texts(told)
        assert [type(e.__cause__ or e) for e in h.kit.errors] == [CommitFailed]
        h.kit.errors.clear()
        stored = h.store.registrations.get("61-isv")
        assert stored is not None and "legal_name" not in stored.answers

        again = await answer(user, applicant, "legal_name")
        assert "Step 2 of" in texts(again), texts(again)
        stored = h.store.registrations.get("61-isv")
        assert (
            stored is not None and stored.answers["legal_name"] == applicant.answers["legal_name"]
        )
        assert h.kit.errors == []
    finally:
        await h.stop()
