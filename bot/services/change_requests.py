"""What a reviewer is in the middle of: a change request being composed (the fields picked
and a reason for each) and the typed answers the bot waits for (a reason, a rejection).

Both live in the key-value store, so a restart mid-way loses nothing; each belongs to one
reviewer and one registration, so reviewers never see each other's drafts.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from storage.protocols import KeyValueStore

#: kv namespaces (the stored shapes are the models' dumps).
DRAFTS = "review.requests"
AWAITING = "review.awaiting"
REMOVALS = "review.removals"  # a removal's reason until the reviewer confirms it
HELD = "review.held"  # a typed answer in another language than the applicant's, until decided
#: A typed reason is cut to this many characters.
REASON_CHARS = 500


class ChangeRequestDraft(BaseModel):
    """A change request being composed: the fields picked, in order, and their reasons (a
    catalogue key behind ``reason:`` or the reviewer's own words)."""

    fields: list[str] = Field(default_factory=list)
    reasons: dict[str, str] = Field(default_factory=dict)

    def toggle(self, key: str) -> None:
        """Pick a field, or unpick it (and forget its reason)."""
        if key in self.fields:
            self.fields.remove(key)
            self.reasons.pop(key, None)
        else:
            self.fields.append(key)

    def missing(self) -> list[int]:
        """The positions of the picked fields that have no reason yet."""
        return [i for i, key in enumerate(self.fields) if key not in self.reasons]


class AwaitedAnswer(BaseModel):
    """A question the bot asked a reviewer, answered by replying to it."""

    action: Literal["reason", "reject", "remove"]
    id: str  # the registration
    field: str | None = None  # for a reason: the field it is for


class HeldAnswer(AwaitedAnswer):
    """A typed answer held back until the reviewer sends it as it is or rewrites it."""

    text: str


class ReviewerDrafts:
    """Change-request drafts and awaited answers, per reviewer, over the key-value store."""

    def __init__(self, kv: KeyValueStore) -> None:
        self._kv = kv

    @staticmethod
    def _key(reviewer: int, registration_id: str) -> str:
        return f"{reviewer}:{registration_id}"

    def get(self, reviewer: int, registration_id: str) -> ChangeRequestDraft | None:
        """The reviewer's draft for a registration, if they started one."""
        stored = self._kv.get(DRAFTS, self._key(reviewer, registration_id))
        return None if stored is None else ChangeRequestDraft.model_validate(stored)

    def save(self, reviewer: int, registration_id: str, draft: ChangeRequestDraft) -> None:
        self._kv.put(DRAFTS, self._key(reviewer, registration_id), draft.model_dump())

    def discard(self, reviewer: int, registration_id: str) -> None:
        self._kv.delete(DRAFTS, self._key(reviewer, registration_id))

    def give_reason(
        self, reviewer: int, registration_id: str, field: str, reason: str
    ) -> ChangeRequestDraft | None:
        """Record a reason typed by the reviewer (trimmed); None when the draft is gone."""
        draft = self.get(reviewer, registration_id)
        if draft is None:
            return None
        draft.reasons[field] = reason.strip()[:REASON_CHARS]
        self.save(reviewer, registration_id, draft)
        return draft

    def hold_removal(self, reviewer: int, registration_id: str, reason: str) -> None:
        """A removal's reason, kept until the reviewer confirms or cancels it."""
        self._kv.put(REMOVALS, self._key(reviewer, registration_id), reason.strip()[:1000])

    def take_removal(self, reviewer: int, registration_id: str) -> str | None:
        """The held reason of a removal (gone afterwards: one confirmation, one decision)."""
        key = self._key(reviewer, registration_id)
        reason = self._kv.get(REMOVALS, key)
        self._kv.delete(REMOVALS, key)
        return reason if isinstance(reason, str) else None

    def hold_typed(self, reviewer: int, answer: HeldAnswer) -> None:
        """Keep a typed answer while the reviewer decides about it (one per registration)."""
        self._kv.put(HELD, self._key(reviewer, answer.id), answer.model_dump(exclude_none=True))

    def take_typed(self, reviewer: int, registration_id: str) -> HeldAnswer | None:
        """The held typed answer (gone afterwards: it is sent, or rewritten, once)."""
        key = self._key(reviewer, registration_id)
        stored = self._kv.get(HELD, key)
        self._kv.delete(HELD, key)
        return None if stored is None else HeldAnswer.model_validate(stored)

    def expect(self, reviewer: int, message_id: int, answer: AwaitedAnswer) -> None:
        """Remember that a reply by ``reviewer`` to message ``message_id`` answers this."""
        self._kv.put(AWAITING, f"{reviewer}:{message_id}", answer.model_dump(exclude_none=True))

    def awaited(self, reviewer: int, message_id: int) -> AwaitedAnswer | None:
        """What a reply to ``message_id`` answers, if the bot asked this reviewer."""
        stored = self._kv.get(AWAITING, f"{reviewer}:{message_id}")
        return None if stored is None else AwaitedAnswer.model_validate(stored)

    def answered(self, reviewer: int, message_id: int) -> None:
        """The question was answered: later replies to it are not taken."""
        self._kv.delete(AWAITING, f"{reviewer}:{message_id}")
