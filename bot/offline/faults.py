"""Failures the offline Bot API answers with: Telegram's refusals and injected faults."""

from dataclasses import dataclass
from typing import Literal

from telegram.error import TimedOut

from bot.offline.records import JSONDict

FaultKind = Literal["forbidden", "bad_request", "retry_after", "server_error", "timeout"]


class ApiError(Exception):
    """A refusal the fake answers with, as Telegram would: HTTP status and description."""

    def __init__(self, status: int, description: str, parameters: JSONDict | None = None) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.parameters = parameters


def bad_request(description: str) -> ApiError:
    return ApiError(400, f"Bad Request: {description}")


@dataclass
class Fault:
    """A failure to inject: which calls it hits, how, and how many times (None: until removed)."""

    method: str | None
    kind: FaultKind
    count: int | None = 1
    chat_id: int | None = None
    retry_after: int = 5
    description: str | None = None

    def matches(self, method: str, chat_id: int | None) -> bool:
        """Whether this fault hits a call; method None means any call except getUpdates."""
        if self.method is not None and self.method != method:
            return False
        return self.chat_id is None or self.chat_id == chat_id

    def error(self, method: str) -> ApiError | TimedOut:
        """The answer this fault gives instead of the real one."""
        if self.kind == "timeout":
            return TimedOut(f"Timed out (offline kit fault on {method})")
        if self.kind == "forbidden":
            return ApiError(403, self.description or "Forbidden: bot was blocked by the user")
        if self.kind == "retry_after":
            text = f"Too Many Requests: retry after {self.retry_after}"
            return ApiError(429, text, {"retry_after": self.retry_after})
        if self.kind == "server_error":
            return ApiError(502, self.description or "Bad Gateway")
        return ApiError(400, self.description or f"Bad Request: injected failure of {method}")
