"""The reminder for idle drafts: a job looks for them every hour and writes to each
applicant once per idle spell."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

from telegram.error import Forbidden, TelegramError

from conversations.common import Context, account_locale

log = logging.getLogger(__name__)


#: How often idle drafts are looked for, and how soon after start-up the first time.
REMINDER_EVERY = timedelta(hours=1)
REMINDER_FIRST = timedelta(minutes=1)


async def remind_idle_drafts(context: Context) -> None:
    """Once per idle spell, remind applicants whose draft has not moved for some days."""
    services = context.services
    idle_for = timedelta(days=services.settings.DRAFT_REMINDER_DAYS)
    # Reads every draft (seconds at 100k of them): in a worker thread, so the bot keeps
    # answering meanwhile (the storage allows scans beside the loop's writes).
    idle = await asyncio.to_thread(services.registrations.idle_drafts, idle_for)
    for registration in idle:
        locale = account_locale(services, registration.user_id)
        text = services.texts.render(locale, "reminder", registration=registration)
        try:
            await context.bot.send_message(registration.user_id, text)
        except Forbidden:
            log.info("draft %s: the applicant blocked the bot; no reminder", registration.id)
        except TelegramError:
            log.warning("draft %s: reminder not sent, will retry", registration.id, exc_info=True)
            continue
        services.registrations.mark_reminded(registration.id)
