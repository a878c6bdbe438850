"""Applicants walk the whole registration through the offline kit, as people would."""

from __future__ import annotations

from conftest import BotHarness
from journey import (
    JPEG,
    PDF,
    PNG,
    Applicant,
    at_the_id_photos,
    fill_form,
    reach_form,
    reach_roles,
    resident_id,
    texts,
)

from bot.rules.models import Role, Status


async def test_two_applicants_complete_the_journey_in_their_languages(
    harness: BotHarness,
) -> None:
    zh_user = harness.kit.user(11, "伟", language_code="zh-hans")
    en_user = harness.kit.user(12, "Wei", language_code="en")
    zh = Applicant(1)

    start = await zh_user.send("/start")
    assert "开发者入驻助手" in texts(start)
    menu = await en_user.send("/start")
    assert "developer onboarding assistant" in texts(menu)
    assert menu[-1].has_button("📝 Start / continue registration")

    # Interleaved, as two real people would be.
    roles_zh = await reach_roles(zh_user)
    roles_en = await reach_roles(en_user, zh=False)
    assert "选择开发者角色" in texts(roles_zh)
    assert "Choose your developer role" in texts(roles_en)

    first = await zh_user.press("第三方开发者")
    assert "角色确认后不可更改" in texts(first)
    await zh_user.press("确认选择")
    await en_user.press("Merchant developer")
    prompt = await en_user.press("Confirm")
    assert "Step 1 of 18" in texts(prompt)  # 17 fields plus the shop id

    summary_zh = await fill_form(zh_user, zh)
    # The merchant is asked for the shop id first, and its scope must include e-commerce.
    merchant = Applicant(2, zh=False, role=Role.MERCHANT)
    merchant.answers["business_scope"] = "software development; e-commerce; online sales"
    merchant.answers["identity_account_id"] = "shop_778899"
    summary_en = await fill_form(en_user, merchant, zh=False)

    assert "请核对注册信息" in texts(summary_zh)
    assert "Please check your registration" in texts(summary_en)
    # ID numbers are masked except the last four characters.
    assert zh.answers["legal_id_number"] not in texts(summary_zh)
    assert zh.answers["legal_id_number"][-4:] in texts(summary_zh)

    done_zh = await zh_user.press("提交审核")
    done_en = await en_user.press("Submit for review")
    # Submitted Monday 2026-11-30 → three working days → Thursday 2026-12-03.
    assert "2026年12月3日" in texts(done_zh)
    assert "Thursday, 3 December 2026" in texts(done_en)

    stored = harness.store.registrations.get("11-isv")
    assert stored is not None and stored.status is Status.SUBMITTED
    assert stored.answers["credit_code"] == zh.answers["credit_code"]
    status = await en_user.send("/status")
    assert "Submitted, waiting for review" in texts(status)
    # Both applicants kept apart: each registration holds its own person's answers.
    other = harness.store.registrations.get("12-merchant")
    assert other is not None and other.answers["identity_account_id"] == "shop_778899"
    assert other.answers["legal_id_number"] == merchant.answers["legal_id_number"]
    assert other.answers["legal_id_number"] != stored.answers["legal_id_number"]
    assert harness.store.registrations.get("12-isv") is None


