"""The applicant is told what fits the situation: the FAQ opened in the middle of the form
takes questions until the applicant goes back to the form, and the form's texts say what
each step really accepts."""

from __future__ import annotations

import re

from conftest import BotHarness, Inbox
from journey import (
    Applicant,
    answer,
    approved,
    last_code,
    reach_form,
    reach_roles,
    resident_id,
    texts,
)

from bot.offline.people import Person

_CJK = re.compile(r"[\u4e00-\u9fff]")


async def test_a_question_typed_after_faq_mid_form_is_not_taken_as_an_answer(
    harness: BotHarness,
) -> None:
    user = harness.kit.user(1601, language_code="zh")
    await reach_form(user, "第三方开发者")
    await user.send("/faq")
    answered = await user.send("审核要多久")
    # An answer from the FAQ (or its offer of support), not the form's next step.
    assert "第 2 步" not in texts(answered)
    assert "审核" in texts(answered)
    registration = harness.store.registrations.get("1601-isv")
    assert registration is not None
    assert "legal_name" not in registration.answers
    assert registration.cursor == "legal_name"
    # A second question is still a question.
    again = await user.send("营业执照要拍照吗")
    assert "第 2 步" not in texts(again)
    # The applicant goes back to the form with the button, and the next text is an answer.
    back = await user.press("返回我的注册")
    assert "第 1 步" in texts(back)
    step2 = await user.send("张伟")
    assert "第 2 步" in texts(step2)
    registration = harness.store.registrations.get("1601-isv")
    assert registration is not None and registration.answers["legal_name"] == "张伟"


async def test_a_form_button_after_faq_returns_to_the_form(harness: BotHarness) -> None:
    user = harness.kit.user(1602, language_code="en")
    await reach_form(user, "Platform partner", zh=False)
    prompt = (await user.send("Wei Zhang"))[-1]  # now at the ID type: a choice
    await user.send("/faq")
    asked = await user.send("how long does the review take")
    said = texts(asked)
    assert "Please choose with the buttons below" not in said
    assert "I need text, a file or a button" not in said
    # Pressing the step's button (on the earlier prompt) is going back to the form.
    await user.press("Mainland resident ID card", message_id=prompt.message_id)
    registration = harness.store.registrations.get("1602-partner")
    assert registration is not None and registration.answers["legal_id_type"] == "resident"
    answered = await user.send(resident_id(1602))
    assert "Step 4 of" in texts(answered)


async def test_faq_before_the_form_takes_questions_at_the_agreement_and_apply_returns(
    harness: BotHarness,
) -> None:
    user = harness.kit.user(1603, language_code="en")
    await user.send("/apply")
    await user.press("Share my phone number")  # now at the agreement: buttons only
    await user.send("/faq")
    asked = await user.send("what must the business licence show")
    assert "I need text, a file or a button" not in texts(asked)
    assert "licence" in texts(asked).lower()
    back = await user.send("/apply")
    assert "I agree" in str(back[-1].buttons)
    roles = await user.press("I agree, continue")
    assert "Third-party developer" in str(roles[-1].buttons)


async def test_faq_outside_the_form_has_no_way_back_to_a_form(harness: BotHarness) -> None:
    user = harness.kit.user(1604, language_code="en")
    await reach_roles(user, zh=False)
    await user.send("/cancel")
    listed = await user.send("/faq")
    assert "Back to my registration" not in str(listed[-1].buttons)


async def test_approval_points_to_the_profile_and_to_verifying_the_email(
    mail_harness: BotHarness, smtp: tuple[Inbox, int]
) -> None:
    inbox, _ = smtp
    user, email = await approved(mail_harness, 1611)
    message = user.messages()[-1]
    assert "approved" in message.text
    assert "/profile" in message.text and email in message.text and "verify" in message.text
    sent = await user.press("Verify e-mail", message_id=message.message_id)
    assert f"A code was sent to {email}" in texts(sent)
    assert f"{email} is verified" in texts(await user.send(last_code(inbox, email)))
    shown = await user.press("Profile", message_id=message.message_id)
    assert "Developer profile" in texts(shown) and f"{email} (not verified)" not in texts(shown)


async def test_help_lists_the_profile_in_both_languages(harness: BotHarness) -> None:
    for user_id, language in ((1612, "zh"), (1613, "en")):
        said = texts(await harness.kit.user(user_id, language_code=language).send("/help"))
        assert "/profile" in said


async def test_the_faq_answers_in_the_language_of_the_question(harness: BotHarness) -> None:
    english, chinese = "How long does the review take?", "审核需要多长时间？"
    zh_user = harness.kit.user(1614, language_code="zh")
    en_user = harness.kit.user(1615, language_code="en")
    # What each language's own speaker gets …
    in_english = texts(await en_user.send(english))
    in_chinese = texts(await zh_user.send(chinese))
    assert in_english != in_chinese and not _CJK.search(in_english.splitlines()[0])
    # … is what the other language's speaker gets when asking in it.
    assert texts(await zh_user.send(english)) == in_english
    assert texts(await en_user.send(chinese)) == in_chinese
    # The answer's buttons follow the question's language too.
    await zh_user.send(english)
    assert "Didn't help" in str(zh_user.messages()[-1].buttons)


