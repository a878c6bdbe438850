"""What the FAQ could not answer: free-text questions that matched nothing, or whose answer
the user said did not help, kept so support agents can see what to add.

Each question keeps its text, language and time, and nothing else about who asked: no user
id, and long digit runs and e-mail addresses in the text are blanked out (people paste
order numbers, phone numbers and IDs into questions). Near-duplicates are grouped as they
arrive (a gap is a group), so ``/faq_gaps`` reads a few small documents, whatever the
number of questions. A gap is open until an agent adds an entry from it, teaches an entry
its wordings, or dismisses it; gaps not asked for ``RETENTION`` are forgotten.

Pure: no Telegram.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, Field
from rapidfuzz import fuzz

from bot.services.faq import MAX_QUESTION, normalize, terms
from storage.protocols import KeyValueStore

Clock = Callable[[], datetime]
Reason = Literal["no_match", "not_helped"]

GAPS = "faq.gaps"  # gap id -> Gap
COUNTER = "faq.gap_counter"  # "last" -> the last gap id given

#: Open gaps not asked for this long are deleted (with their questions).
RETENTION = timedelta(days=180)
#: Questions kept per gap (the most recent); the count goes on.
KEEP_ASKED = 20
#: Two questions are near-duplicates when they share this much of their terms (Jaccard), or
#: when their term strings are this close (rapidfuzz ratio: typos, one word more or less).
SAME_TERMS = 0.5
SAME_TEXT = 85

_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)+")
_DIGITS = re.compile(r"\d[\d\s-]{4,}\d")
_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")


class GapStatus(StrEnum):
    """Where a gap stands: open until an agent deals with it."""

    OPEN = "open"
    LINKED = "linked"  # an entry answers it now
    DISMISSED = "dismissed"


class Asked(BaseModel):
    """One question as it was asked (no user, no chat)."""

    text: str
    language: str
    at: datetime
    reason: Reason
    topic: str | None = None  # the entry whose answer did not help


class Gap(BaseModel):
    """Near-duplicate questions the FAQ did not answer."""

    id: int
    text: str  # the first question: the one later questions are compared with
    language: str
    status: GapStatus = GapStatus.OPEN
    count: int = 0
    not_helped: int = 0
    first_at: datetime
    last_at: datetime
    asked: list[Asked] = Field(default_factory=list)
    entry: str | None = None
    closed_by: int | None = None
    closed_at: datetime | None = None

    def wordings(self) -> dict[str, list[str]]:
        """The distinct questions of the gap, by language, oldest first."""
        found: dict[str, list[str]] = {}
        seen: set[str] = set()
        for language, text in [(self.language, self.text)] + [
            (a.language, a.text) for a in self.asked
        ]:
            folded = normalize(text).strip()
            if folded not in seen:
                seen.add(folded)
                found.setdefault(language, []).append(text)
        return found


def scrub(text: str) -> str:
    """The question without what identifies people: e-mail addresses and runs of digits
    (phone, ID, order numbers) become "…"; cut to what the matcher reads."""
    text = _EMAIL.sub("…", text)
    text = _DIGITS.sub("…", text)
    return " ".join(text.split())[:MAX_QUESTION]


def language_of(text: str, fallback: str) -> str:
    """The language a question is written in: Chinese when it has Chinese characters,
    English when it has Latin letters, else ``fallback`` (the user's)."""
    if _CJK.search(text):
        return "zh"
    if re.search(r"[A-Za-z]", text):
        return "en"
    return fallback


class _Signature:
    """What near-duplicates are compared by: the terms, as a set and as one string."""

    def __init__(self, text: str) -> None:
        found = terms(text)
        self.terms = frozenset(found)
        self.joined = " ".join(found)

    def near(self, other: _Signature) -> bool:
        """Whether the two questions are near-duplicates."""
        if not self.terms or not other.terms:
            return False
        shared = len(self.terms & other.terms) / len(self.terms | other.terms)
        return shared >= SAME_TERMS or fuzz.ratio(self.joined, other.joined) >= SAME_TEXT


def near_duplicates(a: str, b: str) -> bool:
    """Whether two questions ask the same thing in nearly the same words."""
    return _Signature(a).near(_Signature(b))


class GapLog:
    """Records and groups unanswered questions; open gaps are kept in memory (one process
    per data folder), each change is on disk when a method returns."""

    def __init__(self, kv: KeyValueStore, clock: Clock) -> None:
        self.kv = kv
        self.clock = clock
        self._open: dict[int, tuple[Gap, _Signature]] | None = None

    def record(
        self, text: str, fallback_language: str, reason: Reason, topic: str | None = None
    ) -> Gap | None:
        """Keep a question the FAQ did not answer; None when it says nothing to match on
        (a greeting, an emoji, a number)."""
        text = scrub(text)
        signature = _Signature(text)
        if not signature.terms:
            return None
        now = self.clock()
        asked = Asked(
            text=text,
            language=language_of(text, fallback_language),
            at=now,
            reason=reason,
            topic=topic,
        )
        found = next((g for g, s in self._gaps().values() if s.near(signature)), None)
        if found is None:
            gap_id = int(self.kv.get(COUNTER, "last") or 0) + 1
            self.kv.put(COUNTER, "last", gap_id)
            found = Gap(id=gap_id, text=text, language=asked.language, first_at=now, last_at=now)
            signature_of_gap = signature
        else:
            signature_of_gap = self._gaps()[found.id][1]
        found.count += 1
        if reason == "not_helped":
            found.not_helped += 1
        found.last_at = now
        found.asked = [*found.asked, asked][-KEEP_ASKED:]
        self._save(found)
        self._gaps()[found.id] = (found, signature_of_gap)
        return found

    def open_gaps(self) -> list[Gap]:
        """Open gaps, the most asked first (then the most recent)."""
        gaps = [g for g, _ in self._gaps().values()]
        return sorted(gaps, key=lambda g: (-g.count, -g.last_at.timestamp(), g.id))

    def get(self, gap_id: int) -> Gap | None:
        """A gap by id, whatever its status."""
        data = self.kv.get(GAPS, str(gap_id))
        return None if data is None else Gap.model_validate(data)

    def link(self, gap_id: int, key: str, actor: int) -> Gap | None:
        """Close an open gap: the entry ``key`` answers it now. None when not open."""
        return self._close(gap_id, GapStatus.LINKED, actor, key)

    def dismiss(self, gap_id: int, actor: int) -> Gap | None:
        """Close an open gap that needs no entry. None when not open."""
        return self._close(gap_id, GapStatus.DISMISSED, actor, None)

    # -- internals -------------------------------------------------------------------
    def _close(self, gap_id: int, status: GapStatus, actor: int, key: str | None) -> Gap | None:
        gap = self.get(gap_id)
        if gap is None or gap.status is not GapStatus.OPEN:
            return None
        gap.status, gap.entry = status, key
        gap.closed_by, gap.closed_at = actor, self.clock()
        self._save(gap)
        self._gaps().pop(gap_id, None)
        return gap

    def _gaps(self) -> dict[int, tuple[Gap, _Signature]]:
        if self._open is None:
            horizon = self.clock() - RETENTION
            self._open = {}
            for key, value in self.kv.items(GAPS).items():
                gap = Gap.model_validate(value)
                if gap.last_at < horizon:
                    # Forgotten: what people asked half a year ago is kept no longer.
                    self.kv.delete(GAPS, key)
                elif gap.status is GapStatus.OPEN:
                    self._open[gap.id] = (gap, _Signature(gap.text))
        return self._open

    def _save(self, gap: Gap) -> None:
        self.kv.put(GAPS, str(gap.id), gap.model_dump(mode="json"))
