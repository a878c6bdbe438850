"""The FAQ: topics with the ways people ask about them, and a matcher for free-text questions.

Pure: no Telegram, no storage. The question variants live in ``templates/faq.toml`` (data,
one list per language, matched whatever the asker's language); the answers are templates
(``[faq.<topic>]`` in ``templates/<locale>/faq.toml``), so their escaping rules hold.

How a question is matched: both sides are normalised (NFKC, case, traditional →
simplified characters by OpenCC, the colloquial forms of ``faq_synonyms.toml`` replaced by the
FAQ's words, punctuation dropped) and cut into terms: English words without stop words and
with a light stemming, Chinese as character bigrams (there are no spaces to split words on).
Each term weighs by how specific it is to one topic (an inverse topic frequency: "review"
says more than "how"). A topic's score is mostly the share of the question's weight its
variants cover, plus a little of the share of its best variant the question covers (so a
short question prefers the topic whose variant says just that). An entry's titles count as
wordings; its answers are searched too, a term only they use counting less. Words no entry
knows count against every entry, so a question about something else gets no answer; unknown
Chinese counts by the characters no known bigram covers, not by bigrams that straddle two
words. What the FAQ does not answer (orders, refunds, the open API, the service market,
``faq_elsewhere.toml``) is one more entry, never shown: a question closer to it than to the
real entries gets no answer. Typos are forgiven: English ones with rapidfuzz, Chinese ones
of a pinyin input method by how the characters sound (``faq_pinyin``). The thresholds and weights
(``Tuning``) are chosen by cross-validation on the tuning set
(``tests/data/faq_questions.toml``, ``python -m bench.faq_tune``), never on the evaluation
set.
"""

from __future__ import annotations

import math
import re
import threading
import tomllib
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Iterator, Sequence, Set
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import opencc
from rapidfuzz import fuzz, process

from bot.services import faq_pinyin

#: A question is cut to this many characters before matching: a long text is not a FAQ
#: question, and matching must stay cheap whatever a user pastes.
MAX_QUESTION = 300


@dataclass(frozen=True)
class Tuning:
    """The matcher's numbers, chosen together by cross-validation on the tuning set
    (``python -m bench.faq_tune``), never on the evaluation set.

    Scores are 0–1. A confident answer needs ``confident`` and a lead of ``margin`` over the
    next topic (else two topics are equally likely and the user chooses); topics above
    ``suggest`` are offered as buttons when nothing is confident. A question with Chinese in
    it has its own pair, ``confident_zh`` and ``margin_zh``: its terms are bigrams, whose
    scores spread differently from those of English words.

    ``context_share``: how much a question term counts for a topic when only the topic's
    answer uses it (its wordings and titles count fully): an answer explains, it is not how
    people ask.

    ``unknown_word`` / ``unknown_chinese``: the weight of a question word no topic knows,
    as a share of the weight of a term only one topic uses: the question's own words count
    against an answer ("定价", "上架", "shop"), whatever the size of the FAQ. Chinese has no
    spaces, so its unknown words are counted by length: every two characters of the question
    that no known bigram covers count as one word ("原来注册的同事离职了" leaves "原来",
    "同事", "离职" uncovered, not the bigrams "来注" or "事离" that straddle two words)."""

    confident: float = 0.55
    margin: float = 0.05
    confident_zh: float = 0.525
    margin_zh: float = 0.1
    suggest: float = 0.3
    context_share: float = 0.7
    unknown_word: float = 1.4
    unknown_chinese: float = 1.3
    known_char: float = 1.0
    homophone: float = 0.5


#: The numbers the bot uses.
TUNING = Tuning()

#: How close (rapidfuzz ratio, 0–100) an unknown English word must be to a known one to
#: count as a typo of it; shorter words (on either side) must match exactly.
TYPO_RATIO = 80
TYPO_MIN_LENGTH = 4

_STOP_WORDS_TEXT = """
    a about after again am an and any are as at be been before being but by can could
    did do does doing dont for from get got had has have having how i if im in into is it
    its just know let like me might more most much my need needs no not now of on one only
    or our please should so some than that the their them then there these they this those
    to too up us very want was we were what when where which while who why will with would
    you your yours hi hello thanks thank ok okay pls plz u ur r lol"""
