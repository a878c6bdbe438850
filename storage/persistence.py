"""PTB persistence on the ``KeyValueStore``: one small durable document per user, chat, state.

PTB's ``PicklePersistence`` rewrites one big file in place; here every ``update_*`` call
writes only its own entry, and only when it changed since it was last written or loaded
(PTB calls ``update_bot_data`` and ``update_user_data`` after every update, changed or not).

Only JSON-safe data can be persisted: ``user_data``, ``chat_data`` and ``bot_data`` must hold
str keys and str/int/float/bool/None/list/dict values (no tuples, sets, datetimes, models).
Anything else is refused with ``TypeError`` (reaching the application's error handlers)
instead of coming back subtly different after a restart.

Writes are synchronous on purpose: the storage is single-threaded, and a state change is on
disk before the handler's next update is processed. A user's entries are documents of the
user's own TinyDB file (``storage.tinydb_store``), written with the update's other changes
of that file; a handler that knows its next state before it replies can have it written
with them too (``expect_conversation``).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, MutableMapping
from typing import Any

import orjson
from telegram.ext import BasePersistence, PersistenceInput
from telegram.ext._utils.trackingdict import TrackingDict

from storage.protocols import KeyValueStore

# PTB's own aliases live in a private module (telegram.ext._utils.types); same shapes here.
Data = dict[Any, Any]
ConversationKey = tuple[int | str, ...]
ConversationDict = MutableMapping[ConversationKey, object]
CDCData = tuple[list[tuple[str, float, dict[str, Any]]], dict[str, str]]

USER_DATA = "ptb.user_data"
CHAT_DATA = "ptb.chat_data"
BOT_DATA = "ptb.bot_data"
CALLBACK_DATA = "ptb.callback_data"
CONVERSATION_PREFIX = "ptb.conv."
_SINGLE_KEY = "data"  # bot_data and callback_data are one document each
_DICT_NAMESPACES = frozenset({USER_DATA, CHAT_DATA, BOT_DATA})


def encode_key(key: ConversationKey) -> str:
    """``(123, 456)`` -> ``"123,456"``; keys holding strings fall back to a JSON list."""
    if all(isinstance(part, int) for part in key):
        return ",".join(str(part) for part in key)
    return json.dumps(list(key), ensure_ascii=False, separators=(",", ":"))


def decode_key(text: str) -> ConversationKey:
    """The inverse of ``encode_key``."""
    if text.startswith("["):
        return tuple(json.loads(text))
    return tuple(int(part) for part in text.split(",")) if text else ()


def _canonical(value: Any) -> bytes:
    """JSON of ``value`` with sorted keys: equal data, equal bytes."""
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS)


def _fingerprint(text: bytes) -> bytes:
    """What is kept to tell whether an entry changed: a digest, not the JSON itself (orjson's
    results are over-allocated, ~4 KB each: 100k of them cost 400 MB; measured)."""
    return hashlib.blake2b(text, digest_size=16).digest()


def _to_json(value: Any, what: str) -> bytes:
    """Canonical JSON of ``value``; TypeError unless it survives a round trip unchanged."""
    try:
        text = _canonical(value)  # refuses non-str keys, sets and other objects
    except TypeError as exc:
        raise TypeError(f"{what} must hold only JSON-safe data: {exc}") from exc
    if orjson.loads(text) != value:
        # e.g. tuples turned into lists, NaN into null, datetimes into strings.
        raise TypeError(f"{what} must hold only JSON-safe data (lists, no tuples, no NaN)")
    return text


class StorePersistence(BasePersistence[Data, Data, Data]):
    """``BasePersistence`` writing each changed user/chat/bot/conversation entry durably."""

    def __init__(
        self,
        kv: KeyValueStore,
        store_data: PersistenceInput | None = None,
        update_interval: float = 60,
    ) -> None:
        """Persist user, chat and bot data by default; callback data only when asked."""
        super().__init__(
            store_data=store_data or PersistenceInput(callback_data=False),
            update_interval=update_interval,
        )
        self._kv = kv
        # Fingerprint of every entry as last loaded or written, to skip unchanged writes.
        self._written: dict[tuple[str, str], bytes] = {}

    def _load(self, namespace: str) -> dict[str, Any]:
        entries = dict(self._kv.items(namespace))
        for key, value in entries.items():
            self._written[(namespace, key)] = _fingerprint(_canonical(value))
        return entries

    def _put(self, namespace: str, key: str, value: Any) -> None:
        fingerprint = _fingerprint(_to_json(value, f"{namespace}[{key}]"))
        if self._written.get((namespace, key)) == fingerprint:
            return
        if value == {} and namespace in _DICT_NAMESPACES:
            # An empty dict is what PTB starts from anyway: keep no file for it (every
            # private chat would otherwise leave an empty chat_data behind).
            self._kv.delete(namespace, key)
        else:
            self._kv.put(namespace, key, value)
        self._written[(namespace, key)] = fingerprint

    def _drop(self, namespace: str, key: str) -> None:
        self._kv.delete(namespace, key)
        self._written.pop((namespace, key), None)

    async def get_user_data(self) -> dict[int, Data]:
        """Every stored ``user_data``, by user id."""
        return {int(k): v for k, v in self._load(USER_DATA).items()}

    async def get_chat_data(self) -> dict[int, Data]:
        """Every stored ``chat_data``, by chat id."""
        return {int(k): v for k, v in self._load(CHAT_DATA).items()}

    async def get_bot_data(self) -> Data:
        """The stored ``bot_data`` (empty if none)."""
        value: Data = self._load(BOT_DATA).get(_SINGLE_KEY, {})
        return value

    async def get_callback_data(self) -> CDCData | None:
        """The stored callback-data cache, or None."""
        stored = self._load(CALLBACK_DATA).get(_SINGLE_KEY)
        if stored is None:
            return None
        buttons, mapping = stored
        return [(uuid, float(ts), data) for uuid, ts, data in buttons], mapping

    async def get_conversations(self, name: str) -> ConversationDict:
        """The stored states of conversation handler ``name``."""
        return {decode_key(k): v for k, v in self._load(CONVERSATION_PREFIX + name).items()}

    async def update_user_data(self, user_id: int, data: Data) -> None:
        """Write ``user_data`` of ``user_id`` if it changed."""
        self._put(USER_DATA, str(user_id), data)

    async def update_chat_data(self, chat_id: int, data: Data) -> None:
        """Write ``chat_data`` of ``chat_id`` if it changed."""
        self._put(CHAT_DATA, str(chat_id), data)

    async def update_bot_data(self, data: Data) -> None:
        """Write ``bot_data`` if it changed."""
        self._put(BOT_DATA, _SINGLE_KEY, data)

    async def update_callback_data(self, data: CDCData) -> None:
        """Write the callback-data cache if it changed."""
        buttons, mapping = data
        # Lists, not tuples, so the JSON round-trip check holds.
        self._put(CALLBACK_DATA, _SINGLE_KEY, [[list(b) for b in buttons], mapping])

    async def update_conversation(
        self, name: str, key: ConversationKey, new_state: object | None
    ) -> None:
        """Write one conversation's state; None ends it and removes the entry."""
        namespace, entry = CONVERSATION_PREFIX + name, encode_key(key)
        if new_state is None:
            self._drop(namespace, entry)
        else:
            self._put(namespace, entry, new_state)

    def expect_conversation(self, name: str, key: ConversationKey, new_state: object) -> None:
        """Write a conversation's next state before its handler returns it: with the
        update's other changes (TinyDB: in the same write of the user's file, before the
        prompt of that state goes out), not in a write of its own after the handler. PTB's
        ``update_conversation`` with the same state then writes nothing."""
        self._put(CONVERSATION_PREFIX + name, encode_key(key), new_state)

    async def drop_user_data(self, user_id: int) -> None:
        """Remove ``user_data`` of ``user_id``."""
        self._drop(USER_DATA, str(user_id))

    async def drop_chat_data(self, chat_id: int) -> None:
        """Remove ``chat_data`` of ``chat_id``."""
        self._drop(CHAT_DATA, str(chat_id))

    async def reload(
        self,
        user_id: int | None,
        user_data: Data | None,
        conversations: Mapping[str, tuple[ConversationKey, TrackingDict[Any, Any]]],
    ) -> None:
        """Read one user's entries again, where another process may have changed them
        since: their ``user_data`` and their state in each named conversation (the key
        given, and the states in memory, which change without counting as changes).

        The application calls this once before each update (``refresh_*`` would run
        before each handler, undoing what an earlier handler of the same update did)."""
        wanted = {
            name: (CONVERSATION_PREFIX + name, encode_key(key))
            for name, (key, _) in conversations.items()
        }
        own = None
        if user_id is not None and user_data is not None and self.store_data.user_data:
            own = (USER_DATA, str(user_id))
        found = self._kv.get_many([*wanted.values(), *([own] if own else [])])
        if own is not None and user_data is not None:
            stored = found.get(own) or {}
            self._written[own] = _fingerprint(_canonical(stored))
            user_data.clear()
            user_data.update(stored)
        for name, (key, states) in conversations.items():
            namespace, entry = wanted[name]
            state = found.get((namespace, entry))
            if state is None:
                states.data.pop(key, None)
                self._written.pop((namespace, entry), None)
            else:
                states.update_no_track({key: state})
                self._written[(namespace, entry)] = _fingerprint(_canonical(state))

    async def refresh_user_data(self, user_id: int, user_data: Data) -> None:
        """Nothing to do: ``reload`` reads a user's entries again where that is needed."""

    async def refresh_chat_data(self, chat_id: int, chat_data: Data) -> None:
        """Nothing to do: chat data is not kept across processes (nor stored)."""

    async def refresh_bot_data(self, bot_data: Data) -> None:
        """Nothing to do: bot data is each process's own (not stored)."""

    async def flush(self) -> None:
        """Nothing to do: every update was written durably when it was made."""
