"""The FAQ matcher's numbers (``bot.services.faq.Tuning``), chosen by cross-validation on the
tuning set alone: the evaluation set is not read here.

Run ``python -m bench.faq_tune [--folds 5]``.

The tuning set (``tests/data/faq_questions.toml``) is cut into folds by a hash of each
question's text (stable whatever the order of the file). For each fold, every combination
of the grid below is scored on the other folds and the best one is applied to the fold
left out; the out-of-fold figures, added up over the folds, say how the choice does on
questions it was not chosen on. Then the grid is scored on the whole set: that combination
is the one to ship, printed beside the shipped one.

A combination's score: per language, the share answered at once with the right entry
(plus half the top-1 share), as long as the share answered with a wrong entry stays within
``WRONG_LIMIT`` and the share of off-topic questions answered within ``OFF_TOPIC_LIMIT``;
past those, each point above costs ``OVER_COST`` points. The two languages' scores are
added. The limits are below issue 15's (3 % and 5 %), leaving room for new questions.
"""

from __future__ import annotations

import argparse
import itertools
import sys
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

import numpy as np

from bench.faq import Question, load_labelled
from bot.services.faq import TUNING, FaqMatcher, Topic, Tuning, has_chinese, load_topics
from bot.texts import TEMPLATES_DIR

WRONG_LIMIT = 0.02
OFF_TOPIC_LIMIT = 0.02
OVER_COST = 10.0
TOP1_GAIN = 0.5

#: The weights that change the ranking (each combination ranks every question again) ...
RANKING_GRID = {
    "unknown_word": (0.5, 0.7, 1.0, 1.4),
    "unknown_chinese": (1.3, 1.6, 2.0, 2.5, 3.2),
    "context_share": (0.5, 0.7),
    "known_char": (0.5, 1.0),
    "homophone": (0.5, 0.8),
}
#: ... and the thresholds that only change the decision on a ranking.
CONFIDENT = tuple(round(0.3 + 0.025 * i, 3) for i in range(17))
MARGIN = tuple(round(0.025 * i, 3) for i in range(1, 13))  # a tie is never answered


@dataclass(frozen=True)
class Ranked:
    """What the decision needs of one question's ranking."""

    question: Question
    best: str | None
    score: float
    lead: float  # over the next topic


@dataclass
class Counts:
    """Figures of one language."""

    on: int = 0
    top1: int = 0
    right: int = 0
    wrong: int = 0
    off: int = 0
    off_answered: int = 0

    def add(self, other: Counts) -> None:
        """Add another group's counts to these."""
        for name in vars(self):
            setattr(self, name, getattr(self, name) + getattr(other, name))

    def rates(self) -> tuple[float, float, float, float]:
        """top-1, right, wrong, off-topic answered, as shares."""
        on = self.on or 1
        return self.top1 / on, self.right / on, self.wrong / on, self.off_answered / (self.off or 1)


def _over(share: np.ndarray, limit: float) -> np.ndarray:
    """What a share above its limit costs."""
    return OVER_COST * np.maximum(share - limit, 0.0)


def fold_of(question: Question, folds: int) -> int:
    """The fold of a question: a hash of its text, so it does not move when others do."""
    return zlib.crc32(question.text.encode()) % folds


def ranked(matcher: FaqMatcher, questions: Iterable[Question]) -> list[Ranked]:
    """Each question's best topic, its score and its lead."""
    found = []
    for q in questions:
        ranking, elsewhere = matcher.scored(q.text)
        best = ranking[0] if ranking else None
        runner_up = max(ranking[1].score if len(ranking) > 1 else 0.0, elsewhere)
        lead = best.score - runner_up if best else 0.0
        found.append(Ranked(q, best.topic if best else None, best.score if best else 0.0, lead))
    return found


def counts(rows: Iterable[Ranked], tuning: Tuning) -> dict[str, Counts]:
    """Per-language figures of the rows under these thresholds."""
    by_language: dict[str, Counts] = {}
    for row in rows:
        c = by_language.setdefault(row.question.lang, Counts())
        chinese = has_chinese(row.question.text)
        confident = tuning.confident_zh if chinese else tuning.confident
        margin = tuning.margin_zh if chinese else tuning.margin
        answered = row.best is not None and row.score >= confident and row.lead >= margin
        if row.question.topic:
            c.on += 1
            c.top1 += row.best == row.question.topic
            c.right += answered and row.best == row.question.topic
            c.wrong += answered and row.best != row.question.topic
        else:
            c.off += 1
            c.off_answered += answered
    return by_language


def rankings(topics: Sequence[Topic], questions: list[Question]) -> dict[Tuning, list[Ranked]]:
    """Every question ranked under every combination of ``RANKING_GRID``."""
    names = list(RANKING_GRID)
    found = {}
    for values in itertools.product(*RANKING_GRID.values()):
        tuning = replace(TUNING, **dict(zip(names, values, strict=True)))
        found[tuning] = ranked(FaqMatcher(topics, tuning), questions)
    return found


