"""The live FAQ: the shipped entries overlaid with what support agents changed, the matcher
over it, and how often each entry answered users.

The shipped FAQ (``templates/faq.toml`` for the wordings, ``[faq.<key>]`` in each locale's
``faq.toml`` for the title and answer templates) is the seed: an entry nobody touched is
read from there, so a new release's wordings and texts reach it. Once an agent adds, edits
or removes an entry, the entry is stored in ``storage.kv`` and the stored one wins; a
removed entry stays stored, flagged, so a shipped one does not come back at the next start.

An agent's title and answer are plain text, never template source: an entry part an agent
typed is a string rendered escaped, a part nobody typed is the shipped template. Every
change is an audit event on the subject ``faq:<key>`` with who, when, and the entry before
and after. Pure: no Telegram.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from pydantic import BaseModel, Field

from bot.rules.models import AuditEvent
from bot.rules.workdays import china_date
from bot.services.faq import FaqMatcher, Verdict, topic
from bot.settings import LOCALES
from storage.protocols import AuditLog, KeyValueStore

Clock = Callable[[], datetime]
#: The raw source of a shipped template string, by (locale, key); "" when there is none.
ShippedText = Callable[[str, str], str]

ENTRIES = "faq.entries"  # key -> Entry as agents left it (removed ones stay, flagged)
USAGE = "faq.usage"  # "YYYY-MM" (China time) -> {key: {"answered": n, "helped": n, ...}}

#: Entry keys: short, typeable after /faq_edit and /answer, and safe in callback data.
KEY = re.compile(r"[a-z][a-z0-9_]{1,23}")
_KEY_WORDS = 2
_KEY_STOP_TEXT = """a about an and are as at be by can could do does for from get how i in is it
    my of on or our please should the to we what when where which who why will with you your"""
_KEY_STOP = frozenset(_KEY_STOP_TEXT.split())

PART_NAMES = ("topic", "questions", "answer")


class FaqError(Exception):
    """A change that cannot be made; ``code`` names the text that explains it."""

    def __init__(self, code: str, **params: object) -> None:
        super().__init__(code)
        self.code = code
        self.params = params


class Content(BaseModel):
    """An entry's three parts, per locale: the title (its button under /faq), the wordings
    people use, and the answer. A locale missing from ``topic`` or ``answer`` of a shipped
    entry means its shipped template."""

    topic: dict[str, str] = Field(default_factory=dict)
    questions: dict[str, list[str]] = Field(default_factory=dict)
    answer: dict[str, str] = Field(default_factory=dict)


class Entry(Content):
    """One FAQ entry as users get it."""

    key: str
    shipped: bool = False
    removed: bool = False
    revision: int = 0  # +1 per change: a draft begun on an older revision is not saved
    position: int = 0  # agents' entries are listed in the order they were added
    created_at: datetime | None = None
    updated_at: datetime | None = None
    updated_by: int | None = None

    def wordings(self) -> tuple[str, ...]:
        """Every wording, both languages (the matcher compares a question with each)."""
        return tuple(q for locale in LOCALES for q in self.questions.get(locale, []))


@dataclass(frozen=True)
class Usage:
    """How an entry did in a month: answers sent, and the users' verdicts on them."""

    answered: int = 0
    helped: int = 0
    not_helped: int = 0


def slug(title: str) -> str:
    """A key from an English title: its first meaningful words ("Can I pay by invoice?" →
    "pay_invoice"); "entry" when it has none."""
    words = [w for w in re.findall(r"[a-z0-9]+", title.casefold()) if w not in _KEY_STOP]
    key = "_".join(words[:_KEY_WORDS])[:20].strip("_")
    if not key or not key[0].isalpha():
        key = f"entry_{key}".strip("_")[:20]
    return key if KEY.fullmatch(key) else "entry"


