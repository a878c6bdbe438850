"""How Chinese characters sound, without tones: the FAQ matcher forgives the typos of a pinyin
input method with it, a character typed for another that sounds the same ("审合" for "审核",
"营业执找" for "营业执照").

The readings are pypinyin's table of single characters (every reading of a character); its
phrase tables are not loaded (``PYPINYIN_NO_PHRASES``): they cost 40 MB more and only pick
the reading of a character in context, which a typo lookup does not need.
"""

from __future__ import annotations

import itertools
import os
import unicodedata
from functools import cache, lru_cache


@cache
def _table() -> dict[int, str]:
    """Code point -> its readings with tone marks, comma-separated; loaded on first use."""
    os.environ.setdefault("PYPINYIN_NO_PHRASES", "true")
    os.environ.setdefault("PYPINYIN_NO_DICT_COPY", "true")
    from pypinyin.pinyin_dict import pinyin_dict  # after the settings above

    return pinyin_dict


def _toneless(reading: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", reading) if c.isascii())


@lru_cache(maxsize=1 << 14)
def readings(char: str) -> frozenset[str]:
    """Every reading of a character without its tone ("核" → hé, hú, gāi → he, hu, gai);
    empty for a character with none."""
    raw = _table().get(ord(char), "")
    return frozenset(_toneless(r) for r in raw.split(",") if r)


def sounds(word: str) -> set[tuple[str, ...]]:
    """Every way a word of Chinese characters may be read; empty when one has no reading."""
    return set(itertools.product(*(sorted(readings(c)) for c in word)))
