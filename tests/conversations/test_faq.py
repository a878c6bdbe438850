"""People look for answers: by the FAQ's buttons, or by typing their question in either
language; when nothing fits, or the answer didn't help, they are offered support."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import BotHarness, Clock, make_settings
from journey import reach_form, texts

from bot.offline.records import BotMessage


def in_chat(messages: list[BotMessage], chat_id: int) -> list[BotMessage]:
    return [m for m in messages if m.chat_id == chat_id]


async def test_topics_by_button_in_english(harness: BotHarness) -> None:
    user = harness.kit.user(301, language_code="en")
    listed = await user.send("/faq")
    assert "Frequently asked questions" in texts(listed)
    assert listed[-1].has_button("How long does the review take? (working days, holidays)")
    answer = await user.press("How long does the review take? (working days, holidays)")
    said = texts(answer)
    assert "3 working days" in said and "public holidays" in said
    assert "Did this answer help?" in said
    assert answer[-1].has_button("👍 That helped") and answer[-1].has_button("👎 Didn't help")
    glad = await user.press("👍 That helped")
    assert "Glad it helped" in texts(glad)
    # Back to the list from an answer.
    again = await user.press("« All questions", message_id=answer[-1].message_id)
    assert again[-1].has_button("Talking to a person: tickets and the support e-mail")
    contact = await user.press("Talking to a person: tickets and the support e-mail")
    assert "support@example.com" in texts(contact)
    assert harness.kit.unanswered_callbacks == []


async def test_topics_from_the_main_menu_in_chinese(harness: BotHarness) -> None:
    user = harness.kit.user(302, language_code="zh")
    menu = await user.send("/start")
    assert menu[-1].has_button("📚 常见问题")
    listed = await user.press("📚 常见问题")
    assert "常见问题" in texts(listed)
    answer = await user.press("修改开发者邮箱")
    assert "每个自然月可修改一次" in texts(answer)
    several = await user.press("« 全部问题")
    answer = await user.press(
        "多个开发者身份的注册；邮箱和管理员唯一", message_id=several[-1].message_id
    )
    assert "全平台唯一" in texts(answer)


@pytest.mark.parametrize(
    ("language", "question", "expected"),
    [
        ("en", "How long does the review take?", "3 working days"),
        ("en", "can I change my e-mail address?", "once a calendar month"),
        ("en", "my business scope doesn't include technical development", "must be amended"),
        ("zh", "角色怎么选？", "选择后不可更改"),
        ("zh", "註冊審核要幾天", "3 个工作日"),  # traditional characters
        ("zh", "被驳回了怎么办", "重新提交"),
        ("zh", "同一个营业执照能注册几个角色", "每种角色只能注册一次"),
    ],
)
async def test_a_typed_question_is_answered(
    harness: BotHarness, language: str, question: str, expected: str
) -> None:
    user = harness.kit.user(303, language_code=language)
    answer = await user.send(question)
    assert expected in texts(answer)
    helped = "👍 That helped" if language == "en" else "👍 有帮助"
    assert answer[-1].has_button(helped)


async def test_no_match_offers_a_ticket_that_carries_the_question(harness: BotHarness) -> None:
    user = harness.kit.user(304, "Mia", language_code="en")
    offer = await user.send("Can I pay the platform fee by invoice <b>&</b> bank transfer?")
    assert "couldn't find an answer" in texts(offer)
    assert "support@example.com" in texts(offer)
    assert offer[-1].has_button("✉️ Open a support ticket")
    opened = await user.press("✉️ Open a support ticket")
    mine = texts(in_chat(opened, user.id))
    assert "Support ticket #1 is open" in mine and "passed on to support" in mine
    group = harness.support_group.messages()
    assert "工单 #1" in group[0].text and "Mia" in group[0].text
    # The question itself, exactly as typed, under the header.
    assert group[1].text == "Can I pay the platform fee by invoice <b>&</b> bank transfer?"
    assert group[1].raw["reply_to_message"]["message_id"] == group[0].message_id


async def test_didnt_help_offers_support(harness: BotHarness) -> None:
    user = harness.kit.user(305, language_code="zh")
    answer = await user.send("审核要多久")
    offer = await user.press("👎 没有解决", message_id=answer[-1].message_id)
    assert "抱歉，没能解决您的问题" in texts(offer)
    assert offer[-1].has_button("✉️ 开启客服工单")
    opened = await user.press("✉️ 开启客服工单")
    assert "客服工单 #1 已开启" in texts(in_chat(opened, user.id))
    # "Didn't help" carried the question along.
    assert harness.support_group.messages()[1].text == "审核要多久"


async def test_close_topics_are_suggested_when_none_is_sure(harness: BotHarness) -> None:
    user = harness.kit.user(306, language_code="en")
    offer = await user.send("role review")
    assert "Perhaps it's one of these questions?" in texts(offer)
    buttons = [b for row in offer[-1].buttons for b in row]
    assert "Which developer role fits my business? (with examples per role)" in buttons
    assert "✉️ Open a support ticket" in buttons


async def test_the_form_keeps_its_text(harness: BotHarness) -> None:
    user = harness.kit.user(307, language_code="en")
    await reach_form(user, "Platform partner", zh=False)
    answer = await user.send("How long does the review take?")
    assert "doesn't look like a name" in texts(answer)
    assert "Did this answer help?" not in texts(answer)


async def test_odd_messages_outside_a_form(harness: BotHarness) -> None:
    user = harness.kit.user(308, language_code="en")
    assert "didn't understand" in texts(await user.send_sticker())
    assert "didn't understand" in texts(await user.send_voice())
    assert "didn't understand" in texts(await user.send("/nonsense"))
    huge = await user.send("审核 " + "x" * 4090)
    assert huge and "3 working days" in texts(huge)
    html = await user.send("<script>alert('x')</script> & <b>")
    assert "couldn't find an answer" in texts(html)
    # A forged topic button is out of date, not an error.
    stale = await user.press_data("faq:t:../../etc", html[-1].message_id)
    assert user.last_answer == "That button is out of date; here is the current step."
    assert "Frequently asked questions" in texts(stale)


async def test_without_a_support_group_the_offer_is_the_e_mail(
    tmp_path: Path, clock: Clock
) -> None:
    bot = BotHarness(make_settings(tmp_path / "data", SUPPORT_CHAT_ID=None), clock)
    await bot.start()
    try:
        user = bot.kit.user(309, language_code="en")
        offer = await user.send("Can I pay by invoice?")
        assert "Please e-mail support at support@example.com" in texts(offer)
        assert not offer[-1].has_button("✉️ Open a support ticket")
        support = await user.send("/support")
        assert "support@example.com" in texts(support) and not support[-1].buttons
    finally:
        await bot.stop()
    assert bot.kit.errors == []


async def test_helpful_votes_count_once_per_shown_answer(harness: BotHarness) -> None:
    """Pressing "helped" again and again, or forging the vote for an entry on a message
    that does not show it, does not inflate the entry's counts."""
    user = harness.kit.user(330, language_code="en")
    await user.send("/faq")
    answer = await user.press("How long does the review take? (working days, holidays)")
    shown = answer[-1]
    for _ in range(5):
        await user.press("👍 That helped", message_id=shown.message_id)
    await user.press("👎 Didn't help", message_id=shown.message_id)
    key = shown.callback_data("👍 That helped").split(":")[2]
    for forged in ("faq:y:roles", "faq:n:roles", f"faq:y:{key}"):
        await user.press_data(forged, shown.message_id - 1)  # a message without the button
        await user.press_data(forged, shown.message_id)
    month = harness.services.faq.book._month()
    counts = (harness.store.kv.get("faq.usage", month) or {}).get(key, {})
    assert counts.get("helped") == 1 and counts.get("not_helped") is None
    assert "helped" not in (harness.store.kv.get("faq.usage", month) or {}).get("roles", {})
    # Another answer shown is another vote.
    again = await user.press("« All questions", message_id=shown.message_id)
    assert again
    second = await user.press("How long does the review take? (working days, holidays)")
    await user.press("👍 That helped", message_id=second[-1].message_id)
    counts = (harness.store.kv.get("faq.usage", month) or {}).get(key, {})
    assert counts.get("helped") == 2