async def test_invalid_answers_are_explained_and_the_field_asked_again(
    harness: BotHarness,
) -> None:
    user = harness.kit.user(21, language_code="en")
    await reach_form(user, "Third-party developer", zh=False)
    cases = [
        ("Tom123", "doesn't look like a name"),
        ("<b>x</b>", "doesn't look like a name"),
        ("x" * 5000, "2–60 Latin letters"),  # the name rule, not a bare length
    ]
    for typed, expected in cases:
        answer = texts(await user.send(typed))
        assert expected in answer
        assert "Step 1 of 17" in answer
    await user.send("Wei Zhang")
    # A typed answer where a button is expected.
    assert "choose with the buttons" in texts(await user.send("passport"))
    await user.press("Mainland resident ID card")
    for typed, expected in [
        ("110105194912310021", "check character"),
        ("110105194913310021", "not a real date"),
        ("12345", "18 characters"),
    ]:
        assert expected in texts(await user.send(typed))
    await user.send("11010519491231002x")
    # Wrong kinds of message in a document step.
    assert "needs a photo (JPG or PNG)" in texts(await user.send_sticker())
    assert "needs a photo (JPG or PNG)" in texts(await user.send_voice())
    assert "needs a photo (JPG or PNG)" in texts(await user.send_location(30.0, 120.0))
    assert "needs a photo (JPG or PNG)" in texts(await user.send_poll("?"))
    refused = await user.upload(b"GIF89a" + bytes(100), file_name="x.gif", mime_type="image/gif")
    assert "needs a photo (JPG or PNG)" in texts(refused)  # a photo-only step
    fake_pdf = await user.upload(b"MZ\x90\x00", file_name="cv.pdf", mime_type="application/pdf")
    assert "could not be opened" in texts(fake_pdf)
    pdf_for_photo = await user.upload(PDF, file_name="id.pdf", mime_type="application/pdf")
    assert "needs a photo" in texts(pdf_for_photo)
    registration = harness.store.registrations.get("21-isv")
    assert registration is not None and registration.cursor == "legal_id_front"
    assert registration.answers["legal_id_number"] == "11010519491231002X"


async def test_back_skip_and_edit_from_the_summary(harness: BotHarness) -> None:
    user = harness.kit.user(31, language_code="zh")
    applicant = Applicant(31)
    await reach_form(user, "平台合作伙伴")
    await user.send("张伟")
    back = await user.press("返回上一步")
    assert "法人姓名" in texts(back) and "当前内容：张伟" in texts(back)
    kept = await user.press("保留当前内容")
    assert "法人证件类型" in texts(kept)
    summary = await fill_form(user, applicant, name_given=True)
    assert "请核对注册信息" in texts(summary)
    # Edit one field from the summary: answer it and land on the summary again.
    prompt = await user.press("✏️ 企业描述")
    assert "企业描述" in texts(prompt)
    again = await user.send("我们专注于为跨境电商商家提供订单同步与库存管理的软件服务。")
    assert "请核对注册信息" in texts(again)
    assert "跨境电商" in texts(again)
    # Changing the legal representative's name invalidates the licence's one: asked again.
    await user.press("✏️ 法人姓名")
    asked = await user.send("赵敏")
    assert "执照上的法定代表人" in texts(asked)
    mismatch = await user.send("张伟")
    assert "须与前面填写的法人姓名「赵敏」一致" in texts(mismatch)
    assert "请核对注册信息" in texts(await user.send("赵敏"))


async def test_optional_back_photo_can_be_skipped(harness: BotHarness) -> None:
    user = harness.kit.user(41, language_code="zh")
    await reach_form(user, "平台合作伙伴")
    await user.send("王芳")
    await user.press("其他证件")
    await user.send("E12345678")
    await user.upload(JPEG, as_photo=True)
    skipped = await user.press("跳过")
    assert "企业名称" in texts(skipped)
    registration = harness.store.registrations.get("41-partner")
    assert registration is not None and registration.answers["legal_id_back"] is None


async def test_cancel_and_resume_across_a_restart(harness: BotHarness) -> None:
    user = harness.kit.user(51, language_code="en")
    await reach_form(user, "Platform partner", zh=False)
    await user.send("Wei Zhang")
    await user.press("Mainland resident ID card")
    paused = await user.send("/cancel")
    assert "draft is saved" in texts(paused)

    await harness.restart()
    user = harness.kit.user(51)
    resumed = await user.send("/apply")
    assert "ID number" in texts(resumed) and "Step 3 of 17" in texts(resumed)
    await user.send("11010519491231002X")

    # Mid-form, without /cancel: a restart continues at the exact field too.
    await harness.restart()
    user = harness.kit.user(51)
    answer = await user.upload(JPEG, as_photo=True)
    assert "Received the file" in texts(answer)
    assert "ID photo (back)" in texts(answer)


