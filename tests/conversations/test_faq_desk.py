"""Support agents answer with the FAQ: they curate entries from the support chat, answer
tickets with an entry, and learn from the questions the FAQ did not answer. Everyone else
is refused, and users see every change at their next question."""

from __future__ import annotations

from conftest import AGENTS, REVIEWERS, SUPPORT_CHAT, BotHarness
from journey import texts
from telegram import BotCommandScopeChat

from bot.offline.people import Group, Person
from bot.offline.records import BotMessage
from bot.services.faq_book import ENTRIES, Content

SAVE = "✅ 保存并发布"
KEY = "invoice_platform"  # made from the English title
CANCEL = "✖️ 取消"

# A new entry as an agent types it: both titles, wordings and answers. The English answer
# holds what must never be taken for markup or template source.
INVOICE = (
    "平台服务费可以开发票吗？",
    "Can I get an invoice for the platform fee?",
    "平台服务费可以开发票吗\n能开增值税专用发票吗",
    "invoice for the platform fee\ncan I get a VAT invoice",
    "可以。在开放平台后台「财务 → 发票」申请，3 个工作日内开出。",
    "Yes: request it under Finance → Invoices <b>&</b> it is issued within 3 working days. "
    "{{ 7 * 7 }}",
)


def in_chat(messages: list[BotMessage], chat_id: int) -> list[BotMessage]:
    return [m for m in messages if m.chat_id == chat_id]


async def answer_last(agent: Person, group: Group, text: str) -> list[BotMessage]:
    """Reply to the bot's latest message in the group (its question to the agent)."""
    return await agent.reply_to(group.last().message_id, text, chat=group)


async def add_entry(h: BotHarness, agent: Person, parts: tuple[str, ...]) -> list[BotMessage]:
    """/faq_add and the six replies; returns the preview (both languages and the card)."""
    group = h.support_group
    started = await agent.send("/faq_add", chat=group)
    assert "新增常见问题" in texts(started) and "第 1/6 步" in texts(started)
    said: list[BotMessage] = []
    for part in parts:
        said = await answer_last(agent, group, part)
    return said


async def test_an_agent_adds_an_entry_and_users_are_answered_by_it(harness: BotHarness) -> None:
    agent = harness.kit.user(AGENTS[0], "Agent Li")
    preview = await add_entry(harness, agent, INVOICE)
    # The answer in each language exactly as users will get it, then the card.
    zh, en, card = preview[-3:]
    assert "可以。在开放平台后台" in zh.text and "这个回答对您有帮助吗" in zh.text
    assert INVOICE[5] in en.text and "Did this answer help?" in en.text
    assert "&lt;b&gt;&amp;&lt;/b&gt;" in en.source  # escaped, shown as typed
    assert "新增常见问题" in card.text and "invoice for the platform fee" in card.text
    assert card.has_button(SAVE) and card.has_button("答案 · 英文")
    # Nothing is published before Save.
    user = harness.kit.user(1101, language_code="en")
    before = await user.send("Can I get an invoice for the platform fee?")
    assert "couldn't find an answer" in texts(before)

    saved = await agent.press(SAVE, chat=harness.support_group)
    assert f"已发布 {KEY}" in texts(saved)
    stored = harness.store.kv.get(ENTRIES, KEY)
    assert stored is not None and stored["answer"]["en"] == INVOICE[5]

    # At once: the next questions, in either language, get the new answer.
    answered = await user.send("can I get an invoice for the platform fee")
    assert INVOICE[5] in texts(answered)  # {{ 7 * 7 }} not evaluated, <b> not bold
    assert "&lt;b&gt;&amp;&lt;/b&gt;" in answered[-1].source
    zh_user = harness.kit.user(1102, language_code="zh")
    answered_zh = await zh_user.send("平台服务费能开发票吗")
    assert "在开放平台后台「财务 → 发票」申请" in texts(answered_zh)
    # And it is under /faq, with its title in the user's language.
    listed = await user.send("/faq")
    assert listed[-1].has_button("Can I get an invoice for the platform fee?")
    again = await user.press("Can I get an invoice for the platform fee?")
    assert INVOICE[5] in texts(again)
    # The audit trail has the change: who, when, before (nothing) and after.
    [event] = harness.store.audit.for_subject(f"faq:{KEY}")
    assert event.action == "faq_added" and event.actor == AGENTS[0]
    assert event.at == harness.clock() and event.detail["before"] is None
    assert event.detail["after"]["answer"]["en"] == INVOICE[5]
    # /faq_list counts this month's answers: two typed questions and one button.
    listing = await agent.send("/faq_list", chat=harness.support_group)
    # The agents' entries come after the shipped ones, on the second page.
    listing = await agent.press("下一页 »", chat=harness.support_group)
    assert f"{KEY} 平台服务费可以开发票吗？ — 3" in texts(listing)


