"""The conversation tests' shared helpers: what an applicant types, walks through the
journey, a submitted or approved applicant, what the reviewers' group and the mail show."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from conftest import REVIEWERS, BotHarness, Inbox

from bot.offline import samples
from bot.offline.people import Person
from bot.offline.records import BotMessage
from bot.rules import form
from bot.rules.form import Kind
from bot.rules.models import Registration, Role
from bot.rules.validators import credit_code_check_char, resident_id_check_char
from bot.texts import Texts

JPEG, PNG, PDF = samples.jpeg(), samples.png(), samples.pdf()  # real: the bot parses uploads

#: How each document is sent: (content, file name, MIME type); no file name = as a photo.
_PHOTO: tuple[bytes, str | None, str | None] = (JPEG, None, None)
_LICENCE: tuple[bytes, str | None, str | None] = (PDF, "licence.pdf", "application/pdf")
UPLOADS = {"legal_id_back": (PNG, "back.png", "image/png")}
_TEXTS = Texts()


def resident_id(sequence: int, birth: str = "19900307") -> str:
    """A valid resident ID number (GB 11643) with the given birth date."""
    first17 = f"110105{birth}{sequence % 1000:03d}"
    return first17 + resident_id_check_char(first17)


def credit_code(serial: int) -> str:
    """A valid unified social credit code (GB 32100-2015)."""
    first17 = f"91330100MA{serial % 10**7:07d}"
    return first17 + credit_code_check_char(first17)


@dataclass
class Applicant:
    """One applicant's answers, typed as a person would, in their language."""

    n: int
    zh: bool = True
    role: Role = Role.ISV
    answers: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        name = "张伟" if self.zh else "Wei Zhang"
        scope = (
            "技术开发、技术咨询、技术服务；软件开发；互联网销售"
            if self.zh
            else "technology development, technical consulting, software development"
        )
        description = (
            "我们为电商商家开发订单打印和发货管理软件，已服务两千多家店铺。"
            if self.zh
            else "We build order printing and shipping software for online stores."
        )
        company = f"杭州测试{self.n}网络科技有限公司" if self.zh else f"Test {self.n} Ltd"
        self.answers = {
            "legal_name": name,
            "legal_id_type": "resident",
            "legal_id_number": resident_id(self.n),
            "identity_account_id": f"shop_{self.n}",
            "company_name": company,
            "credit_code": credit_code(self.n),
            "business_scope": scope,
            "licence_legal_rep": name,
            "description": description,
            "admin_name": "李娜" if self.zh else "Na Li",
            "admin_id_number": resident_id(self.n + 500, "19851120"),
            "admin_mobile": f"1391234{self.n % 10000:04d}",
            "admin_email": f"dev{self.n}@example.com",
            "admin_account_id": f"admin_{self.n}",
        }


def texts(messages: list[BotMessage]) -> str:
    """Everything the bot said, as one plain string (for `in` assertions)."""
    return "\n".join(m.text for m in messages)


async def reach_roles(user: Person, zh: bool = True) -> list[BotMessage]:
    """/apply → share phone → agree: the applicant sees the roles."""
    await user.send("/apply")
    await user.press("分享我的手机号" if zh else "Share my phone number")
    return await user.press("同意并继续" if zh else "I agree, continue")


async def reach_form(user: Person, role_button: str, zh: bool = True) -> list[BotMessage]:
    """… → pick a role → confirm: the applicant sees the first field."""
    await reach_roles(user, zh)
    await user.press(role_button)
    return await user.press("确认选择" if zh else "Confirm")


async def answer(user: Person, applicant: Applicant, key: str) -> list[BotMessage]:
    """A valid answer to one field, given as a person gives it (typed, pressed, uploaded)."""
    field = form.FIELDS[key]
    if field.kind is Kind.CHOICE:
        value = applicant.answers.get(key, field.choices[0])
        locale = "zh" if applicant.zh else "en"
        return await user.press(_TEXTS.plain(locale, f"choice.{key}.{value}"))
    if field.kind is Kind.DOCUMENT:
        data, name, mime = UPLOADS.get(key, _PHOTO if field.images_only else _LICENCE)
        if name is None:
            return await user.upload(data, as_photo=True)
        return await user.upload(data, file_name=name, mime_type=mime)
    return await user.send(applicant.answers[key])


