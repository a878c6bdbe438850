"""Telegram without the network: a fake Bot API and people who chat with the bot through it,
in-process or over HTTP on 127.0.0.1 (``BotApiServer``) for a bot in another process."""

from bot.offline.http_server import BotApiServer, HttpTelegram, UpdateQueue
from bot.offline.people import Group, OfflineTelegram, Person
from bot.offline.transport import (
    BOT_ID,
    BOT_USERNAME,
    OFFLINE_TOKEN,
    BotMessage,
    FakeBotAPI,
    Fault,
    FaultKind,
    SentCall,
    StoredFile,
    html_to_text,
)

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
    "html_to_text",
]