async def test_a_draft_survives_a_restart_and_bad_replies_are_asked_again(
    harness: BotHarness,
) -> None:
    agent = harness.kit.user(AGENTS[1], "Agent Wang")
    group = harness.support_group
    await agent.send("/faq_add", chat=group)
    await answer_last(agent, group, INVOICE[0])
    too_long = await answer_last(agent, group, "x" * 61)
    assert "标题须为 2–60 个字" in texts(too_long) and "英文标题" in texts(too_long)
    await answer_last(agent, group, INVOICE[1])

    await harness.restart()
    agent = harness.kit.user(AGENTS[1])
    vague = await answer_last(agent, group, "怎么办")
    assert "太笼统" in texts(vague)
    await answer_last(agent, group, INVOICE[2])
    await answer_last(agent, group, INVOICE[3])
    photo = await agent._say(
        {
            "photo": harness.kit.api.photo_sizes(harness.kit.api.add_file(b"x")[0]),
            "reply_to_message": {
                k: v for k, v in group.last().raw.items() if k != "reply_to_message"
            },
        },
        group,
    )
    assert "请用文字回复" in texts(photo)
    await answer_last(agent, group, INVOICE[4])
    preview = await answer_last(agent, group, INVOICE[5])
    assert preview[-1].has_button(SAVE)
    # The title typed before the restart is there.
    assert "平台服务费可以开发票吗？" in preview[-1].text
    await agent.press(SAVE, chat=group)
    assert harness.store.kv.get(ENTRIES, KEY) is not None


async def test_edit_and_remove_are_audited_and_apply_at_once(harness: BotHarness) -> None:
    agent = harness.kit.user(AGENTS[0], "Agent Li")
    group = harness.support_group
    user = harness.kit.user(1103, language_code="en")
    assert "3 working days" in texts(await user.send("How long does the review take?"))

    # Editing a shipped entry: the preview shows it, a button picks the part.
    shown = await agent.send("/faq_edit review", chat=group)
    assert "修改 review" in texts(shown) and "3 working days" in texts(shown)
    await agent.press("答案 · 英文", chat=group)
    asked = group.last()
    assert "英文答案" in asked.text and asked.markup == {
        "force_reply": True,
        "selective": True,
        "input_field_placeholder": "请回复这个问题",
    }
    preview = await answer_last(agent, group, "Reviews take 1–2 working days now & <i>faster</i>.")
    assert "1–2 working days now & <i>faster</i>." in texts(preview)
    # Another wording, added with "+".
    await agent.press("问法 · 英文", chat=group, message_id=preview[-1].message_id)
    assert "how long does the review take" in group.last().text
    await answer_last(agent, group, "+ how quick is the check")
    await agent.press(SAVE, chat=group)

    answered = await user.send("How long does the review take?")
    assert "Reviews take 1–2 working days now & <i>faster</i>." in texts(answered)
    assert "credit code" not in texts(answered)
    assert "Reviews take 1–2" in texts(await user.send("how quick is the check?"))
    # Chinese users still get the shipped Chinese answer (only English was changed).
    zh_user = harness.kit.user(1104, language_code="zh")
    assert "3 个工作日" in texts(await zh_user.send("审核要多久"))
    [edited] = harness.store.audit.for_subject("faq:review")
    assert edited.action == "faq_edited" and edited.actor == AGENTS[0]
    assert "3 working days" in edited.detail["before"]["answer"]["en"]
    assert edited.detail["after"]["answer"]["en"].startswith("Reviews take 1–2")
    assert "how quick is the check" in edited.detail["after"]["questions"]["en"]

    # Remove, after a confirmation that "keep" declines.
    asked_remove = await agent.send("/faq_remove review", chat=group)
    assert "要从常见问题中删除 review" in texts(asked_remove)
    await agent.press("保留", chat=group)
    assert "Reviews take" in texts(await user.send("How long does the review take?"))
    asked_remove = await agent.send("/faq_remove review", chat=group)
    removed = await agent.press("🗑 删除", chat=group)
    assert "已删除 review" in texts(removed)
    gone = await user.send("How long does the review take?")
    assert "Reviews take" not in texts(gone)
    listed = await user.send("/faq")
    assert not listed[-1].has_button("What does the review check, and how long?")
    events = harness.store.audit.for_subject("faq:review")
    assert [e.action for e in events] == ["faq_edited", "faq_removed"]
    assert events[1].detail["after"] is None and events[1].detail["before"] is not None
    # It stays removed across a restart (the shipped seed does not bring it back).
    await harness.restart()
    user = harness.kit.user(1103)
    assert "Reviews take" not in texts(await user.send("How long does the review take?"))
    unknown = await harness.kit.user(AGENTS[0]).send("/faq_edit review", chat=group)
    assert "没有条目 review" in texts(unknown)


