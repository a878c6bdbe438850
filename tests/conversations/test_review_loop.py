"""The review loop as the guide describes it: the reviewer says what is wrong, the applicant
fixes it (and whatever depends on it) and submits again, until a final decision."""

from __future__ import annotations

from conftest import REVIEWERS, BotHarness, Inbox
from journey import (
    Applicant,
    answer,
    answer_until,
    cards,
    changes_on_the_resubmission,
    reach_form,
    submit,
    texts,
)

from bot.offline import Person
from bot.offline.records import BotMessage
from bot.rules import form
from bot.rules.models import Registration, Role, Status


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
    await reviewer.press("通过", chat=harness.admin_group)
    approved = await reviewer.press("确认通过", chat=harness.admin_group)
    assert "已通过" in texts(approved)
    await harness.deliver()


async def approved(harness: BotHarness, rid: str) -> Registration:
    """Approved by a reviewer (and the outbox delivered): the registration as stored."""
    await approve(harness)
    stored = harness.store.registrations.get(rid)
    assert stored is not None and stored.status is Status.APPROVED
    return stored


async def fix_flagged(
    harness: BotHarness, uid: int, label: str, reason: str
) -> tuple[Applicant, Person, list[BotMessage]]:
    """Submitted, one field flagged by a reviewer, "Fix it now" pressed: the first prompt."""
    answers = await submit(harness, uid)
    applicant: Person = harness.kit.user(uid)
    await flag(harness, f"{uid}-isv", label, reason)
    return answers, applicant, await applicant.press("Fix it now")


async def test_a_new_legal_name_asks_for_the_licence_representative_in_the_same_walk(
    mail_harness: BotHarness, smtp: tuple[Inbox, int]
) -> None:
    h, (inbox, _) = mail_harness, smtp
    answers, applicant, first = await fix_flagged(h, 301, "法人姓名", "法人信息与营业执照")
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

    changed = changes_on_the_resubmission(h)
    assert "法人姓名" in changed and "执照上的法定代表人" in changed
    stored = await approved(h, "301-isv")
    assert stored.answers["legal_name"] == stored.answers["licence_legal_rep"] == "Wei Zhao"
    assert "is approved" in applicant.messages()[-1].text
    mails = inbox.to(answers.answers["admin_email"])
    assert any("is approved" in m["Subject"] for m in mails)
    # Every result e-mail names where to ask (the change request and the approval).
    assert len(mails) == 2
    for mail in mails:
        body = mail.get_body(("plain",))
        assert body is not None and "support@example.com" in body.get_content()


async def test_a_new_id_type_asks_for_the_id_number_in_the_same_walk(
    mail_harness: BotHarness, smtp: tuple[Inbox, int]
) -> None:
    h, (inbox, _) = mail_harness, smtp
    answers, applicant, first = await fix_flagged(h, 302, "法人证件类型", "证件号码与证件照片")
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
    changed = changes_on_the_resubmission(h)
    assert "法人证件类型" in changed and "法人证件号码" in changed
    stored = await approved(h, "302-isv")
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
    # No SMTP server is configured here: nothing promises an e-mail.
    assert "e-mail" not in texts(done)
    stored = h.store.registrations.get("303-isv")
    assert stored is not None and stored.status is Status.RESUBMITTED and stored.round == 2
    await approve(h)
    assert "is approved" in applicant.messages()[-1].text


async def test_a_removal_is_confirmed_final_and_frees_the_address(harness: BotHarness) -> None:
    h = harness
    group = h.admin_group
    answers = await submit(h, 304)
    applicant: Person = h.kit.user(304)
    reviewer = h.kit.user(REVIEWERS[0], language_code="zh")
    ask = await reviewer.press("🚫 违规清退", chat=group)
    await reviewer.reply_to(ask[-1].message_id, "第三方开发者申请了自研角色", group)
    # Chinese for an applicant who reads English: pointed out; the reviewer keeps it.
    assert "申请人使用英文" in h.kit.last(group).text
    await reviewer.press("照原样发送", chat=group)
    confirm = h.kit.last(group)
    assert "最终决定" in confirm.text and "自研角色" in confirm.text
    # Nothing is recorded before the confirmation.
    stored = h.store.registrations.get("304-isv")
    assert stored is not None and stored.status is Status.SUBMITTED
    done = await reviewer.press("🚫 确认清退", chat=group)
    assert "已清退" in texts(done)
    await h.deliver()
    told = applicant.messages()[-1].text
    assert "removed for a violation" in told and "final" in told and "自研角色" in told
    stored = h.store.registrations.get("304-isv")
    assert stored is not None and stored.status is Status.REMOVED
    # A second press of the old confirmation changes nothing.
    await reviewer.press_data("rv:rmok:304-isv", confirm.message_id, group)
    assert [e.action for e in h.store.audit.for_subject("304-isv")].count("removed") == 1
    # The role is not offered again, and nothing can be resubmitted.
    roles = await applicant.send("/apply")
    assert not roles[-1].has_button("Third-party developer")
    assert "Removed for a violation (final)" in texts(await applicant.send("/status"))
    # The e-mail address and the administrator id are free for a correct registration.
    assert h.store.unique.owner("email", answers.answers["admin_email"]) is None
    assert h.store.unique.owner("admin_id", answers.answers["admin_account_id"]) is None


