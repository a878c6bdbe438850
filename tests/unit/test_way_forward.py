"""No state without a way forward: every role × every state an applicant can fix × every
field changed to a different valid value (after an invalid one): whatever the change
invalidates is asked in the same walk, and the applicant reaches submission. In the
states an applicant cannot change, every change is refused plainly (NotAsked), never with
an error. Through the services over the in-memory store (the contract suite holds it to
the TinyDB store's behaviour); the chat is covered by test_review_loop and test_stateful.
"""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bot.rules import form, validators
from bot.rules.form import Kind
from bot.rules.models import Document, Registration, Role, Status
from bot.services.registrations import NeedsConfirmation, NotAsked, RegistrationService
from bot.services.review import ReviewService
from storage.memory import MemoryStorage

REVIEWER = 501
T0 = datetime(2026, 11, 30, 2, 0, tzinfo=UTC)


def resident_id(sequence: int) -> str:
    first17 = f"11010519900307{sequence % 1000:03d}"
    return first17 + validators.resident_id_check_char(first17)


def credit_code(serial: int) -> str:
    first17 = f"91330100MA{serial % 10**7:07d}"
    return first17 + validators.credit_code_check_char(first17)


def document(tag: str, pdf: bool = False) -> Document:
    return Document(
        file_id=f"file-{tag}",
        file_unique_id=f"unique-{tag}",
        file_name="licence.pdf" if pdf else None,
        mime_type="application/pdf" if pdf else "image/jpeg",
        size=2048,
        sha256=f"{abs(hash(tag)):064d}"[:64],
        stored_as=f"files/00/1/{tag}",
    )


def first_answers(n: int, role: Role) -> dict[str, Any]:
    scope = "电子商务；软件开发" if role is Role.MERCHANT else "软件开发；技术服务"
    return {
        "legal_name": "张伟",
        "legal_id_type": "resident",
        "legal_id_number": resident_id(n),
        "identity_account_id": f"shop_{n}",
        "company_name": f"杭州测试{n}网络科技有限公司",
        "credit_code": credit_code(n),
        "business_scope": scope,
        "licence_legal_rep": "张伟",
        "description": "我们为电商商家开发订单打印和发货管理软件，已服务两千多家店铺。",
        "admin_name": "李娜",
        "admin_id_type": "resident",
        "admin_id_number": resident_id(n + 500),
        "admin_mobile": "13912340000",
        "admin_email": f"dev{n}@example.com",
        "admin_account_id": f"admin_{n}",
    }


#: A different valid value for each field (None: derived from the other answers).
CHANGED: dict[str, Any] = {
    "legal_name": "王芳",
    "legal_id_type": "other",
    "legal_id_number": None,
    "identity_account_id": "shop_changed",
    "company_name": "另一家网络科技有限公司",
    "credit_code": credit_code(9_999),
    "business_scope": "电子商务；计算机软硬件及辅助设备研发",
    "licence_legal_rep": None,
    "description": "我们专注于为跨境电商商家提供订单同步与库存管理的软件服务。",
    "admin_name": "赵敏",
    "admin_id_type": "other",
    "admin_id_number": None,
    "admin_mobile": "13700001111",
    "admin_email": "changed@example.com",
    "admin_account_id": "admin_changed",
}
#: Something wrong for each field, as people type it.
INVALID: dict[str, str] = {
    "legal_name": "Tom123",
    "legal_id_type": "passport",
    "legal_id_number": "123",
    "identity_account_id": "!",
    "company_name": "x",
    "credit_code": "91350100M0001",
    "business_scope": "餐饮服务；住宿服务",
    "licence_legal_rep": "李雷",
    "description": "short",
    "admin_name": "Tom123",
    "admin_id_type": "passport",
    "admin_id_number": "123",
    "admin_mobile": "12345",
    "admin_email": "not-an-email",
    "admin_account_id": "!",
}


class Applicant:
    """Answers whatever the service asks next, as a person would."""

    def __init__(self, service: RegistrationService, registration_id: str, n: int) -> None:
        self.service = service
        self.id = registration_id
        self.n = n

    @property
    def registration(self) -> Registration:
        registration = self.service.get(self.id)
        assert registration is not None
        return registration

    def valid(self, key: str, *, changed: bool) -> Any:
        """A valid answer to ``key`` given the answers so far (a different one if asked)."""
        registration = self.registration
        answers = registration.answers
        field = form.FIELDS[key]
        if field.kind is Kind.DOCUMENT:
            tag = f"{self.n}-{key}-{'new' if changed else 'old'}"
            return document(tag, pdf=key == "licence")
        if key.endswith("_id_number"):
            kind = answers.get(key.replace("number", "type"))
            if kind == "other":
                return f"E{self.n:08d}" if not changed else f"G{self.n:08d}"
            return resident_id(self.n + (700 if changed else 0) + (500 if "admin" in key else 0))
        if key == "licence_legal_rep":
            return answers["legal_name"]
        if changed and CHANGED[key] is not None:
            return CHANGED[key]
        return first_answers(self.n, registration.role)[key]

    def give(self, key: str, value: Any) -> None:
        if isinstance(value, Document):
            self.service.answer_document(self.id, key, value)
        else:
            try:
                self.service.answer_text(self.id, key, value)
            except NeedsConfirmation:
                self.service.confirm(self.id, key)

    def walk_to_summary(self, limit: int = 40) -> list[str]:
        """Answer or keep whatever is asked until the summary; the fields asked."""
        asked: list[str] = []
        for _ in range(limit):
            registration = self.registration
            key = registration.cursor
            if key is None:
                return asked
            asked.append(key)
            # Every field asked belongs to the walk the applicant is shown ("step k of N").
            assert key in self.service.sequence(registration), (key, registration.walk)
            try:
                self.service.keep(self.id, key)
            except (validators.Invalid, NotAsked):
                self.give(key, self.valid(key, changed=False))
        raise AssertionError(f"no way to the summary: {asked}")

    def change(self, key: str) -> None:
        """Something invalid first (refused, nothing moves), then a different valid value."""
        before = self.registration
        field = form.FIELDS[key]
        if field.kind is Kind.DOCUMENT:
            wrong = document(f"{self.n}-{key}-wrong", pdf=True)
            if field.images_only:
                with pytest.raises(validators.Invalid):
                    self.service.answer_document(self.id, key, wrong)
            else:
                with pytest.raises(validators.Invalid):
                    self.service.answer_text(self.id, key, "a text, not a file")
        else:
            with pytest.raises(validators.Invalid):
                self.service.answer_text(self.id, key, INVALID[key])
        after = self.registration
        assert (after.cursor, after.answers) == (before.cursor, before.answers)
        self.give(key, self.valid(key, changed=True))