_STOP_WORDS = frozenset(_STOP_WORDS_TEXT.split())

# Chinese bigrams that say nothing about a topic (question words, "I want", "one of").
_STOP_BIGRAMS_TEXT = """
    怎么 什么 如何 可以 能不 不能 我要 我想 我的 你们 我们 需要 是不 不是 是否 一个 这个
    那个 为什 么办 怎样 多少 要多 请问 有没 没有 可不 知道 一下 的话 了吗 么样 吗
    你好 您好 谢谢 好的 收到"""
_STOP_BIGRAMS = frozenset(_STOP_BIGRAMS_TEXT.split())
# Characters that are words of their own and say nothing of a topic (pronouns, particles,
# "is", "can"): an unknown one does not count against an answer.
_STOP_CHARS = frozenset(
    "我你您他她它们的了吗呢吧啊呀嘛是在有就也都还要能会把被给跟和与让个这那么怎什哪谁该想请问下"
)


# Traditional characters folded to simplified ones by OpenCC's maintained tables (characters
# and phrases, "註冊審核要幾天" → "注册审核要几天"), one converter per thread.
class _Simplifier(threading.local):
    def __init__(self) -> None:
        self.convert = opencc.OpenCC("t2s").convert


_SIMPLIFIER = _Simplifier()

#: Words people use for the FAQ's words (``faq_synonyms.toml``): Chinese text replaced
#: before it is cut into bigrams, English words replaced before stemming.
SYNONYMS_FILE = Path(__file__).with_name("faq_synonyms.toml")


def _load_synonyms(path: Path) -> tuple[re.Pattern[str] | None, dict[str, str], dict[str, str]]:
    with path.open("rb") as handle:
        data = tomllib.load(handle)
    chinese = {str(k): str(v) for k, v in data.get("zh", {}).items()}
    english = {str(k): str(v) for k, v in data.get("en", {}).items()}
    # Longest first, so "没通过" is replaced before "没过" could be.
    alternatives = sorted(chinese, key=len, reverse=True)
    pattern = re.compile("|".join(map(re.escape, alternatives))) if alternatives else None
    return pattern, chinese, english


_CHINESE_SYNONYMS, _CHINESE_FORMS, _SYNONYMS = _load_synonyms(SYNONYMS_FILE)

#: What the FAQ does not answer, as people name it: matched like one more entry whose key
#: no real entry can have, and never answered with.
ELSEWHERE_FILE = Path(__file__).with_name("faq_elsewhere.toml")
ELSEWHERE = "(elsewhere)"


@lru_cache(maxsize=1)
def elsewhere_wordings(path: Path = ELSEWHERE_FILE) -> tuple[str, ...]:
    """The subjects of ``faq_elsewhere.toml``, both languages."""
    with path.open("rb") as handle:
        data = tomllib.load(handle)
    return tuple(str(w) for language in data.values() for w in language)


_CJK = r"\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_RUNS = re.compile(rf"[{_CJK}]+|[a-z0-9]+")
_HAS_CJK = re.compile(rf"[{_CJK}]")
_JOINERS = re.compile(r"(?<=[a-z0-9])[-'’](?=[a-z0-9])")
_SUFFIXES = ("ations", "ation", "ions", "ion", "ings", "ing", "ies", "ed", "s")

# A bigram starting with the tail of a question word (怎么, 什么, 那么, 多么) or ending with
# the head of one (怎么, 什么, 为什么) straddles two words: see ``_straddles``.
_QUESTION_TAILS = frozenset("么")
_QUESTION_HEADS = frozenset("怎什")
# Particles and 的 are words of their own: any bigram holding one straddles.
_PARTICLES = frozenset("的吗呢吧啊")

#: Typo lookups per question (the first unknown words), and how many looked-up words each
#: matcher remembers: both bound the cost of a long or hostile text.
_TYPO_LOOKUPS = 8
_TYPO_MEMORY = 4096
#: From this length on, a word may hold two typos and still pass ``TYPO_RATIO``.
_LONG_WORD = 10


@dataclass(frozen=True)
class Topic:
    """One FAQ entry: its key, how people ask it (every wording and title, both languages)
    and what it says (its answers: searched too, but a term only they use counts less)."""

    key: str
    questions: tuple[str, ...]
    context: tuple[str, ...] = ()


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


