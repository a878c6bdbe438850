"""The language a typed question is written in (bot/rules/language.py)."""

from __future__ import annotations

import pytest

from bot.rules.language import written_in


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("审核要多久", "zh"),
        ("How long does the review take?", "en"),
        ("ISV 是什么", "zh"),  # a Chinese question naming something in Latin letters
        ("我的 email 收不到验证码", "zh"),
        ("what goes in 经营范围 on the form", "en"),  # an English one quoting a term
        ("审核 " + "x" * 4090, "en"),
        ("審核要多久", "zh"),  # traditional characters
        ("12345 🙂", None),  # no letters: the user's own language
        ("", None),
    ],
)
def test_written_in(text: str, language: str | None) -> None:
    assert written_in(text) == language