def best(ranks: dict[Tuning, list[Ranked]], keep: set[int]) -> tuple[Tuning, float]:
    """The combination that scores best on the questions whose index is in ``keep``: the
    score of every pair of thresholds at once, as arrays (threshold x question). Questions
    with Chinese and without have their own pair of thresholds, chosen each on its own
    questions (as if they were the two languages)."""
    confident = np.array(CONFIDENT)[:, None, None]
    margin = np.array(MARGIN)[None, :, None]
    choice, top = TUNING, float("-inf")
    for tuning, rows in ranks.items():
        subset = [row for i, row in enumerate(rows) if i in keep]
        total, chosen = 0.0, {}
        for chinese in (True, False):
            mine = [row for row in subset if has_chinese(row.question.text) == chinese]
            score = np.array([row.score for row in mine])[None, None, :]
            lead = np.array([row.lead for row in mine])[None, None, :]
            on = np.array([bool(row.question.topic) for row in mine])
            hit = np.array([row.best == row.question.topic for row in mine]) & on
            answered = (
                (score >= confident)
                & (lead >= margin)
                & np.array([row.best is not None for row in mine])
            )
            n_on, n_off = max(int(on.sum()), 1), max(int((~on).sum()), 1)
            grid = (
                (answered & hit).sum(axis=2) / n_on
                + TOP1_GAIN * hit.sum() / n_on
                - _over((answered & on & ~hit).sum(axis=2) / n_on, WRONG_LIMIT)
                - _over((answered & ~on).sum(axis=2) / n_off, OFF_TOPIC_LIMIT)
            )
            i, j = np.unravel_index(int(np.argmax(grid)), grid.shape)
            total += float(grid[i, j])
            chosen[chinese] = (CONFIDENT[i], MARGIN[j])
        if total > top:
            top = total
            choice = replace(
                tuning,
                confident=chosen[False][0],
                margin=chosen[False][1],
                confident_zh=chosen[True][0],
                margin_zh=chosen[True][1],
            )
    return choice, top


def _ranking_part(tuning: Tuning) -> Tuning:
    """The combination with the shipped thresholds: the key of its rankings."""
    return replace(
        tuning,
        confident=TUNING.confident,
        margin=TUNING.margin,
        confident_zh=TUNING.confident_zh,
        margin_zh=TUNING.margin_zh,
    )


def table(label: str, by_language: dict[str, Counts]) -> list[str]:
    """One line per language."""
    lines = []
    for lang in ("zh", "en"):
        c = by_language.get(lang, Counts())
        top1, right, wrong, off = c.rates()
        figures = f"{top1:>8.1%}{right:>8.1%}{wrong:>8.1%}{off:>8.1%}"
        lines.append(f"{label:<22}{lang:<4}{c.on + c.off:>5}{figures}")
    return lines


def main(argv: list[str] | None = None) -> int:
    """Print the cross-validated figures and the combination chosen on the whole set."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--folds", type=int, default=5)
    args = parser.parse_args(argv)
    topics = load_topics(TEMPLATES_DIR / "faq.toml")
    questions = load_labelled()
    ranks = rankings(topics, questions)
    every = set(range(len(questions)))

    out_of_fold: dict[str, Counts] = {}
    chosen = []
    for fold in range(args.folds):
        held = {i for i, q in enumerate(questions) if fold_of(q, args.folds) == fold}
        tuning, _ = best(ranks, every - held)
        chosen.append(tuning)
        ranking = ranks[_ranking_part(tuning)]
        rows = [row for i, row in enumerate(ranking) if i in held]
        for lang, c in counts(rows, tuning).items():
            out_of_fold.setdefault(lang, Counts()).add(c)
    whole, _ = best(ranks, every)
    shipped_rows = ranked(FaqMatcher(topics), questions)
    whole_rows = ranks[_ranking_part(whole)]

    head = f"{'':<22}{'lang':<4}{'n':>5}{'top-1':>8}{'right':>8}{'wrong':>8}{'off-t.':>8}"
    print(f"tuning set: {len(questions)} questions, {args.folds} folds")
    print(head)
    print("\n".join(table("cross-validated", out_of_fold)))
    shipped = counts(shipped_rows, TUNING)
    print("\n".join(table("shipped, whole set", shipped)))
    print("\n".join(table("chosen, whole set", counts(whole_rows, whole))))
    print("\nchosen per fold:")
    for fold, tuning in enumerate(chosen):
        print(f"  {fold}: {tuning}")
    print(f"chosen on the whole set: {whole}")
    print(f"shipped:                 {TUNING}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