def load_questions(path: Path) -> dict[str, dict[str, list[str]]]:
    """The question file as topic -> language -> wordings, in file order."""
    with path.open("rb") as handle:
        data = tomllib.load(handle)
    found: dict[str, dict[str, list[str]]] = {}
    for key, table in data.items():
        if not isinstance(table, dict):
            raise ValueError(f"{path}: [{key}] must be a table of question lists")
        found[key] = {str(lang): [str(q) for q in variants] for lang, variants in table.items()}
        if not any(found[key].values()):
            raise ValueError(f"{path}: [{key}] has no questions")
    return found


_MARKUP = re.compile(r"<[^>]*>|\{\{.*?\}\}|\{%.*?%\}", re.DOTALL)


def topic(
    key: str, wordings: Sequence[str], titles: Sequence[str], answers: Sequence[str]
) -> Topic:
    """An entry as the matcher sees it: a title is one more way of asking; an answer (its
    markup and template code left out) is what the entry talks about."""
    return Topic(
        key,
        (*wordings, *(t for t in titles if t)),
        tuple(_MARKUP.sub(" ", a) for a in answers if a),
    )


def load_topics(path: Path, locales: Sequence[str] = ("zh", "en")) -> list[Topic]:
    """Topics from the question file, in file order (which is the order they are shown),
    with the titles and answers of ``<locale>/faq.toml`` beside it where they exist."""
    texts: dict[str, dict[str, dict[str, str]]] = {}
    for locale in locales:
        file = path.parent / locale / "faq.toml"
        if file.exists():
            with file.open("rb") as handle:
                texts[locale] = tomllib.load(handle).get("faq", {})
    found = []
    for key, by_language in load_questions(path).items():
        shipped = [texts[locale].get(key, {}) for locale in texts]
        found.append(
            topic(
                key,
                [q for variants in by_language.values() for q in variants],
                [str(part.get("title", "")) for part in shipped],
                [str(part.get("answer", "")) for part in shipped],
            )
        )
    return found


def normalize(text: str) -> str:
    """Lower-case, width- and script-folded text with word joiners removed."""
    text = _SIMPLIFIER.convert(unicodedata.normalize("NFKC", text).casefold())
    if _CHINESE_SYNONYMS is not None:
        text = _CHINESE_SYNONYMS.sub(lambda found: _CHINESE_FORMS[found.group()], text)
    return _JOINERS.sub("", text)


def _stem(word: str) -> str:
    word = _SYNONYMS.get(word, word)
    if not word.endswith("ss"):
        for suffix in _SUFFIXES:
            if word.endswith(suffix) and len(word) - len(suffix) >= 4:
                word = word[: -len(suffix)] + ("y" if suffix == "ies" else "")
                break
    return _SYNONYMS.get(word, word)


def _straddles(pair: str) -> bool:
    """A bigram that spans the end of a question word and the next word ("么改" in "怎么改",
    "色怎" in "角色怎么"): it belongs to no word, so it only adds noise."""
    return (
        pair[0] in _QUESTION_TAILS or pair[1] in _QUESTION_HEADS or not _PARTICLES.isdisjoint(pair)
    )


def terms(text: str, limit: int | None = MAX_QUESTION) -> list[str]:
    """The terms of a text (its first ``limit`` characters): stemmed English words without
    stop words, Chinese bigrams (a lone Chinese character stands for itself)."""
    return list(_cut(_runs(text, limit)))


def _runs(text: str, limit: int | None) -> list[str]:
    """The runs of Chinese characters and of English letters or digits of a text."""
    return _RUNS.findall(normalize(text)[:limit])


def _cut(runs: Sequence[str]) -> Iterator[str]:
    for run in runs:
        if run[0].isascii():
            # A stop word's inflection ("what's" → "whats" → "what") is one too.
            if run not in _STOP_WORDS and not run.isdigit() and _stem(run) not in _STOP_WORDS:
                yield _stem(run)
        elif len(run) == 1:
            if run not in _PARTICLES:
                yield run
        else:
            pairs = (run[i : i + 2] for i in range(len(run) - 1))
            yield from (p for p in pairs if p not in _STOP_BIGRAMS and not _straddles(p))


