"""Which of the bot's languages a typed text is written in, so a question is answered in
the language it was asked in whatever the user's chosen one."""

from __future__ import annotations

import re

#: CJK unified ideographs (with extension A and the compatibility block): Chinese.
_CHINESE = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_LATIN = re.compile(r"[A-Za-z]")
#: Chinese when at least this share of the letters are Chinese characters. A character
#: carries about what a short English word does, so a question in Chinese naming a product
#: in Latin letters ("ISV 是什么") stays Chinese, and an English one quoting a Chinese term
#: ("what goes in 经营范围 on the form") stays English.
CHINESE_SHARE = 0.25


def written_in(text: str) -> str | None:
    """Chinese ("zh") or English ("en") by the share of Chinese characters among the
    letters; None when the text has no letters (digits, emoji): the user's language then."""
    chinese = len(_CHINESE.findall(text))
    latin = len(_LATIN.findall(text))
    if chinese + latin == 0:
        return None
    return "zh" if chinese / (chinese + latin) >= CHINESE_SHARE else "en"
