"""The whole bot on PostgreSQL (``DATABASE_URL``): an applicant's journey across restarts,
with documents, a reviewer's decision and its notification; nothing is written to
``DATA_DIR``."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from conftest import REVIEWERS, BotHarness, Clock, make_settings, running
from journey import Applicant, answer, reach_form, texts

from bot.rules import form
from bot.rules.models import Status


@pytest.fixture
async def pg_harness(tmp_path: Path, clock: Clock, pg_url: str) -> AsyncIterator[BotHarness]:
    async for bot in running(make_settings(tmp_path / "data", DATABASE_URL=pg_url), clock):
        yield bot


async def test_a_journey_on_postgres_survives_restarts_and_ends_in_a_notified_approval(
    pg_harness: BotHarness, tmp_path: Path
) -> None:
    h = pg_harness
    applicant = Applicant(51, zh=False)
    user = h.kit.user(51, language_code="en")
    await reach_form(user, "Third-party developer", zh=False)
    keys = [f.key for f in form.fields_for(applicant.role)]
    for number, key in enumerate(keys, start=1):
        if number in (3, len(keys) // 2):  # restart before a typed field and mid-uploads
            await h.restart()
            user = h.kit.user(51)
            again = await user.send("/apply")
            assert f"Step {number} of {len(keys)}" in texts(again)
        said = await answer(user, applicant, key)
    assert "Please check your registration" in texts(said)
    assert "Submitted for review" in texts(await user.press("Submit for review"))
    await h.deliver()

    stored = h.store.registrations.get("51-isv")
    assert stored is not None and stored.status is Status.SUBMITTED
    documents = [a for a in stored.answers.values() if isinstance(a, dict) and "stored_as" in a]
    assert len(documents) == 3
    for document in documents:
        data = h.store.files.read(document["stored_as"])
        assert len(data) == document["size"]

    reviewer = h.kit.user(REVIEWERS[0], "Rita", language_code="zh")
    await h.restart()
    approved = await reviewer.send("/approve 51-isv", chat=h.admin_group)
    assert "已通过" in texts(approved)
    await h.deliver()
    assert "is approved" in user.messages()[-1].text
    assert [e.action for e in h.store.audit.for_subject("51-isv")][-1] == "approved"
    data_dir = tmp_path / "data"
    assert not (data_dir / "users").exists() and not (data_dir / "files").exists()