@lru_cache(maxsize=1 << 16)
def _wording_terms(wording: str) -> tuple[str, ...]:
    """The terms of a stored wording, remembered: when an agent changes one entry the
    matcher is rebuilt, and only that entry's wordings are cut into terms again."""
    return tuple(terms(wording, limit=None))


def _deletions(word: str) -> set[str]:
    """The word and every way of leaving one letter out of it."""
    return {word} | {word[:i] + word[i + 1 :] for i in range(len(word))}


def _sound_keys(pair: str) -> Iterator[tuple[str, str, int]]:
    """A bigram's keys among its homophones that keep one of its characters: the kept
    character, a reading of the other and which one was kept."""
    for reading in faq_pinyin.readings(pair[1]):
        yield pair[0], reading, 0
    for reading in faq_pinyin.readings(pair[0]):
        yield pair[1], reading, 1


def _is_word(term: str) -> bool:
    return term.isascii()


class FaqMatcher:
    """Finds the FAQ topic a free-text question is about; built once from the topics.

    Everything that does not depend on the question is computed here: term weights, each
    wording's total weight, and two indexes, term -> topics using it and term -> wordings
    using it. A question then adds its terms' weights along those lists, so its cost grows
    with how many wordings share its terms, not with the size of the FAQ: well under a
    millisecond for most questions with a thousand entries (``bench/faq.py``)."""

    def __init__(
        self,
        topics: Sequence[Topic],
        tuning: Tuning = TUNING,
        elsewhere: Sequence[str] | None = None,
    ) -> None:
        self.tuning = tuning
        self.topics = [t.key for t in topics]
        wanted = elsewhere_wordings() if elsewhere is None else tuple(elsewhere)
        if wanted:
            topics = [*topics, Topic(ELSEWHERE, tuple(wanted))]
        self._keys = [t.key for t in topics]
        wordings = [[_wording_terms(q) for q in t.questions] for t in topics]
        vocabularies = [
            frozenset(term for wording in variants for term in wording) for variants in wordings
        ]
        contexts = [
            frozenset(term for text in t.context for term in _wording_terms(text)) - vocabulary
            for t, vocabulary in zip(topics, vocabularies, strict=True)
        ]
        # How many topics use each term: one pass, not one scan of every topic per term.
        spread = Counter(term for vocabulary in (*vocabularies, *contexts) for term in vocabulary)
        count = max(len(self._keys), 1)
        self._weight = {term: math.log(1 + count / n) for term, n in spread.items()}
        # An unknown term weighs like a term of a single topic, scaled: it is as specific
        # as a word can be, just to something the FAQ does not cover.
        self._rarest = math.log(1 + count)
        self._chars = frozenset(c for term in spread if not _is_word(term) for c in term)
        # term -> (topic index, how much of the term's weight it covers there)
        self._postings: dict[str, list[tuple[int, float]]] = {}
        for index, vocabulary in enumerate(vocabularies):
            for term in vocabulary:
                self._postings.setdefault(term, []).append((index, 1.0))
        for index, vocabulary in enumerate(contexts):
            for term in vocabulary:
                self._postings.setdefault(term, []).append((index, tuning.context_share))
        # Terms only what the FAQ does not answer uses: they still count as unknown words
        # against every real entry, and for ``ELSEWHERE``.
        outside = len(self.topics)
        self._outside = frozenset(
            term for term, found in self._postings.items() if {i for i, _ in found} == {outside}
        )
        self._variant_topic: list[int] = []  # wording -> its topic
        self._variant_weight: list[float] = []  # wording -> the weight of its terms
        self._variant_postings: dict[str, list[int]] = {}  # term -> wordings using it
        for index, variants in enumerate(wordings):
            for wording in variants:
                unique = set(wording)
                if not unique:
                    continue
                variant = len(self._variant_topic)
                self._variant_topic.append(index)
                self._variant_weight.append(sum(self._weight[t] for t in unique))
                for term in unique:
                    self._variant_postings.setdefault(term, []).append(variant)
        # Typo candidates: known words by each of their one-letter deletions (a typo of one
        # letter, a letter more or less, or two letters swapped leaves a deletion in common),
        # and by length for long words, where two typos still pass ``TYPO_RATIO``. Short
        # words are matched exactly on both sides: "town" is no typo of "own".
        self._near: dict[str, list[str]] = {}
        self._by_length: dict[int, list[str]] = {}
        for word in sorted(t for t in spread if _is_word(t) and len(t) >= TYPO_MIN_LENGTH):
            for shortened in _deletions(word):
                self._near.setdefault(shortened, []).append(word)
            self._by_length.setdefault(len(word), []).append(word)
        self._typos: dict[str, tuple[str | None, float]] = {}
        # For typos of a pinyin input method: the known Chinese bigrams by one of their
        # characters and a reading of the other ("审", "he" and "shen", "核" for "审核").
        self._sounds: dict[tuple[str, str, int], set[str]] = defaultdict(set)
        for term in self._weight:
            if len(term) == 2 and not _is_word(term):
                for key in _sound_keys(term):
                    self._sounds[key].add(term)
        # Characters the FAQ's wordings use alone ("选" in "角色怎么选"): see ``_uncovered``.
        self._lone = frozenset(
            char
            for t in topics
            if t.key != ELSEWHERE
            for q in t.questions
            for char in self._loose(_runs(q, None), frozenset())
        )

    def _known(self, term: str) -> tuple[str | None, float]:
        """The known term a question term stands for, and how surely (typos forgiven)."""
        if term in self._weight:
            return term, 1.0
        chinese = not _is_word(term)
        if (chinese and len(term) != 2) or (not chinese and len(term) < TYPO_MIN_LENGTH):
            return None, 0.0
        if term in self._typos:
            return self._typos[term]
        found = self._homophone(term) if chinese else self._misspelt(term)
        if len(self._typos) >= _TYPO_MEMORY:
            self._typos.clear()  # a bounded memory: whatever users type, it cannot grow
        self._typos[term] = found
        return found

    def _misspelt(self, word: str) -> tuple[str | None, float]:
        """The known English word ``word`` is a typo of, by rapidfuzz's ratio."""
        candidates = {known for v in _deletions(word) for known in self._near.get(v, ())}
        if not candidates and len(word) >= _LONG_WORD:
            size = len(word)
            candidates = {w for n in range(size - 2, size + 3) for w in self._by_length.get(n, ())}
        best = process.extractOne(
            word, sorted(candidates), scorer=fuzz.ratio, score_cutoff=TYPO_RATIO
        )
        return (str(best[0]), float(best[1]) / 100) if best is not None else (None, 0.0)

    def _homophone(self, pair: str) -> tuple[str | None, float]:
        """The known bigram that keeps one character of ``pair`` and sounds like it, when
        there is just one: a pinyin input method's typo ("审合" for "审核"), trusted
        ``tuning.homophone``."""
        found = {known for key in _sound_keys(pair) for known in self._sounds.get(key, ())}
        found.discard(pair)
        if len(found) != 1:
            return None, 0.0
        return found.pop(), self.tuning.homophone

    def rank(self, question: str) -> list[Match]:
        """The topics sharing a term with ``question``, with their scores, best first (every
        other topic scores 0); empty when the question has no usable terms.

        A topic's score is 3/4 the share of the question's weight its wordings cover, plus
        1/4 the share of its best wording the question covers."""
        return self.scored(question)[0]

    def scored(self, question: str) -> tuple[list[Match], float]:
        """``rank``, and the score of what the FAQ does not answer (``ELSEWHERE``)."""
        runs = _runs(question, MAX_QUESTION)
        asked = list(dict.fromkeys(_cut(runs)))
        if not asked:
            return [], 0.0
        total = 0.0
        hits: dict[str, float] = {}
        typos: set[str] = set()  # question terms that are typos of known ones
        lookups = 0
        for term in asked:
            known: str | None = None
            sure = 0.0
            if term in self._weight:
                known, sure = term, 1.0
            elif lookups < _TYPO_LOOKUPS:
                # Typo lookups cost the most; a long paste gets them for its first words only.
                lookups += 1
                known, sure = self._known(term)
            if known is None:
                if _is_word(term):  # unknown Chinese is counted by ``_uncovered``
                    total += self._rarest * self.tuning.unknown_word
            else:
                if known != term:
                    typos.add(term)
                unknown = known in self._outside and _is_word(known)
                total += self._weight[known] * (self.tuning.unknown_word if unknown else 1.0)
                hits[known] = max(hits.get(known, 0.0), sure)
        total += self._uncovered(runs, typos)
        covered: dict[int, float] = defaultdict(float)
        shares: dict[int, float] = defaultdict(float)
        for known, sure in hits.items():
            gained = self._weight[known] * sure
            for topic, share in self._postings[known]:
                covered[topic] += gained * share
            for variant in self._variant_postings.get(known, ()):
                shares[variant] += gained
        best_variant: dict[int, float] = defaultdict(float)
        for variant, share in shares.items():
            topic = self._variant_topic[variant]
            ratio = share / self._variant_weight[variant]
            if ratio > best_variant[topic]:
                best_variant[topic] = ratio
        ranked = sorted(
            (round(0.75 * c / total + 0.25 * best_variant[topic], 4), topic)
            for topic, c in covered.items()
        )
        # Best first; equal scores keep the FAQ's order.
        ranked.sort(key=lambda pair: (-pair[0], pair[1]))
        matches = [Match(self._keys[topic], score) for score, topic in ranked]
        elsewhere = next((m.score for m in matches if m.topic == ELSEWHERE), 0.0)
        return [m for m in matches if m.topic != ELSEWHERE], elsewhere

    def _uncovered(self, runs: Sequence[str], matched: Set[str]) -> float:
        """The weight of the Chinese the FAQ does not know: half an unknown word for each
        character of a run that no known bigram (nor question word) covers, so an unknown
        stretch counts by its length, however many words it straddles. A character that the
        FAQ's words use counts ``known_char`` of that: it is most likely a one-character
        form of one of them ("改" of "修改"); one that the FAQ's wordings use alone ("选" in
        "角色怎么选") counts nothing."""
        uncovered = 0.0
        for char in self._loose(runs, matched):
            if char not in self._lone:
                uncovered += self.tuning.known_char if char in self._chars else 1.0
        return self._rarest * self.tuning.unknown_chinese * uncovered / 2

    def _loose(self, runs: Sequence[str], matched: Set[str]) -> Iterator[str]:
        """The characters of the Chinese runs that no known bigram covers (nor a bigram of
        ``matched``, typos of known ones, nor a question word), less the characters that say
        nothing of a topic."""
        for run in runs:
            if run[0].isascii():
                continue
            covered = [False] * len(run)
            for i in range(len(run) - 1):
                pair = run[i : i + 2]
                known = pair in self._weight and pair not in self._outside
                if known or pair in matched or pair in _STOP_BIGRAMS:
                    covered[i] = covered[i + 1] = True
            for char, done in zip(run, covered, strict=True):
                if not done and char not in _STOP_CHARS:
                    yield char

    def match(self, question: str) -> Verdict:
        """A confident topic for ``question``, else up to three topics worth suggesting."""
        ranked, elsewhere = self.scored(question)
        return decide(ranked, self.tuning, has_chinese(question), elsewhere)


def has_chinese(text: str) -> bool:
    """Whether a text has a Chinese character (its question is decided with the ``_zh``
    thresholds)."""
    return _HAS_CJK.search(text) is not None


def decide(
    ranked: Sequence[Match],
    tuning: Tuning = TUNING,
    chinese: bool = False,
    elsewhere: float = 0.0,
) -> Verdict:
    """What ranked topics tell a user: the best one at once when it is confident and well
    ahead of the next and of what the FAQ does not answer (``elsewhere``), else up to three
    topics worth suggesting (none: support is offered; none either when the question is
    closest to what the FAQ does not answer)."""
    if not ranked or elsewhere >= ranked[0].score:
        return Verdict(None)
    best = ranked[0]
    runner_up = max(ranked[1].score if len(ranked) > 1 else 0.0, elsewhere)
    confident, margin = (
        (tuning.confident_zh, tuning.margin_zh) if chinese else (tuning.confident, tuning.margin)
    )
    if best.score >= confident and best.score - runner_up >= margin:
        return Verdict(best.topic)
    return Verdict(None, tuple(m.topic for m in ranked[:3] if m.score >= tuning.suggest))
