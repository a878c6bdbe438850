"""FAQ entries being written by support agents: one draft per agent, filled part by part,
and the questions the bot asked them (agents answer by replying to a question: in a group,
privacy mode shows the bot nothing else).

Drafts and questions live in ``storage.kv``, so a restart in the middle of a draft loses
nothing: the agent's reply to a question asked before it still finds its draft. The rules
for each part (lengths, one line for a title, wordings that say something) are here too.
Pure: no Telegram.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime

from pydantic import BaseModel, Field

from bot.services.faq import terms
from bot.services.faq_book import Content, Entry
from bot.settings import LOCALES
from bot.telegram_html import utf16_len
from storage.protocols import KeyValueStore

Clock = Callable[[], datetime]

DRAFTS = "faq.drafts"  # agent id -> Draft
PROMPTS = "faq.prompts"  # agent id -> {question message id: Prompt}

#: The parts of an entry, in the order a new entry asks for them.
PARTS = ("topic.zh", "topic.en", "questions.zh", "questions.en", "answer.zh", "answer.en")

TITLE_MIN, TITLE_MAX = 2, 60  # a title is also a button label
WORDING_MAX, WORDINGS_MAX = 200, 30
#: An answer's length in UTF-16 code units (what Telegram counts): with its title and the
#: "did this help?" line it must stay below a message's 4096.
ANSWER_MAX = 3000
#: Questions remembered per agent (older ones are answered "out of date").
PROMPTS_KEPT = 20

KEEP = "-"  # a reply keeping the current wordings
ADD = "+"  # a reply starting with it adds wordings to the current ones
_BULLET = re.compile(r"^\s*(?:(?:[-•*·+]|\d{1,2}[.)、])\s*)+")


class Invalid(Exception):
    """A reply that cannot be used for the part; ``code`` names the text that says why."""

    def __init__(self, code: str, **params: object) -> None:
        super().__init__(code)
        self.code = code
        self.params = params


class Draft(BaseModel):
    """An entry being written: a new one (``key`` None) or an edit of ``key``."""

    id: str
    agent: int
    key: str | None = None
    revision: int = 0  # of the entry when the edit began
    gap: int | None = None  # the question gap it answers, linked when saved
    content: Content = Field(default_factory=Content)
    pending: list[str] = Field(default_factory=list)  # parts still to ask, first is next
    started_at: datetime

    @property
    def editing(self) -> bool:
        """Whether it changes an existing entry."""
        return self.key is not None

    def value(self, part: str) -> str | list[str] | None:
        """The draft's value of a part ("answer.en"); None when not set."""
        name, locale = part.split(".")
        found: Mapping[str, str | list[str]] = getattr(self.content, name)
        return found.get(locale)


class Prompt(BaseModel):
    """A question the bot asked an agent: a part of a draft, or which entry answers a gap."""

    draft: str | None = None
    part: str | None = None
    gap: int | None = None


def check_title(text: str) -> str:
    """A title: one line of 2–60 characters."""
    title = text.strip()
    if "\n" in title:
        raise Invalid("title_lines")
    if not TITLE_MIN <= len(title) <= TITLE_MAX:
        raise Invalid("title_length", min=TITLE_MIN, max=TITLE_MAX)
    return title


def check_answer(text: str) -> str:
    """An answer: plain text (shown escaped), up to ``ANSWER_MAX`` UTF-16 units."""
    answer = text.strip()
    if not answer:
        raise Invalid("answer_empty")
    if utf16_len(answer) > ANSWER_MAX:
        raise Invalid("answer_length", max=ANSWER_MAX, length=utf16_len(answer))
    return answer


