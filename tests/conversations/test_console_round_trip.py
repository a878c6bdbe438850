"""The console itself (``python -m bot console``: the CLI, the offline kit, the whole bot) as
a newcomer uses it from a fresh clone: what a person types, line by line, and what they read.

(The bot's flood guard is widened by conftest: a script types faster than a person.)
"""

from __future__ import annotations

import io
import logging
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from journey import Applicant

from bot.cli import CONSOLE_REVIEWER, CONSOLE_REVIEWERS_GROUP, main
from bot.offline import samples
from bot.rules.models import Status
from bot.texts import Texts
from storage.tinydb_store import TinyDBStorage

TEXTS = Texts()
LOGGERS = ("", "telegram", "httpx", "apscheduler", "pypdf")  # what the command line sets
A = Applicant(7).answers


Console = Callable[[list[str]], str]


@pytest.fixture
def console(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    request: pytest.FixtureRequest,
) -> Console:
    """Run ``python -m bot console`` in-process over typed lines; the transcript."""
    monkeypatch.chdir(tmp_path)  # no .env of the developer's
    for name in ("TELEGRAM_BOT_TOKEN", "ADMIN_CHAT_ID", "REVIEWER_IDS", "DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DATA_DIR", str(tmp_path / "data"))

    # The command line configures logging for the process; the other tests' must not change.
    root, handlers = logging.getLogger(), list(logging.getLogger().handlers)
    levels = {name: logging.getLogger(name).level for name in LOGGERS}

    def restore() -> None:
        root.handlers[:] = handlers
        for name, level in levels.items():
            logging.getLogger(name).setLevel(level)  # setLevel also clears the loggers' caches

    request.addfinalizer(restore)

    def run(lines: list[str]) -> str:
        monkeypatch.setattr(sys, "stdin", io.StringIO("".join(f"{line}\n" for line in lines)))
        assert main(["console"]) == 0
        return capsys.readouterr().out

    return run


def press(key: str) -> str:
    return "/press " + TEXTS.plain("zh", key)


def upload(folder: Path, name: str, data: bytes) -> str:
    (folder / name).write_bytes(data)
    return f"/upload {folder / name}"


def first_fields() -> list[str]:
    """From /start to the legal representative's name (the form's first field)."""
    return [
        "/start",
        "/apply",
        "/contact",
        "",  # Enter: the person's own number
        press("button.agree"),
        press("role.isv.name"),
        press("button.confirm_role"),
        A["legal_name"],
    ]


def the_rest(files: Path) -> list[str]:
    lines = [
        press("choice.legal_id_type.resident"),
        A["legal_id_number"],
        upload(files, "front.jpg", samples.jpeg()),
        upload(files, "back.png", samples.png()),
        A["company_name"],
        A["credit_code"],
        upload(files, "licence.pdf", samples.pdf()),
    ]
    lines += [A[k] for k in ("business_scope", "licence_legal_rep", "description", "admin_name")]
    lines.append(press("choice.admin_id_type.resident"))
    lines += [A[k] for k in ("admin_id_number", "admin_mobile", "admin_email", "admin_account_id")]
    return [*lines, press("button.submit")]


def test_the_greeting_says_what_to_type_first_and_who_to_act_as(console: Console) -> None:
    transcript = console([])

    assert "Type /start to begin" in transcript
    assert f"reviewer: /as {CONSOLE_REVIEWER} then /in {CONSOLE_REVIEWERS_GROUP}" in transcript


def test_answers_typed_after_a_restart_mid_form_are_taken(console: Console) -> None:
    before = console([*first_fields(), press("choice.legal_id_type.resident"), "/quit"])
    assert "法人证件号码" in before  # the form asks for the ID number next

    after = console([A["legal_id_number"], "/quit"])

    # Message ids went on rising: the ID number is an answer, not a message seen before.
    assert "法人证件正面照" in after, after
    assert "/apply resumes" in after  # the restart is said, with how to get buttons again


def test_a_fresh_clones_review_round_trip_in_the_console(console: Console, tmp_path: Path) -> None:
    group = str(CONSOLE_REVIEWERS_GROUP)
    reason = ["营业执照印章模糊，\\", "请上传清晰的扫描件。"]  # two lines: a backslash goes on
    transcript = console(
        [
            *first_fields(),
            *the_rest(tmp_path),
            # The reviewer asks for a change, typing the reason as a reply to the prompt.
            f"/as {CONSOLE_REVIEWER}",
            f"/in {group}",
            "/press 认领",
            "/press 要求修改",
            "/press 营业执照",
            "/press 下一步",
            "/press 自行填写原因",
            *reason,
            "/press 发送修改要求",
            # The applicant fixes the licence and submits again.
            "/as 1",
            "/press 立即修改",
            upload(tmp_path, "licence-new.pdf", samples.pdf()),
            press("button.submit"),
            # The reviewer approves.
            f"/as {CONSOLE_REVIEWER}",
            f"/in {group}",
            "/press 认领",
            "/press 通过",
            "/press 确认通过",  # approval takes a second tap
        ]
    )

    assert "(asks for a reply: type it, or /reply" in transcript
    # The applicant read the typed reason, both lines of it.
    assert "• 营业执照：营业执照印章模糊，\n    请上传清晰的扫描件。" in transcript
    assert "重新提交（第 2 次）" in transcript
    assert "恭喜，您的开发者注册已通过审核" in transcript
    # The documents the reviewers got are files on disk, where the transcript says.
    saved = [
        line.split("saved as ", 1)[1] for line in transcript.splitlines() if "saved as " in line
    ]
    assert any(path.endswith("licence.pdf") for path in saved)
    assert all(Path(path).read_bytes() for path in saved)
    with TinyDBStorage.open(tmp_path / "data") as store:
        [registration] = store.registrations.for_user(1)
        assert registration.status is Status.APPROVED
