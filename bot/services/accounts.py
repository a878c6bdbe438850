"""Accounts: locale, phone binding and agreement acceptance."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from bot.rules import validators
from bot.rules.models import Account, AuditEvent
from storage.protocols import Storage

Clock = Callable[[], datetime]


class AccountService:
    """Reads and changes accounts; every change is on disk when a method returns."""

    def __init__(self, storage: Storage, clock: Clock) -> None:
        self.storage = storage
        self.clock = clock

    def get(self, user_id: int) -> Account | None:
        """The account of a Telegram user, if any."""
        return self.storage.accounts.get(user_id)

    def ensure(
        self, user_id: int, source: str | None = None, language_code: str | None = None
    ) -> Account:
        """The account of a user, created on first contact (remembering a deep-link source
        and Telegram's language, which jobs need to write to the user in it)."""
        account = self.storage.accounts.get(user_id)
        if account is None:
            now = self.clock()
            account = Account(
                user_id=user_id,
                source=source,
                language_code=language_code,
                created_at=now,
                updated_at=now,
            )
            self.storage.accounts.save(account)
        elif language_code is not None and account.language_code != language_code:
            account.language_code = language_code
            self._save(account)
        return account

    def _save(self, account: Account, *events: AuditEvent) -> Account:
        account.updated_at = self.clock()
        self.storage.accounts.save(account, events)
        return account

    def _event(self, account: Account, action: str, **detail: object) -> AuditEvent:
        return AuditEvent(
            subject=account.subject,
            action=action,
            actor=account.user_id,
            at=self.clock(),
            detail=detail,
        )

    def set_locale(self, user_id: int, locale: str) -> Account:
        """Remember the user's chosen language."""
        account = self.ensure(user_id)
        account.locale = locale
        return self._save(account)

    def bind_phone(self, user_id: int, text: str) -> Account:
        """Bind a mainland mobile number (raises ``validators.Invalid``)."""
        phone = validators.mobile(text)
        account = self.ensure(user_id)
        if account.phone == phone:
            return self._save(account)
        return self.set_phone(account, phone, "phone_bound")

    def set_phone(self, account: Account, phone: str, action: str) -> Account:
        """Store a new phone number with its audit event, in one write; the event keeps
        only the last four digits of the old and the new number."""
        event = self._event(account, action, old=_tail(account.phone), new=_tail(phone))
        account.phone = phone
        return self._save(account, event)

    def accept_agreement(self, user_id: int, version: str) -> Account:
        """Record acceptance of an agreement version, with the time."""
        account = self.ensure(user_id)
        account.agreement_version = version
        account.agreement_accepted_at = self.clock()
        return self._save(account, self._event(account, "agreement_accepted", version=version))


def _tail(phone: str | None) -> str | None:
    """Only the last four digits go into the audit log."""
    return None if phone is None else phone[-4:]
