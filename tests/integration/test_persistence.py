"""StorePersistence: direct calls, and a real PTB Application over a fake Bot API transport."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from telegram import Update
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CommandHandler,
    ContextTypes,
    ConversationHandler,
    MessageHandler,
    PersistenceInput,
    filters,
)
from telegram.request import BaseRequest, RequestData

from storage.memory import MemoryKeyValueStore
from storage.persistence import StorePersistence, decode_key, encode_key
from storage.tinydb_store import TinyDBStorage

BOT = {"id": 123, "is_bot": True, "first_name": "Onboarding", "username": "onboarding_bot"}
USER = {"id": 42, "is_bot": False, "first_name": "李雷"}
CHAT = {"id": 42, "type": "private", "first_name": "李雷"}
ASK_NAME, ASK_COMPANY = 1, 2
App = Application[Any, Any, Any, Any, Any, Any]


class FakeBotAPI(BaseRequest):
    """Answers getMe and sendMessage; records the texts the bot sent."""

    def __init__(self) -> None:
        self.sent: list[str] = []

    async def initialize(self) -> None:
        pass

    async def shutdown(self) -> None:
        pass

    @property
    def read_timeout(self) -> float | None:
        return None

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: Any = None,
        write_timeout: Any = None,
        connect_timeout: Any = None,
        pool_timeout: Any = None,
    ) -> tuple[int, bytes]:
        endpoint = url.rsplit("/", 1)[-1]
        params = request_data.parameters if request_data else {}
        result: Any
        if endpoint == "getMe":
            result = BOT
        elif endpoint == "sendMessage":
            self.sent.append(str(params["text"]))
            result = {
                "message_id": len(self.sent),
                "date": 0,
                "chat": CHAT,
                "from": BOT,
                "text": params["text"],
            }
        else:
            return 400, json.dumps({"ok": False, "description": endpoint}).encode()
        return 200, json.dumps({"ok": True, "result": result}).encode()


async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
    assert update.effective_message and context.user_data is not None
    context.user_data["started"] = True
    await update.effective_message.reply_text("你叫什么名字？")
    return ASK_NAME


async def got_name(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
    assert update.effective_message and context.user_data is not None
    context.user_data["name"] = update.effective_message.text
    await update.effective_message.reply_text("公司名称？")
    return ASK_COMPANY


async def got_company(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
    assert update.effective_message and context.user_data is not None
    context.user_data["company"] = update.effective_message.text
    await update.effective_message.reply_text("谢谢")
    return ConversationHandler.END


def build_app(persistence: StorePersistence, api: FakeBotAPI, errors: list[object]) -> App:
    app = (
        ApplicationBuilder()
        .token("123:abc")
        .request(api)
        .get_updates_request(FakeBotAPI())
        .updater(None)
        .persistence(persistence)
        .build()
    )
    text = filters.TEXT & ~filters.COMMAND
    app.add_handler(
        ConversationHandler(
            entry_points=[CommandHandler("start", start)],
            states={
                ASK_NAME: [MessageHandler(text, got_name)],
                ASK_COMPANY: [MessageHandler(text, got_company)],
            },
            fallbacks=[],
            name="onboarding",
            persistent=True,
        )
    )

    async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        errors.append(context.error)

    app.add_error_handler(on_error)
    return app


def message(update_id: int, text: str) -> dict[str, Any]:
    msg: dict[str, Any] = {
        "message_id": update_id,
        "date": 0,
        "chat": CHAT,
        "from": USER,
        "text": text,
    }
    if text.startswith("/"):
        msg["entities"] = [{"type": "bot_command", "offset": 0, "length": len(text)}]
    return {"update_id": update_id, "message": msg}


async def feed(app: App, payload: dict[str, Any]) -> None:
    await app.process_update(Update.de_json(payload, app.bot))
    # The bot calls this after every update, so nothing acknowledged waits for the interval.
    await app.update_persistence()


async def test_conversation_and_user_data_survive_a_restart(tmp_path: Path) -> None:
    errors: list[object] = []
    store = TinyDBStorage.open(tmp_path)
    api = FakeBotAPI()
    app = build_app(StorePersistence(store.kv), api, errors)
    async with app:
        await feed(app, message(1, "/start"))
        await feed(app, message(2, "李雷"))
    assert api.sent == ["你叫什么名字？", "公司名称？"]
    assert store.kv.items("ptb.conv.onboarding") == {"42,42": ASK_COMPANY}
    store.close()  # as a restart would

    store = TinyDBStorage.open(tmp_path)
    api = FakeBotAPI()
    app = build_app(StorePersistence(store.kv), api, errors)
    async with app:
        assert app.user_data[42] == {"started": True, "name": "李雷"}
        await feed(app, message(3, "甲公司"))  # answered in the restored state
        assert app.user_data[42]["company"] == "甲公司"
    assert api.sent == ["谢谢"]
    assert store.kv.items("ptb.conv.onboarding") == {}  # END removes the state
    assert store.kv.get("ptb.user_data", "42") == {
        "started": True,
        "name": "李雷",
        "company": "甲公司",
    }
    store.close()
    assert errors == []


async def test_direct_calls_survive_a_new_persistence(tmp_path: Path) -> None:
    store = TinyDBStorage.open(tmp_path)
    p = StorePersistence(store.kv)
    await p.update_conversation("onboarding", (42, 42), ASK_NAME)
    await p.update_conversation("onboarding", (7, 8), "summary")
    await p.update_conversation("support", (42,), 5)
    await p.update_user_data(42, {"name": "韩梅梅", "answers": {"phone": "13800138000"}})
    await p.update_chat_data(-100, {"muted": True})
    await p.update_bot_data({"version": 2})
    await p.update_conversation("onboarding", (7, 8), None)  # ended
    await p.flush()
    store.close()

    store = TinyDBStorage.open(tmp_path)
    p = StorePersistence(store.kv)
    assert await p.get_conversations("onboarding") == {(42, 42): ASK_NAME}
    assert await p.get_conversations("support") == {(42,): 5}
    assert await p.get_conversations("never") == {}
    assert await p.get_user_data() == {42: {"name": "韩梅梅", "answers": {"phone": "13800138000"}}}
    assert await p.get_chat_data() == {-100: {"muted": True}}
    assert await p.get_bot_data() == {"version": 2}
    assert await p.get_callback_data() is None
    await p.drop_user_data(42)
    await p.drop_chat_data(-100)
    assert await p.get_user_data() == {}
    assert await p.get_chat_data() == {}
    store.close()


async def test_defaults_and_callback_data() -> None:
    p = StorePersistence(MemoryKeyValueStore())
    assert p.store_data == PersistenceInput(
        bot_data=True, chat_data=True, user_data=True, callback_data=False
    )
    assert p.update_interval == 60
    kv = MemoryKeyValueStore()
    p = StorePersistence(kv, PersistenceInput(callback_data=True), update_interval=5)
    data = ([("uuid-1", 1700000000.5, {"btn": "approve:42-isv"})], {"cq-1": "uuid-1"})
    await p.update_callback_data(data)
    assert await StorePersistence(kv).get_callback_data() == data


@pytest.mark.parametrize("key", [(), (1,), (123, 456), (-100123, 42, 7), (1, "inline-id")])
def test_conversation_keys_round_trip(key: tuple[int | str, ...]) -> None:
    assert decode_key(encode_key(key)) == key


def test_int_keys_are_encoded_plainly() -> None:
    assert encode_key((123, 456)) == "123,456"


@pytest.mark.parametrize(
    "bad", [{1: "int key"}, {"t": (1, 2)}, {"s": {1}}, {"f": float("nan")}, {"o": object()}]
)
async def test_only_json_safe_user_data_is_accepted(bad: dict[Any, Any]) -> None:
    kv = MemoryKeyValueStore()
    with pytest.raises(TypeError, match="JSON-safe"):
        await StorePersistence(kv).update_user_data(1, bad)
    assert kv.items("ptb.user_data") == {}


class CountingKV(MemoryKeyValueStore):
    """Records every write."""

    def __init__(self) -> None:
        super().__init__()
        self.writes: list[tuple[str, str]] = []

    def put(self, namespace: str, key: str, value: Any) -> None:
        self.writes.append((namespace, key))
        super().put(namespace, key, value)

    def delete(self, namespace: str, key: str) -> None:
        if self.get(namespace, key) is not None:  # deleting nothing writes nothing
            self.writes.append((namespace, key))
        super().delete(namespace, key)


async def test_only_changed_entries_are_written() -> None:
    kv = CountingKV()
    kv.put("ptb.user_data", "1", {"a": 1})
    kv.put("ptb.user_data", "2", {"b": 2})
    kv.writes.clear()
    p = StorePersistence(kv)
    users = await p.get_user_data()
    await p.get_bot_data()

    await p.update_user_data(1, users[1])  # loaded and unchanged
    await p.update_bot_data({})  # PTB passes bot_data on every run
    assert kv.writes == []
    await p.update_user_data(2, {"b": 3})
    await p.update_bot_data({"x": 1})
    await p.update_bot_data({"x": 1})
    await p.update_user_data(1, {})  # emptied: the entry goes
    assert kv.writes == [("ptb.user_data", "2"), ("ptb.bot_data", "data"), ("ptb.user_data", "1")]
    assert kv.items("ptb.user_data") == {"2": {"b": 3}}


async def test_application_writes_one_entry_per_update(tmp_path: Path) -> None:
    kv = CountingKV()
    errors: list[object] = []
    app = build_app(StorePersistence(kv), FakeBotAPI(), errors)
    async with app:
        await feed(app, message(1, "/start"))
        kv.writes.clear()
        await feed(app, message(2, "李雷"))
        # user_data and the state changed; chat_data ({}) and bot_data ({}) did not.
        assert sorted(kv.writes) == [("ptb.conv.onboarding", "42,42"), ("ptb.user_data", "42")]
    assert errors == []