async def answer_until(user: Person, applicant: Applicant, stop: str | None) -> list[BotMessage]:
    """Answer the applicant's fields in the form's order, up to (not including) ``stop``
    (to the end when None); returns the bot's last answer."""
    said: list[BotMessage] = []
    for asked in form.fields_for(applicant.role):
        if asked.key == stop:
            break
        said = await answer(user, applicant, asked.key)
    return said


async def at_the_id_photos(user: Person) -> list[BotMessage]:
    """A platform partner, in English, who has answered every field before the ID photos
    (walking the form, so a field added before them breaks nothing): the photo is asked."""
    await reach_form(user, "Platform partner", zh=False)
    applicant = Applicant(user.id, zh=False, role=Role.PARTNER)
    return await answer_until(user, applicant, "legal_id_front")


async def fill_form(
    user: Person, applicant: Applicant, zh: bool = True, *, name_given: bool = False
) -> list[BotMessage]:
    """Answer every field of the applicant's role in order with valid data (the first one
    already, with ``name_given``); returns the summary."""
    assert zh == applicant.zh, "the applicant's language is the one they type in"
    said: list[BotMessage] = []
    for asked in form.fields_for(applicant.role):
        if name_given and asked.key == "legal_name":
            continue
        said = await answer(user, applicant, asked.key)
    return said


# -- people the reviewers and the outbox deal with ----------------------------------------
def cards(harness: BotHarness, marker: str) -> list[BotMessage]:
    """The messages in the reviewers' group that contain ``marker``."""
    return [m for m in harness.kit.messages(harness.admin_group) if marker in m.text]


def changes_on_the_resubmission(harness: BotHarness) -> str:
    """What the one resubmission card lists from "fields changed since the last review" on
    (its first line names them)."""
    [again] = cards(harness, "重新提交")
    assert "自上次审核以来修改的字段" in again.text
    return again.text.split("自上次审核以来修改的字段")[1]


async def submit(harness: BotHarness, user_id: int, zh: bool = False) -> Applicant:
    """A third-party developer who filled in and submitted the form; the card delivered."""
    user = harness.kit.user(user_id, language_code="zh" if zh else "en")
    applicant = Applicant(user_id, zh=zh)
    await reach_form(user, "第三方开发者" if zh else "Third-party developer", zh=zh)
    await fill_form(user, applicant, zh=zh)
    await user.press("提交审核" if zh else "Submit for review")
    await harness.deliver()
    return applicant


async def approved(
    h: BotHarness, user_id: int, *, admin_confirmed: bool = True
) -> tuple[Person, str]:
    """A submitted and approved applicant (the administrator confirmed, unless told not
    to), and their e-mail address."""
    applicant = await submit(h, user_id)
    await h.kit.user(REVIEWERS[0]).send(f"/approve {user_id}-isv", chat=h.admin_group)
    await h.deliver()
    if admin_confirmed:
        await confirm_as_administrator(h, user_id, applicant)
    return h.kit.user(user_id), applicant.answers["admin_email"]


async def confirm_as_administrator(h: BotHarness, user_id: int, applicant: Applicant) -> None:
    """The administrator opens the link from the submission and shares their contact."""
    said = texts(h.kit.messages(h.kit.user(user_id)))
    number = registration(h, Registration.make_id(user_id, applicant.role)).number
    link = next(w for w in said.split() if f"?start=adm-{number}-" in w)
    mobile = applicant.answers["admin_mobile"]
    admin = h.kit.user(user_id + 100_000, language_code="en", phone_number=f"+86{mobile}")
    await admin.send(f"/start {link.split('?start=')[1]}")
    confirmed = await admin.share_contact()
    assert "confirmed as the administrator" in texts(confirmed), texts(confirmed)


def last_code(inbox: Inbox, address: str) -> str:
    """The six-digit code of the last e-mail to ``address``."""
    body = inbox.to(address)[-1].get_body(("plain",))
    assert body is not None
    found = re.search(r"\b(\d{6})\b", body.get_content())
    assert found is not None
    return found.group(1)


def registration(harness: BotHarness, registration_id: str) -> Registration:
    stored = harness.store.registrations.get(registration_id)
    assert stored is not None
    return stored


def number(harness: BotHarness, user_id: int, role: Role = Role.ISV) -> str:
    """The public number of a user's registration: what people are shown and type."""
    return registration(harness, Registration.make_id(user_id, role)).number
