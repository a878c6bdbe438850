"""TinyDB: an update's changes of the applicant's file, their place in the conversation and
their ``user_data`` are written in one replace of that file, and are on disk before the bot's
answer goes out (what a crash right after the answer must not lose)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import orjson
import pytest
from conftest import BotHarness
from journey import Applicant, answer, reach_form

from bot.rules import form
from bot.rules.models import Role
from storage.tinydb_store import user_path


class Writes:
    """The files the bot replaced, and the applicant's file as it was on disk each time the
    bot sent something."""

    def __init__(self, harness: BotHarness, user_id: int, monkeypatch: pytest.MonkeyPatch) -> None:
        self.file = user_path(harness.settings.DATA_DIR, user_id)
        self.replaced: list[Path] = []
        self.on_disk_at_send: list[dict[str, Any]] = []
        self.recording = False
        real_replace = os.replace
        api = harness.kit.api
        real_request = api.do_request

        def replace(src: Any, dst: Any, **kwargs: Any) -> None:
            if self.recording:
                self.replaced.append(Path(dst))
            real_replace(src, dst, **kwargs)

        async def request(url: str, method: str, *args: Any, **kwargs: Any) -> tuple[int, bytes]:
            if self.recording and url.endswith("/sendMessage"):
                self.on_disk_at_send.append(orjson.loads(self.file.read_bytes()))
            return await real_request(url, method, *args, **kwargs)

        monkeypatch.setattr(os, "replace", replace)
        monkeypatch.setattr(api, "do_request", request)

    @contextmanager
    def during(self) -> Iterator[None]:
        self.replaced.clear()
        self.on_disk_at_send.clear()
        self.recording = True
        try:
            yield
        finally:
            self.recording = False


def place(stored: dict[str, Any]) -> Any:
    """The applicant conversation's state in a user file."""
    entries = stored.get("ptb", {}).values()
    return next((e["value"] for e in entries if e["namespace"] == "ptb.conv.applicant"), None)


def answers(stored: dict[str, Any]) -> dict[str, Any]:
    [registration] = stored["registrations"].values()
    found: dict[str, Any] = registration["answers"]
    return found


@pytest.fixture
def tinydb_only() -> None:
    if os.environ.get("DATABASE_URL"):
        pytest.skip("the TinyDB store's writes")


async def test_a_new_applicant_is_stored_with_their_place_in_one_write_before_the_prompt(
    harness: BotHarness, monkeypatch: pytest.MonkeyPatch, tinydb_only: None
) -> None:
    user = harness.kit.user(731, language_code="en")
    writes = Writes(harness, user.id, monkeypatch)
    with writes.during():
        prompt = await user.send("/apply")
    assert "phone" in prompt[-1].text.lower()
    assert writes.replaced == [writes.file]
    [at_send] = writes.on_disk_at_send
    assert at_send["account"]["1"]["user_id"] == user.id and place(at_send) == "phone"


async def test_an_answer_is_one_write_of_the_applicants_file_on_disk_before_the_next_prompt(
    harness: BotHarness, monkeypatch: pytest.MonkeyPatch, tinydb_only: None
) -> None:
    user = harness.kit.user(732, language_code="en")
    applicant = Applicant(user.id, zh=False)
    await reach_form(user, "Third-party developer", zh=False)
    writes = Writes(harness, user.id, monkeypatch)
    first, second = form.fields_for(Role.ISV)[:2]
    assert first.unique is None and first.kind is form.Kind.TEXT  # nothing else to write
    with writes.during():
        prompt = await answer(user, applicant, first.key)
    assert writes.replaced == [writes.file]
    [at_send] = writes.on_disk_at_send
    assert answers(at_send)[first.key] == applicant.answers[first.key]
    assert place(at_send) == "form"
    [registration] = at_send["registrations"].values()
    assert prompt and registration["cursor"] == second.key

    # After a restart (the process gone right after the prompt) the applicant goes on there.
    await harness.restart()
    prompt = await answer(user, applicant, second.key)
    registration = harness.store.registrations.for_user(user.id)[0]
    assert registration.answers[second.key]
    assert prompt
