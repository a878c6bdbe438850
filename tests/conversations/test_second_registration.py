"""A second registration of the same account starts from the first one's answers when the
applicant wants: each checked again with today's rules, the unique ones (administrator
e-mail and id) never taken over, the documents copied (issue 16, item 7)."""

from __future__ import annotations

from conftest import BotHarness
from journey import (
    Applicant,
    answer,
    credit_code,
    registration,
    submit,
    texts,
)

from bot.offline.people import Person
from bot.rules.models import Role, Status


async def second_role(user: Person, role_button: str, zh: bool = False) -> str:
    """/apply → pick another role → confirm: what the bot says (the offer, or the form)."""
    await user.send("/apply")
    await user.press(role_button)
    return texts(await user.press("确认选择" if zh else "Confirm"))


def documents_readable(harness: BotHarness, registration_id: str) -> bool:
    """Whether every document of a registration can be read from the file store."""
    answers = registration(harness, registration_id).answers
    stored = [answers[key]["stored_as"] for key in ("legal_id_front", "legal_id_back", "licence")]
    return all(harness.services.uploads.read(name) for name in stored)


async def delete_drafts(user: Person) -> None:
    """/delete, confirmed."""
    await user.send("/delete")
    await user.press("🗑 Yes, delete the drafts")


async def answer_due(harness: BotHarness, user: Person, applicant: Applicant) -> list[str]:
    """Answer what the registration asks until the summary; the keys asked, in order."""
    asked = []
    while (current := registration(harness, f"{applicant.n}-{applicant.role}").cursor) is not None:
        asked.append(current)
        await answer(user, applicant, current)
        assert len(asked) < 30, asked
    return asked


async def test_a_second_registration_reuses_the_answers_and_reaches_the_summary_in_two_steps(
    harness: BotHarness,
) -> None:
    first = await submit(harness, 2001)  # a third-party developer, submitted
    user = harness.kit.user(2001)
    offer = await second_role(user, "Platform partner")
    assert "Reuse your answers?" in offer and "Third-party developer registration" in offer
    # What is never taken over is said up front.
    assert "Not taken over: Administrator e-mail, Administrator id" in offer
    taken = await user.press("Reuse these answers")
    said = texts(taken)
    assert "taken over from your Third-party developer registration" in said
    assert "Still to answer: Administrator e-mail, Administrator id." in said
    assert "not taken over: each registration needs its own administrator e-mail" in said

    second = Applicant(2001, zh=False, role=Role.PARTNER)
    second.answers |= {"admin_email": "partner2001@example.com", "admin_account_id": "partner_2001"}
    asked = await answer_due(harness, user, second)
    assert asked == ["admin_email", "admin_account_id"]  # 2 steps, not 17
    summary = user.messages()[-1]
    assert "Submit for review" in str(summary.buttons)
    partner = registration(harness, "2001-partner")
    source = registration(harness, "2001-isv")
    assert all(
        partner.answers[key] == first.answers[key] for key in ("company_name", "credit_code")
    )
    assert partner.answers["legal_id_number"] == source.answers["legal_id_number"]
    assert documents_readable(harness, "2001-partner")  # the documents came along
    assert partner.reused_from == "2001-isv"

    # Any reused answer is edited from the summary as usual.
    assert summary.has_button("✏️ Company name") and summary.has_button("✏️ Business licence")
    await user.press("✏️ Company name")
    back = await user.send("Test 2001 Partner Ltd")
    assert "Submit for review" in str(back[-1].buttons)
    await user.press("Submit for review")
    assert registration(harness, "2001-partner").status == "submitted"
    assert registration(harness, "2001-partner").answers["company_name"] == "Test 2001 Partner Ltd"


