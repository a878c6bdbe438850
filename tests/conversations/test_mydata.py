"""People ask for their data (/mydata) and to delete it (/delete): drafts go, with their
unique claims and the files uploaded for them; submitted registrations are kept, and the
user is told why."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterator
from typing import Any

from conftest import REVIEWERS, BotHarness, Inbox
from journey import Applicant, approved, fill_form, last_code, reach_form, texts

from bot.offline.people import Person
from bot.offline.records import BotMessage
from storage.files import FileStore


def exported(harness: BotHarness, message: BotMessage) -> dict[str, Any]:
    """The JSON document the bot sent, as the user would open it."""
    assert message.document is not None and message.document["file_name"] == "mydata.json"
    data: dict[str, Any] = json.loads(harness.kit.api.file(message.document["file_id"]).data)
    return data


async def draft(user: Person, applicant: Applicant, zh: bool = False) -> None:
    """A complete registration left unsubmitted (the form paused at the summary)."""
    await reach_form(user, "Platform partner" if not zh else "平台合作伙伴", zh=zh)
    await fill_form(user, applicant, zh=zh)
    await user.send("/cancel")


async def test_mydata_has_my_answers_and_nothing_of_anyone_else(harness: BotHarness) -> None:
    me = harness.kit.user(601, "Wei", language_code="en")
    other = harness.kit.user(602, "Fang", language_code="en")
    mine, theirs = Applicant(601, zh=False), Applicant(602, zh=False)
    theirs.answers["legal_name"] = theirs.answers["licence_legal_rep"] = "Fang Wang"
    await draft(me, mine)
    await draft(other, theirs)
    await me.send("/support")
    await me.press("✉️ Open a support ticket")

    sent = await me.send("/mydata")
    assert "Everything this bot stores about you" in texts(sent)
    data = exported(harness, sent[-1])
    assert data["user_id"] == 601
    assert data["account"]["user_id"] == 601 and data["account"]["phone"]
    [registration] = data["registrations"]
    assert registration["id"] == "601-partner"
    assert registration["answers"]["admin_email"] == mine.answers["admin_email"]
    assert registration["answers"]["company_name"] == mine.answers["company_name"]
    assert {e["action"] for e in data["events"]} >= {"agreement_accepted", "created"}
    assert all(e["by"] in ("you", "platform") for e in data["events"])
    assert [t["id"] for t in data["support_tickets"]] == [1]
    whole = json.dumps(data, ensure_ascii=False)
    for value in ("602-", "Fang", theirs.answers["admin_email"], theirs.answers["company_name"]):
        assert value not in whole


async def test_mydata_of_a_stranger_is_almost_empty(harness: BotHarness) -> None:
    user = harness.kit.user(603, language_code="zh")
    sent = await user.send("/mydata")
    assert "保存的关于您的全部数据" in texts(sent)
    data = exported(harness, sent[-1])
    assert data["registrations"] == [] and data["support_tickets"] == []


async def test_deleting_a_draft_releases_its_email_and_admin_id(harness: BotHarness) -> None:
    user = harness.kit.user(604, language_code="en")
    applicant = Applicant(604, zh=False)
    await draft(user, applicant)
    email = applicant.answers["admin_email"]
    assert harness.store.unique.owner("email", email) == "604-partner"

    plan = await user.send("/delete")
    said = texts(plan)
    assert "unsubmitted" in said and "Platform partner" in said and "can't be undone" in said
    assert plan[-1].has_button("🗑 Yes, delete the drafts")
    done = await user.press("🗑 Yes, delete the drafts")
    assert "Deleted 1 registration draft" in texts(done)
    assert harness.store.registrations.get("604-partner") is None
    assert harness.store.unique.owner("email", email) is None
    assert harness.store.unique.owner("admin_id", applicant.answers["admin_account_id"]) is None
    # The deletion itself is recorded, without the answers.
    [event] = [e for e in harness.store.audit.for_subject("604-partner") if "deleted" in e.action]
    assert email not in json.dumps(event.model_dump(mode="json"))
    # Pressing again deletes nothing more.
    confirm = plan[-1].callback_data("🗑 Yes, delete the drafts")
    again = await user.press_data(confirm, plan[-1].message_id)
    assert "no draft left to delete" in texts(again)

    # Someone else may now use the address.
    other = harness.kit.user(605, language_code="en")
    theirs = Applicant(605, zh=False)
    theirs.answers["admin_email"] = email
    summary = await fill_form_after_reach(other, theirs)
    assert "must be unique on the platform" not in texts(summary)
    stored = harness.store.registrations.get("605-partner")
    assert stored is not None and stored.answers["admin_email"] == email


async def fill_form_after_reach(user: Person, applicant: Applicant) -> list[BotMessage]:
    await reach_form(user, "Platform partner", zh=False)
    return await fill_form(user, applicant, zh=False)


async def test_a_submitted_registration_is_explained_and_kept(harness: BotHarness) -> None:
    user = harness.kit.user(606, language_code="zh")
    applicant = Applicant(606)
    await reach_form(user, "平台合作伙伴")
    await fill_form(user, applicant)
    await user.press("提交审核")
    await harness.deliver()  # the card leaves in the background; let it go first
    plan = await user.send("/delete")
    said = texts(plan)
    assert "没有尚未提交的注册草稿" in said
    assert "会被保留" in said and "审核" in said and "已提交，等待审核" in said
    assert not plan[-1].buttons
    assert harness.store.registrations.get("606-partner") is not None
    assert harness.store.unique.owner("email", applicant.answers["admin_email"]) == "606-partner"


async def submitted_and_draft(user: Person) -> None:
    """A submitted partner registration, then a third-party developer draft begun."""
    await reach_form(user, "Platform partner", zh=False)
    await fill_form(user, Applicant(user.id, zh=False), zh=False)
    await user.press("Submit for review")
    await user.send("/apply")
    await user.press("Third-party developer")
    await user.press("Confirm")
    await user.press("Start fresh")  # not the partner's answers
    await user.send("Wei Zhang")
    await user.send("/cancel")


async def test_only_drafts_go_when_both_kinds_exist(harness: BotHarness) -> None:
    user = harness.kit.user(607, language_code="en")
    await submitted_and_draft(user)
    await harness.deliver()  # the card leaves in the background; let it go first

    plan = await user.send("/delete")
    said = texts(plan)
    assert "Third-party developer" in said and "are kept" in said
    kept = await user.press("No, keep them")
    assert "nothing was deleted" in texts(kept)
    assert harness.store.registrations.get("607-isv") is not None
    await user.press("🗑 Yes, delete the drafts", message_id=plan[-1].message_id)
    assert harness.store.registrations.get("607-isv") is None
    assert harness.store.registrations.get("607-partner") is not None
    # The form starts afresh.
    again = await user.send("/apply")
    assert again[-1].has_button("Third-party developer")


async def test_an_old_confirmation_does_not_delete_a_newer_draft(harness: BotHarness) -> None:
    user = harness.kit.user(608, language_code="en")
    await reach_form(user, "Platform partner", zh=False)
    await user.send("Wei Zhang")
    await user.send("/cancel")
    plan = await user.send("/delete")
    await user.press("🗑 Yes, delete the drafts")
    # A new draft for another role, then the old confirmation once more.
    await user.send("/apply")
    await user.press("Affiliate")
    await user.press("Confirm")
    await user.send("/cancel")
    await user.press_data(plan[-1].callback_data("🗑 Yes, delete the drafts"), plan[-1].message_id)
    assert harness.store.registrations.get("608-affiliate") is not None


def files_of(harness: BotHarness, user_id: int) -> list[str]:
    """The names of the files stored for a user (their uploads)."""
    folder = harness.settings.DATA_DIR / "files" / f"{user_id % 256:02x}" / str(user_id)
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


async def test_deleting_a_draft_deletes_the_files_uploaded_for_it(harness: BotHarness) -> None:
    user = harness.kit.user(608, language_code="en")
    await draft(user, Applicant(608, zh=False))
    assert len(files_of(harness, 608)) >= 2  # the licence and the ID card photos
    await user.send("/delete")
    done = await user.press("🗑 Yes, delete the drafts")
    assert "every file you uploaded" in texts(done)
    assert files_of(harness, 608) == []


async def test_files_of_a_kept_registration_stay_and_replaced_uploads_go(
    harness: BotHarness,
) -> None:
    user = harness.kit.user(609, language_code="en")
    await submitted_and_draft(user)
    submitted = files_of(harness, 609)
    kept = harness.store.registrations.get("609-partner")
    assert kept is not None and submitted
    # An upload that was replaced by another one later: referred to by nothing.
    FileStore(harness.settings.DATA_DIR).put(b"\xff\xd8\xff an older photo", "jpg", 609)
    await user.send("/delete")
    await user.press("🗑 Yes, delete the drafts")
    assert files_of(harness, 609) == submitted
    for stored in (d["stored_as"] for d in kept.answers.values() if isinstance(d, dict)):
        assert (harness.settings.DATA_DIR / stored).is_file()


async def test_mydata_gives_nothing_to_recover_a_code_sent_to_someone_else(
    mail_harness: BotHarness, smtp: tuple[Inbox, int]
) -> None:
    """An applicant who typed someone else's address asks for a code (it goes to the
    victim) and then for their data: nothing in it lets them compute the code offline."""
    h, (inbox, _) = mail_harness, smtp
    attacker, victims_address = await approved(h, 621)
    await attacker.send("/profile")
    await attacker.press("Verify e-mail")
    code = last_code(inbox, victims_address)  # only the victim reads this

    data = exported(h, (await attacker.send("/mydata"))[-1])
    values = [v for v in _leaves(data) if isinstance(v, str)]
    for salt in values:  # the attacker's offline search, given the right code for speed
        for digest in values:
            mac = hmac.new(salt.encode(), code.encode(), hashlib.sha256).hexdigest()
            assert mac != digest, "the export lets anyone brute-force the e-mail code"
    keys = " ".join(_keys(data)).lower()
    for word in ("salt", "digest", "hash", "sha256", "secret", "token", "file_id"):
        assert word not in keys, word
    # Staff working data is not the applicant's: who claimed it, where the card is, the
    # queue of notifications, the support group's message ids.
    for word in ("claimed_by", "card_message_id", "outbox", "header_message_id", "actor"):
        assert word not in keys, word
    assert REVIEWERS[0] not in list(_leaves(data))
    # What is theirs is there.
    [registration] = data["registrations"]
    assert registration["answers"]["admin_email"] == victims_address
    assert registration["answers"]["licence"]["file_name"] == "licence.pdf"
    assert registration["email_code"]["sent_to"] == victims_address


async def test_mydata_is_readable_utf8(harness: BotHarness) -> None:
    user = harness.kit.user(622, language_code="zh")
    applicant = Applicant(622, zh=True)
    await draft(user, applicant, zh=True)
    message = (await user.send("/mydata"))[-1]
    assert message.document is not None
    raw = harness.kit.api.file(message.document["file_id"]).data
    assert applicant.answers["company_name"].encode("utf-8") in raw
    assert b"\\u" not in raw


def _leaves(data: object) -> Iterator[object]:
    if isinstance(data, dict):
        for value in data.values():
            yield from _leaves(value)
    elif isinstance(data, list):
        for value in data:
            yield from _leaves(value)
    else:
        yield data


def _keys(data: object) -> Iterator[str]:
    if isinstance(data, dict):
        for key, value in data.items():
            yield str(key)
            yield from _keys(value)
    elif isinstance(data, list):
        for value in data:
            yield from _keys(value)
