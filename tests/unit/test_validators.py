"""Validators: what an applicant typing into the bot gets accepted, normalized or refused."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.rules import scope
from bot.rules import validators as v
from bot.rules.models import Role

TODAY = date(2026, 6, 1)
ID_SAMPLE = "11010519491231002X"
CREDIT_SAMPLE = "91350100M000100Y43"
DIGITS = "0123456789"


def code_of(call: Callable[[], object]) -> str:
    """The error code a validator call raises (fails the test when it accepts)."""
    with pytest.raises(v.Invalid) as info:
        call()
    return info.value.code


def with_check(first17: str) -> str:
    return first17 + v.resident_id_check_char(first17)


# --- generators -----------------------------------------------------------------------------


@st.composite
def resident_ids(draw: st.DrawFn) -> str:
    area = draw(st.text(DIGITS, min_size=6, max_size=6))
    born = draw(st.dates(date(1900, 1, 1), TODAY))
    seq = draw(st.text(DIGITS, min_size=3, max_size=3))
    return with_check(f"{area}{born:%Y%m%d}{seq}")


@st.composite
def credit_codes(draw: st.DrawFn) -> str:
    head = draw(st.text(v.CREDIT_ALPHABET, min_size=2, max_size=2))
    area = draw(st.text(DIGITS, min_size=6, max_size=6))
    org = draw(st.text(v.CREDIT_ALPHABET, min_size=9, max_size=9))
    first17 = head + area + org
    return first17 + v.credit_code_check_char(first17)


def substitute(data: st.DataObject, value: str, allowed: Callable[[int], str]) -> str:
    """``value`` with one character replaced by a different character allowed at that place."""
    i = data.draw(st.integers(0, len(value) - 1))
    new = data.draw(st.sampled_from([c for c in allowed(i) if c != value[i]]))
    return value[:i] + new + value[i + 1 :]


# --- Invalid and the shared guard -----------------------------------------------------------


def test_invalid_carries_code_and_params() -> None:
    err = v.Invalid("text.too_long", max=5)
    assert (err.code, err.params) == ("text.too_long", {"max": 5})


def _scope_isv(text: str) -> str:
    return v.business_scope(text, Role.ISV)


def _resident_id(text: str) -> str:
    return v.resident_id(text)


ALL_VALIDATORS: list[tuple[Callable[[str], str], int]] = [
    (_resident_id, 200),
    (v.credit_code, 200),
    (v.other_id_number, 20),
    (v.mobile, 200),
    (v.email, 254),
    (v.person_name, 60),
    (v.company_name, 100),
    (v.account_id, 32),
    (_scope_isv, 2000),
    (v.description, 1000),
]


@pytest.mark.parametrize(("check", "limit"), ALL_VALIDATORS)
def test_blank_input_is_empty(check: Callable[[str], str], limit: int) -> None:
    assert code_of(lambda: check(" \n\t ")) == "text.empty"


@pytest.mark.parametrize(("check", "limit"), ALL_VALIDATORS)
def test_over_long_input_is_refused_before_anything_else(
    check: Callable[[str], str], limit: int
) -> None:
    with pytest.raises(v.Invalid) as info:
        check("8" * (limit + 1))
    # A name is told its own rule (2-20 Chinese characters, 2-60 Latin letters), which a
    # bare "at most 60 characters" would contradict.
    expected = ("name.invalid", {}) if check is v.person_name else ("text.too_long", {"max": limit})
    assert (info.value.code, info.value.params) == expected


# --- resident ID ----------------------------------------------------------------------------


def test_resident_id_sample_is_accepted_and_normalized() -> None:
    assert v.resident_id(ID_SAMPLE, TODAY) == ID_SAMPLE
    assert v.resident_id(f"  {ID_SAMPLE.lower()} \n", TODAY) == ID_SAMPLE
    # Full-width digits from a Chinese input method are the same number.
    assert v.resident_id("１１０１０５１９４９１２３１００２ｘ", TODAY) == ID_SAMPLE


def test_resident_id_check_char() -> None:
    assert v.resident_id_check_char(ID_SAMPLE[:17]) == "X"
    with pytest.raises(ValueError, match="17 digits"):
        v.resident_id_check_char("12345")


@pytest.mark.parametrize(
    "text",
    [
        "110105491231002",  # the old 15-digit form
        "11010519491231002",  # 17 characters
        "11010519491231002XX",
        "1101051949123100X2",  # X only at the end
        "110105 19491231002X",
        "11010519491231002Y",
    ],
)
def test_resident_id_format(text: str) -> None:
    assert code_of(lambda: v.resident_id(text, TODAY)) == "id.format"


@pytest.mark.parametrize("birth", ["20230230", "19991301", "18991231", "00000000"])
def test_resident_id_birth_date_must_exist_from_1900(birth: str) -> None:
    number = with_check(f"110105{birth}002")
    assert code_of(lambda: v.resident_id(number, TODAY)) == "id.birth_date"


def test_resident_id_birth_date_must_not_be_in_the_future() -> None:
    tomorrow = with_check("11010520260602001")
    assert code_of(lambda: v.resident_id(tomorrow, TODAY)) == "id.birth_future"
    born_today = with_check("11010520260601001")
    assert v.resident_id(born_today, TODAY) == born_today


def test_resident_id_checksum() -> None:
    assert code_of(lambda: v.resident_id("110105194912310021", TODAY)) == "id.checksum"


@settings(max_examples=200)
@given(resident_ids())
def test_generated_resident_ids_are_accepted(number: str) -> None:
    assert v.resident_id(number, TODAY) == number


@settings(max_examples=200)
@given(resident_ids())
def test_resident_id_check_char_follows_the_standard(number: str) -> None:
    # An independent reading of GB 11643-1999 (ISO 7064 MOD 11-2).
    weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    total = sum(int(c) * w for c, w in zip(number, weights, strict=False))
    assert number[17] == "10X98765432"[total % 11]


@settings(max_examples=200)
@given(st.data())
def test_any_single_substitution_breaks_a_resident_id(data: st.DataObject) -> None:
    number = data.draw(resident_ids())
    changed = substitute(data, number, lambda i: DIGITS + "X" if i == 17 else DIGITS)
    with pytest.raises(v.Invalid):
        v.resident_id(changed, TODAY)


# --- credit code ----------------------------------------------------------------------------


def test_credit_code_sample_is_accepted_and_upper_cased() -> None:
    assert v.credit_code(CREDIT_SAMPLE) == CREDIT_SAMPLE
    assert v.credit_code(f" {CREDIT_SAMPLE.lower()} ") == CREDIT_SAMPLE
    assert v.credit_code_check_char(CREDIT_SAMPLE[:17]) == "3"


@pytest.mark.parametrize(
    "text",
    [
        "91350100M000100Y4",  # too short
        "91350100M 000100Y43",  # inner space
        "9135010OM000100Y43",  # letter O in the division code
        "91350100MO00100Y43",  # O is not in the alphabet
        "91350100M000100I43",
        "91350100M000100S43",
        "91350100M000100V43",
        "91350100M000100Z43",
        "9135-0100M000100Y43",
    ],
)
def test_credit_code_format(text: str) -> None:
    assert code_of(lambda: v.credit_code(text)) == "credit.format"


def test_credit_code_checksum() -> None:
    assert code_of(lambda: v.credit_code("91350100M000100Y44")) == "credit.checksum"


# The check characters at both ends of the range, computed by hand from the standard's table.
@pytest.mark.parametrize("code", ["91350100M000100Y30", "91350100M000100YDY"])
def test_credit_code_check_char_edges(code: str) -> None:
    assert v.credit_code_check_char(code[:17]) == code[17]
    assert v.credit_code(code) == code


@settings(max_examples=200)
@given(credit_codes())
def test_credit_code_check_char_follows_the_standard(code: str) -> None:
    # An independent reading of GB 32100-2015: weights 3^(i-1) mod 31, as listed there.
    weights = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28]
    total = sum(v.CREDIT_ALPHABET.index(c) * w for c, w in zip(code, weights, strict=False))
    assert v.CREDIT_ALPHABET.index(code[17]) == (31 - total % 31) % 31


def test_credit_code_check_char_rejects_foreign_characters() -> None:
    with pytest.raises(ValueError, match="alphabet"):
        v.credit_code_check_char("91350100M000100I4")


@settings(max_examples=200)
@given(credit_codes())
def test_generated_credit_codes_are_accepted(code: str) -> None:
    assert v.credit_code(code) == code
    assert v.credit_code(code.lower()) == code


@settings(max_examples=200)
@given(st.data())
def test_any_single_substitution_breaks_a_credit_code(data: st.DataObject) -> None:
    code = data.draw(credit_codes())
    changed = substitute(data, code, lambda i: DIGITS if 2 <= i < 8 else v.CREDIT_ALPHABET)
    with pytest.raises(v.Invalid):
        v.credit_code(changed)


# --- other ID, mobile, e-mail ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "stored"),
    [("E12345678", "E12345678"), (" c1234567 ", "C1234567"), ("H-123-456", "H-123-456")],
)
def test_other_id_accepted(text: str, stored: str) -> None:
    assert v.other_id_number(text) == stored


@pytest.mark.parametrize("text", ["1234", "ABCDEFGH", "E1234 5678", "-12345", "12345-", "E1234/5"])
def test_other_id_rejected(text: str) -> None:
    assert code_of(lambda: v.other_id_number(text)) == "other_id.invalid"


@pytest.mark.parametrize(
    "text",
    [
        "13800138000",
        "+86 138 0013 8000",
        "86-138-0013-8000",
        "+8613800138000",
        "１３８００１３８０００",
    ],
)
def test_mobile_accepted(text: str) -> None:
    assert v.mobile(text) == "13800138000"


@pytest.mark.parametrize(
    "text",
    ["1380013800", "138001380001", "12800138000", "23800138000", "+1 138 0013 8000", "1380013800a"],
)
def test_mobile_rejected(text: str) -> None:
    assert code_of(lambda: v.mobile(text)) == "mobile.invalid"


@settings(max_examples=200)
@given(
    second=st.sampled_from("3456789"),
    rest=st.text(DIGITS, min_size=9, max_size=9),
    prefix=st.sampled_from(["", "86", "+86", "+86 "]),
    sep=st.sampled_from(["", " ", "-"]),
)
def test_generated_mobiles_are_accepted(second: str, rest: str, prefix: str, sep: str) -> None:
    number = "1" + second + rest
    typed = prefix + sep.join([number[:3], number[3:7], number[7:]])
    assert v.mobile(typed) == number


def test_email_is_normalized() -> None:
    assert v.email(" Dev.Team@Example.COM ") == "Dev.Team@example.com"
    assert v.email("dev＠example.com") == "dev@example.com"


@pytest.mark.parametrize(
    "text", ["dev", "dev@", "@example.com", "dev@example", "dev @example.com", "a@b@example.com"]
)
def test_email_rejected(text: str) -> None:
    assert code_of(lambda: v.email(text)) == "email.invalid"


# --- names ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "stored"),
    [
        ("张三", "张三"),
        (" 欧阳 娜娜 ", "欧阳娜娜"),
        ("阿卜杜拉·买买提", "阿卜杜拉·买买提"),
        ("阿卜杜拉 • 买买提", "阿卜杜拉·买买提"),
        ("阿卜杜拉.买买提", "阿卜杜拉·买买提"),
        ("Jean-Luc  O’Brien", "Jean-Luc O'Brien"),
        ("José Núñez", "José Núñez"),
        ("Li", "Li"),
    ],
)
def test_person_name_accepted(text: str, stored: str) -> None:
    assert v.person_name(text) == stored


@pytest.mark.parametrize(
    "text",
    [
        "张",
        "A",
        "张三3",
        "John Smith 2",
        "<b>张三</b>",
        "<script>alert(1)</script>",
        "张三 Smith",
        "·张三",
        "张三··李",
        "John--Smith",
        "张" * 21,
    ],
)
def test_person_name_rejected(text: str) -> None:
    assert code_of(lambda: v.person_name(text)) == "name.invalid"


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("阿卜杜拉·买买提", "阿卜杜拉•买买提"),
        ("阿卜杜拉·买买提", "阿卜杜拉.买买提"),
        ("张 三", "张三"),
        ("JEAN  luc", " Jean Luc "),
    ],
)
def test_same_name(a: str, b: str) -> None:
    assert v.same_name(a, b)


@pytest.mark.parametrize(
    ("a", "b"), [("张三", "张四"), ("Jean Luc", "Jean Paul"), ("李娜", "李娜娜")]
)
def test_different_names(a: str, b: str) -> None:
    assert not v.same_name(a, b)


def test_company_name_accepted() -> None:
    assert v.company_name(" 北京某某科技有限公司 ") == "北京某某科技有限公司"
    assert v.company_name("ACME   Trading\nLtd.") == "ACME Trading Ltd."


@pytest.mark.parametrize("text", ["A", "12345", "！！！", "(1)-2"])
def test_company_name_rejected(text: str) -> None:
    assert code_of(lambda: v.company_name(text)) == "company.invalid"


def test_account_id_accepted() -> None:
    assert v.account_id(" shop_01.dev-x ") == "shop_01.dev-x"


@pytest.mark.parametrize("text", ["ab", "shop 01", "张三丰的店", "shop@01"])
def test_account_id_rejected(text: str) -> None:
    assert code_of(lambda: v.account_id(text)) == "account_id.invalid"


# --- business scope -------------------------------------------------------------------------

TECH = [
    "技术服务、技术开发、技术咨询、技术交流、技术转让、技术推广",
    "软件开发",
    "信息技术开发",
    "网络技术开发",
    "计算机技术开发",
    "计算机软件的开发、销售",
    "从事网络科技领域内的技术研发",
    "技術開發",
    "資訊軟體開發",
    "Technology development and consulting",
    "TECHNICAL DEVELOPMENT",
    "software development",
    "IT development services",
]
ECOMMERCE = [
    "电子商务",
    "電子商務",
    "电商运营",
    "网上销售服装",
    "網上銷售",
    "网络销售",
    "互联网销售（除销售需要许可的商品）",
    "在线销售",
    "E-Commerce",
    "ecommerce",
    "Online Sales of clothing",
    "online retail",
    "Internet sales",
]


@pytest.mark.parametrize("tech", TECH)
@pytest.mark.parametrize("role", [r for r in Role if r is not Role.MERCHANT])
def test_scope_tech_is_enough_for_other_roles(tech: str, role: Role) -> None:
    assert v.business_scope(f" {tech} ", role) == tech


@pytest.mark.parametrize("tech", TECH)
def test_scope_tech_without_ecommerce_misses_ecommerce_for_merchants(tech: str) -> None:
    if scope.check(tech, Role.MERCHANT).unsure:
        return  # "计算机软件的开发、销售": sales, not said to be online (tests/unit/test_scope.py)
    with pytest.raises(v.Invalid) as info:
        v.business_scope(tech, Role.MERCHANT)
    assert (info.value.code, info.value.params) == ("scope.missing", {"missing": ["ecommerce"]})


@pytest.mark.parametrize("sales", ECOMMERCE)
def test_scope_merchant_needs_both(sales: str) -> None:
    text = f"{sales}；软件开发"
    assert v.business_scope(text, Role.MERCHANT) == text
    with pytest.raises(v.Invalid) as info:
        v.business_scope(sales, Role.MERCHANT)
    assert info.value.params == {"missing": ["tech"]}


@pytest.mark.parametrize(
    ("text", "role", "missing"),
    [
        ("餐饮服务；住宿服务", Role.MERCHANT, ["ecommerce", "tech"]),
        ("餐饮服务；日用百货销售", Role.MERCHANT, ["tech"]),  # sales: for confirmation
        ("餐饮服务；日用百货销售", Role.ISV, ["tech"]),
        ("房地产开发经营；网上销售", Role.MERCHANT, ["tech"]),  # real-estate development
        ("电子商务；物业管理", Role.PARTNER, ["tech"]),
    ],
)
def test_scope_names_what_is_missing(text: str, role: Role, missing: list[str]) -> None:
    with pytest.raises(v.Invalid) as info:
        v.business_scope(text, role)
    assert (info.value.code, info.value.params) == ("scope.missing", {"missing": missing})


def test_scope_english_words_touching_chinese_text() -> None:
    assert v.business_scope("从事e-commerce与software development", Role.MERCHANT)


# --- description ----------------------------------------------------------------------------


def test_description_accepted() -> None:
    text = "我们公司主要从事服装的线上销售业务和软件开发"
    assert v.description(f"\n{text}  ") == text
    assert v.description("We sell garden tools online.") == "We sell garden tools online."


def test_description_too_short() -> None:
    with pytest.raises(v.Invalid) as info:
        v.description("我们卖衣服")
    assert (info.value.code, info.value.params) == ("description.too_short", {"min": 20})


@pytest.mark.parametrize(
    "text",
    [
        "啊" * 25,
        "a" * 30,
        "1234567890 1234567890 !!!",
        "？？？？？？？？？？？？？？？？？？？？",
        "ab ab ab ab ab ab ab ab",
    ],
)
def test_description_must_be_a_sentence(text: str) -> None:
    assert code_of(lambda: v.description(text)) == "description.not_sentence"


# --- invisible characters -------------------------------------------------------------------

#: NUL, right-to-left override, zero-width space and joiner, byte-order mark, a bidi
#: isolate, a soft hyphen, the Hangul filler used for blank names, a variation selector.
INVISIBLE = ["\x00", "\u202e", "\u200b", "\u200d", "\ufeff", "\u2066", "\u00ad", "\u3164", "\ufe0f"]
SCOPE = "软件开发；电子商务"
TEXTS: list[tuple[Callable[[str], str], str]] = [
    (v.person_name, "张三"),
    (v.person_name, "Tom Smith"),
    (v.company_name, "Acme Trading Co"),
    (v.company_name, "杭州示例科技有限公司"),
    (lambda text: v.business_scope(text, Role.MERCHANT), SCOPE),
    (v.description, "我们为商家开发订单管理和仓储软件，服务三百多家店铺。"),
    (v.account_id, "shop_admin.01"),
    (v.email, "admin@example.com"),
]


@pytest.mark.parametrize("char", INVISIBLE, ids=lambda c: f"U+{ord(c):04X}")
@pytest.mark.parametrize(("validate", "value"), TEXTS, ids=lambda x: str(x)[:12])
def test_invisible_characters_never_get_stored(
    validate: Callable[[str], str], value: str, char: str
) -> None:
    """What reviewers are shown is what was typed that they can see: a right-to-left override
    or a zero-width character cannot make one company name look like another."""
    for typed in (char + value, value[:2] + char + value[2:], value + char):
        try:
            stored = validate(typed)
        except v.Invalid:
            continue  # refused is fine too
        assert stored == validate(value), repr(typed)


def test_line_breaks_of_a_description_are_kept() -> None:
    text = "我们为商家开发订单管理软件，\n也提供仓储系统的实施和培训服务。"
    assert v.description(text) == text


# --- e-mail comparison ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "look_alike",
    [
        "\u0430dmin@example.com",  # Cyrillic а among Latin letters
        "admin@ex\u0430mple.com",  # … in the domain
        "\u03bfps@example.com",  # Greek ο before Latin letters
    ],
)
def test_mixed_script_look_alikes_are_refused(look_alike: str) -> None:
    assert code_of(lambda: v.email(look_alike)) == "email.mixed_script"


@pytest.mark.parametrize(
    "address",
    ["админ@пример.рф", "张三@example.com", "lee.min@例子.中国", "ops+shop@example.com"],
)
def test_addresses_in_one_script_or_a_cjk_mix_are_accepted(address: str) -> None:
    assert v.email(address)


def test_addresses_are_compared_as_typed_except_case_and_width() -> None:
    """The documented comparison: case and full-width forms fold; dots and +tags count."""
    assert v.email("Ｄｅｖ＠Example.COM").casefold() == v.email("dev@example.com").casefold()
    assert v.email("d.ev@example.com") != v.email("dev@example.com")
    assert v.email("dev+x@example.com") != v.email("dev@example.com")