def services() -> tuple[RegistrationService, ReviewService]:
    storage = MemoryStorage()
    clock = lambda: T0  # noqa: E731 - a clock that stands still is enough here
    return (
        RegistrationService(storage, clock, admin_chat=-1001),
        ReviewService(
            storage,
            clock,
            claim_for=timedelta(hours=2),
            email=True,
            china_today=lambda: T0.date(),
        ),
    )


def submitted(role: Role, n: int) -> tuple[Applicant, ReviewService]:
    registrations, review = services()
    registration = registrations.start(n, role)
    applicant = Applicant(registrations, registration.id, n)
    applicant.walk_to_summary()
    registrations.submit(registration.id)
    return applicant, review


FIXABLE = ("draft", "changes_requested", "not_passed", "rejected")
CASES = [
    (role, state, f.key)
    for role, state in itertools.product(Role, FIXABLE)
    for f in form.fields_for(role)
]


@pytest.mark.parametrize(("role", "state", "key"), CASES)
def test_every_change_leads_to_submission(role: Role, state: str, key: str) -> None:
    n = 100 + CASES.index((role, state, key))
    if state == "draft":
        registrations, _ = services()
        applicant = Applicant(registrations, registrations.start(n, role).id, n)
        applicant.walk_to_summary()
        registrations.edit(applicant.id, key)
    else:
        applicant, review = submitted(role, n)
        registrations = applicant.service
        if state == "changes_requested":
            review.request_changes(applicant.id, REVIEWER, {key: "请修改"})
        elif state == "not_passed":
            review.not_passed(applicant.id, REVIEWER, "资料有误，请核对")
            registrations.edit(applicant.id, key)
        else:  # a "rejected" decided before the loop existed: fixable the same way
            registration = applicant.registration
            registration.status = Status.REJECTED
            registrations.storage.registrations.save(registration)
            registrations.edit(applicant.id, key)
    assert applicant.registration.cursor == key
    applicant.change(key)
    asked = applicant.walk_to_summary()
    # Whatever the change invalidated was asked in this same walk, in form order.
    invalidated = form.dependants(key, role)
    assert [k for k in asked if k in invalidated] == invalidated
    submitted_now = registrations.submit(applicant.id)
    expected = Status.SUBMITTED if state == "draft" else Status.RESUBMITTED
    assert submitted_now.status is expected
    stored = submitted_now.answers
    assert stored.get(key) == _stored(applicant.valid(key, changed=True), key, stored)
    for field in form.fields_for(role):
        value = stored.get(field.key)
        if field.validate is not None and isinstance(value, str):
            field.validate(value, stored, role)


def _stored(value: Any, key: str, answers: dict[str, Any]) -> Any:
    if isinstance(value, Document):
        return value.model_dump(mode="json")
    if key == "licence_legal_rep" or key.endswith("_id_number"):
        return answers.get(key)  # derived from the other answers at the time
    return value


@pytest.mark.parametrize("status", [Status.SUBMITTED, Status.IN_REVIEW, Status.APPROVED])
def test_nothing_changes_while_reviewers_hold_it_or_after_approval(status: Status) -> None:
    applicant, review = submitted(Role.ISV, 7)
    if status is Status.IN_REVIEW:
        review.claim(applicant.id, REVIEWER)
    elif status is Status.APPROVED:
        review.approve(applicant.id, REVIEWER)
    with pytest.raises(NotAsked):
        applicant.service.edit(applicant.id, "description")
    with pytest.raises(NotAsked):
        applicant.service.submit(applicant.id)


def test_a_removed_registration_is_told_not_resubmitted() -> None:
    applicant, review = submitted(Role.MERCHANT, 8)
    review.remove(applicant.id, REVIEWER, "第三方开发者申请了自研角色")
    with pytest.raises(NotAsked):
        applicant.service.edit(applicant.id, "description")
    with pytest.raises(NotAsked):
        applicant.service.submit(applicant.id)
    assert Role.MERCHANT not in applicant.service.available_roles(8)
