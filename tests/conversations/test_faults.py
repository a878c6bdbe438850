"""Faults while people use the bot: Telegram refusing, failing, timing out or slow; the SMTP
server down and back; the disk refusing writes. Each test says what people see and what
storage holds afterwards.

(The outbox's own retries of a decision through 429/5xx/timeouts, an SMTP outage across a
restart and a blocked applicant's decision are in ``test_outbox.py``.)
"""

from __future__ import annotations

import asyncio
import errno
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from conftest import REVIEWERS, BotHarness, Clock, Inbox, free_port, make_settings
from journey import PDF, Applicant, answer, answer_until, reach_form, registration, submit, texts

from bot.offline import OfflineTelegram, Person
from bot.offline.faults import FaultKind
from bot.offline.records import BotMessage
from bot.rules import form
from bot.rules.models import Delivery, Role, Status
from storage import atomic, tinydb_store

#: The error handler's message (``misc.error``) in each language, as people read it.
TOLD_EN = "Sorry, something went wrong on our side"
TOLD_ZH = "抱歉，处理时出了点问题"
#: What people must never see: the inside of an error.
INTERNALS = ("Traceback", "Errno", "OSError", "No space left", "Exception", 'File "')

#: The fields of a third-party developer's registration, in the order they are asked.
ISV_KEYS = [f.key for f in form.fields_for(Role.ISV)]


