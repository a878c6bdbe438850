"""Logging that never prints secrets: the bot token is replaced wherever it appears
(httpx logs request URLs, and Bot API URLs contain the token), and so are resident ID
numbers (PTB's debug logs print whole updates, and so whatever applicants typed)."""

from __future__ import annotations

import logging
import re

# Any Bot API token shape, not just ours: a leaked token of another bot is a secret too.
_TOKEN = re.compile(r"\d{3,20}:[A-Za-z0-9_-]{30,64}")
# An 18-character resident ID number (GB 11643): 17 digits and a digit or X.
_RESIDENT_ID = re.compile(r"(?<![0-9A-Za-z])\d{17}[\dXx](?![0-9A-Za-z])")


class RedactSecrets(logging.Filter):
    """Rewrites each record's message with tokens and extra secrets masked."""

    def __init__(self, secrets: list[str] | None = None) -> None:
        super().__init__()
        self.secrets = [s for s in (secrets or []) if s]

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        clean = _RESIDENT_ID.sub("<id-number>", _TOKEN.sub("<token>", message))
        for secret in self.secrets:
            clean = clean.replace(secret, "<secret>")
        if clean != message:
            record.msg, record.args = clean, None
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
