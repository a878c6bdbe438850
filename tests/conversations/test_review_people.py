"""Who is who on the reviewers' desk: reviewers by name (never a bare id once Telegram gave
one), and on the card the applicant's language, the account's other registrations (with the
guide's violation flagged: a third-party developer applying for a self-built role) and other
registrations with the same credit code under another company name. Both languages."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from conftest import REVIEWERS, BotHarness
from journey import Applicant, cards, fill_form, number, reach_form, submit, texts

from bot.rules.models import Registration, Role, Status

SEEN: dict[str, dict[str, str]] = {
    "zh": {
        "card": "新的注册申请",
        "claim": "认领",
        "held_by": "认领人",
        "held_alert": "已被审核员",
        "applicant": "申请人",
        "language": "申请人语言：",
        "zh": "中文",
        "en": "英文",
        "others": "该账号的其他注册",
        "isv": "第三方开发者",
        "merchant": "商家开发者",
        "submitted": "已提交",
        "violation": "违反入驻指南",
        "same_code": "同一信用代码",
    },
    "en": {
        "card": "New registration",
        "claim": "Claim",
        "held_by": "held by",
        "held_alert": "holds this registration",
        "applicant": "applicant",
        "language": "Applicant's language:",
        "zh": "中文",
        "en": "English",
        "others": "Other registrations of this account",
        "isv": "Third-party developer",
        "merchant": "Merchant developer",
        "submitted": "Submitted",
        "violation": "Against the guide",
        "same_code": "Same credit code",
    },
}


@pytest.fixture
def desk(harness_in_each_locale: BotHarness) -> tuple[BotHarness, dict[str, str]]:
    """The bot with its reviewers' group in one language, and what they see in it."""
    h = harness_in_each_locale
    return h, SEEN[h.settings.DEFAULT_LOCALE]


def now(h: BotHarness, user_id: int) -> str:
    """The text of a user's registration's card in the group as it stands now."""
    shown = number(h, user_id)
    return next(m.text for m in h.kit.messages(h.admin_group) if shown in m.text and "\n" in m.text)


async def test_reviewers_are_shown_by_name(desk: tuple[BotHarness, dict[str, str]]) -> None:
    h, see = desk
    group = h.admin_group
    rita = h.kit.user(REVIEWERS[0], "Rita <b>&", last_name="Chen", username="rita_c")
    other = h.kit.user(REVIEWERS[1], "Li", username="li_reviews")
    await submit(h, 631)
    [card] = cards(h, see["card"])
    await rita.press(see["claim"], chat=group, message_id=card.message_id)
    shown = next(m for m in h.kit.messages(group) if m.message_id == card.message_id)
    holder_line = next(line for line in shown.text.splitlines() if see["held_by"] in line)
    assert "Rita <b>& Chen" in holder_line and str(REVIEWERS[0]) not in holder_line
    assert "Rita &lt;b&gt;&amp; Chen" in shown.source  # escaped: shown as Telegram gave it
    # The other reviewer is told who holds it, by name.
    await other.press_data(f"rv:approve:{number(h, 631)}", card.message_id, group)
    assert other.last_answer is not None and see["held_alert"] in other.last_answer
    assert "Rita <b>& Chen" in other.last_answer
    queue = texts(await other.send("/queue", chat=group))
    assert "Rita <b>& Chen" in queue
    history = texts(await other.send(f"/history {number(h, 631)}", chat=group))
    assert "Rita <b>& Chen" in history and str(REVIEWERS[0]) not in history
    assert see["applicant"] in history


async def test_a_reviewer_never_seen_is_shown_by_id(
    desk: tuple[BotHarness, dict[str, str]],
) -> None:
    h, see = desk
    await submit(h, 632)
    # Claimed by a reviewer whose name the bot never saw (before names were kept).
    stored = h.store.registrations.get("632-isv")
    assert stored is not None
    stored.status, stored.claimed_by, stored.claimed_at = Status.IN_REVIEW, 4242, h.clock()
    h.store.registrations.save(stored)
    reviewer = h.kit.user(REVIEWERS[0])
    opened = texts(await reviewer.send(f"/review {number(h, 632)}", chat=h.admin_group))
    assert f"{see['held_by']}" in opened and "4242" in opened


