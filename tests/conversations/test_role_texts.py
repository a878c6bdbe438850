"""Each role reads its own rules: the role's confirmation warns about what concerns it, the
identity account is asked for the chosen identity only, and the business scope's prompt
states the chosen role's requirement only (issue 16, item 9)."""

from __future__ import annotations

import pytest
from conftest import BotHarness
from journey import Applicant, answer, reach_roles, texts

from bot.rules import form
from bot.rules.models import IDENTITY_ROLES, Role
from bot.texts import Texts

_TEXTS = Texts()
SELF_BUILT = IDENTITY_ROLES  # the guide's self-built roles: merchant, leader, affiliate

#: What only one role's texts say, per locale.
ISV_MUST_NOT_CHOOSE_THIS = {
    "en": "must not choose this self-built role",
    "zh": "请勿选择该自研角色",
}
ISV_MUST_NOT_ADD = {"en": "do not also register a self-built role", "zh": "请勿再注册自研角色"}
ECOMMERCE = {"en": "e-commerce product sales", "zh": "电商产品销售"}
TECH = {"en": "technical development", "zh": "技术开发"}
IDENTITY = {
    "en": {
        Role.MERCHANT: "shop id",
        Role.LEADER: "group leader id",
        Role.AFFILIATE: "affiliate id",
    },
    "zh": {Role.MERCHANT: "店铺 ID", Role.LEADER: "团长 ID", Role.AFFILIATE: "快赚客 ID"},
}
EXAMPLE = {
    Role.MERCHANT: "shop_1234567",
    Role.LEADER: "leader_8801234",
    Role.AFFILIATE: "kzk_5566778",
}


def _name(locale: str, role: Role) -> str:
    return _TEXTS.plain(locale, f"role.{role}.name")


@pytest.mark.parametrize("locale", ["zh", "en"])
async def test_each_roles_confirmation_warns_only_about_what_concerns_it(
    harness: BotHarness, locale: str
) -> None:
    user = harness.kit.user(1901 if locale == "zh" else 1902, language_code=locale)
    await reach_roles(user, zh=locale == "zh")
    for role in Role:
        shown = texts(await user.press(_name(locale, role)))
        # A self-built role warns ISVs off it; an ISV is told not to add a self-built role;
        # a platform partner reads neither (it is not a self-built role, nor an ISV).
        assert (ISV_MUST_NOT_CHOOSE_THIS[locale] in shown) == (role in SELF_BUILT), role
        assert (ISV_MUST_NOT_ADD[locale] in shown) == (role is Role.ISV), role
        if role is Role.PARTNER:
            assert "ISV" not in shown and ("self-built" if locale == "en" else "自研") not in shown
        await user.press(_TEXTS.plain(locale, "button.other_role"))


@pytest.mark.parametrize("locale", ["zh", "en"])
@pytest.mark.parametrize("role", list(Role))
async def test_the_identity_and_scope_prompts_state_the_chosen_roles_rule_only(
    harness: BotHarness, locale: str, role: Role
) -> None:
    n = 1910 + list(Role).index(role) * 2 + (locale == "en")
    user = harness.kit.user(n, language_code=locale)
    applicant = Applicant(n, zh=locale == "zh", role=role)
    await reach_roles(user, zh=applicant.zh)
    await user.press(_name(locale, role))
    said = await user.press(_TEXTS.plain(locale, "button.confirm_role"))
    prompts: dict[str, str] = {}
    for field in form.fields_for(role):  # each prompt, as it is asked
        prompts[field.key] = texts(said[-1:])
        if field.key == "business_scope":
            break
        said = await answer(user, applicant, field.key)
    if role in IDENTITY_ROLES:
        identity = prompts["identity_account_id"]
        assert IDENTITY[locale][role] in identity and EXAMPLE[role] in identity
        for other, words in IDENTITY[locale].items():
            if other is not role:
                assert words not in identity and EXAMPLE[other] not in identity, other
    else:
        assert "identity_account_id" not in prompts
    scope = prompts["business_scope"]
    assert TECH[locale] in scope
    assert (ECOMMERCE[locale] in scope) == (role is Role.MERCHANT), scope
    # The example shows what the role needs, no more.
    assert ("online sales" in scope or "互联网销售" in scope) == (role is Role.MERCHANT), scope