async def test_someone_elses_contact_is_refused(harness: BotHarness) -> None:
    user = harness.kit.user(61, language_code="en")
    await user.send("/apply")
    refused = await user.share_contact("8613912345678", user_id=999)
    assert "Only your own phone number" in texts(refused)
    assert "isn't a mainland China mobile" in texts(await user.send("12345"))
    accepted = await user.send("+86 139 1234 5678")
    assert "Phone number bound" in texts(accepted)
    assert "Developer Registration Agreement" in texts(accepted)


async def test_declining_the_agreement_explains_and_offers_it_again(harness: BotHarness) -> None:
    user = harness.kit.user(71, language_code="zh")
    await user.send("/apply")
    await user.press("分享我的手机号")
    declined = await user.press("不同意")
    assert "需要先同意" in texts(declined)
    again = await user.press("重新阅读协议")
    assert "开发者注册协议" in texts(again)
    await user.press("同意并继续")
    account = harness.store.accounts.get(71)
    assert account is not None and account.agreement_version is not None


async def test_an_album_gets_one_answer(harness: BotHarness) -> None:
    user = harness.kit.user(81, language_code="en")
    await at_the_id_photos(user)
    before = len(harness.kit.messages(user))
    first = await user.upload(JPEG, as_photo=True, media_group_id="album-1")
    second = await user.upload(JPEG + b"2", as_photo=True, media_group_id="album-1")
    assert first == [] and second == []  # no answer per item
    # The album's one answer comes from a job once the album is complete.
    await harness.until(
        lambda: (
            len(harness.kit.messages(user)) > before
            and not harness.app.job_queue.get_jobs_by_name("album:album-1")
        )
    )
    answers = harness.kit.messages(user)[before:]
    assert len(answers) == 1
    assert "Received 2 files" in answers[0].text
    assert "Company name" in answers[0].text


async def test_enterprise_and_administrator_answers_are_checked_at_once(
    harness: BotHarness,
) -> None:
    """Every remaining validation through the chat, as people would get it wrong: a credit
    code with a wrong check character, a scope without what the role needs (told exactly
    what is missing), a vague description, a bad mobile and e-mail."""
    en = harness.kit.user(91, language_code="en")
    merchant = Applicant(91, zh=False)
    await reach_form(en, "Merchant developer", zh=False)
    answers = merchant.answers
    await en.send(answers["legal_name"])
    await en.press("Mainland resident ID card")
    await en.send(answers["legal_id_number"])
    await en.upload(JPEG, as_photo=True)
    await en.upload(PNG, as_photo=True)  # the back: another picture
    await en.send("shop_91")
    await en.send(answers["company_name"])
    code = answers["credit_code"]
    wrong = code[:-1] + ("0" if code[-1] != "0" else "1")
    assert "check character of this credit code" in texts(await en.send(wrong))
    assert "unified social credit code has 18" in texts(await en.send("91350100M0001"))
    await en.send(code.lower())  # lower case is accepted
    await en.upload(PDF, file_name="licence.pdf", mime_type="application/pdf")
    missing = texts(await en.send("software development; technical consulting"))
    assert "lacks “e-commerce product sales”" in missing
    assert "technical development”" not in missing.split("lacks")[1].split(".")[0]
    await en.send("software development; e-commerce; online sales")
    await en.send(answers["licence_legal_rep"])
    assert "too short" in texts(await en.send("We sell."))
    assert "real sentences" in texts(await en.send("1234567890 1234567890 !!!"))
    await en.send(answers["description"])
    await en.send(answers["admin_name"])
    await en.press("Mainland resident ID card")
    await en.send(answers["admin_id_number"])
    assert "isn't a mainland China mobile" in texts(await en.send("12345678901"))
    await en.send(answers["admin_mobile"])
    assert "e-mail address isn't valid" in texts(await en.send("dev@@example"))

    zh = harness.kit.user(92, language_code="zh")
    await reach_form(zh, "平台合作伙伴")
    await zh.send("王芳")
    await zh.press("中国大陆居民身份证")
    assert "校验位不正确" in texts(await zh.send("110105194912310021"))
    assert "出生日期晚于今天" in texts(await zh.send(resident_id(1, birth="20991231")))
