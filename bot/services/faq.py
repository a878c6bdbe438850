"""The FAQ: topics with the ways people ask about them, and a matcher for free-text questions.

Pure: no Telegram, no storage. The question variants live in ``templates/faq.toml`` (data,
one list per language, matched whatever the asker's language); the answers are templates
(``[faq.<topic>]`` in ``templates/<locale>/faq.toml``), so their escaping rules hold.

How a question is matched: both sides are normalised (NFKC, case, a light traditional →
simplified mapping, punctuation dropped) and cut into terms: English words without stop
words and with a light stemming, Chinese as character bigrams (there are no spaces to split
words on). Each term weighs by how specific it is to one topic (an inverse topic frequency:
"review" says more than "how"). A topic's score is mostly the share of the question's weight
its variants cover, plus a little of the share of its best variant the question covers (so a
short question prefers the topic whose variant says just that). Typos in English words are
forgiven with rapidfuzz.
"""

from __future__ import annotations

import math
import re
import tomllib
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from rapidfuzz import fuzz, process

#: A question is cut to this many characters before matching: a long text is not a FAQ
#: question, and matching must stay cheap whatever a user pastes.
MAX_QUESTION = 300

#: Scores are 0–1. A confident answer needs ``CONFIDENT`` and a lead of ``MARGIN`` over the
#: next topic (else two topics are equally likely and the user chooses); topics above
#: ``SUGGEST`` are offered as buttons when nothing is confident.
CONFIDENT = 0.6
MARGIN = 0.1
SUGGEST = 0.3

#: Weight of a question term no topic knows. An unknown English word is a real word we
#: cannot place (it counts fully against confidence); an unknown Chinese bigram usually
#: straddles two words ("色怎" in "角色怎么选"), so it counts little.
UNKNOWN_WORD = 1.0
UNKNOWN_BIGRAM = 0.35

#: How close (rapidfuzz ratio, 0–100) an unknown English word must be to a known one to
#: count as a typo of it; shorter words must match exactly.
TYPO_RATIO = 80
TYPO_MIN_LENGTH = 4

_STOP_WORDS_TEXT = """
    a about after again am an and any are as at be been before being but by can could
    did do does doing dont for from get got had has have having how i if im in into is it
    its just know let like me might more most much my need needs no not now of on one only
    or our please should so some than that the their them then there these they this those
    to too up us very want was we were what when where which while who why will with would
    you your yours hi hello thanks thank ok okay"""
_STOP_WORDS = frozenset(_STOP_WORDS_TEXT.split())

# Chinese bigrams that say nothing about a topic (question words, "I want", "one of").
_STOP_BIGRAMS_TEXT = """
    怎么 什么 如何 可以 能不 不能 我要 我想 我的 你们 我们 需要 是不 不是 是否 一个 这个
    那个 为什 么办 怎样 多少 要多 请问 有没 没有 可不 知道 一下 的话 了吗 么样 吗"""
_STOP_BIGRAMS = frozenset(_STOP_BIGRAMS_TEXT.split())

# Traditional characters people use for the words of this FAQ, mapped to simplified ones;
# a cheap table, not a converter: enough that "註冊審核要多久" finds the review topic.
_TRADITIONAL_PAIRS = (
    "註注 冊册 審审 覈核 郵邮 營营 業业 執执 開开 發发 選选 擇择 駁驳 時时 間间 幾几 個个 "
    "聯联 繫系 係系 號号 變变 帳账 賬账 戶户 應应 該该 麼么 麽么 為为 請请 問问 題题 資资 "
    "質质 範范 圍围 經经 過过 沒没 門门 員员 務务 碼码 驗验 證证 與与 們们 這这 裡里 裏里 "
    "嗎吗 還还 讓让 對对 長长 復复 據据 寫写 錯错 誤误 關关 閉闭 單单 電电 話话 換换 綁绑 "
    "實实 權权 際际 會会 當当 說说 處处 狀状 態态 啟启 兩两 種种 類类 夥伙 專专 團团 賺赚 "
    "銷销 術术 產产 訂订 詢询 稱称 樣样 後后 進进 準准 備备 須须 讀读 協协 議议 擁拥 錄录 "
    "轉转 給给 費费 辦办 則则 級级 體体 網网 貨货 購购 買买 裝装 飾饰 達达 夠够 師师 "
    "傳传 檔档 圖图 絕绝 補补 齊齐 認认 錢钱"
)
_TRADITIONAL = str.maketrans({pair[0]: pair[1] for pair in _TRADITIONAL_PAIRS.split()})

# Spellings that mean the same word.
_SYNONYMS = {"licence": "license", "mail": "email"}

_CJK = r"\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_RUNS = re.compile(rf"[{_CJK}]+|[a-z0-9]+")
_JOINERS = re.compile(r"(?<=[a-z0-9])[-'’](?=[a-z0-9])")
_SUFFIXES = ("ations", "ation", "ions", "ion", "ings", "ing", "ies", "ed", "s")


@dataclass(frozen=True)
class Topic:
    """One FAQ entry: its key (``faq.<key>.title`` / ``.answer``) and how people ask it."""

    key: str
    questions: tuple[str, ...]


