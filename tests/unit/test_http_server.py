"""The fake Bot API over HTTP: PTB talks to it on 127.0.0.1 as to Telegram, and the records are
the in-process fake's; getUpdates long-polls and confirms by offset as Telegram does."""

from __future__ import annotations

import asyncio
import datetime as dtm
from collections.abc import AsyncIterator

import pytest
from telegram import Bot, Update
from telegram.error import Conflict, Forbidden, InvalidToken, TimedOut
from telegram.ext import ApplicationBuilder, CommandHandler, ContextTypes

from bot.offline import BOT_ID, BOT_USERNAME
from bot.offline.http_server import BotApiServer, HttpTelegram

TOKEN = f"{BOT_ID}:http-server-test-token-000000000000"


@pytest.fixture
async def server(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[BotApiServer]:
    """The server on a free port of 127.0.0.1."""
    # Without it PTB 22 warns (an error here) about durations given as numbers.
    monkeypatch.setenv("PTB_TIMEDELTA", "true")
    async with BotApiServer(token=TOKEN) as running:
        yield running


def bot_for(server: BotApiServer, token: str = TOKEN) -> Bot:
    """A PTB bot pointed at the server, as TELEGRAM_API_BASE_URL does for ours."""
    return Bot(token, base_url=server.base_url, base_file_url=server.base_file_url)


async def test_calls_and_files_go_through_the_fake(server: BotApiServer) -> None:
    kit = HttpTelegram(server)
    alice = kit.user(1, "Alice")
    async with bot_for(server) as bot:
        assert bot.username == BOT_USERNAME
        await bot.send_message(alice.id, "<b>Hello</b> &amp; welcome", parse_mode="HTML")
        sent = await bot.send_document(alice.id, b"%PDF-1.7 tiny", filename="terms.pdf")
        assert sent.document is not None
        telegram_file = await bot.get_file(sent.document.file_id)
        data = await telegram_file.download_as_bytearray()

    assert server.base_url.startswith("http://127.0.0.1:")
    greeting = alice.messages()[0]
    assert greeting.text == "Hello & welcome" and greeting.raw["entities"][0]["type"] == "bold"
    stored = server.api.files[sent.document.file_id]
    assert (stored.file_name, stored.mime_type, bytes(data)) == (
        "terms.pdf",
        "application/pdf",
        b"%PDF-1.7 tiny",
    )


async def test_refusals_and_faults_reach_ptb_as_telegram_errors(server: BotApiServer) -> None:
    kit = HttpTelegram(server)
    bob = kit.user(2, "Bob")
    with pytest.raises(InvalidToken):
        async with bot_for(server, f"{BOT_ID}:not-the-token-0000000000000000000000"):
            pass
    server.api.block(bob.id)
    async with bot_for(server) as bot:
        with pytest.raises(Forbidden, match="blocked"):
            await bot.send_message(bob.id, "hi")
        server.api.unblock(bob.id)
        server.api.fail_next("sendMessage", "timeout")
        with pytest.raises(TimedOut):  # over HTTP: no answer until the client gives up
            await bot.send_message(bob.id, "hi", read_timeout=0.3)
        await bot.send_message(bob.id, "hi again")
    assert [c.method for c in server.api.refused] == ["sendMessage", "sendMessage"]
    assert [m.text for m in bob.messages()] == ["hi again"]


async def test_updates_stay_until_an_offset_confirms_them(server: BotApiServer) -> None:
    kit = HttpTelegram(server)
    carol = kit.user(3, "Carol")
    await carol.send("/start")
    first = kit.last_update["update_id"]
    await carol.send("hello")
    async with bot_for(server) as bot:
        handed = await bot.get_updates(timeout=0)
        again = await bot.get_updates(timeout=0)  # no offset: nothing is confirmed
        rest = await bot.get_updates(offset=first + 1, timeout=0)
        after = await bot.get_updates(offset=first + 2, timeout=0)

    assert [u.update_id for u in handed] == [u.update_id for u in again] == [first, first + 1]
    assert handed[0].message is not None and handed[0].message.text == "/start"
    assert [u.update_id for u in rest] == [first + 1]
    assert after == () and server.updates.pending == []
    assert server.updates.deliveries[first + 1] == 3


async def test_a_long_poll_wakes_when_an_update_arrives(server: BotApiServer) -> None:
    kit = HttpTelegram(server)
    dave = kit.user(4, "Dave")
    async with bot_for(server) as bot:
        loop = asyncio.get_running_loop()
        began = loop.time()
        poll = asyncio.create_task(bot.get_updates(timeout=dtm.timedelta(seconds=10)))
        await asyncio.sleep(0.2)
        await dave.send("/start")
        updates = await asyncio.wait_for(poll, 5)
        waited = loop.time() - began

    assert len(updates) == 1 and 0.2 <= waited < 2


async def test_a_newer_poll_ends_the_waiting_one_with_409(server: BotApiServer) -> None:
    async with bot_for(server) as first, bot_for(server) as second:
        waiting = asyncio.create_task(first.get_updates(timeout=dtm.timedelta(seconds=10)))
        await asyncio.sleep(0.2)
        assert await second.get_updates(timeout=0) == ()
        with pytest.raises(Conflict, match="terminated by other getUpdates"):
            await asyncio.wait_for(waiting, 5)


async def test_a_polling_application_answers_people(server: BotApiServer) -> None:
    kit = HttpTelegram(server)
    erin = kit.user(5, "Erin")

    async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Greet."""
        assert update.effective_message is not None
        await update.effective_message.reply_text("Welcome")

    app = (
        ApplicationBuilder()
        .token(TOKEN)
        .base_url(server.base_url)
        .base_file_url(server.base_file_url)
        .build()
    )
    app.add_handler(CommandHandler("start", start))
    async with app:
        assert app.updater is not None
        await app.start()
        await app.updater.start_polling(poll_interval=0, timeout=dtm.timedelta(seconds=5))
        await erin.send("/start")
        for _ in range(200):
            if erin.replies():
                break
            await asyncio.sleep(0.02)
        await app.updater.stop()  # its last getUpdates confirms what was handled
        await app.stop()

    assert [m.text for m in erin.replies()] == ["Welcome"]
    assert server.updates.pending == []


async def test_dropping_pending_updates_forgets_them(server: BotApiServer) -> None:
    kit = HttpTelegram(server)
    await kit.user(6, "Frank").send("/start")
    async with bot_for(server) as bot:
        assert await bot.delete_webhook(drop_pending_updates=True)
        assert await bot.get_updates(timeout=0) == ()