def check_wordings(text: str, current: Sequence[str]) -> list[str]:
    """Wordings, one per line (list bullets dropped): "-" keeps ``current``, a reply
    starting with "+" adds to it, anything else replaces it. Each must say something the
    matcher can use ("怎么办" alone cannot)."""
    reply = text.strip()
    if reply == KEEP:
        if not current:
            raise Invalid("wordings_none")
        return list(current)
    adding = reply.startswith(ADD)
    lines = [_BULLET.sub("", line).strip() for line in reply.splitlines()]
    wordings = list(current) if adding else []
    seen = {w.casefold() for w in wordings}
    for line in lines:
        if not line or line.casefold() in seen:
            continue
        if len(line) > WORDING_MAX:
            raise Invalid("wording_length", max=WORDING_MAX, wording=line[:40] + "…")
        if not terms(line):
            raise Invalid("wording_vague", wording=line)
        seen.add(line.casefold())
        wordings.append(line)
    if not wordings:
        raise Invalid("wordings_none")
    if len(wordings) > WORDINGS_MAX:
        raise Invalid("wordings_count", max=WORDINGS_MAX)
    return wordings


class Drafts:
    """Agents' drafts and the questions asked for them, in ``storage.kv``."""

    def __init__(self, kv: KeyValueStore, clock: Clock) -> None:
        self.kv = kv
        self.clock = clock

    def get(self, agent: int) -> Draft | None:
        """The agent's draft, if one is open."""
        data = self.kv.get(DRAFTS, str(agent))
        return None if data is None else Draft.model_validate(data)

    def start_new(
        self,
        agent: int,
        *,
        gap: int | None = None,
        wordings: Mapping[str, Sequence[str]] | None = None,
    ) -> Draft:
        """A new entry (replacing any open draft), with a gap's questions as its first
        wordings; every part is still asked."""
        given = wordings or {}
        content = Content(questions={loc: list(given.get(loc, [])) for loc in LOCALES})
        draft = Draft(
            id=secrets.token_hex(4),
            agent=agent,
            gap=gap,
            content=content,
            pending=list(PARTS),
            started_at=self.clock(),
        )
        return self.save(draft)

    def start_edit(self, agent: int, entry: Entry) -> Draft:
        """An edit of ``entry`` (replacing any open draft): a copy of its parts; nothing is
        asked until the agent picks a part."""
        content = Content.model_validate(entry.model_dump(include={"topic", "questions", "answer"}))
        draft = Draft(
            id=secrets.token_hex(4),
            agent=agent,
            key=entry.key,
            revision=entry.revision,
            content=content,
            started_at=self.clock(),
        )
        return self.save(draft)

    def fill(self, draft: Draft, part: str, text: str) -> Draft:
        """Set a part from the agent's reply (raises ``Invalid``); the part is no longer
        pending."""
        name, locale = part.split(".")
        if name == "topic":
            draft.content.topic[locale] = check_title(text)
        elif name == "answer":
            draft.content.answer[locale] = check_answer(text)
        else:
            current = draft.content.questions.get(locale, [])
            draft.content.questions[locale] = check_wordings(text, current)
        draft.pending = [p for p in draft.pending if p != part]
        return self.save(draft)

    def ask(self, draft: Draft, part: str) -> Draft:
        """Make ``part`` the next one asked (an agent chose to change it)."""
        draft.pending = [part, *(p for p in draft.pending if p != part)]
        return self.save(draft)

    def save(self, draft: Draft) -> Draft:
        """Store the draft as it is."""
        self.kv.put(DRAFTS, str(draft.agent), draft.model_dump(mode="json"))
        return draft

    def discard(self, agent: int) -> None:
        """Drop the agent's draft (saved or cancelled); its questions go out of date."""
        self.kv.delete(DRAFTS, str(agent))

    def asked(self, agent: int, message_id: int, prompt: Prompt) -> None:
        """Remember a question the bot asked the agent (the message they reply to)."""
        prompts = dict(self.kv.get(PROMPTS, str(agent)) or {})
        prompts[str(message_id)] = prompt.model_dump(mode="json")
        # Keep the most recent only: message ids grow, so the largest are the newest.
        kept = sorted(prompts, key=int)[-PROMPTS_KEPT:]
        self.kv.put(PROMPTS, str(agent), {k: prompts[k] for k in kept})

    def prompt(self, agent: int, message_id: int) -> Prompt | None:
        """The question of the agent's that a message is, if it is one."""
        data = (self.kv.get(PROMPTS, str(agent)) or {}).get(str(message_id))
        return None if data is None else Prompt.model_validate(data)
