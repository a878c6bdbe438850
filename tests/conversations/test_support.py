"""Support tickets as people use them: a user writes, the support group sees it under the
ticket's header, an agent replies, the user reads it; across restarts, with limits. Only
support agents (SUPPORT_AGENT_IDS) answer and close in the support group."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from conftest import AGENTS, BotHarness, Clock, make_settings
from journey import JPEG, PDF, texts

from bot.offline.people import Person
from bot.offline.records import BotMessage
from bot.services.support import ClosedBy, SupportDesk
from bot.template_check import check_templates
from bot.texts import Texts
from storage.memory import MemoryKeyValueStore


def in_chat(messages: list[BotMessage], chat_id: int) -> list[BotMessage]:
    return [m for m in messages if m.chat_id == chat_id]


def stored(harness: BotHarness, namespace: str, key: str) -> dict[str, Any]:
    """A support document as it is on disk."""
    value = harness.store.kv.get(namespace, key)
    assert isinstance(value, dict)
    return value


async def open_ticket(harness: BotHarness, user: Person, open_button: str) -> list[BotMessage]:
    """/support → "open a ticket"."""
    await user.send("/support")
    return await user.press(open_button)


async def reply_with_file(
    agent: Person,
    harness: BotHarness,
    message_id: int,
    data: bytes,
    name: str,
    mime: str,
    caption: str | None = None,
) -> list[BotMessage]:
    """An agent replies to a message in the support group with a document (the kit's
    ``upload`` cannot reply, so the message is put together the same way)."""
    api = harness.kit.api
    file_id, _ = api.add_file(data, file_name=name, mime_type=mime)
    target = api.history[(harness.support_group.id, message_id)]
    quoted = {k: v for k, v in target.items() if k != "reply_to_message"}
    fields: dict[str, Any] = {"document": api.document_dict(file_id), "reply_to_message": quoted}
    if caption is not None:
        fields["caption"] = caption
    return await agent._say(fields, harness.support_group)


async def test_a_ticket_round_trip_across_a_restart(harness: BotHarness) -> None:
    user = harness.kit.user(401, "Wei", language_code="en", username="wei_dev")
    support = await user.send("/support")
    assert "support@example.com" in texts(support) and "1–3 working days" in texts(support)
    opened = await user.press("✉️ Open a support ticket")
    assert "Support ticket #1 is open" in texts(opened)
    header = harness.support_group.last()
    assert "工单 #1" in header.text and "Wei" in header.text and "@wei_dev" in header.text
    assert "401" in header.text and "注册：暂无" in header.text

    sent = await user.send("My licence upload fails with <b>error</b> & stops")
    copy = in_chat(sent, harness.support_group.id)[0]
    assert copy.text == "My licence upload fails with <b>error</b> & stops"
    assert copy.raw["reply_to_message"]["message_id"] == header.message_id
    assert "Sent to support (ticket #1)" in texts(in_chat(sent, user.id))
    # Only the first message is acknowledged.
    more = await user.upload(JPEG, as_photo=True, caption="screenshot")
    assert in_chat(more, user.id) == []
    photo = in_chat(more, harness.support_group.id)[0]
    assert photo.photo is not None and photo.text == "screenshot"

    await harness.restart()
    user = harness.kit.user(401)
    agent = harness.kit.user(900, "Agent Li")
    answer = await agent.reply_to(
        copy.message_id, "Please try a PDF <under 20 MB> & again", chat=harness.support_group
    )
    delivered = in_chat(answer, user.id)
    assert len(delivered) == 1
    assert "Support replied (ticket #1)" in delivered[0].text
    assert "Please try a PDF <under 20 MB> & again" in delivered[0].text
    assert in_chat(answer, harness.support_group.id) == []  # success is silent

    # The agent answers the photo with a document; it reaches the user too.
    doc = await reply_with_file(
        agent, harness, photo.message_id, PDF, "guide.pdf", "application/pdf"
    )
    file_reply = in_chat(doc, user.id)[0]
    assert file_reply.document is not None and file_reply.document["file_name"] == "guide.pdf"

    # The user answers; it is still ticket #1.
    back = await user.send("It worked, thanks!")
    assert in_chat(back, harness.support_group.id)[0].text == "It worked, thanks!"
    ticket = stored(harness, "support.tickets", "1")
    assert ticket["from_user"] == 3 and ticket["from_support"] == 2


async def test_the_agent_closes_with_a_reply(harness: BotHarness) -> None:
    user = harness.kit.user(402, language_code="zh")
    await open_ticket(harness, user, "✉️ 开启客服工单")
    sent = await user.send("审核什么时候出结果？")
    copy = in_chat(sent, harness.support_group.id)[0]
    agent = harness.kit.user(901, "Agent Wang")
    closed = await agent.reply_to(copy.message_id, "/close", chat=harness.support_group)
    assert "客服已关闭工单 #1" in texts(in_chat(closed, user.id))
    assert "工单 #1 已由 Agent Wang 关闭" in texts(in_chat(closed, harness.support_group.id))
    # The user's text goes to the FAQ again, not to support.
    after = await user.send("审核要多久")
    assert in_chat(after, harness.support_group.id) == []
    assert "3 个工作日" in texts(after)
    # A late reply to the closed ticket is not delivered, and the group is told.
    late = await agent.reply_to(copy.message_id, "One more thing", chat=harness.support_group)
    assert in_chat(late, user.id) == []
    assert "已关闭，这条回复没有发给用户" in texts(late)
    # /close again, and /close without a reply.
    again = await agent.reply_to(copy.message_id, "/close", chat=harness.support_group)
    assert "工单 #1 已经关闭" in texts(again)
    lost = await agent.send("/close", chat=harness.support_group)
    assert "请回复该工单的某条消息" in texts(lost)


async def test_the_header_button_closes_for_the_agent(harness: BotHarness) -> None:
    user = harness.kit.user(403, language_code="en")
    await open_ticket(harness, user, "✉️ Open a support ticket")
    agent = harness.kit.user(902, "Agent Zhou")
    closed = await agent.press("✖️ 关闭工单", chat=harness.support_group)
    assert "Support closed ticket #1" in texts(in_chat(closed, user.id))


async def test_the_user_closes_by_command_or_button(harness: BotHarness) -> None:
    user = harness.kit.user(404, language_code="en")
    await open_ticket(harness, user, "✉️ Open a support ticket")
    closed = await user.send("/close")
    assert "Ticket #1 is closed" in texts(in_chat(closed, user.id))
    assert "工单 #1 已由用户关闭" in texts(in_chat(closed, harness.support_group.id))
    assert "no open support ticket" in texts(await user.send("/close"))
    # A new ticket; the first one's old button leaves it open.
    opened = await open_ticket(harness, user, "✉️ Open a support ticket")
    assert "Support ticket #2 is open" in texts(opened)
    old = await user.press_data("sup:close:1", opened[-1].message_id)
    assert "Ticket #1 is already closed" in texts(old)
    assert stored(harness, "support.users", "404")["open"] == 2
    by_button = await user.press("✖️ Close ticket")
    assert "Ticket #2 is closed" in texts(in_chat(by_button, user.id))
    assert stored(harness, "support.users", "404")["open"] is None


async def test_one_open_ticket_per_user(harness: BotHarness) -> None:
    user = harness.kit.user(405, language_code="en")
    await open_ticket(harness, user, "✉️ Open a support ticket")
    shown = await user.send("/support")
    assert "ticket #1" in texts(shown) and shown[-1].has_button("✖️ Close ticket")
    stale_open = await user.press_data("sup:open", shown[-1].message_id)
    assert "Your support ticket #1 is open" in texts(stale_open)
    headers = [m for m in harness.support_group.messages() if "工单 #" in m.text]
    assert len(headers) == 1


async def test_too_many_messages_a_minute_are_held_back(harness: BotHarness) -> None:
    user = harness.kit.user(406, language_code="en")
    await open_ticket(harness, user, "✉️ Open a support ticket")
    before = len(harness.support_group.messages())
    for n in range(9):  # the ticket's header in the group was the first of 10 a minute
        await user.send(f"message {n}")
    held = await user.send("message 10")
    assert "too many messages in a minute (at most 10)" in texts(held)
    assert len(harness.support_group.messages()) == before + 9
    harness.clock.advance(seconds=61)
    passed = await user.send("message 11")
    assert in_chat(passed, harness.support_group.id)[0].text == "message 11"


async def test_the_applicant_form_keeps_its_text_while_a_ticket_is_open(
    harness: BotHarness,
) -> None:
    user = harness.kit.user(407, language_code="en")
    await open_ticket(harness, user, "✉️ Open a support ticket")
    await user.send("/apply")
    in_form = await user.send("hello there")
    assert "isn't a mainland China mobile" in texts(in_form)
    assert in_chat(in_form, harness.support_group.id) == []
    await user.send("/cancel")
    relayed = await user.send("hello again")
    assert in_chat(relayed, harness.support_group.id)[0].text == "hello again"


async def test_odd_messages_on_both_sides(harness: BotHarness) -> None:
    user = harness.kit.user(408, language_code="en")
    await open_ticket(harness, user, "✉️ Open a support ticket")
    for odd in (user.send_sticker(), user.send_voice(), user.send_location(31.2, 121.5)):
        said = await odd
        assert "can't be passed on" in texts(said)
        assert in_chat(said, harness.support_group.id) == []
    huge = "长" * 4096
    copy = in_chat(await user.send(huge), harness.support_group.id)[0]
    assert copy.text == huge
    agent = harness.kit.user(903, "Agent Sun")
    sticker = await agent._say(
        {
            "sticker": {
                "file_id": "s1",
                "file_unique_id": "s1u",
                "type": "regular",
                "width": 512,
                "height": 512,
                "is_animated": False,
                "is_video": False,
            },
            "reply_to_message": {k: v for k, v in copy.raw.items() if k != "reply_to_message"},
        },
        harness.support_group,
    )
    assert "只能把文字、图片和文件转给用户" in texts(sticker)
    # A reply too long to carry the "support replied" line goes as it is.
    long_reply = await agent.reply_to(copy.message_id, "好" * 4096, chat=harness.support_group)
    assert in_chat(long_reply, user.id)[0].text == "好" * 4096
    long_caption = await reply_with_file(
        agent, harness, copy.message_id, PDF, "a.pdf", "application/pdf", caption="长" * 1024
    )
    assert in_chat(long_caption, user.id)[0].text == "长" * 1024
    short_caption = await reply_with_file(
        agent, harness, copy.message_id, PDF, "b.pdf", "application/pdf", caption="<see p. 2>"
    )
    assert in_chat(short_caption, user.id)[0].text.endswith("(ticket #1)\n\n<see p. 2>")


async def test_a_blocked_user_is_reported_to_the_agent(harness: BotHarness) -> None:
    user = harness.kit.user(409, language_code="en")
    await open_ticket(harness, user, "✉️ Open a support ticket")
    copy = in_chat(await user.send("help"), harness.support_group.id)[0]
    harness.kit.api.block(user.id)
    agent = harness.kit.user(904, "Agent Ma")
    said = await agent.reply_to(copy.message_id, "Hello?", chat=harness.support_group)
    assert "用户已屏蔽机器人" in texts(said)


async def test_other_groups_are_ignored(harness: BotHarness) -> None:
    user = harness.kit.user(410, language_code="en")
    await open_ticket(harness, user, "✉️ Open a support ticket")
    other = harness.kit.group(-1009000, "Somewhere else", bot_is_admin=True)
    stranger = harness.kit.user(905, "Stranger")
    assert await stranger.send("/close", chat=other) == []
    assert await stranger.send("hello", chat=other) == []
    assert stored(harness, "support.users", "410")["open"] == 1


def test_the_desk_keeps_tickets_in_storage_and_the_rate_in_memory() -> None:
    kv = MemoryKeyValueStore()
    clock = Clock()
    desk = SupportDesk(kv, clock, limit=2)
    ticket, new = desk.open(7)
    assert new and desk.open(7) == (ticket, False)
    desk.posted_header(ticket, -5, 10)
    # A new desk on the same store (a restart) knows the ticket and its messages.
    again = SupportDesk(kv, clock, limit=2)
    found = again.ticket_for(-5, 10)
    assert found is not None and found.id == ticket.id and found.is_open
    assert again.ticket_for(-5, 11) is None
    again.close(ticket, ClosedBy.USER)
    assert again.open_ticket(7) is None
    second, new = again.open(7)
    assert new and second.id == ticket.id + 1
    assert [t.id for t in again.tickets_of(7)] == [ticket.id, second.id]
    assert again.tickets_of(8) == []
    # Two a minute: the third waits for the window to pass.
    assert again.allow(7) and again.allow(7) and not again.allow(7)
    assert again.allow(8)
    clock.advance(seconds=60)
    assert again.allow(7)


def test_support_templates_render_in_every_locale() -> None:
    mine = ("faq", "ticket", "support", "delete_", "mydata", "button.", "command.")
    problems = [p for p in check_templates(Texts()) if any(name in p for name in mine)]
    assert problems == []


async def test_an_unreachable_support_group_closes_the_ticket_at_once(harness: BotHarness) -> None:
    user = harness.kit.user(411, language_code="en")
    await user.send("/support")
    harness.kit.api.fail_next("sendMessage", "forbidden", chat_id=harness.support_group.id)
    refused = await user.press("✉️ Open a support ticket")
    assert "can't be reached here right now" in texts(refused)
    assert "support@example.com" in texts(refused)
    assert stored(harness, "support.tickets", "1")["closed_by"] == "system"
    # The next question goes to the FAQ, not to a ticket nobody reads.
    assert "3 working days" in texts(await user.send("How long does the review take?"))


async def test_only_support_agents_answer_and_close_tickets(harness: BotHarness) -> None:
    user = harness.kit.user(412, language_code="en")
    await open_ticket(harness, user, "✉️ Open a support ticket")
    copy = in_chat(await user.send("help please"), harness.support_group.id)[0]
    member = harness.kit.user(906, "Not An Agent")  # in the support chat, not in AGENTS
    for text in ("I think it's fine", "/close"):
        said = await member.reply_to(copy.message_id, text, chat=harness.support_group)
        assert said == []  # not staff: silence in the group, and nothing reaches the user
    await member.press("✖️ 关闭工单", chat=harness.support_group)
    assert member.last_answer == "此操作在这里不可用。"
    assert stored(harness, "support.tickets", "1")["status"] == "open"
    agent = harness.kit.user(AGENTS[0], "Agent Li")
    answered = await agent.reply_to(copy.message_id, "Here to help", chat=harness.support_group)
    assert "Here to help" in texts(in_chat(answered, user.id))


async def test_without_agents_no_ticket_is_offered(tmp_path: Path, clock: Clock) -> None:
    bot = BotHarness(make_settings(tmp_path / "data", SUPPORT_AGENT_IDS=[]), clock)
    await bot.start()
    try:
        user = bot.kit.user(413, language_code="en")
        support = await user.send("/support")
        assert "support@example.com" in texts(support) and not support[-1].buttons
        # An old "open a ticket" button opens nothing nobody would read.
        refused = await user.press_data("sup:open", support[-1].message_id)
        assert "can't be reached here right now" in texts(refused)
        assert bot.store.kv.items("support.tickets") == {}
    finally:
        await bot.stop()
    assert bot.kit.errors == []


async def test_opening_and_closing_tickets_in_a_loop_cannot_flood_the_support_group(
    harness: BotHarness,
) -> None:
    """Each ticket opened posts a header in the support group and each close a notice: they
    count against the user's limit like relayed messages, so cycling within the flood
    guard's pace posts at most that limit into the group per minute."""
    user = harness.kit.user(414, language_code="en")
    group = harness.support_group.id
    before = len(harness.kit.api.calls(chat_id=group))
    told = []
    for _ in range(15):
        said = await open_ticket(harness, user, "✉️ Open a support ticket")
        told.append(texts(said))
        told.append(texts(await user.send("/close")))
        harness.clock.advance(seconds=1)
    posted = len(harness.kit.api.calls(chat_id=group)) - before
    assert posted <= SupportDesk(harness.store.kv, harness.clock).limit
    assert any("opening and closing tickets included" in t for t in told)
    harness.clock.advance(minutes=1)
    again = texts(await open_ticket(harness, user, "✉️ Open a support ticket"))
    assert "opening and closing tickets included" not in again
