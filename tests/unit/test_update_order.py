"""The per-user update processor, through PTB's own update queue (as polling and webhooks
feed it): other users are not held up by a slow one, and one user's updates run one at a
time in the order they came."""

from __future__ import annotations

import asyncio
from typing import Any

from telegram import Chat, Message, Update, User
from telegram.ext import Application, ApplicationBuilder, TypeHandler

from bot.offline import OfflineTelegram
from bot.update_order import PerUserUpdateProcessor, sender_of

T0 = 1_700_000_000


def update(update_id: int, user_id: int | None, text: str) -> Update:
    user = User(user_id, "U", False) if user_id is not None else None
    chat = Chat(user_id or -100, Chat.PRIVATE if user_id else Chat.CHANNEL)
    message = Message(update_id, T0, chat, from_user=user, text=text)  # type: ignore[arg-type]
    if user_id is None:
        return Update(update_id, channel_post=message)
    return Update(update_id, message=message)


class Recorder:
    """A handler that logs start and end of each update and can be held on a text."""

    def __init__(self) -> None:
        self.log: list[str] = []
        self.hold: dict[str, asyncio.Event] = {}
        self.ended: dict[str, asyncio.Event] = {}
        self.running = 0
        self.most_running = 0

    async def __call__(self, upd: Update, context: Any) -> None:
        message = upd.effective_message
        assert message is not None and message.text is not None
        text = message.text
        self.running += 1
        self.most_running = max(self.most_running, self.running)
        self.log.append(f"start {text}")
        if text in self.hold:
            await self.hold[text].wait()
        await asyncio.sleep(0)
        self.log.append(f"end {text}")
        self.running -= 1
        self.done(text).set()

    def done(self, text: str) -> asyncio.Event:
        return self.ended.setdefault(text, asyncio.Event())

    async def until_done(self, text: str) -> None:
        await asyncio.wait_for(self.done(text).wait(), 5)


def application(processor: PerUserUpdateProcessor) -> Application:  # type: ignore[type-arg]
    kit = OfflineTelegram()
    return kit.wire(ApplicationBuilder()).updater(None).concurrent_updates(processor).build()


async def test_a_slow_user_does_not_hold_up_others_and_each_user_keeps_order() -> None:
    processor = PerUserUpdateProcessor()
    app = application(processor)
    recorder = Recorder()
    recorder.hold["a1"] = asyncio.Event()
    app.add_handler(TypeHandler(Update, recorder))
    async with app:
        await app.start()
        for n, (user, text) in enumerate([(1, "a1"), (1, "a2"), (2, "b1"), (2, "b2")]):
            await app.update_queue.put(update(n + 1, user, text))
        # b's updates finish while a1 is still being handled; a2 waits behind a1.
        await recorder.until_done("b2")
        assert "start a2" not in recorder.log
        assert processor.users_in_flight == 1
        recorder.hold["a1"].set()
        await recorder.until_done("a2")
        await app.stop()
    a_events = [e for e in recorder.log if e.endswith(("a1", "a2"))]
    assert a_events == ["start a1", "end a1", "start a2", "end a2"]
    b_events = [e for e in recorder.log if e.endswith(("b1", "b2"))]
    assert b_events == ["start b1", "end b1", "start b2", "end b2"]
    assert recorder.most_running == 2  # a1 and one of b's at once, never two of a's
    assert processor.users_in_flight == 0  # nothing kept for users who are done


async def test_updates_of_one_user_run_in_the_order_they_came() -> None:
    processor = PerUserUpdateProcessor()
    app = application(processor)
    recorder = Recorder()
    app.add_handler(TypeHandler(Update, recorder))
    texts = [f"m{i}" for i in range(30)]
    async with app:
        await app.start()
        for n, text in enumerate(texts):
            await app.update_queue.put(update(n + 1, 7, text))
        await recorder.until_done(texts[-1])
        await app.stop()
    assert recorder.log == [f"{edge} {t}" for t in texts for edge in ("start", "end")]
    assert recorder.most_running == 1


def test_updates_without_a_user_share_one_queue() -> None:
    assert sender_of(update(1, None, "post")) is None
    assert sender_of(update(2, 42, "hi")) == 42
    assert sender_of(object()) is None
