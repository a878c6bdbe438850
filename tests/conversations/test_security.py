"""Security properties as tests: secrets and ID numbers never reach the logs, and one
applicant never sees or changes another's data (see docs/SECURITY.md)."""

from __future__ import annotations

import io
import logging
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import ADMIN_CHAT, BotHarness
from journey import (
    JPEG,
    PDF,
    Applicant,
    answer,
    answer_until,
    fill_form,
    reach_form,
    submit,
    texts,
)
from PIL import Image

from bot.logs import RedactSecrets
from bot.offline.people import Person
from bot.rules import form

TOKEN = "123456789:AAHk3x9_abcdefghijklmnopqrstuvwxyz012"


def test_redaction_covers_httpx_urls_and_id_numbers() -> None:
    record = logging.LogRecord(
        "httpx",
        logging.INFO,
        __file__,
        1,
        'HTTP Request: POST https://api.telegram.org/bot%s/getMe "HTTP/1.1 200 OK" id %s',
        (TOKEN, "11010519491231002X"),
        None,
    )
    RedactSecrets(["hunter2"]).filter(record)
    assert TOKEN not in record.getMessage() and "<token>" in record.getMessage()
    assert "11010519491231002X" not in record.getMessage()


def test_the_real_process_never_logs_its_token(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "SMTP_"))} | {
        "TELEGRAM_BOT_TOKEN": TOKEN,
        "TELEGRAM_API_BASE_URL": "http://127.0.0.1:9/bot",  # nothing listens: fails fast
        "LOG_LEVEL": "DEBUG",
        "DATA_DIR": str(tmp_path / "data"),
    }
    done = subprocess.run(
        [sys.executable, "-m", "bot", "run"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    output = done.stdout + done.stderr
    assert done.returncode == 1
    assert "error: TELEGRAM_API_BASE_URL: cannot reach" in output
    assert TOKEN not in output and TOKEN.split(":")[1] not in output


@pytest.fixture
def debug_log() -> Iterator[io.StringIO]:
    """Everything logged at DEBUG, through the same redaction the command line installs."""
    buffer = io.StringIO()
    handler = logging.StreamHandler(buffer)
    handler.addFilter(RedactSecrets())
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        yield buffer
    finally:
        root.removeHandler(handler)
        root.setLevel(level)


async def test_id_numbers_never_reach_the_logs(harness: BotHarness, debug_log: io.StringIO) -> None:
    user = harness.kit.user(901, language_code="en")
    applicant = Applicant(901, zh=False)
    await reach_form(user, "Platform partner", zh=False)
    await fill_form(user, applicant, zh=False)
    logged = debug_log.getvalue()
    # PTB's debug log prints whole updates, so what people type does reach it …
    assert applicant.answers["company_name"] in logged
    # … but never their ID numbers.
    assert applicant.answers["legal_id_number"] not in logged
    assert applicant.answers["admin_id_number"] not in logged


async def test_an_applicant_cannot_reach_another_applicants_registration(
    harness: BotHarness,
) -> None:
    victim = await submit(harness, 911)
    mallory = harness.kit.user(912, language_code="en")
    await reach_form(mallory, "Platform partner", zh=False)
    message_id = mallory.messages()[-1].message_id
    for data in (
        "ap:cont:911-isv",
        "ap:fix:911-isv",
        "ap:submit:911-isv",
        "ap:edit:company_name",
        "pf:verify:911-isv",
        "pf:email:911-isv",
        "rv:approve:911-isv",
        "rv:reveal:911-isv",
    ):
        answer = await mallory.press_data(data, message_id)
        said = texts(answer) + (mallory.last_answer or "")
        assert victim.answers["company_name"] not in said, data
        assert victim.answers["admin_email"] not in said, data
    for command in ("/status", "/profile", "/review 911-isv", "/history 911-isv"):
        said = texts(await mallory.send(command))
        assert "911-isv" not in said and victim.answers["company_name"] not in said, command
    registration = harness.store.registrations.get("911-isv")
    assert registration is not None and registration.status.value == "submitted"
    assert [e.actor for e in harness.store.audit.for_subject("911-isv")] == [911, 911]


async def test_uploads_are_parsed_and_forwarded_under_their_detected_type(
    harness: BotHarness,
) -> None:
    """A file that only starts like a PDF is refused; a real PDF named ``licence.pdf.exe``
    reaches the reviewers as ``licence.pdf``, and a broken or tiny photo is refused."""
    h = harness
    user = h.kit.user(931, language_code="en")
    applicant = Applicant(931, zh=False)
    await reach_form(user, "Third-party developer", zh=False)
    await answer_until(user, applicant, "legal_id_front")
    for photo in (JPEG[: len(JPEG) // 2], _tiny_jpeg()):
        refused = await user.upload(photo, as_photo=True)
        assert "front (portrait side)" in texts(refused) and "Please send" in texts(refused)
    front = io.BytesIO()
    Image.new("RGB", (640, 480), (90, 120, 60)).save(front, "PNG")  # not the back's picture
    front_png = front.getvalue()
    await user.upload(front_png, file_name="front.png.exe", mime_type="image/png")
    await answer_until_from(user, applicant, "legal_id_back", "licence")
    fake = b"%PDF-1.7\n<html><script>alert(1)</script></html>\n"
    refused = await user.upload(fake, file_name="licence.html", mime_type="application/pdf")
    assert "could not be opened" in texts(refused)
    await user.upload(PDF, file_name="licence.pdf.exe", mime_type="application/pdf")
    await answer_until_from(user, applicant, "business_scope", None)
    await user.press("Submit for review")
    await h.deliver()

    files = h.kit.api.calls("sendDocument", ADMIN_CHAT)
    documents = [call.message.document for call in files if call.message]
    names = sorted(str(document["file_name"]) for document in documents if document)
    assert names == ["id-back.png", "id-front.png", "licence.pdf"]
    card = "\n".join(m.text for m in h.admin_group.messages())
    assert ".exe" not in card and ".html" not in card and "licence.pdf" in card
    stored = h.store.registrations.get("931-isv")
    assert stored is not None and stored.answers["licence"]["mime_type"] == "application/pdf"


def _tiny_jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (40, 30)).save(out, "JPEG")
    return out.getvalue()


async def answer_until_from(
    user: Person, applicant: Applicant, first: str, stop: str | None
) -> None:
    """Answer the applicant's fields from ``first`` up to ``stop`` (to the end when None)."""
    keys = [f.key for f in form.fields_for(applicant.role)]
    for key in keys[keys.index(first) :]:
        if key == stop:
            return
        await answer(user, applicant, key)