class FaqBook:
    """The live FAQ over ``storage.kv`` and ``storage.audit``. One per process (the data
    folder is locked to one): stored entries are read once and kept, with the matcher,
    in memory; every change is on disk before the memory changes."""

    def __init__(
        self,
        kv: KeyValueStore,
        audit: AuditLog,
        clock: Clock,
        shipped: Mapping[str, Mapping[str, Sequence[str]]],
        shipped_text: ShippedText,
    ) -> None:
        self.kv = kv
        self.audit = audit
        self.clock = clock
        self._shipped = {
            key: {locale: list(qs) for locale, qs in by_locale.items()}
            for key, by_locale in shipped.items()
        }
        self._shipped_text = shipped_text
        self._stored: dict[str, Entry] | None = None
        self._live: list[Entry] | None = None
        self._matcher: FaqMatcher | None = None

    # -- reading ---------------------------------------------------------------------
    def entries(self) -> list[Entry]:
        """Every live entry: the shipped ones in their file's order, then the agents' own in
        the order they were added."""
        if self._live is None:
            stored = self._stored_entries()
            live = [
                stored.get(key) or Entry(key=key, questions=dict(qs), shipped=True)
                for key, qs in self._shipped.items()
            ]
            added = sorted(
                (e for key, e in stored.items() if key not in self._shipped),
                key=lambda e: (e.position, e.key),
            )
            self._live = [e for e in [*live, *added] if not e.removed and self._complete(e)]
        return list(self._live)

    def get(self, key: str) -> Entry | None:
        """A live entry by key."""
        return next((e for e in self.entries() if e.key == key), None)

    def keys(self) -> list[str]:
        """The live keys, in FAQ order."""
        return [e.key for e in self.entries()]

    def matcher(self) -> FaqMatcher:
        """The matcher over the live entries (rebuilt after a change)."""
        if self._matcher is None:
            self._matcher = FaqMatcher(
                [
                    topic(
                        e.key,
                        e.wordings(),
                        [self._text(e, "topic", "title", loc) for loc in LOCALES],
                        [self._text(e, "answer", "answer", loc) for loc in LOCALES],
                    )
                    for e in self.entries()
                ]
            )
        return self._matcher

    def match(self, question: str) -> Verdict:
        """The entry answering a free-text question, else entries to suggest."""
        return self.matcher().match(question)

    def snapshot(self, entry: Entry) -> dict[str, object]:
        """The entry as its readers get it, for the audit trail: a part nobody typed is the
        shipped template's source."""
        return {
            "topic": {loc: self._text(entry, "topic", "title", loc) for loc in LOCALES},
            "questions": {loc: list(entry.questions.get(loc, [])) for loc in LOCALES},
            "answer": {loc: self._text(entry, "answer", "answer", loc) for loc in LOCALES},
        }

    def month(self) -> str:
        """The current month ("2026-11", China time): usage is counted per month."""
        return self._month()

    def usage(self, moment: datetime | None = None) -> dict[str, Usage]:
        """Each entry's usage in the calendar month (China time) of ``moment`` (now)."""
        month = self._month(moment)
        stored = self.kv.get(USAGE, month) or {}
        return {key: Usage(**counts) for key, counts in stored.items()}

    # -- changing --------------------------------------------------------------------
    def add(self, content: Content, actor: int, *, gap: int | None = None) -> Entry:
        """A new entry from a complete draft; its key comes from the English title."""
        missing = [
            f"{part}.{loc}"
            for part in PART_NAMES
            for loc in LOCALES
            if not getattr(content, part).get(loc)
        ]
        if missing:
            raise FaqError("incomplete", parts=missing)
        now = self.clock()
        entry = Entry(
            key=self._free_key(slug(content.topic.get("en", ""))),
            **content.model_dump(),
            revision=1,
            position=1 + max((e.position for e in self._stored_entries().values()), default=0),
            created_at=now,
            updated_at=now,
            updated_by=actor,
        )
        self._store(entry)
        self._log(entry.key, "faq_added", actor, None, entry, gap=gap)
        return entry

    def edit(self, key: str, content: Content, actor: int, revision: int) -> Entry:
        """Replace an entry's parts with a draft's; refused when someone changed the entry
        since the draft began (``revision``)."""
        before = self._current(key, revision)
        after = before.model_copy(
            update={
                **content.model_dump(),
                "revision": before.revision + 1,
                "updated_at": self.clock(),
                "updated_by": actor,
                "created_at": before.created_at or self.clock(),
            }
        )
        self._store(after)
        self._log(key, "faq_edited", actor, before, after)
        return after

    def add_wordings(
        self, key: str, wordings: Mapping[str, Sequence[str]], actor: int, *, gap: int | None
    ) -> Entry:
        """Teach an entry new wordings (a question gap that it answers)."""
        before = self._current(key, None)
        questions: dict[str, list[str]] = {
            loc: list(before.questions.get(loc, [])) for loc in LOCALES
        }
        for loc, texts in wordings.items():
            known = {q.casefold() for q in questions.setdefault(loc, [])}
            for question in texts:
                if question.casefold() not in known:
                    known.add(question.casefold())
                    questions[loc].append(question)
        after = before.model_copy(
            update={
                "questions": questions,
                "revision": before.revision + 1,
                "updated_at": self.clock(),
                "updated_by": actor,
                "created_at": before.created_at or self.clock(),
            }
        )
        self._store(after)
        self._log(key, "faq_edited", actor, before, after, gap=gap)
        return after

    def remove(self, key: str, actor: int, revision: int) -> Entry:
        """Take an entry out of the FAQ; it stays stored, flagged, with its history."""
        before = self._current(key, revision)
        after = before.model_copy(
            update={
                "removed": True,
                "revision": before.revision + 1,
                "updated_at": self.clock(),
                "updated_by": actor,
            }
        )
        self._store(after)
        self._log(key, "faq_removed", actor, before, None)
        return after

    def answered(self, key: str) -> None:
        """Count an answer sent to a user (typed question, topic button or ticket)."""
        self._count(key, "answered")

    def voted(self, key: str, helped: bool) -> None:
        """Count a user's "helped" / "didn't help" on an answer."""
        self._count(key, "helped" if helped else "not_helped")

    def answered_ticket(self, ticket_id: int, key: str, actor: int, locale: str) -> None:
        """Record that an agent answered a ticket with an entry (counted as an answer)."""
        self.answered(key)
        self.audit.append(
            AuditEvent(
                subject=f"ticket:{ticket_id}",
                action="faq_answer",
                actor=actor,
                at=self.clock(),
                detail={"key": key, "locale": locale},
            )
        )

    # -- internals -------------------------------------------------------------------
    def _stored_entries(self) -> dict[str, Entry]:
        if self._stored is None:
            self._stored = {
                key: Entry.model_validate(value) for key, value in self.kv.items(ENTRIES).items()
            }
        return self._stored

    def _complete(self, entry: Entry) -> bool:
        """Whether users can be shown the entry: a title and an answer in every locale (a
        shipped part counts while its template exists) and at least one wording."""
        return bool(entry.wordings()) and all(
            self._text(entry, part, name, loc)
            for part, name in (("topic", "title"), ("answer", "answer"))
            for loc in LOCALES
        )

    def _text(self, entry: Entry, part: str, name: str, locale: str) -> str:
        typed: dict[str, str] = getattr(entry, part)
        if locale in typed:
            return typed[locale]
        return self._shipped_text(locale, f"faq.{entry.key}.{name}") if entry.shipped else ""

    def _current(self, key: str, revision: int | None) -> Entry:
        entry = self.get(key)
        if entry is None:
            raise FaqError("missing", entry=key)
        if revision is not None and entry.revision != revision:
            raise FaqError("changed", entry=key)
        return entry

    def _free_key(self, wanted: str) -> str:
        # Removed entries keep their keys: the audit trail and old counts stay unambiguous.
        taken = set(self._shipped) | set(self._stored_entries())
        key, n = wanted, 2
        while key in taken:
            key = f"{wanted[:20]}_{n}"
            n += 1
        return key

    def _store(self, entry: Entry) -> None:
        self.kv.put(ENTRIES, entry.key, entry.model_dump(mode="json"))
        self._stored_entries()[entry.key] = entry
        self._live = None
        self._matcher = None

    def _log(
        self,
        key: str,
        action: str,
        actor: int,
        before: Entry | None,
        after: Entry | None,
        *,
        gap: int | None = None,
    ) -> None:
        detail: dict[str, object] = {
            "before": self.snapshot(before) if before is not None else None,
            "after": self.snapshot(after) if after is not None else None,
        }
        if gap is not None:
            detail["gap"] = gap
        self.audit.append(
            AuditEvent(
                subject=f"faq:{key}", action=action, actor=actor, at=self.clock(), detail=detail
            )
        )

    def _month(self, moment: datetime | None = None) -> str:
        return china_date(moment or self.clock()).strftime("%Y-%m")

    def _count(self, key: str, what: str) -> None:
        month = self._month()
        stored = self.kv.get(USAGE, month) or {}
        counts = stored.setdefault(key, {})
        counts[what] = int(counts.get(what, 0)) + 1
        self.kv.put(USAGE, month, stored)