async def test_a_removal_can_be_cancelled_and_reaches_approved_ones_by_command(
    harness: BotHarness,
) -> None:
    h = harness
    group = h.admin_group
    await submit(h, 307)
    reviewer = h.kit.user(REVIEWERS[0], language_code="zh")
    await reviewer.send("/remove 307-isv 违规", chat=group)
    cancelled = await reviewer.press("取消", chat=group)
    assert "未清退" in texts(cancelled)
    stored = h.store.registrations.get("307-isv")
    assert stored is not None and stored.status is Status.SUBMITTED
    await approve(h)
    await reviewer.send("/remove 307-isv 上架后发现为第三方开发者冒用商家身份", chat=group)
    await reviewer.press("🚫 确认清退", chat=group)
    stored = h.store.registrations.get("307-isv")
    assert stored is not None and stored.status is Status.REMOVED


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


async def test_fixing_a_flagged_and_an_unflagged_answer_shows_both_to_reviewers(
    harness: BotHarness,
) -> None:
    """Not passed on one field; the applicant fixes it and, on the summary, another one
    nobody asked about; the card shows the round and which change was asked for; approved.
    /status tells the story in the applicant's language meanwhile."""
    h = harness
    await submit(h, 308)
    applicant: Person = h.kit.user(308)
    await flag(h, "308-isv", "企业描述", "企业描述过于笼统")
    status = texts(await applicant.send("/status"))
    assert "Not passed: changes requested" in status
    assert "Description" in status and "too vague" in status
    assert "not passed, changes requested" in status and "submitted" in status

    await applicant.press("Fix it now")
    summary = await applicant.send("We build order management software for 3,000 online shops.")
    assert "Please check your registration" in texts(summary)
    await applicant.press("✏️ Administrator mobile")
    await applicant.send("13800138000")
    await applicant.press("Submit for review")
    await h.deliver()
    changed = changes_on_the_resubmission(h).split("\n")[0]
    assert "第 2 轮" in changed
    assert "企业描述（按要求修改）" in changed and "管理员手机号（主动修改）" in changed
    await approve(h)
    history = texts(await applicant.send("/status"))
    assert "Approved" in history
    assert history.count("submitted") >= 2 and "approved" in history

    # The roles list shows each registration's real state.
    roles = texts(await applicant.send("/apply"))
    assert "Third-party developer</b> (Approved)" in roles or "(Approved)" in roles


async def test_the_administrator_confirms_with_their_own_contact(harness: BotHarness) -> None:
    """The applicant forwards the link; a stranger's contact and a wrong number confirm
    nothing; the administrator's own contact with the administrator mobile does, and the
    reviewers' card says so."""
    h = harness
    user = h.kit.user(309, language_code="en")
    applicant = Applicant(309, zh=False)
    await reach_form(user, "Third-party developer", zh=False)
    await answer_until(user, applicant, None)
    done = await user.press("Submit for review")
    link = next(w for w in texts(done).split() if "?start=adm-" in w)
    payload = link.split("?start=")[1]
    await h.deliver()  # the card leaves in the background
    [card] = cards(h, "新的注册申请")
    assert "管理员手机号确认：尚未确认" in card.text

    mobile = applicant.answers["admin_mobile"]
    admin = h.kit.user(3091, "Na", language_code="en", phone_number=f"+86{mobile}")
    wrong = h.kit.user(3092, "Li", language_code="en", phone_number="+8613100000000")
    await wrong.send(f"/start {payload}")
    refused = await wrong.share_contact()
    assert "not the administrator mobile" in texts(refused)
    forged = await admin.send(f"/start {payload[:-2]}xx")
    assert "not valid" in texts(forged)

    invited = await admin.send(f"/start {payload}")
    assert "Confirm you are the administrator" in texts(invited)
    assert "own Telegram contact" in texts(invited)
    someone_else = await admin.share_contact(user_id=3092)
    assert "your own" in texts(someone_else).casefold() or "own" in texts(someone_else)
    confirmed = await admin.share_contact()
    assert "confirmed as the administrator" in texts(confirmed)
    stored = h.store.registrations.get("309-isv")
    assert stored is not None and stored.admin_confirmed_by == 3091
    [card] = cards(h, "新的注册申请")
    assert "管理员手机号确认：已确认" in card.text
    assert "admin_confirmed" in [e.action for e in h.store.audit.for_subject("309-isv")]
