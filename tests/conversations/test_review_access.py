"""Who may act on the reviewers' desk: a matrix of people, places, commands and buttons.
Nobody but a reviewer in the admin group changes anything, and refusals reveal nothing."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest
from conftest import REVIEWERS, BotHarness
from journey import Applicant, cards, fill_form, reach_form, submit

from bot.offline.people import Group, Person
from bot.rules.models import Status
from conversations import delivery

COMMANDS = [
    "/queue",
    "/review 301-isv",
    "/approve 301-isv",
    "/reject 301-isv no",
    "/history 301-isv",
    "/find Test",
    "/release 301-isv",
    "/export",
    "/stats",
]
BUTTONS = ["claim", "approve", "changes", "reject", "reveal", "history", "send", "f"]


def actors(h: BotHarness) -> dict[str, tuple[Person, Group | None]]:
    other_group = h.kit.group(-1009999, "Somewhere else")
    return {
        "applicant in private": (h.kit.user(301), None),
        "another applicant in private": (h.kit.user(302), None),
        "stranger in the admin group": (h.kit.user(777), h.admin_group),
        "reviewer in private": (h.kit.user(REVIEWERS[0]), None),
        "reviewer in another group": (h.kit.user(REVIEWERS[0]), other_group),
        "support chat member": (h.kit.user(888), h.support_group),
    }


def untouched(h: BotHarness) -> None:
    registration = h.store.registrations.get("301-isv")
    assert registration is not None and registration.status is Status.SUBMITTED
    assert registration.claimed_by is None
    actions = [e.action for e in h.store.audit.for_subject("301-isv")]
    assert actions == ["created", "submitted"]


@pytest.mark.parametrize("command", COMMANDS)
async def test_commands_do_nothing_for_anyone_but_reviewers_in_the_group(
    harness: BotHarness, command: str
) -> None:
    applicant = await submit(harness, 301)
    for name, (person, chat) in actors(harness).items():
        before = len(harness.kit.api.sent)
        answer = await person.send(command, chat=chat)
        said = "\n".join(m.text for m in answer)
        # Nothing about the registration leaks, whoever asks and wherever.
        assert "301-isv" not in said, name
        assert applicant.answers["company_name"] not in said, name
        sent = [c.method for c in harness.kit.api.sent[before:]]
        assert "sendDocument" not in sent and "sendPhoto" not in sent, name
    untouched(harness)


@pytest.mark.parametrize("action", BUTTONS)
async def test_forged_buttons_change_nothing(harness: BotHarness, action: str) -> None:
    await submit(harness, 301)
    [card] = cards(harness, "新的注册申请")
    data = f"rv:{action}:301-isv" + (":0" if action == "f" else "")
    for name, (person, chat) in actors(harness).items():
        await person.press_data(data, card.message_id, chat)
        assert person.last_answer == "此操作在这里不可用。", name
    untouched(harness)


async def test_stale_buttons_of_a_decided_registration_change_nothing(
    harness: BotHarness,
) -> None:
    await submit(harness, 301)
    [card] = cards(harness, "新的注册申请")
    reviewer = harness.kit.user(REVIEWERS[1])
    await reviewer.send("/reject 301-isv duplicate application", chat=harness.admin_group)
    for action in ("approve", "claim", "changes", "reject"):
        await reviewer.press_data(f"rv:{action}:301-isv", card.message_id, harness.admin_group)
        assert reviewer.last_answer is not None and "不能再执行此操作" in reviewer.last_answer
    registration = harness.store.registrations.get("301-isv")
    assert registration is not None and registration.status is Status.CHANGES_REQUESTED
    actions = [e.action for e in harness.store.audit.for_subject("301-isv")]
    assert actions.count("changes_requested") == 1 and "approved" not in actions


async def test_a_reviewer_cannot_decide_a_draft(harness: BotHarness) -> None:
    from journey import reach_form

    user = harness.kit.user(305, language_code="en")
    await reach_form(user, "Platform partner", zh=False)
    reviewer = harness.kit.user(REVIEWERS[0])
    answer = await reviewer.send("/approve 305-partner", chat=harness.admin_group)
    assert "没有找到注册" in answer[-1].text
    registration = harness.store.registrations.get("305-partner")
    assert registration is not None and registration.status is Status.DRAFT


#: Every shape of forged data a button handler might index into: missing, extra, huge,
#: negative and non-numeric parts.
FORGED_TAILS = [
    "",
    ":",
    ":x",
    ":{rid}",
    ":{rid}:99",
    ":{rid}:-1",
    ":{rid}:x",
    ":{rid}:0:99",
    ":{rid}:99:0",
    ":{rid}:99:99",
    ":{rid}:0:x",
    ":nobody-isv:0",
    ":{rid}:0:0:0",
]
PREFIXES = [
    *(
        f"rv:{name}"
        for name in (
            "page",
            "open",
            "claim",
            "release",
            "approve",
            "reject",
            "reveal",
            "history",
            "changes",
            "f",
            "next",
            "r",
            "other",
            "send",
            "drop",
            "unknown",
        )
    ),
    *(
        f"ap:{name}"
        for name in (
            "cont",
            "fix",
            "submit",
            "edit",
            "choice",
            "keep",
            "skip",
            "back",
            "role",
            "role_ok",
            "agr",
            "agree",
        )
    ),
    "pf:email",
    "pf:verify",
    "faq:y",
    "faq:n",
    "faq:t",
    "sup:open",
    "sup:close",
    "my:del",
    "fq:x",
    "lang",
    "menu:x",
]


async def test_no_forged_button_makes_a_handler_fail(harness: BotHarness) -> None:
    """Reviewers (with a change request being drafted) and applicants press buttons with
    made-up data: each gets an answer or nothing, and no handler raises."""
    h = harness
    await submit(h, 351)
    rid = "351-isv"
    reviewer = h.kit.user(REVIEWERS[0])
    await reviewer.press("认领", chat=h.admin_group)
    await reviewer.press("要求修改", chat=h.admin_group)
    await reviewer.press("企业描述", chat=h.admin_group)
    await reviewer.press("下一步", chat=h.admin_group)
    card = h.kit.last(h.admin_group).message_id
    mine = h.kit.user(351).messages()[-1].message_id
    failed: list[str] = []
    h.kit.raise_errors = False
    try:
        for prefix in PREFIXES:
            for tail in FORGED_TAILS:
                data = (prefix + tail.format(rid=rid))[:64]
                for person, chat, message in (
                    (reviewer, h.admin_group.id, card),
                    (h.kit.user(351), 351, mine),
                ):
                    await person.press_data(data, message, chat=chat)
                    failed += [f"{data} by {person.id}: {e!r}" for e in h.kit.errors]
                    h.kit.errors.clear()
    finally:
        h.kit.raise_errors = True
    assert not failed, "\n".join(failed)


async def test_strangers_cannot_use_up_the_groups_message_budget(harness: BotHarness) -> None:
    """Every bot message in a group counts against Telegram's ~20 a minute there: 30
    commands from strangers in the admin group get no message at all, and a reviewer in
    the wrong group is told once, not once per command."""
    h = harness
    before = len(h.kit.api.calls(chat_id=h.admin_group.id))
    for n in range(30):
        await h.kit.user(7000 + n).send("/queue", chat=h.admin_group)
    assert len(h.kit.api.calls(chat_id=h.admin_group.id)) == before
    reviewer = h.kit.user(REVIEWERS[0])
    told = [await reviewer.send(c, chat=h.support_group) for c in ("/queue", "/export", "/stats")]
    assert [len(said) for said in told] == [1, 0, 0]
    h.clock.advance(hours=1, minutes=1)
    assert len(await reviewer.send("/queue", chat=h.support_group)) == 1
    # Buttons are answered privately (an alert costs the group nothing), every time.
    for n in range(3):
        await h.kit.user(7100 + n).press_data("rv:claim:1-isv", 1, chat=h.admin_group)
        assert h.kit.user(7100 + n).last_answer == "此操作在这里不可用。"


async def test_a_decision_is_not_held_up_by_the_groups_traffic(
    harness: BotHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    """While the bot waits to post a new card in the admin group (Telegram's per-group
    limit, or the group not answering), an applicant's decision is still delivered."""
    h = harness
    await submit(h, 611)
    api = h.kit.api
    real = api.do_request
    group_free = asyncio.Event()

    async def slow_group(url: str, method: str, *args: Any, **kwargs: Any) -> tuple[int, bytes]:
        data = args[0] if args else kwargs.get("request_data")
        params = data.parameters if data is not None else {}
        if str(params.get("chat_id")) == str(h.admin_group.id) and "Test 612 Ltd" in str(params):
            await group_free.wait()
        return await real(url, method, *args, **kwargs)

    monkeypatch.setattr(api, "do_request", slow_group)
    # An outbox run leaves a lane still waiting to the background after LANE_WAIT: not
    # 10 s here, or the submission's answer would wait that long for its run.
    monkeypatch.setattr(delivery, "LANE_WAIT", timedelta(seconds=0.1))
    newcomer = h.kit.user(612, language_code="en")
    await reach_form(newcomer, "Third-party developer", zh=False)
    await fill_form(newcomer, Applicant(612, zh=False), zh=False)
    await newcomer.press("Submit for review")  # its card now waits for the group
    await h.kit.user(REVIEWERS[0]).send("/approve 611-isv", chat=h.admin_group)
    applicant = h.kit.user(611)
    try:
        await h.until(lambda: any("approved" in m.text for m in applicant.messages()), 3.0)
    finally:
        group_free.set()
    await h.deliver()
    cards_of_612 = [m for m in h.admin_group.messages() if "Test 612 Ltd" in m.text and m.buttons]
    assert len(cards_of_612) == 1


@pytest.mark.parametrize(
    "data", ["rv:claim:301-isv", "fq:rm:roles:1", "sup:close:1", "ap:role:isv"]
)
async def test_a_press_on_a_message_in_no_chat_is_answered(harness: BotHarness, data: str) -> None:
    """A forged press on an inline-mode message (Telegram sends no chat with it): the
    spinner stops, staff buttons are refused, and nothing fails."""
    h = harness
    user = h.kit.user(303)
    query_id = h.kit.next_query_id()
    h.kit.api.register_callback_query(query_id)
    press = {"id": query_id, "from": user.user, "chat_instance": "inline", "data": data}
    sent = await h.kit.feed({"callback_query": press | {"inline_message_id": "inline-1"}})
    assert sent == [] and h.kit.errors == []
    assert h.kit.api.callback_answers[query_id] is not None
    if data.startswith(("rv:", "fq:")):
        answer = h.kit.api.callback_answers[query_id] or {}
        assert answer.get("show_alert") is True
