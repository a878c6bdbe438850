"""Business scopes as real licences write them, against what each role needs (the
vocabulary is bot/rules/scope_vocabulary.toml)."""

from __future__ import annotations

import pytest

from bot.rules import scope
from bot.rules.models import Role

OTHER_ROLES = [r for r in Role if r is not Role.MERCHANT]


@pytest.mark.parametrize(
    "text",
    [
        "计算机软硬件及辅助设备研发",
        "信息技术咨询服务；软件外包服务",
        "技术服务、技术开发、技术咨询、技术交流、技术转让、技术推广；软件开发",
        "网络技术的研究、开发",
        "人工智能应用软件开发；信息系统集成服务",
        "計算機軟硬件及輔助設備研發",
        "Software outsourcing; IT consulting services",
    ],
)
@pytest.mark.parametrize("role", OTHER_ROLES)
def test_usual_phrasings_of_technical_development_are_accepted(text: str, role: Role) -> None:
    assert scope.check(text, role) == scope.ScopeCheck(missing=[], unsure=[])


@pytest.mark.parametrize(
    "text",
    [
        "服装服饰零售；日用百货销售；技术开发",
        "互联网销售（除销售需要许可的商品）；软件开发",
        "电子商务；计算机软硬件及辅助设备研发",
        "日用百货批发；信息技术咨询服务；软件外包服务",
    ],
)
def test_usual_phrasings_for_a_merchant_developer_are_accepted(text: str) -> None:
    assert scope.check(text, Role.MERCHANT) == scope.ScopeCheck(missing=[], unsure=[])


@pytest.mark.parametrize(
    ("text", "role", "unsure"),
    [
        ("信息技术咨询服务；技术服务", Role.ISV, ["tech"]),
        ("网络设备销售；技术开发", Role.MERCHANT, ["ecommerce"]),
        ("日用百货销售；技术咨询", Role.MERCHANT, ["ecommerce", "tech"]),
    ],
)
def test_indirect_phrasings_are_left_to_the_applicants_confirmation(
    text: str, role: Role, unsure: list[str]
) -> None:
    assert scope.check(text, role) == scope.ScopeCheck(missing=[], unsure=unsure)


@pytest.mark.parametrize(
    ("text", "role", "missing"),
    [
        ("房地产开发经营；物业管理", Role.ISV, ["tech"]),
        ("餐饮服务；住宿服务", Role.MERCHANT, ["ecommerce", "tech"]),
    ],
)
def test_scopes_without_the_requirement_are_refused(
    text: str, role: Role, missing: list[str]
) -> None:
    assert scope.check(text, role).missing == missing
