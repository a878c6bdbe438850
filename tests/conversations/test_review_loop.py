"""The review loop as the guide describes it: the reviewer says what is wrong, the applicant
fixes it (and whatever depends on it) and submits again, until a final decision."""

from __future__ import annotations

from conftest import REVIEWERS, BotHarness, Inbox
from journey import Applicant, answer, answer_until, reach_form, texts
from test_review_desk import cards, submit

from bot.offline import Person
from bot.rules import form
from bot.rules.models import Role, Status


async def flag(harness: BotHarness, registration_id: str, field_label: str, reason: str) -> None:
    """A reviewer requests changes on one field with a catalogue reason (in Chinese)."""
    reviewer = harness.kit.user(REVIEWERS[0], "Rita", language_code="zh")
    group = harness.admin_group
    await reviewer.press("要求修改", chat=group)
    await reviewer.press(field_label, chat=group)
    await reviewer.press("下一步", chat=group)
    await reviewer.press(reason, chat=group)
    await reviewer.press("发送修改要求", chat=group)
    await harness.deliver()


async def approve(harness: BotHarness) -> None:
    await harness.deliver()  # a resubmission's card leaves in the background
    reviewer = harness.kit.user(REVIEWERS[0], "Rita", language_code="zh")
    approved = await reviewer.press("通过", chat=harness.admin_group)
    assert "已通过" in texts(approved)
    await harness.deliver()


async def test_a_new_legal_name_asks_for_the_licence_representative_in_the_same_walk(
    mail_harness: BotHarness, smtp: tuple[Inbox, int]
) -> None:
    h, (inbox, _) = mail_harness, smtp
    answers = await submit(h, 301)
    applicant: Person = h.kit.user(301)
    await flag(h, "301-isv", "法人姓名", "法人信息与营业执照")

    first = await applicant.press("Fix it now")
    assert "Step 1 of 1" in texts(first) and "Legal representative" in texts(first)
    second = await applicant.send("Wei Zhao")
    # The licence's legal representative no longer matches: asked next, in the same walk.
    assert "Step 2 of 2" in texts(second)
    assert "Legal rep. on the licence" in texts(second)
    summary = await applicant.send("Wei Zhao")
    assert "Please check your registration" in texts(summary)
    done = await applicant.press("Submit for review")
    assert "Submitted for review" in texts(done)
    await h.deliver()

    [again] = cards(h, "重新提交")
    changed = again.text.split("自上次审核以来修改的字段")[1]
    assert "法人姓名" in changed and "执照上的法定代表人" in changed
    await approve(h)
    stored = h.store.registrations.get("301-isv")
    assert stored is not None and stored.status is Status.APPROVED
    assert stored.answers["legal_name"] == stored.answers["licence_legal_rep"] == "Wei Zhao"
    assert "is approved" in applicant.messages()[-1].text
    assert any("is approved" in m["Subject"] for m in inbox.to(answers.answers["admin_email"]))


async def test_a_new_id_type_asks_for_the_id_number_in_the_same_walk(
    mail_harness: BotHarness, smtp: tuple[Inbox, int]
) -> None:
    h, (inbox, _) = mail_harness, smtp
    answers = await submit(h, 302)
    applicant: Person = h.kit.user(302)
    await flag(h, "302-isv", "法人证件类型", "证件号码与证件照片")

    first = await applicant.press("Fix it now")
    assert "Step 1 of" in texts(first) and "ID type" in texts(first)
    second = await applicant.press("Other (passport")
    assert "ID number" in texts(second)
    passport = "E12345678"
    following = await applicant.send(passport)
    # Whatever else the new type needs (the ID photos) is asked in this walk too, then the
    # summary: never a field outside the walk, never "something went wrong".
    for _ in range(3):
        if "Please check your registration" in texts(following):
            break
        following = await applicant.press("Keep")
    assert "Please check your registration" in texts(following)
    assert "went wrong" not in texts(applicant.messages())
    await applicant.press("Submit for review")
    await h.deliver()
    [again] = cards(h, "重新提交")
    changed = again.text.split("自上次审核以来修改的字段")[1]
    assert "法人证件类型" in changed and "法人证件号码" in changed
    await approve(h)
    stored = h.store.registrations.get("302-isv")
    assert stored is not None and stored.status is Status.APPROVED
    assert stored.answers["legal_id_number"] == passport
    assert any("is approved" in m["Subject"] for m in inbox.to(answers.answers["admin_email"]))