async def test_a_stale_edit_is_not_saved_over_a_newer_one(harness: BotHarness) -> None:
    first, second = harness.kit.user(AGENTS[0]), harness.kit.user(AGENTS[1])
    group = harness.support_group
    first_card = (await first.send("/faq_edit email", chat=group))[-1]
    second_card = (await second.send("/faq_edit email", chat=group))[-1]
    await second.press("标题 · 英文", chat=group, message_id=second_card.message_id)
    await answer_last(second, group, "Changing the developer e-mail")
    await second.press(SAVE, chat=group)
    await first.press("标题 · 英文", chat=group, message_id=first_card.message_id)
    await answer_last(first, group, "E-mail changes")
    await first.press(SAVE, chat=group)
    assert first.last_answer is not None and "其他人修改了" in first.last_answer
    stored = harness.store.kv.get(ENTRIES, "email")
    assert stored is not None and stored["topic"]["en"] == "Changing the developer e-mail"
    # The dropped draft's card buttons are out of date now.
    await first.press(CANCEL, chat=group, message_id=first_card.message_id)
    assert first.last_answer is not None and "草稿已关闭" in first.last_answer


async def test_answering_a_ticket_with_an_entry(harness: BotHarness) -> None:
    user = harness.kit.user(1105, language_code="en")
    await user.send("/support")
    await user.press("✉️ Open a support ticket")
    sent = await user.send("Hello, which role do I need for my own store's back office?")
    question = in_chat(sent, harness.support_group.id)[0]
    agent = harness.kit.user(AGENTS[2], "Agent Zhou")
    group = harness.support_group

    # /answer alone suggests the closest entries; a tap sends one.
    suggested = await agent.reply_to(question.message_id, "/answer", chat=group)
    assert suggested[-1].has_button("发送：我适合哪种开发者角色？（各角色举例）")
    delivered = await agent.press("发送：我适合哪种开发者角色？（各角色举例）", chat=group)
    to_user = in_chat(delivered, user.id)
    assert len(to_user) == 1 and "Support replied (ticket #1)" in to_user[0].text
    assert (
        "Which developer role fits my business? (with examples per role)" in to_user[0].text
    )  # the user's language
    assert "five developer roles" in to_user[0].text
    assert (
        "已把“我适合哪种开发者角色？（各角色举例）”（roles）发给工单 #1 的用户，语言：英文"
        in texts(delivered)
    )

    # /answer KEY in reply to any ticket message.
    header = harness.support_group.messages()[0]
    second = await agent.reply_to(header.message_id, "/answer licence", chat=group)
    to_user = in_chat(second, user.id)
    assert "What business scope must the licence show for each role?" in texts(to_user)
    unknown = await agent.reply_to(header.message_id, "/answer nosuchkey", chat=group)
    assert "没有条目 nosuchkey" in texts(unknown) and in_chat(unknown, user.id) == []
    lost = await agent.send("/answer roles", chat=group)
    assert "回复工单的任意消息" in texts(lost)

    # Which entry answered which ticket is recorded, and counted as an answer.
    ticket = harness.store.kv.get("support.tickets", "1")
    assert ticket is not None and ticket["faq_answers"] == ["roles", "licence"]
    assert ticket["from_support"] == 2
    events = harness.store.audit.for_subject("ticket:1")
    assert [(e.action, e.actor, e.detail["key"]) for e in events] == [
        ("faq_answer", AGENTS[2], "roles"),
        ("faq_answer", AGENTS[2], "licence"),
    ]
    listing = await agent.send("/faq_list", chat=group)
    assert "roles 我适合哪种开发者角色？（各角色举例） — 1" in texts(listing)
    # A closed ticket gets nothing more.
    await user.send("/close")
    late = await agent.reply_to(header.message_id, "/answer roles", chat=group)
    assert "已关闭，这条回复没有发给用户" in texts(late) and in_chat(late, user.id) == []


