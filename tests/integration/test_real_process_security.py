"""Attacks on the real bot process (`python -m bot webhook|run`) over HTTP, against the fake
Bot API server: forged webhook calls change nothing, the webhook secret and full resident ID
numbers never reach the logs, even at DEBUG (see docs/SECURITY.md)."""

from __future__ import annotations

import asyncio
import json
import socket
from pathlib import Path

import httpx
import pytest
from bot_crash_kit import ADMIN_CHAT, REVIEWERS, BotProcess, bot_env, until

from bot.offline.http_server import BotApiServer, HttpTelegram
from bot.offline.records import JSONDict

CONFIGURED_SECRET = "operator-chosen_secret-0123456789"
# 11010519491231002X as a Chinese input method types it, and as people space it out.
FULL_WIDTH_ID = "１１０１０５１９４９１２３１００２Ｘ"
SPACED_ID = "110105 19491231 002X"
IDEOGRAPHIC_SPACED_ID = "１１０１０５\u3000１９４９１２３１\u3000００２ｘ"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def forged_queue_command(kit: HttpTelegram) -> JSONDict:
    """The update a reviewer's `/queue` in the admin group would be: anyone can write it."""
    group = kit.group(ADMIN_CHAT, "Reviewers")
    await kit.user(REVIEWERS[0]).send("/queue", chat=group)
    return dict(kit.last_update)


@pytest.mark.parametrize("configured", [False, True], ids=["secret unset", "secret set"])
async def test_forged_webhook_calls_change_nothing(tmp_path: Path, configured: bool) -> None:
    port = free_port()
    async with BotApiServer() as server:
        env = bot_env(server, tmp_path / "data") | {
            "WEBHOOK_URL": "https://bot.example.com/",
            "WEBHOOK_LISTEN": "127.0.0.1",
            "WEBHOOK_PORT": str(port),
            "LOG_LEVEL": "DEBUG",
        }
        if configured:
            env["WEBHOOK_SECRET_TOKEN"] = CONFIGURED_SECRET
        bot = BotProcess(env, tmp_path, tmp_path / "bot.log", command="webhook")
        await bot.start()
        try:
            await until(lambda: bool(server.api.calls("setWebhook")), 60, "setWebhook")
            update = await forged_queue_command(HttpTelegram(server))
            url = f"http://127.0.0.1:{port}/telegram"
            async with httpx.AsyncClient() as client:
                for headers in ({}, {"X-Telegram-Bot-Api-Secret-Token": "guessed-0123456789"}):
                    answer = await client.post(
                        url, content=json.dumps(update), headers=headers | _JSON
                    )
                    assert answer.status_code == 403, headers
                await asyncio.sleep(1.5)
                assert not server.api.calls("sendMessage", ADMIN_CHAT), "a forged call was obeyed"
                secret = server.api.calls("setWebhook")[-1].params.get("secret_token")
                assert secret, "webhook mode registered no secret with Telegram"
                assert secret == CONFIGURED_SECRET if configured else len(str(secret)) >= 32
                # The same call with the secret Telegram was given is obeyed: the test can fail.
                update["update_id"] += 1
                real = {"X-Telegram-Bot-Api-Secret-Token": str(secret)}
                answer = await client.post(url, content=json.dumps(update), headers=real | _JSON)
                assert answer.status_code == 200
            await until(lambda: bool(server.api.calls("sendMessage", ADMIN_CHAT)), 30, "answer")
            assert await bot.stop() == 0
        finally:
            await bot.kill()
    log = bot.tail(10**7)
    assert "setWebhook" in log  # PTB logged the call's parameters at DEBUG …
    assert str(secret) not in log  # … without the secret


_JSON = {"Content-Type": "application/json"}


async def test_resident_ids_never_reach_the_debug_log(tmp_path: Path) -> None:
    async with BotApiServer() as server:
        kit = HttpTelegram(server)
        bot = BotProcess(
            bot_env(server, tmp_path / "data") | {"LOG_LEVEL": "DEBUG"},
            tmp_path,
            tmp_path / "bot.log",
        )
        await bot.start()
        try:
            user = kit.user(7001, language_code="en")
            said = [f"marker-{i} my ID is {number}" for i, number in enumerate(_TYPED_IDS)]
            for text in said:
                await user.send(text)
            await until(lambda: len(user.messages()) >= len(said), 60, "the bot's answers")
            assert await bot.stop() == 0
        finally:
            await bot.kill()
    log = bot.tail(10**7)
    for i, number in enumerate(_TYPED_IDS):
        assert f"marker-{i}" in log  # PTB's DEBUG log printed the update …
        assert number not in log  # … without the number, however it was typed
        assert number.replace(" ", "").replace("\u3000", "") not in log
    assert "11010519491231002X" not in log and "<id-number>" in log


_TYPED_IDS = (FULL_WIDTH_ID, SPACED_ID, IDEOGRAPHIC_SPACED_ID)