async def test_a_not_passed_registration_is_fixed_beyond_the_flags_and_approved(
    harness: BotHarness,
) -> None:
    """Not passed with a general reason only: the applicant lands on the summary, edits
    two answers there (nothing was flagged) and resubmits; then it is approved."""
    h = harness
    await submit(h, 303)
    applicant: Person = h.kit.user(303)
    reviewer = h.kit.user(REVIEWERS[0], language_code="zh")
    await reviewer.send(
        "/reject 303-isv 企业描述与营业执照不符，请核对后重新提交", chat=h.admin_group
    )
    await h.deliver()
    told = applicant.messages()[-1]
    assert "needs changes" in told.text and "企业描述与营业执照不符" in told.text
    summary = await applicant.press("Fix it now")
    assert "Please check your registration" in texts(summary)
    await applicant.press("✏️ Description")
    back = await applicant.send("We build warehouse software for online shops, since 2015.")
    assert "Please check your registration" in texts(back)
    await applicant.press("✏️ Administrator mobile")
    await applicant.send("13800138000")
    done = await applicant.press("Submit for review")
    assert "Submitted for review" in texts(done)
    stored = h.store.registrations.get("303-isv")
    assert stored is not None and stored.status is Status.RESUBMITTED and stored.round == 2
    await approve(h)
    assert "is approved" in applicant.messages()[-1].text


async def test_a_removal_is_final_and_frees_the_address(harness: BotHarness) -> None:
    h = harness
    answers = await submit(h, 304)
    applicant: Person = h.kit.user(304)
    services = h.services
    services.review.remove("304-isv", REVIEWERS[0], "第三方开发者申请了自研角色")
    await h.deliver()
    told = applicant.messages()[-1].text
    assert "removed for a violation" in told and "final" in told
    assert "自研角色" in told
    stored = h.store.registrations.get("304-isv")
    assert stored is not None and stored.status is Status.REMOVED
    # The role is not offered again, and nothing can be resubmitted.
    roles = await applicant.send("/apply")
    assert not roles[-1].has_button("Third-party developer")
    assert "Removed for a violation (final)" in texts(await applicant.send("/status"))
    # The e-mail address and the administrator id are free for a correct registration.
    email = answers.answers["admin_email"]
    assert h.store.unique.owner("email", email) is None
    assert h.store.unique.owner("admin_id", answers.answers["admin_account_id"]) is None


async def test_an_unsure_scope_is_confirmed_by_the_applicant_and_flagged_to_reviewers(
    harness: BotHarness,
) -> None:
    h = harness
    user = h.kit.user(305, language_code="zh")
    applicant = Applicant(305, zh=True)
    await reach_form(user, "第三方开发者")
    await answer_until(user, applicant, "business_scope")
    unsure = await user.send("信息技术咨询服务；技术服务")
    assert "可能没有以常见表述写明“技术开发”" in texts(unsure)
    assert "执照上的法定代表人" not in texts(unsure)  # still the scope, not blocked either
    following = await user.press("✅ 我的营业执照包含此项")
    assert "执照上的法定代表人" in texts(following)
    later = [f.key for f in form.fields_for(Role.ISV)]
    for key in later[later.index("licence_legal_rep") :]:
        await answer(user, applicant, key)
    await user.press("提交审核")
    await h.deliver()
    [card] = cards(h, "新的注册申请")
    assert "申请人自行确认" in card.text and "经营范围包含技术开发" in card.text
    stored = h.store.registrations.get("305-isv")
    assert stored is not None and stored.confirmed == {"business_scope": ["tech"]}


async def test_real_licence_scopes_pass_without_a_question(harness: BotHarness) -> None:
    h = harness
    user = h.kit.user(306, language_code="zh")
    merchant = Applicant(306, zh=True, role=Role.MERCHANT)
    await reach_form(user, "商家开发者")
    await answer_until(user, merchant, "business_scope")
    following = await user.send("服装服饰零售；日用百货销售；技术开发")
    assert "执照上的法定代表人" in texts(following)
