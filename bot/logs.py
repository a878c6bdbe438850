"""Logging that never prints secrets: the bot token is replaced wherever it appears
(httpx logs request URLs, and Bot API URLs contain the token), and so are resident ID
numbers (PTB's debug logs print whole updates, and so whatever applicants typed), in the
message and in the text of any exception logged with it."""

from __future__ import annotations

import logging
import re

# Any Bot API token shape, not just ours: a leaked token of another bot is a secret too.
_TOKEN = re.compile(r"\d{3,20}:[A-Za-z0-9_-]{30,64}")
# An 18-character resident ID number (GB 11643): 17 digits and a digit or X, as people type
# it: `\d` is any Unicode digit (Chinese input methods produce full-width １２３), the X may
# be full-width too, and a space, an ideographic space or a hyphen may sit between any two.
_SEPARATOR = "[ \u00a0\u3000-]?"
_RESIDENT_ID = re.compile(
    rf"(?<![0-9A-Za-z０-９Ａ-Ｚａ-ｚ])(?:\d{_SEPARATOR}){{17}}[\dXxＸｘ](?![0-9A-Za-z０-９Ａ-Ｚａ-ｚ])"
)


def redact(text: str, secrets: list[str] | tuple[str, ...] = ()) -> str:
    """``text`` with tokens, resident ID numbers and the given secrets masked."""
    clean = _RESIDENT_ID.sub("<id-number>", _TOKEN.sub("<token>", text))
    for secret in secrets:
        clean = clean.replace(secret, "<secret>")
    return clean


class RedactSecrets(logging.Filter):
    """Rewrites each record's message, exception text and stack with secrets masked."""

    _format_exception = logging.Formatter().formatException

    def __init__(self, secrets: list[str] | None = None) -> None:
        super().__init__()
        self.secrets = [s for s in (secrets or []) if s]

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        clean = redact(message, self.secrets)
        if clean != message:
            record.msg, record.args = clean, None
        # A formatter prints exc_text when it is set; setting it redacted here means the
        # exception's own words (which may quote what a user typed) are masked as well.
        if record.exc_info and not record.exc_text:
            record.exc_text = self._format_exception(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text, self.secrets)
        if record.stack_info:
            record.stack_info = redact(record.stack_info, self.secrets)
        return True


def configure(level: str, secrets: list[str] | None = None) -> None:
    """Log to stderr with secrets redacted; quiet the per-request INFO lines of httpx."""
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(RedactSecrets(secrets))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    # pypdf warns about every flaw of an uploaded PDF; the applicant is told, not the operator.
    logging.getLogger("pypdf").setLevel(logging.ERROR)
