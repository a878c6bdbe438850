"""Does a licence's business scope cover what the developer role needs? The vocabulary is
data (``scope_vocabulary.toml`` beside this module): the usual licence phrasings settle it,
the usual indirect ones leave it to the applicant's confirmation, which reviewers see."""

from __future__ import annotations

import re
import tomllib
import unicodedata
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from bot.rules.models import Role

VOCABULARY = Path(__file__).with_name("scope_vocabulary.toml")

#: What each role's licence must cover, in the order the applicant is told.
ECOMMERCE, TECH = "ecommerce", "tech"
_NEEDS = {Role.MERCHANT: (ECOMMERCE, TECH)}
_ITEMS = re.compile(r"[；;，,。\n]+")


@dataclass(frozen=True)
class ScopeCheck:
    missing: list[str]  # requirements the scope does not state at all
    unsure: list[str]  # requirements stated only in the usual indirect ways


@dataclass(frozen=True)
class _Requirement:
    clear: tuple[re.Pattern[str], ...]
    unsure: tuple[re.Pattern[str], ...]


@dataclass(frozen=True)
class _Vocabulary:
    simplified: dict[int, int]
    requirements: dict[str, _Requirement]


@cache
def _vocabulary(path: Path = VOCABULARY) -> _Vocabulary:
    with path.open("rb") as handle:
        data = tomllib.load(handle)

    def patterns(entries: list[str]) -> tuple[re.Pattern[str], ...]:
        # ASCII word boundaries: English words need one even when Chinese touches them.
        return tuple(re.compile(entry, re.ASCII) for entry in entries)

    return _Vocabulary(
        simplified=str.maketrans(data["traditional"]["from"], data["traditional"]["to"]),
        requirements={
            need: _Requirement(patterns(data[need]["clear"]), patterns(data[need]["unsure"]))
            for need in (ECOMMERCE, TECH)
        },
    )


def needs(role: Role) -> tuple[str, ...]:
    """What a licence must cover for ``role``."""
    return _NEEDS.get(role, (TECH,))


def check(scope: str, role: Role) -> ScopeCheck:
    """How far ``scope`` covers what ``role`` needs."""
    vocabulary = _vocabulary()
    folded = unicodedata.normalize("NFKC", scope).casefold().translate(vocabulary.simplified)
    items = [item.strip() for item in _ITEMS.split(folded) if item.strip()]
    missing, unsure = [], []
    for need in needs(role):
        requirement = vocabulary.requirements[need]
        if any(p.search(item) for p in requirement.clear for item in items):
            continue
        if any(p.search(item) for p in requirement.unsure for item in items):
            unsure.append(need)
        else:
            missing.append(need)
    return ScopeCheck(missing=missing, unsure=unsure)
