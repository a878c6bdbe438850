"""E-mail through SMTP (aiosmtplib), off while SMTP_HOST is unset."""

from __future__ import annotations

from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Protocol

import aiosmtplib

from bot.settings import Settings


@dataclass(frozen=True)
class Mail:
    """One message: plain text with an HTML alternative."""

    to: str
    subject: str
    text: str
    html: str
    reference: str  # our id for it, carried in the Message-ID for tracing


class MailError(Exception):
    """Sending failed; the outbox retries later."""


class Mailer(Protocol):
    async def send(self, mail: Mail) -> None: ...


class SmtpMailer:
    """Sends through the SMTP server of the settings, with their TLS mode and login."""

    def __init__(self, settings: Settings, timeout: float = 20.0) -> None:
        assert settings.SMTP_HOST is not None, "e-mail is off without SMTP_HOST"
        self.settings = settings
        self.host = settings.SMTP_HOST
        self.timeout = timeout

    def build(self, mail: Mail) -> EmailMessage:
        """The MIME message as it is sent."""
        message = EmailMessage()
        message["From"] = self.settings.SMTP_FROM
        message["To"] = mail.to
        message["Subject"] = mail.subject
        message["Date"] = formatdate(localtime=False)
        domain = self.settings.SMTP_FROM.rpartition("@")[2] or None
        message["Message-ID"] = make_msgid(idstring=mail.reference.replace(":", "."), domain=domain)
        message.set_content(mail.text)
        message.add_alternative(mail.html, subtype="html")
        return message

    async def send(self, mail: Mail) -> None:
        """Send one message; every failure becomes ``MailError``."""
        s = self.settings
        password = s.SMTP_PASSWORD.get_secret_value() if s.SMTP_PASSWORD else None
        try:
            await aiosmtplib.send(
                self.build(mail),
                hostname=self.host,
                port=s.SMTP_PORT,
                username=s.SMTP_USERNAME,
                password=password,
                use_tls=s.SMTP_TLS == "tls",
                start_tls=s.SMTP_TLS == "starttls",
                timeout=self.timeout,
            )
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as error:
            # The server's words only; never the credentials.
            raise MailError(f"{type(error).__name__}: {error}") from error
