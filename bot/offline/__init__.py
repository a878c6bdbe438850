"""Telegram without the network: a fake Bot API and people who chat with the bot through it."""

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
    "BotMessage",
    "FakeBotAPI",
    "Fault",
    "FaultKind",
    "Group",
    "OfflineTelegram",
    "Person",
    "SentCall",
    "StoredFile",
    "html_to_text",
]
