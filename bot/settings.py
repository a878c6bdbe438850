"""Settings from the environment and ``.env`` (pydantic-settings).

A wrong value stops start-up with one line naming the variable and the problem
(see ``describe_errors``), never a traceback.
"""

from __future__ import annotations

import os
import re
from datetime import time, timedelta
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import (
    Field,
    SecretStr,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from bot.rules import validators
from bot.rules.idle import IdleRules

Locale = Literal["zh", "en"]
LOCALES: tuple[Locale, ...] = ("zh", "en")

# A Bot API token is "<bot id>:<35 characters>"; we accept a little more latitude on length.
_TOKEN = re.compile(r"^\d{3,20}:[A-Za-z0-9_-]{30,64}$")
# Telegram allows 1-256 of these; fewer than 16 would be guessable, so we ask for more.
_WEBHOOK_SECRET = re.compile(r"^[A-Za-z0-9_-]{16,256}$")


def _int_list(value: object) -> object:
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return value


class Settings(BaseSettings):
    """Every setting of the bot; names match the environment variables exactly."""

    model_config = SettingsConfigDict(
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        case_sensitive=True,
        env_ignore_empty=True,  # "ADMIN_CHAT_ID=" in .env means unset, as in .env.example
    )

    TELEGRAM_BOT_TOKEN: SecretStr | None = None
    TELEGRAM_API_BASE_URL: str = "https://api.telegram.org/bot"
    TELEGRAM_API_BASE_FILE_URL: str = "https://api.telegram.org/file/bot"
    ADMIN_CHAT_ID: int | None = None
    REVIEWER_IDS: Annotated[list[int], NoDecode] = Field(default_factory=list)
    SUPPORT_CHAT_ID: int | None = None
    SUPPORT_AGENT_IDS: Annotated[list[int], NoDecode] = Field(default_factory=list)
    DATA_DIR: Path = Path("./data")
    # PostgreSQL (psycopg conninfo or URL); unset means TinyDB files in DATA_DIR. A secret:
    # the URL may hold the password.
    DATABASE_URL: SecretStr | None = None
    DEFAULT_LOCALE: Locale = "zh"
    SUPPORT_EMAIL: str = "support@example.com"
    SMTP_HOST: str | None = None
    SMTP_PORT: int = Field(default=587, ge=1, le=65535)
    SMTP_USERNAME: str | None = None
    SMTP_PASSWORD: SecretStr | None = None
    SMTP_FROM: str = "onboarding@example.com"
    SMTP_TLS: Literal["starttls", "tls", "none"] = "starttls"
    WEBHOOK_URL: str | None = None
    WEBHOOK_LISTEN: str = "0.0.0.0"
    WEBHOOK_PORT: int = Field(default=8443, ge=1, le=65535)
    WEBHOOK_PATH: str = "telegram"
    WEBHOOK_SECRET_TOKEN: SecretStr | None = None
    DRAFT_REMINDER_DAYS: int = Field(default=3, ge=1)
    DRAFT_EXPIRE_DAYS: int = Field(default=30, ge=0)  # 0: drafts never expire
    DRAFT_EXPIRY_WARNING_DAYS: int = Field(default=3, ge=1)
    REVIEW_CLAIM_MINUTES: int = Field(default=120, ge=1)
    REVIEW_DIGEST_TIME: time = time(9, 0)  # China time, daily list of near/overdue reviews
    LOG_LEVEL: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"

    _split_reviewers = field_validator("REVIEWER_IDS", mode="before")(_int_list)
    _split_agents = field_validator("SUPPORT_AGENT_IDS", mode="before")(_int_list)

    @field_validator("TELEGRAM_BOT_TOKEN")
    @classmethod
    def _token_shape(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not _TOKEN.match(value.get_secret_value()):
            # Never echo the token itself: it is a secret even when malformed.
            raise ValueError("malformed token (expected '<digits>:<30-64 letters, digits, _ ->')")
        return value

    @field_validator("WEBHOOK_SECRET_TOKEN")
    @classmethod
    def _secret_shape(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not _WEBHOOK_SECRET.match(value.get_secret_value()):
            raise ValueError("use 16-256 characters of A-Z, a-z, 0-9, _ and - (or leave it unset)")
        return value

    @field_validator("DATA_DIR")
    @classmethod
    def _writable(cls, value: Path) -> Path:
        probe = value
        while not probe.exists():
            probe = probe.parent
        if not probe.is_dir() or not os.access(probe, os.W_OK | os.X_OK):
            raise ValueError(f"directory {value} is not writable")
        return value

    @field_validator("ADMIN_CHAT_ID", "SUPPORT_CHAT_ID")
    @classmethod
    def _a_group(cls, value: int | None) -> int | None:
        # Group and supergroup ids are negative; a positive id is one person's private chat,
        # where nobody else would see the cards or tickets.
        if value is not None and value >= 0:
            raise ValueError(
                f"{value} is a person's private chat, not a group "
                "(a group's id is negative, e.g. -1001234567890)"
            )
        return value

    @field_validator("SUPPORT_CHAT_ID")
    @classmethod
    def _not_the_reviewers_group(cls, value: int | None, info: ValidationInfo) -> int | None:
        # Support agents would see applicants' documents, and both desks' commands collide.
        if value is not None and value == info.data.get("ADMIN_CHAT_ID"):
            raise ValueError("the same chat as ADMIN_CHAT_ID (use a group of its own)")
        return value

    @field_validator("SUPPORT_EMAIL", "SMTP_FROM")
    @classmethod
    def _an_address(cls, value: str) -> str:
        try:
            return validators.email(value)
        except validators.Invalid:
            raise ValueError("not a valid e-mail address (e.g. support@example.com)") from None

    @field_validator("WEBHOOK_URL")
    @classmethod
    def _https(cls, value: str | None) -> str | None:
        if value is not None and (urlsplit(value).scheme != "https" or not urlsplit(value).netloc):
            # Telegram delivers webhooks over HTTPS only; setWebhook would refuse it.
            raise ValueError("must be an https:// address (Telegram posts updates over HTTPS only)")
        return value

    @field_validator("SMTP_HOST")
    @classmethod
    def _blank_host_is_off(cls, value: str | None) -> str | None:
        # An empty SMTP_HOST= line in .env means "no e-mail", like an unset variable.
        return value.strip() or None if value is not None else None

    @model_validator(mode="after")
    def _warning_before_expiry(self) -> Settings:
        if self.DRAFT_EXPIRE_DAYS and self.DRAFT_EXPIRY_WARNING_DAYS >= self.DRAFT_EXPIRE_DAYS:
            raise ValueError(
                "DRAFT_EXPIRY_WARNING_DAYS must be smaller than DRAFT_EXPIRE_DAYS "
                "(the warning comes that many days before the expiry)"
            )
        return self

    def warnings(self) -> list[str]:
        """Settings the bot runs with but that leave a desk unusable: one line each."""
        found = []
        if self.ADMIN_CHAT_ID is not None and not self.REVIEWER_IDS:
            found.append("REVIEWER_IDS is empty: nobody can decide on submissions")
        if self.SUPPORT_CHAT_ID is not None and not self.SUPPORT_AGENT_IDS:
            # Not an error (the FAQ and e-mail still work), but nobody could answer a ticket.
            found.append("SUPPORT_AGENT_IDS is empty: tickets are not offered")
        return found

    @property
    def idle_rules(self) -> IdleRules:
        """When idle drafts and fixes are reminded, warned and (drafts) expired."""
        expire = self.DRAFT_EXPIRE_DAYS
        return IdleRules(
            remind_after=timedelta(days=self.DRAFT_REMINDER_DAYS),
            expire_after=timedelta(days=expire) if expire else None,
            warn_before=timedelta(days=self.DRAFT_EXPIRY_WARNING_DAYS),
        )

    @property
    def support_desk(self) -> bool:
        """Tickets are offered only when someone can answer them: a support chat and at
        least one agent."""
        return self.SUPPORT_CHAT_ID is not None and bool(self.SUPPORT_AGENT_IDS)

    @property
    def email_enabled(self) -> bool:
        """E-mail is off while SMTP_HOST is unset."""
        return self.SMTP_HOST is not None


def describe_errors(error: ValidationError) -> list[str]:
    """One line per invalid setting: the variable's name and the problem, no input echoed."""
    lines = []
    for item in error.errors(include_input=False, include_url=False):
        message = item["msg"].removeprefix("Value error, ")
        # A rule between settings names its variables itself.
        name = ".".join(str(part) for part in item["loc"])
        lines.append(f"{name}: {message}" if name else message)
    return lines


def load_settings(**overrides: object) -> Settings:
    """Read settings from the environment and ``.env``; overrides win (used by tests)."""
    return Settings(**overrides)  # type: ignore[arg-type]
