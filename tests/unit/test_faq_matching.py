"""The FAQ matcher alone: questions as people type them, in both languages, find their topic;
small talk and other subjects find nothing; the data and the texts agree."""

from __future__ import annotations

import time

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.services.faq import (
    ELSEWHERE,
    FaqMatcher,
    Topic,
    Verdict,
    load_topics,
    normalize,
    terms,
)
from bot.settings import LOCALES
from bot.texts import TEMPLATES_DIR, Texts

TOPICS = load_topics(TEMPLATES_DIR / "faq.toml")
MATCHER = FaqMatcher(TOPICS)


@pytest.mark.parametrize(
    ("question", "topic"),
    [
        ("角色怎么选？", "roles"),
        ("Which role should I pick?", "roles"),
        ("I chose the wrong role, can I change it?", "role_change"),
        ("经营范围没有技术开发可以吗", "licence"),
        ("營業執照經營範圍", "licence"),  # traditional characters
        ("licence scope", "licence"),
        ("What documents do I need to prepare?", "prepare"),
        ("审核要多久", "review"),
        ("請問審核要幾個工作日", "review"),
        ("How long does the review take?", "review"),
        ("How long does the reviw take", "review"),  # a typo
        ("<b>审核</b>要多久", "review"),
        ("被驳回了怎么办", "rejected"),
        ("我的申请被拒绝了", "rejected"),
        ("my application got rejected", "rejected"),
        ("我想改邮箱", "email"),
        ("审核通过后邮箱能改吗", "email"),
        ("how can I change my e-mail?", "email"),
        ("HOW CAN I CHANGE MY EMAIL", "email"),
        ("邮箱和管理员ID重复了", "several"),
        ("can one enterprise register two roles", "several"),
        ("客服", "contact"),
        ("怎么联系人工客服", "contact"),
        ("contact support", "contact"),
        ("I need to talk to a human", "contact"),
        ("我选错角色了，还能改吗", "role_change"),
        ("角色怎么选", "roles"),  # a wording itself, with a one-character verb
        ("审合要多久", "review"),  # a pinyin input method's typo: 合 for 核
        ("營業執照上傳格式", "uploads"),  # traditional characters outside the FAQ's words
    ],
)
def test_questions_find_their_topic(question: str, topic: str) -> None:
    assert MATCHER.match(question).answer == topic


@pytest.mark.parametrize(
    "question",
    [
        "hello",
        "今天天气怎么样",
        "what's the weather like today?",
        "我想吃火锅",
        "what is the best pizza in town",
        "帮帮我",
        "怎么",
        "how",
        "🙂🙂🙂",
        "",
        "   ",
        "AT&T <script>alert(1)</script>",
        "x" * 5000,
    ],
)
def test_small_talk_and_other_subjects_find_nothing(question: str) -> None:
    verdict = MATCHER.match(question)
    assert verdict.answer is None
    assert verdict.suggestions == ()


def test_a_question_two_topics_share_is_answered_with_suggestions() -> None:
    # Nothing tells the two apart: the user chooses.
    matcher = FaqMatcher([Topic("a", ("review time",)), Topic("b", ("review rejected",))])
    verdict = matcher.match("review")
    assert verdict.answer is None
    assert set(verdict.suggestions) == {"a", "b"}


def test_every_variant_finds_its_own_topic() -> None:
    for topic in TOPICS:
        for question in topic.questions:
            verdict = MATCHER.match(question)
            assert verdict.answer == topic.key or topic.key in verdict.suggestions, question


def test_every_topic_has_a_title_and_an_answer_in_every_locale() -> None:
    texts = Texts()
    keys = {t.key for t in TOPICS}
    for locale in LOCALES:
        answered = {
            key.split(".")[1]
            for key in texts.strings[locale]
            if key.startswith("faq.") and key.endswith(".answer")
        }
        assert answered == keys, locale
        for key in keys:
            assert texts.plain(locale, f"faq.{key}.title")
            assert texts.t(locale, f"faq.{key}.answer", email="help@example.com")
        assert "help@example.com" in texts.t(locale, "faq.contact.answer", email="help@example.com")


@pytest.mark.parametrize(
    ("question", "topic"),
    [
        ("法人证件", "legal_rep"),  # the legal representative, or the ID types
        ("Is the administrator id unique?", "several"),
    ],
)
def test_a_question_two_entries_answer_gets_both_suggested(question: str, topic: str) -> None:
    """Two entries fit about as well: no answer at once, the user chooses among both."""
    verdict = MATCHER.match(question)
    assert verdict.answer is None and topic in verdict.suggestions[:2]


@pytest.mark.parametrize(
    ("question", "topic"),
    [
        ("被打回来了", "rejected"),  # colloquial: 打回 is 驳回
        ("my application was denied", "rejected"),
        ("开个工单", "contact"),
        ("can I open a ticket", "contact"),
        ("我想找真人聊聊", "contact"),
        ("no result mail in my inbox", "email_missing"),
        ("what paperwork do I need", "prepare"),
    ],
)
def test_colloquial_words_and_synonyms_find_their_topic(question: str, topic: str) -> None:
    """The synonyms of faq_synonyms.toml: words no wording uses find the entry anyway."""
    assert MATCHER.rank(question)[0].topic == topic


@pytest.mark.parametrize("question", ["商品怎么定价", "应用怎么上架", "how do I delete my shop"])
def test_the_questions_own_unknown_words_stop_an_answer(question: str) -> None:
    assert MATCHER.match(question).answer is None


def test_titles_and_answers_are_searched_too() -> None:
    """A word only an entry's answer uses (国徽 on the ID's back) still finds it."""
    assert MATCHER.rank("国徽面")[0].topic == "uploads"


def test_normalisation_folds_width_case_script_and_joiners() -> None:
    assert normalize("Ｅ-Mail 註冊") == "email 注册"
    assert terms("Licences, e-mails and 审核要多久?") == [
        "licence",
        "email",
        "审核",
        "核要",
        "多久",
    ]


def test_a_huge_text_is_matched_quickly() -> None:
    text = "review " * 2000 + "审核" * 3000
    started = time.perf_counter()
    MATCHER.match(text)
    assert time.perf_counter() - started < 0.5


@given(st.text(max_size=400))
def test_any_text_gets_a_verdict_with_scores_between_0_and_1(text: str) -> None:
    for match in MATCHER.rank(text):
        assert 0.0 <= match.score <= 1.0
    verdict = MATCHER.match(text)
    assert verdict.answer is None or verdict.answer in MATCHER.topics


@pytest.mark.parametrize(
    "question",
    [
        "买家要退款，这个订单怎么处理",
        "订单接口一直报签名错误",
        "How should I price my app for merchants?",
        "the courier lost our customer's parcel",
    ],
)
def test_a_question_about_what_the_faq_does_not_answer_gets_neither_answer_nor_suggestions(
    question: str,
) -> None:
    # Orders, refunds, the open API and the service market are another desk's: the
    # question is closest to them (faq_elsewhere.toml), so the bot offers support.
    assert MATCHER.match(question) == Verdict(None)


def test_what_the_faq_does_not_answer_is_never_an_entry() -> None:
    assert ELSEWHERE not in MATCHER.topics
    for question in ("订单怎么退款", "API signature error", "审核要多久"):
        assert ELSEWHERE not in [m.topic for m in MATCHER.rank(question)]
    assert MATCHER.match("审核要多久").answer == "review"  # its words do not hide an entry