async def test_a_gap_is_listed_until_an_entry_is_added_from_it(harness: BotHarness) -> None:
    group = harness.support_group
    agent = harness.kit.user(AGENTS[3], "Agent Sun")
    asked = [
        (1106, "en", "Can I get an invoice for the platform fee?"),
        (1107, "en", "can i get an invoice for the platform fee"),
        (1108, "en", "invoice for platform fee? my phone is 13800138000"),
        (1109, "zh", "平台服务费可以开发票吗"),
    ]
    for user_id, language, question in asked:
        offer = await harness.kit.user(user_id, language_code=language).send(question)
        assert "answer" in texts(offer) or "答案" in texts(offer)
    # Small talk is not a gap.
    await harness.kit.user(1110, language_code="en").send("hello")

    listed = await agent.send("/faq_gaps", chat=group)
    said = texts(listed)
    assert "#1 ×3“Can I get an invoice for the platform fee?”" in said
    assert "#2 ×1“平台服务费可以开发票吗”" in said
    assert "13800138000" not in said and "hello" not in said.lower()
    stored = harness.store.kv.get("faq.gaps", "1")
    assert stored is not None and "1106" not in str(stored) and "13800138000" not in str(stored)

    # A new entry from gap #1: its questions are already among the wordings.
    started = await agent.press("➕ #1", chat=group)
    assert "根据缺口 #1 新增常见问题" in texts(started)
    for part in INVOICE[:3]:
        await answer_last(agent, group, part)
    english = group.last()
    assert "can i get an invoice for the platform fee" in english.text
    await answer_last(agent, group, "-")
    await answer_last(agent, group, INVOICE[4])
    preview = await answer_last(agent, group, INVOICE[5])
    assert "来自缺口 #1" in preview[-1].text
    saved = await agent.press(SAVE, chat=group)
    assert f"缺口 #1 已关闭：由 {KEY} 回答" in texts(saved)

    after = texts(await agent.send("/faq_gaps", chat=group))
    assert "#1 " not in after and "#2 ×1" in after
    # Later questions like it are answered.
    later = await harness.kit.user(1111, language_code="en").send(
        "Could I get an invoice for the platform fee please?"
    )
    assert INVOICE[5] in texts(later)
    # Gap #2 is taught to the new entry: its question becomes a wording.
    await agent.press("🔗 #2", chat=group)
    assert "哪个条目能回答缺口 #2" in group.last().text
    typo = await answer_last(agent, group, "invoce")
    assert "没有条目 invoce" in texts(typo)
    await agent.press("🔗 #2", chat=group)
    taught = await answer_last(agent, group, KEY)
    assert "缺口 #2 已关闭" in texts(taught)
    assert "没有未处理的缺口" in texts(await agent.send("/faq_gaps", chat=group))
    entry = harness.store.kv.get(ENTRIES, KEY)
    assert entry is not None and "平台服务费可以开发票吗" in entry["questions"]["zh"]


async def test_didnt_help_and_dismissed_gaps(harness: BotHarness) -> None:
    group = harness.support_group
    agent = harness.kit.user(AGENTS[4])
    user = harness.kit.user(1112, language_code="zh")
    answer = await user.send("审核要多久，周末算吗")
    await user.press("👎 没有解决", message_id=answer[-1].message_id)
    await harness.kit.user(1113, language_code="en").send("what is the weather in Shanghai")
    listed = await agent.send("/faq_gaps", chat=group)
    said = texts(listed)
    assert "“审核要多久，周末算吗”" in said
    assert "1 次表示答案没有解决问题：审核需要多久？（工作日、节假日）" in said
    dismissed = await agent.press("🗑 #2", chat=group)
    assert "缺口 #2 已忽略" in texts(dismissed)
    assert "weather" not in texts(await agent.send("/faq_gaps", chat=group))
    again = await agent.press("🗑 #2", chat=group, message_id=listed[-1].message_id)
    assert again == [] and agent.last_answer == "缺口 #2 已经关闭。"


