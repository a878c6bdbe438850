"""The form declaration: what is asked, in which order, and what each answer must look like."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import pytest

from bot.rules import validators as v
from bot.rules.form import (
    FIELDS,
    SECTION_OF,
    Kind,
    fields_for,
    first_missing,
    mask,
)
from bot.rules.models import IDENTITY_ROLES, Role

ID_SAMPLE = "11010519491231002X"
CREDIT_SAMPLE = "91350100M000100Y43"


def keys(role: Role) -> list[str]:
    return [f.key for f in fields_for(role)]


@pytest.mark.parametrize("role", list(Role))
def test_sections_come_in_the_guide_order(role: Role) -> None:
    sections = [SECTION_OF[k] for k in keys(role)]
    assert sections == sorted(sections, key=["legal", "enterprise", "admin"].index)
    assert keys(role)[0] == "legal_name"
    assert keys(role)[-1] == "admin_account_id"


@pytest.mark.parametrize("role", list(Role))
def test_identity_account_is_asked_only_of_identity_roles(role: Role) -> None:
    assert ("identity_account_id" in keys(role)) is (role in IDENTITY_ROLES)
    assert len(keys(role)) == len(FIELDS) - (role not in IDENTITY_ROLES)


def test_first_missing() -> None:
    assert first_missing({}, Role.ISV) == "legal_name"
    answers: dict[str, Any] = dict.fromkeys(keys(Role.ISV), "x")
    assert first_missing(answers, Role.ISV) is None
    # The same answers miss the platform identity for a merchant.
    assert first_missing(answers, Role.MERCHANT) == "identity_account_id"
    # A skipped optional document is stored as None and counts as answered.
    answers["legal_id_back"] = None
    assert first_missing(answers, Role.ISV) is None
    del answers["company_name"]
    assert first_missing(answers, Role.ISV) == "company_name"


@pytest.mark.parametrize(
    ("value", "shown"),
    [(ID_SAMPLE, "*" * 14 + "002X"), ("E1234567", "****4567"), ("1234", "1234"), ("12", "12")],
)
def test_mask_shows_only_the_last_four(value: str, shown: str) -> None:
    assert mask(value) == shown


def test_id_numbers_are_masked() -> None:
    assert {k for k, f in FIELDS.items() if f.masked} == {"legal_id_number", "admin_id_number"}


# --- the validators wired into the form -----------------------------------------------------

GOOD = {
    "legal_name": ("张三", "张三"),
    "legal_id_number": (ID_SAMPLE.lower(), ID_SAMPLE),
    "identity_account_id": ("shop_01", "shop_01"),
    "company_name": ("北京某某科技有限公司", "北京某某科技有限公司"),
    "credit_code": (CREDIT_SAMPLE.lower(), CREDIT_SAMPLE),
    "business_scope": ("电子商务；软件开发", "电子商务；软件开发"),
    "licence_legal_rep": ("张 三", "张三"),
    "description": ("我们公司主要从事服装的线上销售业务和软件开发", None),
    "admin_name": ("Jean-Luc Picard", "Jean-Luc Picard"),
    "admin_id_number": (ID_SAMPLE, ID_SAMPLE),
    "admin_mobile": ("+86 138 0013 8000", "13800138000"),
    "admin_email": ("Dev@Example.com", "Dev@example.com"),
    "admin_account_id": ("admin.01", "admin.01"),
}
BAD = {
    "legal_name": ("张三3", "name.invalid"),
    "legal_id_number": ("110105194912310021", "id.checksum"),
    "identity_account_id": ("a b", "account_id.invalid"),
    "company_name": ("123", "company.invalid"),
    "credit_code": ("91350100M000100Y44", "credit.checksum"),
    "business_scope": ("软件开发", "scope.missing"),
    "licence_legal_rep": ("李四", "legal_rep.mismatch"),
    "description": ("卖衣服", "description.too_short"),
    "admin_name": ("<b>x</b>", "name.invalid"),
    "admin_id_number": ("E12345678", "id.format"),
    "admin_mobile": ("12345", "mobile.invalid"),
    "admin_email": ("dev@", "email.invalid"),
    "admin_account_id": ("", "text.empty"),
}
ANSWERS = {"legal_name": "张三", "legal_id_type": "resident"}


def test_every_validated_field_has_samples() -> None:
    validated = {k for k, f in FIELDS.items() if f.validate is not None}
    assert validated == set(GOOD) == set(BAD)
    assert all(FIELDS[k].kind is Kind.TEXT for k in validated)


@pytest.mark.parametrize("key", sorted(GOOD))
def test_form_accepts_good_answers(key: str) -> None:
    text, stored = GOOD[key]
    check = FIELDS[key].validate
    assert check is not None
    assert check(text, ANSWERS, Role.MERCHANT) == (stored or text)


@pytest.mark.parametrize("key", sorted(BAD))
def test_form_rejects_bad_answers(key: str) -> None:
    text, code = BAD[key]
    check = FIELDS[key].validate
    assert check is not None
    with pytest.raises(v.Invalid) as info:
        check(text, ANSWERS, Role.MERCHANT)
    assert info.value.code == code


def test_id_number_follows_the_chosen_document_type() -> None:
    check = FIELDS["legal_id_number"].validate
    assert check is not None
    assert check("e12345678", {"legal_id_type": "other"}, Role.ISV) == "E12345678"
    with pytest.raises(v.Invalid, match=r"^id\.format$"):
        check("E12345678", {"legal_id_type": "resident"}, Role.ISV)


def test_licence_representative_must_match_the_legal_name() -> None:
    check = FIELDS["licence_legal_rep"].validate
    assert check is not None
    given = {"legal_name": "阿卜杜拉·买买提"}
    assert check("阿卜杜拉•买买提", given, Role.ISV) == "阿卜杜拉·买买提"
    with pytest.raises(v.Invalid) as info:
        check("阿卜杜拉", given, Role.ISV)
    assert info.value.params == {"expected": "阿卜杜拉·买买提"}


def test_business_scope_depends_on_the_role() -> None:
    check = FIELDS["business_scope"].validate
    assert check is not None
    assert check("软件开发", {}, Role.ISV) == "软件开发"
    with pytest.raises(v.Invalid) as info:
        check("软件开发", {}, Role.MERCHANT)
    assert info.value.params == {"missing": ["ecommerce"]}


def test_rules_import_no_framework() -> None:
    # The rules must stay usable (and testable) without Telegram, storage or templates.
    code = (
        "import sys, bot.rules.form, bot.rules.status, bot.rules.workdays;"
        "print(sorted({'telegram', 'tinydb', 'jinja2'} & set(sys.modules)))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


@pytest.mark.parametrize("role", list(Role))
def test_a_field_depends_only_on_earlier_answers_or_the_role(role: Role) -> None:
    from bot.rules.form import ROLE

    asked = keys(role)
    for field in fields_for(role):
        for dependency in field.depends_on:
            assert dependency == ROLE or asked.index(dependency) < asked.index(field.key)


def test_changes_invalidate_what_the_guide_ties_to_them() -> None:
    from bot.rules.form import dependants

    assert dependants("legal_name", Role.ISV) == ["licence_legal_rep"]
    assert dependants("legal_id_type", Role.ISV) == [
        "legal_id_number",
        "legal_id_front",
        "legal_id_back",
    ]
    assert dependants("description", Role.ISV) == []


def test_a_resident_id_card_needs_both_sides() -> None:
    answers: dict[str, Any] = dict.fromkeys(keys(Role.PARTNER), "x")
    answers["legal_id_back"] = None
    answers["legal_id_type"] = "resident"
    assert first_missing(answers, Role.PARTNER) == "legal_id_back"
    answers["legal_id_type"] = "other"  # a passport has one side
    assert first_missing(answers, Role.PARTNER) is None


def test_the_administrator_may_hold_the_same_ids_as_the_legal_representative() -> None:
    from bot.rules.form import dependants

    assert FIELDS["admin_id_type"].choices == FIELDS["legal_id_type"].choices
    check = FIELDS["admin_id_number"].validate
    assert check is not None
    assert check("E12345678", {"admin_id_type": "other"}, Role.ISV) == "E12345678"
    assert check(ID_SAMPLE, {"admin_id_type": "resident"}, Role.ISV) == ID_SAMPLE
    with pytest.raises(v.Invalid):
        check("E12345678", {"admin_id_type": "resident"}, Role.ISV)
    assert dependants("admin_id_type", Role.ISV) == ["admin_id_number"]
