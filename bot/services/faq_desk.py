"""The FAQ as support uses it: users' questions answered (and the unanswered ones kept as
gaps), and what agents do from the support chat: drafts saved as entries, gaps turned into
entries or taught to one, tickets answered with an entry.

A thin layer over ``FaqBook`` (the entries), ``GapLog`` (the gaps) and ``Drafts``: each
method is one thing a person does, so handlers make one call. Pure: no Telegram.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.services.faq import Verdict
from bot.services.faq_book import Entry, FaqBook, FaqError
from bot.services.faq_drafts import Draft, Drafts
from bot.services.faq_gaps import Gap, GapLog, GapStatus


@dataclass
class Saved:
    """A saved draft: the entry as it is now, and the gap it closed, if any."""

    entry: Entry
    gap: Gap | None
    added: bool


class FaqDesk:
    """Users' questions and agents' curation, over the book, the gaps and the drafts."""

    def __init__(self, book: FaqBook, gaps: GapLog, drafts: Drafts) -> None:
        self.book = book
        self.gaps = gaps
        self.drafts = drafts

    # -- users -----------------------------------------------------------------------
    def ask(self, question: str, locale: str) -> Verdict:
        """Match a typed question; when no entry answers it, keep it as a gap."""
        verdict = self.book.match(question)
        if verdict.answer is None:
            self.gaps.record(question, locale, "no_match")
        return verdict

    def answered(self, key: str) -> None:
        """An entry's answer was sent to a user."""
        self.book.answered(key)

    def helped(self, key: str) -> None:
        """The user said the answer helped."""
        self.book.voted(key, helped=True)

    def not_helped(self, key: str, question: str | None, locale: str) -> None:
        """The user said the answer did not help; their typed question becomes a gap."""
        self.book.voted(key, helped=False)
        if question:
            self.gaps.record(question, locale, "not_helped", topic=key)

    # -- agents ----------------------------------------------------------------------
    def start_from_gap(self, agent: int, gap_id: int) -> Draft:
        """A new draft whose first wordings are the gap's questions."""
        gap = self._open_gap(gap_id)
        return self.drafts.start_new(agent, gap=gap.id, wordings=gap.wordings())

    def save(self, agent: int) -> Saved:
        """Publish the agent's draft at once (a new entry, or the edit), and close the gap
        it came from. The draft is gone afterwards, also when someone else changed the entry
        in between (``FaqError("changed")``: the agent starts again from the new one)."""
        draft = self.drafts.get(agent)
        if draft is None:
            raise FaqError("no_draft")
        if draft.pending:
            raise FaqError("incomplete", parts=draft.pending)
        try:
            if draft.key is not None:
                entry = self.book.edit(draft.key, draft.content, agent, draft.revision)
            else:
                entry = self.book.add(draft.content, agent, gap=draft.gap)
        except FaqError as error:
            if error.code in ("changed", "missing"):
                self.drafts.discard(agent)
            raise
        gap = self.gaps.link(draft.gap, entry.key, agent) if draft.gap is not None else None
        self.drafts.discard(agent)
        return Saved(entry, gap, added=draft.key is None)

    def teach(self, gap_id: int, key: str, agent: int) -> tuple[Entry, Gap | None]:
        """The entry ``key`` answers the gap: its questions become wordings of the entry."""
        gap = self._open_gap(gap_id)
        entry = self.book.add_wordings(key, gap.wordings(), agent, gap=gap.id)
        return entry, self.gaps.link(gap.id, entry.key, agent)

    def dismiss(self, gap_id: int, agent: int) -> Gap:
        """The gap needs no entry (small talk, another service)."""
        self._open_gap(gap_id)
        gap = self.gaps.dismiss(gap_id, agent)
        assert gap is not None
        return gap

    def _open_gap(self, gap_id: int) -> Gap:
        gap = self.gaps.get(gap_id)
        if gap is None or gap.status is not GapStatus.OPEN:
            raise FaqError("gap_closed", gap=gap_id)
        return gap