@dataclass(frozen=True)
class Match:
    """A topic and how well a question fits it (0–1)."""

    topic: str
    score: float


@dataclass(frozen=True)
class Verdict:
    """What a question found: a confident answer, else the closest topics to suggest."""

    answer: str | None
    suggestions: tuple[str, ...] = ()


def load_topics(path: Path) -> list[Topic]:
    """Topics from the question file, in file order (which is the order they are shown)."""
    with path.open("rb") as handle:
        data = tomllib.load(handle)
    topics = []
    for key, table in data.items():
        if not isinstance(table, dict):
            raise ValueError(f"{path}: [{key}] must be a table of question lists")
        questions = [str(q) for variants in table.values() for q in variants]
        if not questions:
            raise ValueError(f"{path}: [{key}] has no questions")
        topics.append(Topic(key, tuple(questions)))
    return topics


def normalize(text: str) -> str:
    """Lower-case, width- and script-folded text with word joiners removed."""
    text = unicodedata.normalize("NFKC", text).casefold().translate(_TRADITIONAL)
    return _JOINERS.sub("", text)


def _stem(word: str) -> str:
    if not word.endswith("ss"):
        for suffix in _SUFFIXES:
            if word.endswith(suffix) and len(word) - len(suffix) >= 4:
                word = word[: -len(suffix)] + ("y" if suffix == "ies" else "")
                break
    return _SYNONYMS.get(word, word)


def terms(text: str) -> list[str]:
    """The terms of a text: stemmed English words without stop words, Chinese bigrams (a
    lone Chinese character stands for itself)."""
    found: list[str] = []
    for run in _RUNS.findall(normalize(text)[:MAX_QUESTION]):
        if run[0].isascii():
            if run not in _STOP_WORDS and not run.isdigit():
                found.append(_stem(run))
        elif len(run) == 1:
            found.append(run)
        else:
            pairs = (run[i : i + 2] for i in range(len(run) - 1))
            found.extend(pair for pair in pairs if pair not in _STOP_BIGRAMS)
    return found


def _is_word(term: str) -> bool:
    return term.isascii()


class FaqMatcher:
    """Finds the FAQ topic a free-text question is about; built once from the topics."""

    def __init__(self, topics: Sequence[Topic]) -> None:
        self.topics = [t.key for t in topics]
        self._variants: dict[str, list[list[str]]] = {
            t.key: [terms(q) for q in t.questions] for t in topics
        }
        self._vocabulary: dict[str, set[str]] = {
            key: {term for variant in variants for term in variant}
            for key, variants in self._variants.items()
        }
        count = max(len(self.topics), 1)
        every = set().union(*self._vocabulary.values()) if self._vocabulary else set()
        self._weight = {
            term: math.log(1 + count / sum(term in v for v in self._vocabulary.values()))
            for term in every
        }
        self._words = sorted(t for t in every if _is_word(t))

    def _known(self, term: str) -> tuple[str | None, float]:
        """The known term a question term stands for, and how surely (typos forgiven)."""
        if term in self._weight:
            return term, 1.0
        if _is_word(term) and len(term) >= TYPO_MIN_LENGTH and self._words:
            best = process.extractOne(term, self._words, scorer=fuzz.ratio, score_cutoff=TYPO_RATIO)
            if best is not None:
                return str(best[0]), float(best[1]) / 100
        return None, 0.0

    def rank(self, question: str) -> list[Match]:
        """Every topic with its score for ``question``, best first (empty: no usable terms)."""
        asked = list(dict.fromkeys(terms(question)))
        if not asked:
            return []
        resolved = [(term, *self._known(term)) for term in asked]
        total = sum(
            self._weight[known] if known is not None else self._unknown_weight(term)
            for term, known, _ in resolved
        )
        matches = []
        for key in self.topics:
            vocabulary = self._vocabulary[key]
            hit = {k: sure for _, k, sure in resolved if k is not None and k in vocabulary}
            covered = sum(self._weight[k] * sure for k, sure in hit.items())
            best_variant = max(
                (self._variant_share(variant, hit) for variant in self._variants[key]),
                default=0.0,
            )
            score = 0.75 * covered / total + 0.25 * best_variant if total else 0.0
            matches.append(Match(key, round(score, 4)))
        return sorted(matches, key=lambda m: -m.score)

    def _variant_share(self, variant: Iterable[str], hit: dict[str, float]) -> float:
        """How much of one variant's weight the question covers."""
        unique = set(variant)
        whole = sum(self._weight[t] for t in unique)
        return sum(self._weight[t] * hit[t] for t in unique if t in hit) / whole if whole else 0.0

    @staticmethod
    def _unknown_weight(term: str) -> float:
        return UNKNOWN_WORD if _is_word(term) else UNKNOWN_BIGRAM

    def match(self, question: str) -> Verdict:
        """A confident topic for ``question``, else up to three topics worth suggesting."""
        ranked = self.rank(question)
        if not ranked:
            return Verdict(None)
        best = ranked[0]
        runner_up = ranked[1].score if len(ranked) > 1 else 0.0
        if best.score >= CONFIDENT and best.score - runner_up >= MARGIN:
            return Verdict(best.topic)
        return Verdict(None, tuple(m.topic for m in ranked[:3] if m.score >= SUGGEST))
