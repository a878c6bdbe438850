"""The applicant is told what fits the situation: the FAQ opened in the middle of the form
takes questions until the applicant goes back to the form, and the form's texts say what
each step really accepts."""

from __future__ import annotations

import re

from conftest import BotHarness, Inbox
from journey import approved, last_code, reach_form, reach_roles, resident_id, texts

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
