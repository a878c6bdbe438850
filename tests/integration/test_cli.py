"""The command line as a newcomer meets it: `check` reports a bad setting in one line,
start-up problems are one line with exit code 1, and a second process is refused."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from storage.tinydb_store import TinyDBStorage

ROOT = Path(__file__).resolve().parents[2]


def run_bot(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """`python -m bot ARGS` in a clean folder (no .env) with only these settings."""
    clean = {
        k: v
        for k, v in os.environ.items()
        if k.isupper()
        and not k.startswith(
            (
                "TELEGRAM_",
                "SMTP_",
                "ADMIN_",
                "REVIEWER_",
                "SUPPORT_",
                "DATA_",
                "DEFAULT_",
                "WEBHOOK_",
            )
        )
    }
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        env=clean | {"DATA_DIR": str(tmp_path / "data")} | env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_check_passes_with_good_settings(tmp_path: Path) -> None:
    done = run_bot(tmp_path, "check", ADMIN_CHAT_ID="-100123", REVIEWER_IDS="1,2")
    assert done.returncode == 0, done.stderr
    assert "0 problem(s)" in done.stdout and "reviewers: 2" in done.stdout


@pytest.mark.parametrize(
    ("variable", "value", "named"),
    [
        ("ADMIN_CHAT_ID", "reviewers", "ADMIN_CHAT_ID"),
        ("REVIEWER_IDS", "1,two", "REVIEWER_IDS"),
        ("DEFAULT_LOCALE", "fr", "DEFAULT_LOCALE"),
        ("TELEGRAM_BOT_TOKEN", "not-a-token", "TELEGRAM_BOT_TOKEN"),
        ("SMTP_PORT", "99999", "SMTP_PORT"),
        ("WEBHOOK_SECRET_TOKEN", "hunter2", "WEBHOOK_SECRET_TOKEN"),  # guessable
    ],
)
def test_a_bad_setting_is_one_line_naming_it(
    tmp_path: Path, variable: str, value: str, named: str
) -> None:
    done = run_bot(tmp_path, "check", **{variable: value})
    assert done.returncode == 1
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: {named}"), done.stderr
    assert "Traceback" not in done.stderr
    assert value not in lines[0] or variable != "TELEGRAM_BOT_TOKEN"  # secrets are not echoed


def test_check_says_how_webhook_calls_are_authenticated(tmp_path: Path) -> None:
    unset = run_bot(tmp_path, "check")
    assert "webhook secret: not set: `webhook` generates a random one" in unset.stdout
    secret = "operator-chosen_secret-0123456789"
    configured = run_bot(tmp_path, "check", WEBHOOK_SECRET_TOKEN=secret)
    assert "webhook secret: set" in configured.stdout
    assert secret not in configured.stdout + configured.stderr


def test_several_webhook_processes_need_a_configured_secret(tmp_path: Path) -> None:
    database = {"DATABASE_URL": "postgresql://bot@127.0.0.1:1/bot"}
    webhook = {"WEBHOOK_URL": "https://bot.example.com/", **database}
    checked = run_bot(tmp_path, "check", **webhook)
    assert checked.returncode == 1
    assert "error: WEBHOOK_SECRET_TOKEN: not set; with DATABASE_URL" in checked.stderr
    token = {"TELEGRAM_BOT_TOKEN": "123456789:AAHk3x9_abcdefghijklmnopqrstuvwxyz012"}
    started = run_bot(tmp_path, "webhook", **webhook, **token)
    assert started.returncode == 1 and "Traceback" not in started.stderr
    assert started.stderr.strip().startswith("error: WEBHOOK_SECRET_TOKEN")
    secret = "operator-chosen_secret-0123456789"
    assert run_bot(tmp_path, "check", **webhook, WEBHOOK_SECRET_TOKEN=secret).returncode == 0


def test_an_unwritable_data_dir_is_one_line(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    done = run_bot(tmp_path, "check", DATA_DIR=str(blocker / "data"))
    assert done.returncode == 1
    assert done.stderr.strip().startswith("error: DATA_DIR") and "Traceback" not in done.stderr


def test_a_second_process_on_the_same_data_dir_is_refused(tmp_path: Path) -> None:
    with TinyDBStorage.open(tmp_path / "data"):
        done = run_bot(
            tmp_path, "run", TELEGRAM_BOT_TOKEN="123456789:AAHk3x9_abcdefghijklmnopqrstuvwxyz012"
        )
    assert done.returncode == 1
    assert "another bot process" in done.stderr and "Traceback" not in done.stderr


@pytest.mark.parametrize("args", [["console"], []], ids=["console", "no token: default"])
def test_the_console_starts_and_answers(tmp_path: Path, args: list[str]) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "bot", *args],
        input="/start\n/help\n/quit\n",
        env={k: v for k, v in os.environ.items() if not k.startswith("TELEGRAM_")}
        | {"DATA_DIR": str(tmp_path / "data")},
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "开发者入驻助手" in done.stdout and "/apply" in done.stdout


@pytest.mark.parametrize(
    ("settings", "line"),
    [
        (
            {"ADMIN_CHAT_ID": "123456", "REVIEWER_IDS": "1"},
            "error: ADMIN_CHAT_ID: 123456 is a person's private chat, not a group",
        ),
        (
            {"ADMIN_CHAT_ID": "-100123", "SUPPORT_CHAT_ID": "-100123", "REVIEWER_IDS": "1"},
            "error: SUPPORT_CHAT_ID: the same chat as ADMIN_CHAT_ID",
        ),
        ({"WEBHOOK_URL": "http://bot.example.com"}, "error: WEBHOOK_URL: must be an https://"),
        ({"SMTP_FROM": "onboarding.example.com"}, "error: SMTP_FROM: not a valid e-mail"),
        ({"SUPPORT_EMAIL": "support@"}, "error: SUPPORT_EMAIL: not a valid e-mail"),
        # Read-only for root too: a real write is tried, not the permission bits.
        ({"DATA_DIR": "/proc/onboarding-data"}, "error: DATA_DIR: cannot write in /proc"),
    ],
    ids=["user as admin chat", "one chat for both", "http webhook", "from", "email", "ro"],
)
def test_check_refuses_a_misconfiguration_in_one_line(
    tmp_path: Path, settings: dict[str, str], line: str
) -> None:
    done = run_bot(tmp_path, "check", **settings)

    assert done.returncode == 1
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(line), done.stderr


def test_check_warns_about_a_reviewers_group_without_reviewers(tmp_path: Path) -> None:
    done = run_bot(tmp_path, "check", ADMIN_CHAT_ID="-100123")

    assert done.returncode == 0  # the bot runs; submissions just wait
    assert done.stderr.strip() == (
        "warning: REVIEWER_IDS is empty: nobody can decide on submissions"
    )


def test_a_token_without_network_is_one_line_and_the_traceback_only_at_debug(
    tmp_path: Path,
) -> None:
    offline = {
        "TELEGRAM_BOT_TOKEN": "123456789:AAHk3x9_abcdefghijklmnopqrstuvwxyz012",
        "TELEGRAM_API_BASE_URL": "http://127.0.0.1:9/bot",  # nothing listens on port 9
    }
    done = run_bot(tmp_path, "run", **offline)
    debug = run_bot(tmp_path, "run", LOG_LEVEL="DEBUG", **offline)

    assert done.returncode == 1
    assert done.stderr.strip().splitlines() == [
        "error: TELEGRAM_API_BASE_URL: cannot reach http://127.0.0.1:9/bot: "
        "httpx.ConnectError: All connection attempts failed"
    ]
    assert debug.returncode == 1 and "Traceback" in debug.stderr


def test_env_example_documents_every_setting() -> None:
    from bot.settings import Settings

    example = (ROOT / ".env.example").read_text("utf-8")
    documented = {line.partition("=")[0] for line in example.splitlines() if "=" in line}
    assert set(Settings.model_fields) - documented == set()


def test_help_is_plain_text_with_every_command(tmp_path: Path) -> None:
    done = run_bot(tmp_path, "--help")

    assert done.returncode == 0
    assert "``" not in done.stdout and "python -m bot console" in done.stdout
    for command in ("run", "webhook", "console", "check", "migrate"):
        assert f"\n    {command} " in done.stdout