# -- the disk ----------------------------------------------------------------------------
class _FillingUp:
    """A file on a disk that fills up: half of the first write lands, then ENOSPC."""

    def __init__(self, handle: Any) -> None:
        self._handle = handle

    def __enter__(self) -> _FillingUp:
        return self

    def __exit__(self, *exc: object) -> None:
        self._handle.close()

    def write(self, data: bytes) -> int:
        self._handle.write(data[: len(data) // 2])
        self._handle.flush()
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    def __getattr__(self, name: str) -> Any:
        return getattr(self._handle, name)


class Disk:
    """``os`` as ``storage.atomic`` sees it, with a disk that can fill up.

    While full, every file write (records, indexes, the persistence, uploads: all go through
    ``write_bytes_atomic``) fails half-way with ENOSPC, and the real clean-up path runs.
    Creating empty marker files, renaming, deleting and reading still work, as on a real
    full disk. ``spare_writes`` lets that many more writes succeed first: the disk fills up
    in the middle of an operation."""

    def __init__(self) -> None:
        self._full = False
        self._spare = 0
        self.refused = 0

    @contextmanager
    def full(self, spare_writes: int = 0) -> Iterator[None]:
        self._full, self._spare = True, spare_writes
        try:
            yield
        finally:
            self._full = False

    def fdopen(self, fd: int, *args: Any, **kwargs: Any) -> Any:
        handle = os.fdopen(fd, *args, **kwargs)
        if not self._full:
            return handle
        if self._spare > 0:
            self._spare -= 1
            return handle
        self.refused += 1
        return _FillingUp(handle)

    def __getattr__(self, name: str) -> Any:
        return getattr(os, name)


@pytest.fixture
def disk(monkeypatch: pytest.MonkeyPatch) -> Disk:
    """The data folder's disk, which tests can fill up for a while."""
    fake = Disk()
    monkeypatch.setattr(atomic, "os", fake)
    return fake


def stored_files(data_dir: Path) -> dict[str, bytes]:
    """Every stored file by relative path, but the empty marker files of the indexes (a
    failed save may leave an extra one, which readers check and drop). Each JSON file
    must parse, and no temp file may be left behind."""
    found: dict[str, bytes] = {}
    for path in sorted(data_dir.rglob("*")):
        assert not atomic.is_temp(path.name), f"temp file left behind: {path}"
        if not path.is_file() or path.name == ".lock":
            continue
        data = path.read_bytes()
        if path.suffix == ".json":
            json.loads(data)
        elif not data and path.relative_to(data_dir).parts[0] == "index":
            continue
        found[str(path.relative_to(data_dir))] = data
    return found


# -- people ------------------------------------------------------------------------------
@contextmanager
def errors_expected(kit: OfflineTelegram) -> Iterator[list[BaseException]]:
    """Errors are expected inside: the kit collects them instead of re-raising, and the
    test says which they were (the harness still checks that none happen elsewhere)."""
    assert kit.errors == []
    caught: list[BaseException] = []
    kit.raise_errors = False
    try:
        yield caught
    finally:
        kit.raise_errors = True
        caught.extend(kit.errors)
        kit.errors.clear()


def disk_full(errors: list[BaseException]) -> bool:
    """Whether every error was the disk being full (and there was one): raised by the
    write itself, or by the barrier before a reply (inside the Bot API call, which PTB
    reports as a network error caused by it) where the update's writes are held."""
    return bool(errors) and all(_full(e) for e in errors)


def _full(error: BaseException | None) -> bool:
    while error is not None:
        if isinstance(error, OSError) and error.errno == errno.ENOSPC:
            return True
        error = error.__cause__
    return False


def shows_no_internals(messages: list[BotMessage]) -> bool:
    return not any(word in m.text for m in messages for word in INTERNALS)


def card_of(harness: BotHarness, registration_id: str) -> BotMessage:
    """The reviewers' card of a registration in the admin group."""
    shown = registration(harness, registration_id).number
    [card] = [
        m
        for m in harness.admin_group.messages()
        if m.method.startswith(("sendMessage", "editMessageText")) and shown in m.text and m.buttons
    ]
    return card


# -- Telegram ----------------------------------------------------------------------------
@pytest.mark.parametrize("kind", ["retry_after", "server_error", "timeout"])
async def test_an_answer_whose_reply_telegram_loses_is_kept(
    harness: BotHarness, kind: FaultKind
) -> None:
    """The answer is on disk before the bot replies: when Telegram refuses the reply (429),
    fails (502) or times out, the applicant is told something went wrong, and /apply
    continues after the answer that was kept."""
    user = harness.kit.user(401, language_code="en")
    applicant = Applicant(401, zh=False)
    await reach_form(user, "Third-party developer", zh=False)
    harness.kit.api.fail_next("sendMessage", kind, chat_id=user.id)
    with errors_expected(harness.kit) as errors:
        told = await user.send(applicant.answers["legal_name"])
    assert len(errors) == 1
    assert TOLD_EN in texts(told) and shows_no_internals(told)
    assert registration(harness, "401-isv").answers["legal_name"] == "Wei Zhang"
    assert "ID type" in texts(await user.send("/apply"))
    assert harness.app.running


async def test_an_applicant_who_blocks_the_bot_mid_answer_loses_nothing(
    harness: BotHarness,
) -> None:
    """Blocked between sending and the reply (403 on every call): the answer is kept, the
    error handler's own reply fails quietly, and after unblocking /apply goes on."""
    user = harness.kit.user(402, language_code="en")
    applicant = Applicant(402, zh=False)
    await reach_form(user, "Third-party developer", zh=False)
    harness.kit.api.block(user.id)
    with errors_expected(harness.kit) as errors:
        assert await user.send(applicant.answers["legal_name"]) == []
    assert len(errors) == 1 and "blocked" in str(errors[0])
    assert harness.app.running
    harness.kit.api.unblock(user.id)
    assert registration(harness, "402-isv").answers["legal_name"] == "Wei Zhang"
    assert "ID type" in texts(await user.send("/apply"))


async def test_a_claim_whose_card_cannot_be_refreshed_still_holds(harness: BotHarness) -> None:
    """Editing the card is best effort: with every edit failing (502), a claim is recorded,
    the reviewer is told, no error escapes, and the other reviewer is kept off."""
    await submit(harness, 403)
    first, second = (harness.kit.user(r, language_code="zh") for r in REVIEWERS)
    group = harness.admin_group
    card = card_of(harness, "403-isv")
    with harness.kit.api.failing("editMessageText", "server_error"):
        claimed = await first.press("认领", chat=group, message_id=card.message_id)
    assert "已认领" in texts(claimed)
    stored = registration(harness, "403-isv")
    assert stored.status is Status.IN_REVIEW and stored.claimed_by == REVIEWERS[0]
    await second.press_data("rv:approve:403-isv", card.message_id, group)
    assert second.last_answer is not None and "已被审核员" in second.last_answer
    assert registration(harness, "403-isv").status is Status.IN_REVIEW


async def test_an_approval_whose_confirmation_times_out_counts_once(
    harness: BotHarness,
) -> None:
    """The decision is recorded before the reviewer is answered: when answering the press
    times out, the group is told, the applicant still hears once (by the outbox's periodic
    run, not the skipped immediate one), and pressing again changes nothing."""
    user = harness.kit.user(404, language_code="en")
    await submit(harness, 404)
    reviewer = harness.kit.user(REVIEWERS[0], language_code="zh")
    group = harness.admin_group
    card = card_of(harness, "404-isv")
    await reviewer.press("通过", chat=group, message_id=card.message_id)
    confirmation = group.last()
    harness.kit.api.fail_next("answerCallbackQuery", "timeout")
    with errors_expected(harness.kit) as errors:
        told = await reviewer.press("确认通过", chat=group, message_id=confirmation.message_id)
    assert len(errors) == 1 and TOLD_ZH in texts(told)
    assert registration(harness, "404-isv").status is Status.APPROVED
    await harness.deliver()
    await reviewer.press_data("rv:apok:404-isv:1", confirmation.message_id, group)
    assert reviewer.last_answer is not None and "不能再执行此操作" in reviewer.last_answer
    await harness.deliver()
    assert [m.text.startswith("🎉") for m in user.messages()].count(True) == 1
    events = [e.action for e in harness.store.audit.for_subject("404-isv")]
    assert events.count("approved") == 1


async def test_the_card_and_its_documents_arrive_once_despite_failures(
    harness: BotHarness,
) -> None:
    """The reviewers' card and each document are their own outbox entries: rate-limited,
    failing and timing out calls are retried with backoff until each arrives exactly once,
    and every document still answers the card."""
    api, group = harness.kit.api, harness.admin_group
    api.fail_next("sendMessage", "retry_after", chat_id=group.id, retry_after=30)
    api.fail_next("sendMessage", "server_error", chat_id=group.id)
    api.fail_next("sendPhoto", "timeout", chat_id=group.id)
    api.fail_next("sendDocument", "retry_after", chat_id=group.id, retry_after=60)
    api.fail_next("sendDocument", "server_error", chat_id=group.id)
    await submit(harness, 405)  # delivers once: the card is refused
    stored = registration(harness, "405-isv")
    card_note, *documents = stored.outbox  # the documents are queued with the card …
    assert card_note.state is Delivery.PENDING and card_note.attempts == 1
    assert [n.attempts for n in documents] == [0, 0, 0]  # … and wait for it
    assert card_note.next_attempt_at >= harness.clock() + timedelta(seconds=30)
    for _ in range(8):
        harness.clock.advance(minutes=1)
        await harness.deliver()
    stored = registration(harness, "405-isv")
    assert [n.state for n in stored.outbox] == [Delivery.SENT] * 4
    shown = stored.number
    cards = [m for m in group.messages() if shown in m.text and m.method == "sendMessage"]
    assert len(cards) == 1
    attached = [m for m in group.messages() if m.method in ("sendPhoto", "sendDocument")]
    assert len(attached) == 3
    assert all(m.raw["reply_to_message"]["message_id"] == cards[0].message_id for m in attached)


async def test_a_card_and_its_documents_arrive_after_a_long_outage(harness: BotHarness) -> None:
    """The reviewers' group refuses (5xx, then 403 while the bot is out of it) for a day:
    the card is retried at most an hour apart and never given up, and once the group is
    back the card arrives, then each document as a reply to it."""
    api, group = harness.kit.api, harness.admin_group
    with api.failing(None, "server_error", chat_id=group.id):
        await submit(harness, 409)
        for _ in range(12):
            harness.clock.advance(hours=1)
            await harness.deliver()
    with api.failing(None, "forbidden", chat_id=group.id):
        for _ in range(12):
            harness.clock.advance(hours=1)
            await harness.deliver()
    card_note = registration(harness, "409-isv").outbox[0]
    assert card_note.state is Delivery.PENDING and card_note.attempts > 20
    assert card_note.next_attempt_at <= harness.clock() + timedelta(hours=1)
    harness.clock.advance(hours=1)
    await harness.deliver()
    await harness.deliver()
    shown = registration(harness, "409-isv").number
    cards = [m for m in group.messages() if shown in m.text and m.method == "sendMessage"]
    attached = [m for m in group.messages() if m.method in ("sendPhoto", "sendDocument")]
    assert len(cards) == 1 and len(attached) == 3
    assert all(m.raw["reply_to_message"]["message_id"] == cards[0].message_id for m in attached)


async def test_reminders_give_up_on_a_blocked_applicant_and_retry_a_failed_send(
    harness: BotHarness,
) -> None:
    """Idle drafts are reminded once: a blocked applicant (403) is not tried again, one whose
    reminder failed (502) gets it on the next run, and the others are not held up."""
    people = [harness.kit.user(uid, language_code="en") for uid in (406, 407, 408)]
    for person in people:
        await reach_form(person, "Third-party developer", zh=False)
    blocked, failing, fine = people
    harness.kit.api.block(blocked.id)
    harness.kit.api.fail_next("sendMessage", "server_error", chat_id=failing.id)
    job = harness.app.job_queue.get_jobs_by_name("draft-reminders")[0]
    harness.clock.advance(days=4)

    def reminded(person: Person) -> int:
        return sum("isn't finished yet" in m.text for m in person.messages())

    await job.run(harness.app)
    assert (reminded(failing), reminded(fine)) == (0, 1)
    assert registration(harness, "406-isv").reminded_at is not None  # given up, recorded
    harness.kit.api.unblock(blocked.id)
    await job.run(harness.app)
    assert [reminded(p) for p in people] == [0, 1, 1]


async def test_smtp_down_and_back_without_a_restart(tmp_path: Path, clock: Clock) -> None:
    """With the SMTP server down, the chat message leaves at once and the e-mail waits with
    backoff (not retried before its time); when the server is back on the same port, the
    same process sends the e-mail exactly once."""
    inbox, port = Inbox(), free_port()
    server = Controller(inbox, hostname="127.0.0.1", port=port)
    settings = make_settings(
        tmp_path / "data", SMTP_HOST="127.0.0.1", SMTP_PORT=port, SMTP_TLS="none"
    )
    h = BotHarness(settings, clock)
    started = False
    await h.start()
    try:
        applicant = await submit(h, 409)
        address = applicant.answers["admin_email"]
        await h.kit.user(REVIEWERS[0]).send("/approve 409-isv", chat=h.admin_group)
        await h.deliver()  # the server is not running yet: the e-mail fails
        [chat, mail] = (n for n in registration(h, "409-isv").outbox if n.template == "approved")
        assert chat.state is Delivery.SENT
        assert mail.state is Delivery.PENDING and mail.attempts == 1
        assert mail.last_error is not None and mail.next_attempt_at > clock()

        server.start()
        started = True
        await h.deliver()  # not due yet: nothing is sent early
        assert inbox.to(address) == []
        clock.advance(seconds=5)
        await h.deliver()
        [sent] = (n for n in registration(h, "409-isv").outbox if n.channel == "email")
        assert sent.state is Delivery.SENT and sent.attempts == 2
        clock.advance(hours=1)
        await h.deliver()
        assert len(inbox.to(address)) == 1
        assert sum(m.text.startswith("🎉") for m in h.kit.messages(409)) == 1
    finally:
        await h.stop()
        if started:
            server.stop()
    assert h.kit.errors == []


async def test_a_slow_download_while_the_outbox_delivers_sends_nothing_twice(
    harness: BotHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An applicant fixes a flagged document while the change request's message is being
    delivered (its first attempt failed): the upload's download is slow, as Telegram's file
    servers can be, and the outbox records the delivery meanwhile. Saving the document must
    not undo that record, or the change request is sent a second time."""
    h = harness
    user = h.kit.user(410, language_code="en")
    await submit(h, 410)
    reviewer = h.kit.user(REVIEWERS[0], language_code="zh")
    for button in ("要求修改", "营业执照", "下一步", "营业执照照片不清晰"):
        await reviewer.press(button, chat=h.admin_group)
    h.kit.api.fail_next("sendMessage", "server_error", chat_id=user.id)
    await reviewer.press("发送修改要求", chat=h.admin_group)
    await h.until(lambda: registration(h, "410-isv").outbox[-1].attempts == 1)
    assert "Business licence" in texts(await user.send("/apply"))  # not waiting for it

    real = h.kit.api.do_request
    downloading = asyncio.Event()

    async def slow_files(url: str, method: str, *args: Any, **kwargs: Any) -> tuple[int, bytes]:
        if method == "GET":
            downloading.set()
            await asyncio.sleep(0.2)
        return await real(url, method, *args, **kwargs)

    monkeypatch.setattr(h.kit.api, "do_request", slow_files)
    upload = asyncio.create_task(
        user.upload(PDF + b"v2", file_name="licence-v2.pdf", mime_type="application/pdf")
    )
    await downloading.wait()
    h.clock.advance(seconds=10)
    await h.deliver()  # the change request arrives and is recorded as sent
    assert not registration(h, "410-isv").pending
    await upload
    assert registration(h, "410-isv").answers["licence"]["size"] == len(PDF) + 2
    await h.deliver()
    assert sum(m.text.startswith("✏️") for m in user.messages()) == 1


# -- the disk ----------------------------------------------------------------------------
async def test_a_full_disk_is_explained_and_the_answer_taken_again_after(
    harness: BotHarness, disk: Disk
) -> None:
    """The disk fills up while an applicant answers: they are told in their language that it
    was not saved (no error details), another applicant can still read their status and a
    reviewer the queue, nothing stored is damaged (every file parses, storage reopens with
    every earlier answer), and once space is back the same answer is taken and the journey
    goes on to submission."""
    h = harness
    en, zh = h.kit.user(411, language_code="en"), h.kit.user(412, language_code="zh")
    a, b = Applicant(411, zh=False), Applicant(412)
    await reach_form(en, "Third-party developer", zh=False)
    await reach_form(zh, "第三方开发者")
    await answer_until(en, a, "company_name")
    await answer_until(zh, b, "company_name")
    before = {rid: registration(h, rid).answers for rid in ("411-isv", "412-isv")}
    reviewer = h.kit.user(REVIEWERS[0], language_code="zh")

    with errors_expected(h.kit) as errors, disk.full():
        refused = await en.send(a.answers["company_name"])
        status = await zh.send("/status")
        queue = await reviewer.send("/queue", chat=h.admin_group)
        refused_zh = await zh.send(b.answers["company_name"])
    assert disk_full(errors) and disk.refused >= 2
    assert TOLD_EN in texts(refused) and TOLD_ZH in texts(refused_zh)
    assert "草稿" in texts(status) and registration(h, "412-isv").number in texts(status)
    assert len(queue) == 1 and TOLD_ZH not in texts(queue)
    assert shows_no_internals(en.messages() + zh.messages() + queue)

    stored_files(h.settings.DATA_DIR)
    await h.restart()
    stored_files(h.settings.DATA_DIR)
    for rid, answers in before.items():
        assert registration(h, rid).answers == answers
        assert registration(h, rid).cursor == "company_name"

    again = await en.send(a.answers["company_name"])
    assert "Step 7 of 17" in texts(again) and "credit code" in texts(again)
    for key in ISV_KEYS[ISV_KEYS.index("credit_code") :]:
        await answer(en, a, key)
    done = await en.press("Submit for review")
    assert "Submitted for review" in texts(done)
    assert registration(h, "411-isv").status is Status.SUBMITTED
    assert h.app.running


ACTIONS = ["text", "choice button", "upload", "submit"]


@pytest.mark.parametrize("action", ACTIONS)
async def test_nothing_changes_while_the_disk_is_full(
    harness: BotHarness, disk: Disk, action: str
) -> None:
    """Whatever the applicant does on a full disk (type, press, upload, submit), they are
    told in their language, a pressed button stops spinning, no stored file changes, and the
    same action succeeds once there is space again."""
    h = harness
    user = h.kit.user(413, language_code="zh")
    applicant = Applicant(413)
    await reach_form(user, "第三方开发者")
    stop = {"text": "legal_name", "choice button": "legal_id_type", "upload": "licence"}
    await answer_until(user, applicant, stop.get(action))

    async def act() -> list[BotMessage]:
        if action == "submit":
            return await user.press("提交审核")
        key = stop[action]
        return await answer(user, applicant, key)

    stored = stored_files(h.settings.DATA_DIR)
    with errors_expected(h.kit) as errors, disk.full():
        told = await act()
    assert disk_full(errors)
    assert TOLD_ZH in texts(told) and shows_no_internals(told)
    assert h.kit.unanswered_callbacks == []
    assert stored_files(h.settings.DATA_DIR) == stored
    assert h.store.registrations.with_status(Status.SUBMITTED) == []
    assert h.store.registrations.with_pending_notifications() == []

    done = await act()
    assert TOLD_ZH not in texts(done)
    after = registration(h, "413-isv")
    if action == "submit":
        assert after.status is Status.SUBMITTED and "已提交审核" in texts(done)
    else:
        assert stop[action] in after.answers


async def test_someone_whose_records_cannot_be_read_is_told_in_telegrams_language(
    harness: BotHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One applicant's file cannot be read (EIO): they are still told, in the language of
    their Telegram app since their chosen one cannot be read, and everyone else is served."""
    h = harness
    broken, other = h.kit.user(414, language_code="en"), h.kit.user(415, language_code="zh")
    await reach_form(broken, "Third-party developer", zh=False)
    await reach_form(other, "第三方开发者")
    unreadable = tinydb_store.user_path(h.settings.DATA_DIR, broken.id)
    real = atomic.read_json

    def read_json(path: Path, *args: Any, **kwargs: Any) -> Any:
        if Path(path) == unreadable:
            raise OSError(errno.EIO, os.strerror(errno.EIO))
        return real(path, *args, **kwargs)

    monkeypatch.setattr("storage.tinydb_store.read_json", read_json)
    with errors_expected(h.kit) as errors:
        told = await broken.send("Wei Zhang")
        served = await other.send("张伟")
    assert len(errors) == 1 and isinstance(errors[0], OSError)
    assert TOLD_EN in texts(told) and shows_no_internals(told)
    assert "证件类型" in texts(served)


# -- the disk filling up in the middle of an operation ----------------------------------
async def test_an_address_reserved_just_before_the_disk_filled_is_released(
    harness: BotHarness, disk: Disk
) -> None:
    """The disk fills between reserving an e-mail address (a small file) and saving the
    answer (the applicant's file): the applicant is told it was not saved and types another
    address; the first one must be free for others again."""
    h = harness
    user = h.kit.user(416, language_code="en")
    applicant = Applicant(416, zh=False)
    await reach_form(user, "Third-party developer", zh=False)
    await answer_until(user, applicant, "admin_email")
    with errors_expected(h.kit) as errors, disk.full(spare_writes=1):
        told = await user.send("first@example.com")
    assert disk_full(errors) and TOLD_EN in texts(told)
    await user.send("second@example.com")
    stored = registration(h, "416-isv")
    assert stored.answers["admin_email"] == "second@example.com"
    assert h.store.unique.owner("email", "second@example.com") == "416-isv"
    assert h.store.unique.owner("email", "first@example.com") is None


async def test_a_folder_flush_failing_after_the_answer_was_stored_keeps_the_address(
    harness: BotHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The applicant's file is renamed into place, then flushing its folder fails (EIO):
    the answer stands, so the address must stay theirs; nobody else may register it."""
    h = harness
    user = h.kit.user(419, language_code="en")
    applicant = Applicant(419, zh=False)
    await reach_form(user, "Third-party developer", zh=False)
    await answer_until(user, applicant, "admin_email")
    real = atomic.fsync_dir

    def failing_in_users(directory: Path) -> None:
        if "users" in Path(directory).parts:
            raise OSError(errno.EIO, os.strerror(errno.EIO))
        real(directory)

    with errors_expected(h.kit) as errors:
        monkeypatch.setattr(atomic, "fsync_dir", failing_in_users)
        told = await user.send("taken@example.com")
        monkeypatch.setattr(atomic, "fsync_dir", real)
    assert registration(h, "419-isv").answers["admin_email"] == "taken@example.com"

    other = h.kit.user(420, language_code="en")
    await reach_form(other, "Third-party developer", zh=False)
    await answer_until(other, Applicant(420, zh=False), "admin_email")
    refused = await other.send("taken@example.com")
    assert "must be unique on the platform" in texts(refused)
    assert "admin_email" not in registration(h, "420-isv").answers
    assert h.store.unique.owner("email", "taken@example.com") == "419-isv"
    # … and the applicant was not told it failed: it did not.
    assert errors == [] and TOLD_EN not in texts(told) and "administrator id" in texts(told)


@pytest.mark.parametrize("spare_writes", [0, 1, 2])
@pytest.mark.parametrize("change", ["submit", "approve"])
async def test_a_change_and_its_audit_event_are_stored_together(
    harness: BotHarness, disk: Disk, change: str, spare_writes: int
) -> None:
    """Wherever the disk fills up during a submission or an approval, the status changed
    exactly when its audit event was written: the trail never misses a move (nor records
    one that did not happen), and the index lists the registration under its status."""
    h = harness
    if change == "submit":
        person = h.kit.user(417, language_code="en")
        await reach_form(person, "Third-party developer", zh=False)
        await answer_until(person, Applicant(417, zh=False), None)
        rid, moved, action = "417-isv", Status.SUBMITTED, "submitted"
    else:
        await submit(h, 417)
        person = h.kit.user(REVIEWERS[0], language_code="zh")
        rid, moved, action = "417-isv", Status.APPROVED, "approved"
    # The delivery the change starts runs inside the full disk too, and is over (its error
    # reported) before the disk has space again: held, then run here, not in the background.
    with h.jobs_held(), errors_expected(h.kit), disk.full(spare_writes=spare_writes):
        if change == "submit":
            await person.press("Submit for review")
        else:
            await person.send("/approve 417-isv", chat=h.admin_group)
        await h.run_job("outbox")
    await h.restart()
    stored = registration(h, rid)
    events = [e.action for e in h.store.audit.for_subject(rid)]
    assert (stored.status is moved) == (action in events)
    assert [r.id for r in h.store.registrations.with_status(stored.status)] == [rid]


async def approved_but_not_yet_told(h: BotHarness, uid: int) -> Person:
    """An approved applicant whose message's first attempt failed (502): it is due again."""
    user = h.kit.user(uid, language_code="en")
    await submit(h, uid)
    h.kit.api.fail_next("sendMessage", "server_error", chat_id=uid)
    await h.kit.user(REVIEWERS[0]).send(f"/approve {uid}-isv", chat=h.admin_group)
    await h.until(lambda: registration(h, f"{uid}-isv").outbox[-1].attempts == 1)
    h.clock.advance(seconds=10)
    return user


async def test_a_notification_due_while_the_disk_is_full_is_delivered_after(
    harness: BotHarness, disk: Disk
) -> None:
    """The outbox cannot record a delivery while the disk is full: the run fails (reported,
    the application keeps running), the notification stays pending and reaches the
    applicant once space is back: nothing is lost."""
    h = harness
    user = await approved_but_not_yet_told(h, 419)
    job = h.app.job_queue.get_jobs_by_name("outbox")[0]
    with errors_expected(h.kit) as errors, disk.full():
        await job.run(h.app)
    assert disk_full(errors) and h.app.running
    assert registration(h, "419-isv").pending
    await h.deliver()
    assert not registration(h, "419-isv").pending
    assert any(m.text.startswith("🎉") for m in user.messages())


async def test_a_notification_sent_while_the_disk_is_full_is_not_sent_again(
    harness: BotHarness, disk: Disk
) -> None:
    """Sent, but the record of it failed: the next run must record it, not send it again."""
    h = harness
    user = await approved_but_not_yet_told(h, 420)
    job = h.app.job_queue.get_jobs_by_name("outbox")[0]
    with errors_expected(h.kit), disk.full():
        await job.run(h.app)
    await h.deliver()
    assert sum(m.text.startswith("🎉") for m in user.messages()) == 1
