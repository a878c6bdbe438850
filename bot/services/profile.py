"""After approval: the developer profile, e-mail verification and change, phone handover."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from bot.rules import form, validators, verification
from bot.rules.models import AuditEvent, Channel, Registration, Status
from bot.rules.verification import Outcome, Purpose
from bot.services import outbox
from bot.services.accounts import AccountService
from bot.services.taken_limit import TakenLimit
from storage.protocols import Storage

Clock = Callable[[], datetime]


class Refused(Exception):
    """Not possible now; ``code`` names the text, ``params`` fill it."""

    def __init__(self, code: str, **params: Any) -> None:
        super().__init__(code)
        self.code = code
        self.params = params


class ProfileService:
    """Every change is durable when a method returns."""

    def __init__(
        self, storage: Storage, clock: Clock, taken_limit: TakenLimit | None = None
    ) -> None:
        self.storage = storage
        self.clock = clock
        self.taken_limit = taken_limit or TakenLimit(clock)

    def approved(self, user_id: int) -> list[Registration]:
        """The account's approved registrations, oldest first."""
        return sorted(
            (
                r
                for r in self.storage.registrations.for_user(user_id)
                if r.status is Status.APPROVED
            ),
            key=lambda r: r.created_at,
        )

    def _own_approved(self, user_id: int, registration_id: str) -> Registration:
        registration = self.storage.registrations.get(registration_id)
        if registration is None or registration.user_id != user_id:
            raise Refused("profile.unknown")
        if registration.status is not Status.APPROVED:
            raise Refused("profile.not_approved")
        return registration

    # -- e-mail --------------------------------------------------------------------------
    def start_verification(self, user_id: int, registration_id: str) -> tuple[Registration, str]:
        """A code for the current address; returns the registration and the code to send."""
        registration = self._own_approved(user_id, registration_id)
        if registration.email_verified_at is not None:
            raise Refused("profile.already_verified")
        address = str(registration.answers.get(form.CONTACT_EMAIL, ""))
        return self._issue(registration, Purpose.VERIFY, address)

    def check_change(self, user_id: int, registration_id: str) -> Registration:
        """Whether the address may change now (raises with the date it may, if not)."""
        registration = self._own_approved(user_id, registration_id)
        if registration.email_verified_at is None:
            raise Refused("profile.verify_first")
        if registration.admin_confirmed_at is None:
            # A high-level operation: the guide has the administrator's mobile confirm it.
            raise Refused("profile.admin_unconfirmed", id=registration.id)
        allowed = verification.next_change_allowed(registration.email_changed_at, self.clock())
        if allowed is not None:
            raise Refused("profile.monthly_limit", date=allowed)
        return registration

    def start_change(
        self, user_id: int, registration_id: str, text: str
    ) -> tuple[Registration, str]:
        """Validate a new address and issue a code for it (raises Invalid or Refused)."""
        registration = self.check_change(user_id, registration_id)
        address = validators.email(text)
        current = str(registration.answers.get(form.CONTACT_EMAIL, ""))
        if address.casefold() == current.casefold():
            raise Refused("profile.same_email")
        owner = self.storage.unique.owner("email", address)
        if owner != registration.id:
            self.taken_limit.guard(user_id)
        if owner is not None and owner != registration.id:
            raise self.taken_limit.taken(user_id)
        return self._issue(registration, Purpose.CHANGE, address)

    def _issue(
        self, registration: Registration, purpose: Purpose, address: str
    ) -> tuple[Registration, str]:
        now = self.clock()
        until = self._locked_until(registration.user_id, now)
        if until is not None:
            raise Refused("profile.locked", until=until)
        previous = registration.email_check
        later = verification.next_send_allowed(previous, now)
        if later is not None:
            raise Refused("profile.code_limit", until=later)
        code = verification.new_code()
        registration.email_check = verification.issue(purpose, address, code, now, previous)
        self.storage.registrations.save(registration)
        return registration, code

    def confirm(
        self, user_id: int, registration_id: str, typed: str
    ) -> tuple[Outcome, Registration, Purpose]:
        """Check a typed code; on success verify or switch the address."""
        registration = self._own_approved(user_id, registration_id)
        check = registration.email_check
        if check is None:
            raise Refused("profile.no_code")
        now = self.clock()
        until = self._locked_until(user_id, now)
        if until is not None and not verification.locked(check, now):
            # Locked through another registration of the account: no guess is checked.
            raise Refused("profile.locked", until=until)
        elsewhere = self._wrong_tries(user_id) - check.tries
        outcome = verification.attempt(check, typed, now, elsewhere)
        events: list[AuditEvent] = []
        replaced: str | None = None
        if outcome is Outcome.OK:
            registration.email_check = None
            if check.purpose is Purpose.CHANGE:
                replaced = self._switch(registration, check.address, now)
                events.append(self._event(registration, "email_changed", user_id))
            else:
                registration.email_verified_at = now
                events.append(self._event(registration, "email_verified", user_id))
        self.storage.registrations.save(registration, events)
        if replaced is not None:
            # Only once the new address is saved is the old one free for others.
            self.storage.unique.release("email", replaced, registration.id)
        return outcome, registration, check.purpose

    def tries_left(self, user_id: int) -> int:
        """Wrong codes the account may still type before the lock (all its codes count)."""
        return max(0, verification.MAX_TRIES - self._wrong_tries(user_id))

    def _wrong_tries(self, user_id: int) -> int:
        return sum(r.email_check.tries for r in self.approved(user_id) if r.email_check)

    def _locked_until(self, user_id: int, now: datetime) -> datetime | None:
        """When codes unlock for the account, if any registration of it is locked: the
        lock is the account's, so one registration's lock is not sidestepped with another."""
        ends = [
            r.email_check.locked_until
            for r in self.approved(user_id)
            if r.email_check is not None
            and r.email_check.locked_until is not None
            and verification.locked(r.email_check, now)
        ]
        return max(ends) if ends else None

    def _switch(self, registration: Registration, address: str, now: datetime) -> str:
        """Put the verified new address in place (claimed first); returns the old one."""
        old = str(registration.answers.get(form.CONTACT_EMAIL, ""))
        if not self.storage.unique.claim("email", address, registration.id):
            registration.email_check = None
            self.storage.registrations.save(registration)
            raise validators.Invalid("unique.taken")
        registration.answers[form.CONTACT_EMAIL] = address
        registration.email_verified_at = now
        registration.email_changed_at = now
        # Both addresses are told; through the outbox, so a mail server hiccup loses nothing.
        for which, recipient in (("old", old), ("new", address)):
            key = f"email_changed-{now:%Y%m%d%H%M%S}-{which}"
            outbox.add(
                registration,
                outbox.notification(
                    registration,
                    "email_changed",
                    Channel.EMAIL,
                    recipient,
                    now,
                    key=key,
                    old=old,
                    new=address,
                ),
            )
        return old

    # -- phone ---------------------------------------------------------------------------
    def change_phone(self, user_id: int, text: str) -> str:
        """Bind a new mobile to the account (the guide's handover); returns the number."""
        phone = validators.mobile(text)
        account = self.storage.accounts.get(user_id)
        if account is None:
            raise Refused("profile.unknown")
        old = account.phone
        if old == phone:
            raise Refused("profile.same_phone")
        for registration in self.approved(user_id):
            if registration.admin_confirmed_at is None:
                # Handing the account over is a high-level operation (see check_change).
                raise Refused("profile.admin_unconfirmed", id=registration.id)
        AccountService(self.storage, self.clock).set_phone(account, phone, "phone_changed")
        return phone

    def _event(self, registration: Registration, action: str, actor: int) -> AuditEvent:
        return AuditEvent(subject=registration.id, action=action, actor=actor, at=self.clock())
