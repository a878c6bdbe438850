"""Telegram without the network: a fake Bot API and people who chat with the bot through it,
in-process or over HTTP on 127.0.0.1 (``BotApiServer``) for a bot in another process."""

from bot.offline.faults import Fault, FaultKind
from bot.offline.http_server import BotApiServer, HttpTelegram, UpdateQueue
from bot.offline.identity import BOT_ID, BOT_USERNAME, OFFLINE_TOKEN
from bot.offline.people import Group, OfflineTelegram, Person
from bot.offline.records import BotMessage, SentCall, StoredFile
from bot.offline.transport import FakeBotAPI

__all__ = [
    "BOT_ID",
    "BOT_USERNAME",
    "OFFLINE_TOKEN",
    "BotApiServer",
    "BotMessage",
    "FakeBotAPI",
    "Fault",
    "FaultKind",
    "Group",
    "HttpTelegram",
    "OfflineTelegram",
    "Person",
    "SentCall",
    "StoredFile",
    "UpdateQueue",
]