async def test_only_agents_in_the_support_chat_act(harness: BotHarness) -> None:
    user = harness.kit.user(1114, language_code="en")
    await user.send("/support")
    await user.press("✉️ Open a support ticket")
    copy = in_chat(await user.send("help"), harness.support_group.id)[0]
    other = harness.kit.group(-1009000, "Somewhere else")
    stranger = harness.kit.user(905, "Member")  # in the support chat, not an agent
    reviewer = harness.kit.user(REVIEWERS[0])
    agent = harness.kit.user(AGENTS[0])
    refused = "此操作在这里不可用。"
    people = [
        (stranger, harness.support_group),
        (reviewer, harness.admin_group),
        (agent, other),
    ]
    # Staff in the wrong place are told once an hour; a stranger gets silence (each group
    # message counts against Telegram's per-group limit).
    commands = ("/faq_list", "/faq_add", "/faq_edit roles", "/faq_remove roles", "/faq_gaps")
    for i, command in enumerate(commands):
        for person, chat in people:
            said = await person.send(command, chat=chat)
            told = refused if i == 0 and person is not stranger else ""
            assert texts(said) == told, (command, person)
    # In private, the commands are unknown (nothing about the desk is revealed).
    assert "didn't understand" in texts(await user.send("/faq_list"))
    # Ticket replies, /answer and /close from a non-agent: refused, nothing reaches the user.
    for text in ("I can help you", "/answer roles", "/close"):
        said = await stranger.reply_to(copy.message_id, text, chat=harness.support_group)
        assert said == []
    ticket = harness.store.kv.get("support.tickets", "1")
    assert ticket is not None and ticket["status"] == "open" and ticket["from_support"] == 0
    await stranger.press("✖️ 关闭工单", chat=harness.support_group)
    assert stranger.last_answer == refused
    # Forged desk buttons change nothing.
    for data in ("fq:rm:roles:0", "fq:gd:1", "fq:ans:1:roles", "fq:ls:0", "fq:save:x"):
        await stranger.press_data(data, copy.message_id, harness.support_group)
        assert stranger.last_answer == refused, data
    assert harness.store.audit.for_subject("faq:roles") == []
    # An agent's replies to someone else's question are not taken as theirs.
    await agent.send("/faq_add", chat=harness.support_group)
    other_agent = harness.kit.user(AGENTS[1])
    assert await answer_last(other_agent, harness.support_group, "抢答") == []


async def test_the_support_chat_menu_lists_the_agents_commands(harness: BotHarness) -> None:
    await harness.app.post_init(harness.app)  # what run_polling does before the first update
    commands = await harness.app.bot.get_my_commands(scope=BotCommandScopeChat(SUPPORT_CHAT))
    names = [c.command for c in commands]
    assert names == [
        "faq_list",
        "faq_add",
        "faq_edit",
        "faq_remove",
        "faq_gaps",
        "faq_cancel",
        "answer",
        "close",
    ]


async def test_cancel_and_resume(harness: BotHarness) -> None:
    agent = harness.kit.user(AGENTS[0])
    group = harness.support_group
    await agent.send("/faq_add", chat=group)
    await answer_last(agent, group, INVOICE[0])
    # Starting something else asks first; "continue" asks the next part again.
    asked = await agent.send("/faq_edit roles", chat=group)
    assert "您有一份未完成的草稿：一个新条目" in texts(asked)
    resumed = await agent.press("继续那份草稿", chat=group)
    assert "第 2/6 步" in texts(resumed)
    await agent.send("/faq_edit roles", chat=group)
    switched = await agent.press("放弃它，开始新的", chat=group)
    assert "修改 roles" in texts(switched)
    dropped = await agent.send("/faq_cancel", chat=group)
    assert "草稿已放弃" in texts(dropped)
    assert "没有正在编写的草稿" in texts(await agent.send("/faq_cancel", chat=group))
    stale = await agent.reply_to(switched[-1].message_id, "late", chat=group)
    assert stale == []  # a reply to a card, not to a question: ignored


async def test_a_long_faq_list_is_paged(harness: BotHarness) -> None:
    book = harness.services.faq.book
    for n in range(20):
        book.add(
            Content(
                topic={"zh": f"问题{n}", "en": f"Question number {n}"},
                questions={"zh": [f"问题{n}"], "en": [f"question number {n}"]},
                answer={"zh": "答", "en": "Answer"},
            ),
            actor=AGENTS[0],
        )
    agent = harness.kit.user(AGENTS[0])
    first = await agent.send("/faq_list", chat=harness.support_group)
    assert "常见问题条目：46 个" in texts(first) and "第 1/3 页" in texts(first)
    assert "question_number_14" not in texts(first)  # keys get a number: same title words
    second = await agent.press("下一页 »", chat=harness.support_group)
    assert second[-1].edited and "question_number_14 问题13 — 0" in second[-1].text
    assert second[-1].has_button("« 上一页")