async def test_the_card_shows_the_applicants_language(
    desk: tuple[BotHarness, dict[str, str]],
) -> None:
    h, see = desk
    await submit(h, 633, zh=True)
    await submit(h, 634, zh=False)
    for user_id, language in ((633, see["zh"]), (634, see["en"])):
        line = next(x for x in now(h, user_id).splitlines() if see["language"] in x)
        assert language in line, line


def merchant_of(h: BotHarness, user_id: int, company: str, code: str) -> Registration:
    """A merchant-developer registration of the same account, submitted (seeded: only
    the card's account view is under test)."""
    when = datetime(2026, 11, 30, 3, 0, tzinfo=UTC)
    registration = Registration(
        id=Registration.make_id(user_id, Role.MERCHANT),
        user_id=user_id,
        role=Role.MERCHANT,
        status=Status.SUBMITTED,
        answers={"company_name": company, "credit_code": code},
        submitted_at=when,
        due_date=date(2026, 12, 3),
        round=1,
    )
    h.store.registrations.save(registration)
    return registration


async def test_the_account_s_other_registrations_and_the_isv_violation(
    desk: tuple[BotHarness, dict[str, str]],
) -> None:
    h, see = desk
    reviewer = h.kit.user(REVIEWERS[0])
    applicant = await submit(h, 635)
    merchant = merchant_of(
        h, 635, applicant.answers["company_name"], applicant.answers["credit_code"]
    )
    [card] = await reviewer.send(f"/review {merchant.id}", chat=h.admin_group)
    others = card.text.split(see["others"])[1]
    assert see["isv"] in others.splitlines()[0] + others.splitlines()[1]
    assert see["violation"] in card.text
    # The third-party developer's own card says so too.
    [isv_card] = await reviewer.send(f"/review {number(h, 635)}", chat=h.admin_group)
    assert see["merchant"] in isv_card.text.split(see["others"])[1]
    assert see["violation"] in isv_card.text


async def test_one_registration_alone_shows_no_others(
    desk: tuple[BotHarness, dict[str, str]],
) -> None:
    h, see = desk
    await submit(h, 636)
    card = now(h, 636)
    assert see["others"] not in card and see["violation"] not in card
    assert see["same_code"] not in card


async def test_the_same_credit_code_under_another_company_name_is_flagged(
    desk: tuple[BotHarness, dict[str, str]],
) -> None:
    h, see = desk
    first = await submit(h, 637)
    code = first.answers["credit_code"]

    # Another account, the same code, another company name: flagged on its card.
    user = h.kit.user(638, language_code="en")
    other = Applicant(638, zh=False)
    other.answers["credit_code"] = code
    other.answers["company_name"] = "Completely Different Trading Ltd"
    await reach_form(user, "Third-party developer", zh=False)
    await fill_form(user, other, zh=False)
    await user.press("Submit for review")
    await h.deliver()
    card = now(h, 638)
    flagged = card.split(see["same_code"])[1]
    assert number(h, 637) in flagged and first.answers["company_name"] in flagged

    # The same company name written the same way (other spacing, case): not flagged.
    third = Applicant(639, zh=False)
    user = h.kit.user(639, language_code="en")
    await reach_form(user, "Third-party developer", zh=False)
    third.answers["credit_code"] = code
    third.answers["company_name"] = first.answers["company_name"].upper().replace(" ", "  ")
    await fill_form(user, third, zh=False)
    await user.press("Submit for review")
    await h.deliver()
    card = now(h, 639)
    flagged = card.split(see["same_code"])[1]
    assert number(h, 638) in flagged and number(h, 637) not in flagged
