"""Where the applicant conversation is (its states) and how the next one is stored with
the update's own changes."""

from __future__ import annotations

from enum import StrEnum
from typing import Any, Protocol, runtime_checkable

from telegram.ext import ConversationHandler

from conversations.common import Turn


class State(StrEnum):
    PHONE = "phone"
    AGREEMENT = "agreement"
    ROLE = "role"
    FORM = "form"
    SUMMARY = "summary"


END = ConversationHandler.END
#: The conversation's name (its persistence entries are named by it).
NAME = "applicant"


@runtime_checkable
class _Expecting(Protocol):
    """The bot's persistence (``storage.persistence.StorePersistence``)."""

    def expect_conversation(self, name: str, key: tuple[int, ...], new_state: object) -> None: ...

    async def update_user_data(self, user_id: int, data: dict[Any, Any]) -> None: ...


async def moving_to(turn: Turn, state: State) -> State:
    """Store where the applicant goes next, and their ``user_data``, with this update's
    other changes, before the prompt of ``state`` goes out: one write of the applicant's
    file for the whole update (PTB would store the state after the handler returns, a
    second write), and a crash can never leave the prompt shown and the applicant still
    at the step before."""
    persistence = turn.context.application.persistence
    update, user_data = turn.update, turn.context.user_data
    chat = update.effective_chat if update is not None else None
    if isinstance(persistence, _Expecting) and chat is not None:
        persistence.expect_conversation(NAME, (chat.id, turn.user_id), state)
        if user_data is not None:
            await persistence.update_user_data(turn.user_id, user_data)
    return state
