"""Small rough edges people hit: /help in the reviewers' group, one photo sent for both
sides of an ID card, and the example of /faq_add's English-title step."""

from __future__ import annotations

import pytest
from conftest import AGENTS, REVIEWERS, BotHarness
from journey import JPEG, PNG, Applicant, answer_until, reach_form, texts

from conversations.review import desk


async def test_help_in_the_reviewers_group_lists_the_reviewer_commands(
    harness_in_each_locale: BotHarness,
) -> None:
    h = harness_in_each_locale
    reviewer = h.kit.user(REVIEWERS[0])
    said = texts(await reviewer.send("/help", chat=h.admin_group))
    for name in desk.COMMANDS:
        assert f"/{name}" in said, name
    zh = h.settings.DEFAULT_LOCALE == "zh"
    assert ("审核" in said) if zh else ("review" in said.lower())
    # Someone who is not a reviewer gets no list of the desk's commands.
    stranger = h.kit.user(7777)
    assert "/approve" not in texts(await stranger.send("/help", chat=h.admin_group))


@pytest.mark.parametrize("zh", [True, False])
async def test_the_same_photo_is_refused_for_the_other_side(harness: BotHarness, zh: bool) -> None:
    user = harness.kit.user(131, language_code="zh" if zh else "en")
    applicant = Applicant(131, zh=zh)
    await reach_form(user, "第三方开发者" if zh else "Third-party developer", zh=zh)
    await answer_until(user, applicant, "legal_id_front")
    await user.upload(JPEG, as_photo=True)  # the front
    again = texts(await user.upload(JPEG, as_photo=True))  # the same picture for the back
    if zh:
        assert "同一张照片" in again and "反面" in again
    else:
        assert "same photo" in again and "back" in again
    stored = harness.store.registrations.get("131-isv")
    assert stored is not None and "legal_id_back" not in stored.answers
    # The other side is taken.
    await user.upload(PNG, file_name="back.png", mime_type="image/png")
    stored = harness.store.registrations.get("131-isv")
    assert stored is not None and stored.answers["legal_id_back"]["mime_type"] == "image/png"


async def test_faq_add_english_title_step_shows_an_english_example(
    harness_in_each_locale: BotHarness,
) -> None:
    h = harness_in_each_locale
    agent = h.kit.user(AGENTS[0], "Agent Li")
    group = h.support_group
    zh_step = texts(await agent.send("/faq_add", chat=group))
    title = "平台服务费可以开发票吗？"
    en_step = texts(await agent.reply_to(group.last().message_id, title, group))
    assert "平台服务费可以开发票吗" in zh_step
    assert "Can I pay the fee by invoice?" in en_step
    assert "平台服务费可以开发票吗" not in en_step
