"""The reviewers' card keeps one fact per line: a template line ending in a Jinja block
(``{% endif %}``) lost its line break and ran the status into the next line."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import Clock, make_settings, running
from journey import cards, number, submit


@pytest.mark.parametrize(
    ("locale", "status", "next_line"),
    [("zh", "状态：", "管理员手机号确认："), ("en", "Status: ", "Administrator confirmed")],
)
async def test_the_status_and_the_administrators_confirmation_are_two_lines(
    tmp_path: Path, locale: str, status: str, next_line: str
) -> None:
    async for harness in running(make_settings(tmp_path / "data", DEFAULT_LOCALE=locale), Clock()):
        await submit(harness, 450)
        card = cards(harness, number(harness, 450))[0].text  # the card, before the documents
    lines = card.splitlines()
    status_line = next(line for line in lines if line.startswith(status))
    assert next_line not in status_line
    assert any(line.startswith(next_line) for line in lines)
