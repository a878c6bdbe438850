"""The /stats chart is labelled in the group's language: Chinese glyphs render as glyphs,
not as the empty boxes matplotlib's own font (DejaVu) draws for them."""

from __future__ import annotations

import warnings
from datetime import date, timedelta

from bot.services import chart_font
from bot.services.reports import Activity, activity_chart
from bot.texts import Texts

DATA = Activity(
    days=[date(2026, 11, 1) + timedelta(days=i) for i in range(30)],
    submitted=[i % 4 for i in range(30)],
    decided=[i % 3 for i in range(30)],
    median_hours=5.0,
)
LABELS = Texts().plain("zh", "review.stats_submitted"), Texts().plain("zh", "review.stats_decided")


def charts(family: str | None) -> tuple[bytes, bytes]:
    """The chart under two Chinese titles of the same length but different characters."""
    return (
        activity_chart(DATA, "最近三十天提交", LABELS, family),
        activity_chart(DATA, "每日审核决定数", LABELS, family),
    )


def test_a_font_with_chinese_glyphs_is_found_on_a_fresh_install() -> None:
    family = chart_font.cjk_family()

    assert family is not None
    assert chart_font.bundled_font() is not None  # the dependency's, not the machine's


def test_chinese_titles_render_as_different_glyphs_not_boxes() -> None:
    family = chart_font.cjk_family()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a missing glyph is a warning: none may occur
        first, second = charts(family)

    assert first.startswith(b"\x89PNG") and first != second


def test_without_the_font_the_same_titles_would_be_identical_boxes() -> None:
    """What the test above tells apart: DejaVu draws every Chinese character as one box."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        first, second = charts(None)

    assert first == second
    assert any("missing from font" in str(w.message) for w in caught)
