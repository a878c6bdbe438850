"""Idle registrations: a job looks for them every hour. Applicants of idle drafts and of
registrations waiting for their fix are reminded once per idle spell (a fix with the
reviewers' reasons and the "Fix it now" button); a draft idle for DRAFT_EXPIRE_DAYS is
deleted, freeing its e-mail address and administrator id, after a warning sent
DRAFT_EXPIRY_WARNING_DAYS before (rules in ``bot.rules.idle``)."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

from telegram import InlineKeyboardMarkup
from telegram.error import Forbidden, TelegramError

from bot.rules.idle import Due, expires_on
from bot.rules.models import Registration, Status
from conversations import keyboards
from conversations.common import Context, account_locale
from conversations.presenter import flagged_reasons

log = logging.getLogger(__name__)


#: How often idle registrations are looked for, and how soon after start-up the first time.
REMINDER_EVERY = timedelta(hours=1)
REMINDER_FIRST = timedelta(minutes=1)


async def remind_idle(context: Context) -> None:
    """Expire the drafts whose warning has run out, warn those about to, remind the rest."""
    services = context.services
    rules = services.settings.idle_rules
    # Reads every draft and fix (seconds at 100k of them): in a worker thread, so the bot
    # keeps answering meanwhile (the storage allows scans beside the loop's writes).
    work = await asyncio.to_thread(services.registrations.idle, rules)
    for registration in work[Due.EXPIRE]:
        expired = services.privacy.expire_draft(registration.id, rules)
        if expired is not None:
            await _tell(context, expired, "expired")
    for registration in work[Due.WARN]:
        if await _tell(context, registration, "warn"):
            services.registrations.mark_reminded(registration.id, warning=True)
    for registration in work[Due.REMIND]:
        kind = "draft" if registration.status is Status.DRAFT else "fix"
        if await _tell(context, registration, kind):
            services.registrations.mark_reminded(registration.id)


async def _tell(context: Context, registration: Registration, kind: str) -> bool:
    """Send one reminder; False when it should be tried again at the next run."""
    services = context.services
    locale = account_locale(services, registration.user_id)
    texts = services.texts
    markup: InlineKeyboardMarkup | None = None
    if kind == "fix":
        markup = keyboards.inline(
            [[(texts.plain(locale, "button.fix_now"), f"ap:fix:{registration.id}")]]
        )
    now = services.clock()
    text = texts.render(
        locale,
        "reminder",
        kind=kind,
        registration=registration,
        reasons=flagged_reasons(texts, locale, registration),
        expires=expires_on(registration, now, services.settings.idle_rules)
        if kind == "warn"
        else None,
        days=services.settings.DRAFT_EXPIRE_DAYS,
    )
    try:
        await context.bot.send_message(registration.user_id, text, reply_markup=markup)
    except Forbidden:
        log.info("%s: the applicant blocked the bot; no %s reminder", registration.id, kind)
    except TelegramError:
        log.warning("%s: %s reminder not sent, will retry", registration.id, kind, exc_info=True)
        return False
    return True