async def test_a_reused_value_that_no_longer_passes_or_collides_is_asked_again_with_why(
    harness: BotHarness,
) -> None:
    first = await submit(harness, 2002, zh=True)
    user = harness.kit.user(2002)
    # Today's rules refuse what was accepted then (here: a check character that is wrong).
    submitted = registration(harness, "2002-isv")
    good = credit_code(2002)
    submitted.answers["credit_code"] = good[:-1] + ("0" if good[-1] != "0" else "1")
    # And its scope, enough for a third-party developer, lacks what a merchant needs.
    submitted.answers["business_scope"] = "技术开发、技术咨询；软件开发"
    harness.store.registrations.save(submitted)

    offer = await second_role(user, "商家开发者", zh=True)
    assert (
        "是否沿用已填写的信息" in offer and "不会沿用：身份账号 ID、管理员邮箱、管理员 ID" in offer
    )
    said = texts(await user.press("沿用这些信息"))
    assert "还需填写：身份账号 ID、统一社会信用代码、经营范围、管理员邮箱、管理员 ID。" in said
    merchant = registration(harness, "2002-merchant")
    # The credit code did not pass, the ISV's scope lacks what a merchant needs: asked again.
    assert {"credit_code", "business_scope", "admin_email", "admin_account_id"} <= set(
        merchant.not_reused
    )
    assert "credit_code" not in merchant.answers and "business_scope" not in merchant.answers

    second = Applicant(2002, role=Role.MERCHANT)
    second.answers["business_scope"] = "技术开发、软件开发；互联网销售、电子商务"
    second.answers["admin_account_id"] = "merchant_2002"
    # Each refused answer's prompt says why it is asked again.
    registration_id = "2002-merchant"
    reasons = {
        "credit_code": "校验位",
        "business_scope": "电商产品销售",
        "admin_email": "每个注册都需要在平台内唯一的管理员邮箱和管理员 ID",
    }
    asked = []
    while (current := registration(harness, registration_id).cursor) is not None:
        prompt = texts(user.messages()[-1:])
        if current in reasons:
            assert "未被沿用" in prompt and reasons[current] in prompt, (current, prompt)
        if current == "admin_email":
            # The first registration's address is that registration's: refused as taken.
            taken = texts(await user.send(first.answers["admin_email"]))
            assert "唯一" in taken and registration(harness, registration_id).cursor == current
            second.answers["admin_email"] = "merchant2002@example.com"
        asked.append(current)
        await answer(user, second, current)
        assert len(asked) < 10, (asked, texts(user.messages()[-1:]))
    assert asked == [
        "identity_account_id",
        "credit_code",
        "business_scope",
        "admin_email",
        "admin_account_id",
    ]
    assert registration(harness, registration_id).not_reused == {}


async def test_start_fresh_gives_the_empty_form(harness: BotHarness) -> None:
    await submit(harness, 2003)
    user = harness.kit.user(2003)
    await second_role(user, "Platform partner")
    said = texts(await user.press("Start fresh"))
    assert "Step 1 of" in said and "Legal representative's name" in said
    partner = registration(harness, "2003-partner")
    assert partner.answers == {} and partner.cursor == "legal_name"
    assert partner.reused_from is None


async def test_the_offer_waits_for_its_answer(harness: BotHarness) -> None:
    await submit(harness, 2004)
    user = harness.kit.user(2004)
    await second_role(user, "Platform partner")
    typed = texts(await user.send("Wei Zhang"))  # not a name for the form: no form yet
    assert "use the buttons" in typed and "Reuse your answers?" in typed
    assert harness.store.registrations.get("2004-partner") is None
    again = texts(await user.send("/apply"))
    assert "Reuse your answers?" in again
    await harness.restart()
    assert "Reuse your answers?" in texts(await user.send("/apply"))
    await user.press("Reuse these answers")
    assert registration(harness, "2004-partner").answers["legal_name"] == "Wei Zhang"


async def test_deleting_the_new_draft_keeps_the_first_registrations_documents(
    harness: BotHarness,
) -> None:
    await submit(harness, 2005)
    user = harness.kit.user(2005)
    await second_role(user, "Platform partner")
    await user.press("Reuse these answers")  # a partner draft with the copied documents
    await delete_drafts(user)
    assert harness.store.registrations.get("2005-partner") is None
    assert documents_readable(harness, "2005-isv")


async def test_deleting_the_first_registration_keeps_the_copied_documents(
    harness: BotHarness,
) -> None:
    await submit(harness, 2006)
    user = harness.kit.user(2006)
    await second_role(user, "Platform partner")
    await user.press("Reuse these answers")
    second = Applicant(2006, zh=False, role=Role.PARTNER)
    second.answers |= {"admin_email": "p2006@example.com", "admin_account_id": "p_2006"}
    await answer_due(harness, user, second)
    await user.press("Submit for review")
    await harness.deliver()
    # The first registration a draft (as the one answers are taken from may be), deleted.
    isv = registration(harness, "2006-isv")
    isv.status = Status.DRAFT
    harness.store.registrations.save(isv)
    await delete_drafts(user)
    assert harness.store.registrations.get("2006-isv") is None
    assert documents_readable(harness, "2006-partner")
