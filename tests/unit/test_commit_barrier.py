"""The commit barrier: the storage's open group is committed before every Bot API call that
tells anyone anything, and not before those that only read (each commit also ends the
user's lock, and what was read under it must then be read again)."""

from __future__ import annotations

from telegram.ext import ExtBot

from bot.commit_barrier import CommittingRequest
from bot.offline import OFFLINE_TOKEN, OfflineTelegram


async def test_a_commit_before_each_call_that_tells_and_none_before_reads() -> None:
    kit = OfflineTelegram()
    person = kit.user(7)
    commits: list[str] = []

    async def commit() -> None:
        commits.append("commit")

    bot = ExtBot(OFFLINE_TOKEN, request=CommittingRequest(kit.api, commit))
    async with bot:  # getMe
        file_id, _ = kit.api.add_file(b"%PDF-1.4 licence", file_name="licence.pdf")
        file = await bot.get_file(file_id)
        assert await file.download_as_bytearray() == b"%PDF-1.4 licence"
        kit.api.callback_answers["q1"] = None  # a button pressed, not yet answered
        await bot.answer_callback_query("q1")  # the spinner stops: nothing is said
        assert commits == []

        await bot.send_message(person.id, "Saved")
        assert commits == ["commit"]
        kit.api.callback_answers["q2"] = None
        await bot.answer_callback_query("q2", text="Saved")  # a toast tells
        assert commits == ["commit", "commit"]
