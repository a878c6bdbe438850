"""The reviewers' rules alone: the guide's rule on third-party developers in self-built
roles, company names compared as written, and which catalogue reasons fit a field and role."""

from __future__ import annotations

import pytest

from bot.rules import form, reasons
from bot.rules.conflicts import company_key, isv_in_self_built_role
from bot.rules.models import Role, Status


@pytest.mark.parametrize("self_built", [Role.MERCHANT, Role.LEADER, Role.AFFILIATE])
def test_an_isv_applying_for_a_self_built_role_is_flagged_both_ways(self_built: Role) -> None:
    assert isv_in_self_built_role(self_built, [(Role.ISV, Status.APPROVED)])
    assert isv_in_self_built_role(Role.ISV, [(self_built, Status.SUBMITTED)])


def test_what_is_not_the_violation() -> None:
    # A draft is no application yet; the partner role is not self-built; two self-built
    # roles of one account are allowed.
    assert not isv_in_self_built_role(Role.MERCHANT, [(Role.ISV, Status.DRAFT)])
    assert not isv_in_self_built_role(Role.PARTNER, [(Role.ISV, Status.APPROVED)])
    assert not isv_in_self_built_role(Role.ISV, [(Role.PARTNER, Status.APPROVED)])
    assert not isv_in_self_built_role(Role.MERCHANT, [(Role.LEADER, Status.APPROVED)])
    assert not isv_in_self_built_role(Role.ISV, [])


def test_company_names_compare_as_written() -> None:
    assert company_key("杭州某某（网络）科技有限公司") == company_key("杭州某某(网络)科技有限公司")
    assert company_key("Test 7  Ltd") == company_key("TEST 7 LTD")
    assert company_key("杭州甲公司") != company_key("杭州乙公司")


def offered(field: str, role: Role) -> set[str]:
    return {reasons.REASONS[i] for i in reasons.fitting(field, role)}


def test_reasons_fit_the_field_and_the_role() -> None:
    assert "licence_unreadable" not in offered("legal_id_front", Role.ISV)
    assert "id_photo_unclear" in offered("legal_id_front", Role.ISV)
    assert "scope_lacks_ecommerce" in offered("business_scope", Role.MERCHANT)
    assert "scope_lacks_ecommerce" not in offered("business_scope", Role.ISV)
    assert "identity_unverified" in offered("identity_account_id", Role.LEADER)
    assert offered("admin_name", Role.ISV) == set()  # only a typed reason


def test_every_reason_fits_some_field_of_every_role_it_names() -> None:
    for reason in reasons.CATALOGUE_REASONS:
        assert reason.fields <= set(form.FIELDS), reason.key
        for role in reason.roles or Role:
            keys = {f.key for f in form.fields_for(role)}
            assert reason.fields & keys, (reason.key, role)
