"""The command line: ``python -m bot [run|webhook|console|check]``.

Without a subcommand the bot polls Telegram when a token is set, and opens the offline
console otherwise, so a newcomer can try it without registering a bot.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import secrets
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import psycopg
from pydantic import SecretStr, ValidationError
from telegram import Update
from telegram.error import InvalidToken, TelegramError

from bot import logs
from bot.factory import build, settle_heap
from bot.offline import FakeBotAPI, OfflineTelegram
from bot.offline.ids import RisingIds
from bot.settings import Settings, describe_errors, load_settings
from bot.template_check import check_templates
from bot.texts import Texts
from storage.lock import DataDirLocked
from storage.postgres import DatabaseInUse, DatabaseUnavailable, PostgresStorage
from storage.postgres.migrations import SchemaTooNew
from storage.protocols import Storage
from storage.tinydb_store import TinyDBStorage

HELP_DESCRIPTION = """\
The developer onboarding bot for Telegram.

Without a command it polls Telegram when TELEGRAM_BOT_TOKEN is set, and opens the
offline console otherwise, so you can try it without registering a bot."""
HELP_EPILOG = """\
Settings come from the environment or a .env file (see .env.example);
`python -m bot check` validates them. First steps: `python -m bot console`, then /start."""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m bot",
        description=HELP_DESCRIPTION,
        epilog=HELP_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", title="commands", metavar="COMMAND")
    sub.add_parser("run", help="long polling (needs TELEGRAM_BOT_TOKEN)")
    sub.add_parser("webhook", help="PTB's webhook server (needs WEBHOOK_URL)")
    console = sub.add_parser("console", help="chat with the bot in this terminal, offline")
    console.add_argument("--user", type=int, default=1, help="Telegram user id to act as")
    sub.add_parser("check", help="validate settings and render every template")
    migrate = sub.add_parser("migrate", help="copy a TinyDB data folder into DATABASE_URL")
    migrate.add_argument(
        "--from-tinydb", type=Path, required=True, metavar="DATA_DIR", help="the folder to copy"
    )
    return parser


def _fail(message: str) -> int:
    print(f"error: {message}", file=sys.stderr)
    return 1


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the process exit code."""
    args = _parser().parse_args(argv)
    try:
        settings = load_settings()
    except ValidationError as error:
        for line in describe_errors(error):
            print(f"error: {line}", file=sys.stderr)
        return 1
    command = args.command or ("run" if settings.TELEGRAM_BOT_TOKEN else "console")
    shared_secret = shared_secret_missing(settings)
    if command == "webhook" and shared_secret:
        return _fail(shared_secret)
    if command == "webhook" and settings.WEBHOOK_SECRET_TOKEN is None:
        # Without a secret anyone who reaches the URL could post updates in anybody's name.
        settings.WEBHOOK_SECRET_TOKEN = SecretStr(secrets.token_urlsafe(32))
    hidden = (
        settings.TELEGRAM_BOT_TOKEN,
        settings.SMTP_PASSWORD,
        settings.WEBHOOK_SECRET_TOKEN,
        settings.DATABASE_URL,
    )
    logs.configure(settings.LOG_LEVEL, [s.get_secret_value() for s in hidden if s])
    if command == "check":
        return check(settings)
    for warning in settings.warnings():
        logging.getLogger(__name__).warning(warning)
    if command == "migrate":
        return migrate_from_tinydb(settings, args.from_tinydb)
    if command in ("run", "webhook") and settings.TELEGRAM_BOT_TOKEN is None:
        return _fail("TELEGRAM_BOT_TOKEN: not set (use 'console' to try the bot offline)")
    if command == "webhook" and not settings.WEBHOOK_URL:
        return _fail("WEBHOOK_URL: not set (the public https address Telegram posts to)")
    try:
        storage = open_storage(settings, shared=command in ("run", "webhook"))
    except (DatabaseUnavailable, DatabaseInUse, SchemaTooNew) as error:
        return _fail(f"DATABASE_URL: {error}")
    except DataDirLocked as error:
        return _fail(str(error))
    except OSError as error:
        return _fail(f"DATA_DIR: cannot open {settings.DATA_DIR}: {error.strerror or error}")
    try:
        if command == "console":
            return _console(console_settings(settings), storage, getattr(args, "user", 1))
        application = build(settings, storage)
        try:
            _serve(application, settings, command)
        except InvalidToken:
            return _fail("TELEGRAM_BOT_TOKEN: Telegram refused the token")
        except TelegramError as error:
            # Unreachable API at start-up: one line, no traceback (the URL holds no token).
            return _fail(
                f"TELEGRAM_API_BASE_URL: cannot reach {settings.TELEGRAM_API_BASE_URL}: {error}"
            )
        return 0
    finally:
        storage.close()


