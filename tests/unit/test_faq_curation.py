"""The FAQ's services alone: the live book over the shipped seed, the agents' drafts and
their rules, and the gaps (what users asked that nothing answered), with no Telegram."""

from __future__ import annotations

import statistics
import time
from datetime import timedelta

import pytest
from conftest import Clock

from bot.services.faq import FaqMatcher, Topic, load_questions
from bot.services.faq_book import Content, FaqBook, FaqError, Usage, slug
from bot.services.faq_drafts import (
    PROMPTS_KEPT,
    Drafts,
    Invalid,
    Prompt,
    check_answer,
    check_title,
    check_wordings,
)
from bot.services.faq_gaps import RETENTION, GapLog, GapStatus, language_of, near_duplicates, scrub
from bot.texts import TEMPLATES_DIR, Texts
from storage.memory import MemoryAuditLog, MemoryKeyValueStore

TEXTS = Texts()
SHIPPED = load_questions(TEMPLATES_DIR / "faq.toml")


def book(kv: MemoryKeyValueStore, audit: MemoryAuditLog, clock: Clock) -> FaqBook:
    return FaqBook(
        kv, audit, clock, SHIPPED, lambda locale, key: TEXTS.strings[locale].get(key, "")
    )


def invoice(title: str = "Can I pay by invoice?") -> Content:
    return Content(
        topic={"zh": "可以开发票吗？", "en": title},
        questions={"zh": ["可以开发票吗"], "en": ["pay by invoice", "invoice for the fee"]},
        answer={"zh": "可以。", "en": "Yes <b>&</b> {{ 7 * 7 }}"},
    )


def test_the_shipped_faq_is_the_seed_and_changes_are_stored() -> None:
    kv, audit, clock = MemoryKeyValueStore(), MemoryAuditLog(), Clock()
    faq = book(kv, audit, clock)
    assert faq.keys() == list(SHIPPED)
    assert faq.match("审核要多久").answer == "review"
    added = faq.add(invoice(), actor=900)
    assert added.key == "pay_invoice" and added.revision == 1
    assert faq.keys()[-1] == "pay_invoice"
    assert faq.match("can I pay the fee by invoice?").answer == "pay_invoice"
    removed = faq.remove("review", actor=901, revision=0)
    assert removed.removed and faq.get("review") is None
    # A new book on the same storage (a restart) sees the same FAQ.
    again = book(kv, audit, clock)
    assert again.keys() == faq.keys()
    assert again.match("审核要多久").answer != "review"
    assert again.get("pay_invoice") == added
    actions = [e.action for s in ("faq:pay_invoice", "faq:review") for e in audit.for_subject(s)]
    assert actions == ["faq_added", "faq_removed"]


def test_keys_are_made_from_the_english_title_and_never_reused() -> None:
    assert slug("Can I pay by invoice?") == "pay_invoice"
    assert slug("How do I change the VAT number on invoices?") == "change_vat"
    assert slug("???") == "entry" and slug("2 roles?") == "entry_2_roles"
    faq = book(MemoryKeyValueStore(), MemoryAuditLog(), Clock())
    first = faq.add(invoice(), actor=900)
    faq.remove(first.key, actor=900, revision=first.revision)
    second = faq.add(invoice(), actor=900)
    third = faq.add(invoice(), actor=900)
    assert [first.key, second.key, third.key] == ["pay_invoice", "pay_invoice_2", "pay_invoice_3"]
    roles = faq.add(invoice("Roles?"), actor=900)  # a shipped key is taken too
    assert roles.key == "roles_2"


def test_an_edit_keeps_shipped_parts_and_refuses_a_stale_revision() -> None:
    kv, audit, clock = MemoryKeyValueStore(), MemoryAuditLog(), Clock()
    faq = book(kv, audit, clock)
    shipped = faq.get("email")
    assert shipped is not None and shipped.shipped and shipped.answer == {}
    content = Content(
        topic={}, questions=shipped.questions, answer={"en": "Write to us to change it."}
    )
    clock.advance(minutes=5)
    edited = faq.edit("email", content, actor=902, revision=0)
    assert edited.revision == 1 and edited.updated_by == 902 and edited.updated_at == clock()
    [event] = audit.for_subject("faq:email")
    # Before: the shipped template's source; after: the agent's text; zh unchanged.
    assert "calendar month" in event.detail["before"]["answer"]["en"]
    assert event.detail["after"]["answer"]["en"] == "Write to us to change it."
    assert event.detail["after"]["answer"]["zh"] == event.detail["before"]["answer"]["zh"]
    with pytest.raises(FaqError) as stale:
        faq.edit("email", content, actor=903, revision=0)
    assert stale.value.code == "changed"
    with pytest.raises(FaqError) as missing:
        faq.remove("nope", actor=903, revision=0)
    assert missing.value.code == "missing"
    with pytest.raises(FaqError) as incomplete:
        faq.add(Content(topic={"en": "Only a title"}), actor=903)
    assert incomplete.value.code == "incomplete"


def test_new_wordings_are_added_once() -> None:
    faq = book(MemoryKeyValueStore(), MemoryAuditLog(), Clock())
    taught = faq.add_wordings(
        "review", {"en": ["Review time?", "review time?"], "zh": ["审核要多久"]}, 900, gap=4
    )
    assert taught.questions["en"][-1] == "Review time?"
    assert taught.questions["en"].count("review time?") == 0
    assert taught.questions["zh"].count("审核要多久") == 1


def test_usage_is_counted_per_month_in_china_time() -> None:
    clock = Clock()
    faq = book(MemoryKeyValueStore(), MemoryAuditLog(), clock)
    faq.answered("review")
    faq.answered("review")
    faq.voted("review", helped=True)
    faq.voted("review", helped=False)
    assert faq.usage()["review"] == Usage(answered=2, helped=1, not_helped=1)
    clock.advance(days=1)  # 1 December in China
    assert faq.usage() == {}
    assert faq.usage(clock() - timedelta(days=1))["review"].answered == 2