# -- texts that fit the situation ----------------------------------------------------------
async def walk_to(harness: BotHarness, user: Person, applicant: Applicant, stop: str) -> str:
    """Answer from the current step up to ``stop``; the text of the prompt asking it."""
    registration_id = f"{applicant.n}-{applicant.role}"
    said = user.messages()[-1:]
    while True:
        registration = harness.store.registrations.get(registration_id)
        assert registration is not None and registration.cursor is not None
        if registration.cursor == stop:
            return texts(said)
        said = await answer(user, applicant, registration.cursor)


async def test_text_where_only_buttons_fit_says_to_use_the_buttons(harness: BotHarness) -> None:
    user = harness.kit.user(1621, language_code="en")
    await user.send("/apply")
    await user.press("Share my phone number")
    at_agreement = texts(await user.send("ok"))
    assert "I need text" not in at_agreement and "use the buttons" in at_agreement
    assert user.messages()[-1].has_button("✅ I agree, continue")
    await user.press("I agree, continue")
    await user.press("Platform partner")
    # Typed text at the role's confirmation: the same role is still waiting to be confirmed.
    confirming = await user.send("yes")
    said = texts(confirming)
    assert "I need text" not in said and "use the buttons" in said
    assert "You chose: Platform partner" in said
    first = await user.press("Confirm")
    assert "Step 1 of" in texts(first)
    assert harness.store.registrations.get("1621-partner") is not None


async def test_chinese_text_where_only_buttons_fit(harness: BotHarness) -> None:
    user = harness.kit.user(1622, language_code="zh")
    await reach_roles(user)
    await user.press("第三方开发者")
    said = texts(await user.send("确认"))
    assert "文字、文件或按钮" not in said and "按钮" in said
    assert "您选择了：第三方开发者" in said
    assert "确认选择" in str(user.messages()[-1].buttons)


async def test_a_photo_only_step_asks_for_a_photo_and_a_file_step_for_a_photo_or_pdf(
    harness: BotHarness,
) -> None:
    user = harness.kit.user(1623, language_code="en")
    applicant = Applicant(1623, zh=False)
    await reach_form(user, "Third-party developer", zh=False)
    await walk_to(harness, user, applicant, "legal_id_front")
    said = texts(await user.send("here it is"))
    assert "PDF" not in said.split("\n\n")[0] and "photo (JPG or PNG)" in said
    await walk_to(harness, user, applicant, "licence")
    said = texts(await user.send("here it is"))
    assert "photo or a PDF" in said


async def test_the_other_id_prompt_shows_no_resident_id_example(harness: BotHarness) -> None:
    for user_id, zh, role, other in (
        (1624, False, "Platform partner", "Other (passport, HK/Macau/Taiwan permit …)"),
        (1625, True, "平台合作伙伴", "其他证件"),
    ):
        user = harness.kit.user(user_id, language_code="zh" if zh else "en")
        await reach_form(user, role, zh=zh)
        await user.send("张伟" if zh else "Wei Zhang")
        prompt = texts(await user.press(other))
        assert "11010519491231002X" not in prompt and "E12345678" in prompt
        assert "5–20" in prompt


async def test_a_long_name_is_told_the_name_rule_not_another_limit(harness: BotHarness) -> None:
    user = harness.kit.user(1626, language_code="zh")
    await reach_form(user, "第三方开发者")
    said = texts(await user.send("张" * 61))
    assert "最多 60 个字符" not in said and "2–20 个汉字" in said
    en_user = harness.kit.user(1627, language_code="en")
    await reach_form(en_user, "Third-party developer", zh=False)
    said = texts(await en_user.send("Wei " * 20))
    assert "at most 60 characters" not in said and "2–60 Latin letters" in said


async def test_prompts_state_their_limits_up_front(harness: BotHarness) -> None:
    for user_id, zh, rules in (
        (1628, False, {"legal_name": "2–20", "description": "20–1000", "admin_account_id": "3–32"}),
        (1629, True, {"legal_name": "2–20", "description": "20–1000", "admin_account_id": "3–32"}),
    ):
        user = harness.kit.user(user_id, language_code="zh" if zh else "en")
        applicant = Applicant(user_id, zh=zh)
        await reach_form(user, "第三方开发者" if zh else "Third-party developer", zh=zh)
        for key, limit in rules.items():
            assert limit in await walk_to(harness, user, applicant, key), key


async def test_a_fake_pdf_is_not_readable_and_a_gif_at_a_photo_step_needs_a_photo(
    harness: BotHarness,
) -> None:
    user = harness.kit.user(1630, language_code="zh")
    applicant = Applicant(1630)
    await reach_form(user, "第三方开发者")
    await walk_to(harness, user, applicant, "legal_id_front")
    gif = await user.upload(b"GIF89a" + bytes(100), file_name="x.gif", mime_type="image/gif")
    assert "这一项需要照片（JPG 或 PNG）" in texts(gif)
    assert "PDF" not in texts(gif).split("\n\n")[0]
    await walk_to(harness, user, applicant, "licence")
    fake = await user.upload(b"MZ\x90\x00", file_name="licence.pdf", mime_type="application/pdf")
    assert "无法打开这个文件" in texts(fake)