class _StartFailureAtDebug(logging.Filter):
    """PTB logs a failed start-up (unreachable API, refused token) with a whole traceback
    at ERROR; ``main`` prints one line naming the setting, so the traceback goes to DEBUG."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if "(Bootstrap" not in message or "Abort" not in message:
            return True
        logging.getLogger(__name__).debug("start-up failed: %s", message, exc_info=record.exc_info)
        return False


def _serve(application: Any, settings: Settings, command: str) -> None:
    """Run until SIGINT/SIGTERM; both modes stop cleanly and flush the persistence."""
    # The records come from PTB's network loop, whose logger is "telegram.ext".
    logging.getLogger("telegram.ext").addFilter(_StartFailureAtDebug())
    settle_heap()
    if command == "webhook":
        secret = settings.WEBHOOK_SECRET_TOKEN
        assert secret is not None, "main() sets one: webhook mode never runs without a secret"
        url = (settings.WEBHOOK_URL or "").rstrip("/")
        application.run_webhook(
            listen=settings.WEBHOOK_LISTEN,
            port=settings.WEBHOOK_PORT,
            url_path=settings.WEBHOOK_PATH,
            webhook_url=f"{url}/{settings.WEBHOOK_PATH}",
            secret_token=secret.get_secret_value(),
            allowed_updates=Update.ALL_TYPES,
        )
    else:
        application.run_polling(allowed_updates=Update.ALL_TYPES)


def open_storage(settings: Settings, *, shared: bool = False) -> Storage:
    """PostgreSQL when ``DATABASE_URL`` is set, TinyDB files in ``DATA_DIR`` otherwise.

    ``shared``: several processes (``run``, ``webhook``) on one database all handle
    updates; the console and ``migrate`` hold it alone.
    """
    if settings.DATABASE_URL is not None:
        return PostgresStorage.open(settings.DATABASE_URL.get_secret_value(), shared=shared)
    return TinyDBStorage.open(settings.DATA_DIR)


def migrate_from_tinydb(settings: Settings, source_dir: Path) -> int:
    """Copy ``source_dir`` (TinyDB) into ``DATABASE_URL`` and print what was copied."""
    from storage.postgres.from_tinydb import KINDS, copy_from_tinydb

    if settings.DATABASE_URL is None:
        return _fail("DATABASE_URL: not set (the PostgreSQL database to copy into)")
    if not (source_dir / "users").is_dir():
        return _fail(f"--from-tinydb: {source_dir} is not a bot's data folder (no users/)")
    try:
        source = TinyDBStorage.open(source_dir)
    except DataDirLocked as error:
        return _fail(str(error))
    try:
        with source, PostgresStorage.open(settings.DATABASE_URL.get_secret_value()) as target:
            counts, skipped = copy_from_tinydb(source, target)
    except (DatabaseUnavailable, DatabaseInUse, SchemaTooNew) as error:
        return _fail(f"DATABASE_URL: {error}")
    except (OSError, ValueError, KeyError, psycopg.Error) as error:
        # One transaction: a failure anywhere leaves the database as it was.
        logging.getLogger(__name__).debug("copy failed", exc_info=True)
        return _fail(f"migrate: nothing was copied: {type(error).__name__}: {error}")
    print(f"copied {source_dir} into the database:")
    for kind, _ in KINDS:
        c = counts[kind]
        print(
            f"  {kind:<18} {c.source:>8} in the source {c.new:>8} new "
            f"{c.in_database:>8} in the database"
        )
    for item in skipped:
        print(f"warning: {item.what} was not copied: {item.why}", file=sys.stderr)
    return 1 if skipped else 0


#: Who plays the desks in the console when the settings name nobody (a fresh clone).
CONSOLE_REVIEWERS_GROUP, CONSOLE_REVIEWER = -1001000000001, 2
CONSOLE_SUPPORT_GROUP, CONSOLE_AGENT = -1001000000002, 3


def console_settings(settings: Settings) -> Settings:
    """The settings with a reviewers' group and a support group filled in where unset, so
    every journey can be tried offline; configured ones are kept."""
    update: dict[str, object] = {}
    if settings.ADMIN_CHAT_ID is None:
        update |= {"ADMIN_CHAT_ID": CONSOLE_REVIEWERS_GROUP, "REVIEWER_IDS": [CONSOLE_REVIEWER]}
    if settings.SUPPORT_CHAT_ID is None:
        update |= {"SUPPORT_CHAT_ID": CONSOLE_SUPPORT_GROUP, "SUPPORT_AGENT_IDS": [CONSOLE_AGENT]}
    return settings.model_copy(update=update)


def console_roles(settings: Settings, kit: OfflineTelegram) -> list[str]:
    """Greeting lines on who to act as; the groups and their people exist in ``kit``."""
    lines = ["Roles (switch with /as, then /in the group):"]
    for chat_id, people, title, name in (
        (settings.ADMIN_CHAT_ID, settings.REVIEWER_IDS, "Reviewers", "reviewer"),
        (settings.SUPPORT_CHAT_ID, settings.SUPPORT_AGENT_IDS, "Support", "support agent"),
    ):
        if chat_id is None:
            continue
        group = kit.group(chat_id, title)
        for user_id in people:
            group.add(kit.user(user_id, name.title().replace(" ", "")))
        if people:
            lines.append(f"  {name}: /as {people[0]} then /in {chat_id} ({title} group)")
    lines.append("  applicant: /as 1 (any other id is a new applicant)")
    return lines


def _console(settings: Settings, storage: Storage, user_id: int) -> int:
    from bot.console import run_console

    # The console is a chat: PTB's INFO lines (started, stopping) would interleave with it.
    if settings.LOG_LEVEL != "DEBUG":
        logging.getLogger("telegram").setLevel(logging.WARNING)
    notes = settings.DATA_DIR / "console"
    restarted = (notes / "ids.json").exists()
    # Message and update ids go on rising after a restart, as Telegram's do: the bot takes
    # a message it has seen (a smaller id) as already handled.
    kit = OfflineTelegram(FakeBotAPI(ids=RisingIds(notes / "ids.json")))
    roles = console_roles(settings, kit)
    if restarted:
        # The bot's data is kept, the console's screen is not: old buttons are gone.
        roles.append("Earlier messages are not on screen after a restart: /apply resumes.")
    kit.user(user_id, "Applicant" if user_id == 1 else None)
    application = build(settings, storage, request=kit.api, rate_limit=False)
    kit.attach(application)
    asyncio.run(
        run_console(application, kit, user_id=user_id, files_dir=notes / "files", roles=roles)
    )
    return 0


def check(settings: Settings) -> int:
    """Print a summary of the settings and every template problem; 1 when any."""
    texts = Texts()
    problems = check_templates(texts)
    for problem in problems:
        print(f"error: template {problem}", file=sys.stderr)
    unwritable = data_dir_problem(settings.DATA_DIR) if settings.DATABASE_URL is None else None
    if unwritable:
        print(f"error: DATA_DIR: {unwritable}", file=sys.stderr)
    shared_secret = shared_secret_missing(settings) if settings.WEBHOOK_URL else None
    if shared_secret:
        print(f"error: {shared_secret}", file=sys.stderr)
    token = "set" if settings.TELEGRAM_BOT_TOKEN else "not set (console only)"
    email = f"on via {settings.SMTP_HOST}:{settings.SMTP_PORT}" if settings.email_enabled else "off"
    print(f"token: {token}")
    print(f"data dir: {settings.DATA_DIR}")
    print(f"storage: {'PostgreSQL (DATABASE_URL)' if settings.DATABASE_URL else 'TinyDB files'}")
    print(f"default locale: {settings.DEFAULT_LOCALE}")
    reviewers = len(settings.REVIEWER_IDS)
    print(f"admin chat: {settings.ADMIN_CHAT_ID or 'not set'}; reviewers: {reviewers}")
    agents = len(settings.SUPPORT_AGENT_IDS)
    print(f"support chat: {settings.SUPPORT_CHAT_ID or 'not set'}; agents: {agents}")
    for warning in settings.warnings():
        print(f"warning: {warning}", file=sys.stderr)
    print(f"e-mail: {email}")
    print(f"webhook secret: {webhook_secret(settings)}")
    count = sum(
        len(texts.message_names(locale)) + len(texts.strings[locale]) for locale in texts.strings
    )
    print(f"templates: {count} rendered, {len(problems)} problem(s)")
    return 1 if problems or unwritable or shared_secret else 0


def data_dir_problem(data_dir: Path) -> str | None:
    """Why the bot could not write its files under ``data_dir``, or None. A real write
    (permissions alone say nothing for root, nor for a read-only or special file system)."""
    probe = data_dir
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    try:
        with tempfile.TemporaryFile(dir=probe):
            pass
    except OSError as error:
        return f"cannot write in {probe}: {error.strerror or error}"
    return None


def shared_secret_missing(settings: Settings) -> str | None:
    """Why ``webhook`` may not run with these settings, or None: on PostgreSQL several
    processes may receive behind one URL, and each registers its secret with Telegram, so a
    secret made up at each start would lock the others' calls out."""
    if settings.DATABASE_URL is not None and settings.WEBHOOK_SECRET_TOKEN is None:
        return (
            "WEBHOOK_SECRET_TOKEN: not set; with DATABASE_URL every webhook process needs "
            "the same configured secret (16-256 of A-Za-z0-9_-)"
        )
    return None


def webhook_secret(settings: Settings) -> str:
    """What `webhook` mode checks incoming calls against, as `check` reports it."""
    if settings.WEBHOOK_SECRET_TOKEN is not None:
        return "set (calls without it are refused)"
    if settings.DATABASE_URL is not None:
        return "not set: `webhook` refuses to start on DATABASE_URL without one"
    return "not set: `webhook` generates a random one at each start (calls without it are refused)"