def test_draft_rules() -> None:
    assert check_title("  可以开发票吗？ ") == "可以开发票吗？"
    for bad, code in (("a", "title_length"), ("x" * 61, "title_length"), ("a\nb", "title_lines")):
        with pytest.raises(Invalid) as refused:
            check_title(bad)
        assert refused.value.code == code
    assert check_answer(" <b>&</b> {{ x }} ") == "<b>&</b> {{ x }}"
    with pytest.raises(Invalid):
        check_answer("🙂" * 1501)  # 3002 UTF-16 units
    assert check_wordings("- pay by invoice\n• 1. VAT invoice\n\nPay by invoice", []) == [
        "pay by invoice",
        "VAT invoice",
    ]
    assert check_wordings("-", ["a question"]) == ["a question"]
    assert check_wordings("+ another one\n+ a question", ["a question"]) == [
        "a question",
        "another one",
    ]
    assert check_wordings("replaced", ["a question"]) == ["replaced"]
    cases: list[tuple[str, list[str], str]] = [
        ("-", [], "wordings_none"),
        ("怎么办", [], "wording_vague"),
        ("x" * 201, [], "wording_length"),
        ("\n".join(f"question {n}" for n in range(31)), [], "wordings_count"),
    ]
    for bad, current, code in cases:
        with pytest.raises(Invalid) as refused:
            check_wordings(bad, current)
        assert refused.value.code == code


def test_drafts_and_their_questions_are_stored() -> None:
    kv, clock = MemoryKeyValueStore(), Clock()
    drafts = Drafts(kv, clock)
    draft = drafts.start_new(900, gap=3, wordings={"en": ["pay by invoice"], "fr": ["x"]})
    assert draft.pending[0] == "topic.zh" and draft.content.questions["en"] == ["pay by invoice"]
    draft = drafts.fill(draft, "topic.zh", "可以开发票吗？")
    draft = drafts.ask(draft, "answer.en")
    assert draft.pending[:2] == ["answer.en", "topic.en"]
    # Another Drafts on the same store (a restart) has it all.
    again = Drafts(kv, clock)
    assert again.get(900) == draft
    for message_id in range(1, PROMPTS_KEPT + 5):
        again.asked(900, message_id, Prompt(draft=draft.id, part="topic.en"))
    assert again.prompt(900, 4) is None and again.prompt(900, PROMPTS_KEPT + 4) is not None
    assert again.prompt(901, PROMPTS_KEPT + 4) is None  # one agent's questions only
    again.discard(900)
    assert again.get(900) is None


def test_gaps_keep_no_personal_data_and_group_near_duplicates() -> None:
    assert scrub("my id 110101199003077777, mail me@x.cn  or 138 0013 8000") == (
        "my id …, mail … or …"
    )
    assert language_of("invoice 发票", "en") == "zh" and language_of("🙂", "en") == "en"
    assert near_duplicates("可以开发票吗", "能开发票吗")
    assert near_duplicates("Can I get an invoice?", "can i get invoices")
    assert near_duplicates("invoice for the platfrom fee", "invoice for the platform fee")
    assert not near_duplicates("refund the fee", "invoice for the fee")
    kv, clock = MemoryKeyValueStore(), Clock()
    gaps = GapLog(kv, clock)
    assert gaps.record("hello!", "en", "no_match") is None  # nothing to match on
    first = gaps.record("Can I get an invoice? call 13800138000", "en", "no_match")
    clock.advance(minutes=1)
    gaps.record("can i get invoices", "en", "not_helped", topic="review")
    other = gaps.record("退货怎么退", "zh", "no_match")
    assert first is not None and other is not None
    [top, second] = GapLog(kv, clock).open_gaps()
    assert (top.id, top.count, top.not_helped) == (first.id, 2, 1)
    assert top.text == "Can I get an invoice? call …" and "13800138000" not in str(kv._data)
    assert top.wordings() == {"en": ["Can I get an invoice? call …", "can i get invoices"]}
    assert second.id == other.id and second.language == "zh"
    linked = gaps.link(first.id, "pay_invoice", actor=900)
    assert linked is not None and linked.status is GapStatus.LINKED
    assert gaps.link(first.id, "pay_invoice", actor=900) is None
    assert [g.id for g in gaps.open_gaps()] == [other.id]
    # A question like a linked gap starts a new one: the link is history.
    again = gaps.record("Can I get an invoice?", "en", "no_match")
    assert again is not None and again.id not in (first.id, other.id)
    # Gaps nobody asked for half a year are forgotten.
    clock.advance(days=RETENTION.days + 1)
    assert GapLog(kv, clock).open_gaps() == [] and kv.items("faq.gaps") == {}


def test_a_question_is_matched_quickly_against_a_thousand_entries() -> None:
    shipped = [
        Topic(key, tuple(q for qs in by.values() for q in qs)) for key, by in SHIPPED.items()
    ]
    made = [
        Topic(f"t{n}", (f"question number {n} about topic{n} and widget{n % 37}", f"主题{n}问题"))
        for n in range(1000 - len(shipped))
    ]
    matcher = FaqMatcher(shipped + made)
    questions = ["How long does the review take?", "审核要多久", "widget12 topic5", "hello"] * 25
    times = []
    for question in questions:
        started = time.perf_counter()
        matcher.match(question)
        times.append(time.perf_counter() - started)
    assert statistics.median(times) < 0.005
    assert matcher.match("How long does the review take?").answer == "review"
    assert [m.topic for m in matcher.rank("topic5 widget12")][:1] == ["t5"]
