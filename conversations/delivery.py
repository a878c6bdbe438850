"""Delivers the outbox: applicants' decisions by chat and e-mail, reviewers' cards and the
documents that go with them. A job runs it every few seconds and right after a decision.

Failures are classified once, here: Telegram's 429 waits ``retry_after``; 5xx, timeouts
and network errors back off; 403 from a user (they blocked the bot) is recorded and not
retried, while 403 from the reviewers' group (the bot was removed from it) backs off and is
logged as an error, so the cards arrive once somebody adds the bot back; 400 is a bug of
ours and is not retried either (logged).
"""

from __future__ import annotations

import asyncio
import functools
import logging
from datetime import timedelta
from typing import Any, cast

from telegram import InlineKeyboardMarkup, InputFile, Message
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError

from bot.mailer import Mail, MailError
from bot.rules import documents
from bot.rules.models import Channel, Notification, Registration
from bot.services.outbox import Outcome
from conversations import keyboards
from conversations.common import Context, Services, account_locale
from conversations.presenter import card, flagged_reasons, reason_text

log = logging.getLogger(__name__)

#: How often the outbox is looked at (a decision also triggers it at once).
EVERY = timedelta(seconds=5)
#: The job delivering one registration's notifications at once (``trigger``).
NOW = "outbox-now"
#: The first run after start-up, which sends what a crash left pending.
FIRST = timedelta(seconds=0.5)
_LANES = "outbox_lanes"  # lane -> the task delivering it
#: How long a run waits for the lanes it started before leaving them to the background.
LANE_WAIT = timedelta(seconds=10)
_UNRECORDED = "outbox_unrecorded"  # notification id -> message id, sent but not yet saved


def trigger(context: Context, registration_id: str) -> None:
    """Deliver the registration's due notifications now rather than at the next tick
    (after a decision or a submission); the tick still looks at every registration."""
    assert context.job_queue is not None
    context.job_queue.run_once(cast(Any, deliver_due), 0, data=registration_id, name=NOW)


async def deliver_due(context: Context) -> None:
    """Send every due notification (of the job's registration only, where it names one:
    ``trigger``), recording each outcome durably. A burst of submissions then costs a look
    at each one, not at every registration still waiting for its card to go out.

    Notifications go out in lanes, one per chat (and one for e-mail), each in order and
    all at once: a group's lane waiting for Telegram's 20 messages a minute there never
    holds up an applicant's decision. A lane still busy from an earlier run is left to it;
    a lane still running after LANE_WAIT goes on in the background while this run ends,
    so the next runs serve the other lanes."""
    running: dict[str, asyncio.Task[None]] = context.bot_data.setdefault(_LANES, {})
    lanes: dict[str, list[tuple[str, Notification]]] = {}
    job = context.job
    only = job.data if job is not None and isinstance(job.data, str) else None
    for registration_id, note in context.services.deliveries.due(only):
        lane = _lane(note)
        if lane not in running:
            lanes.setdefault(lane, []).append((registration_id, note))
    started = []
    for lane, items in lanes.items():
        task = asyncio.create_task(_deliver_lane(context, items), name=f"outbox {lane}")
        running[lane] = task
        task.add_done_callback(functools.partial(_lane_done, running, lane))
        started.append(task)
    if not started:
        return
    done, pending = await asyncio.wait(started, timeout=LANE_WAIT.total_seconds())
    for task in pending:
        task.add_done_callback(_log_failure)  # nobody awaits it any more
    for task in done:
        error = task.exception()
        if error is not None:
            raise error


def _lane(note: Notification) -> str:
    return f"chat:{note.recipient}" if note.channel is Channel.CHAT else "email"


async def _deliver_lane(context: Context, items: list[tuple[str, Notification]]) -> None:
    for registration_id, note in items:
        if not await _deliver_one(context, registration_id, note):
            return  # the rest of the lane follows it, in order, at the next run


def _lane_done(running: dict[str, asyncio.Task[None]], lane: str, task: asyncio.Task[None]) -> None:
    if running.get(lane) is task:
        del running[lane]


def _log_failure(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("outbox %s failed", task.get_name(), exc_info=task.exception())


async def _deliver_one(context: Context, registration_id: str, note: Notification) -> bool:
    """Send one notification and record what came of it; False when it could not be
    recorded now (another process holds its user: ``Deliveries.record``)."""
    services = context.services
    registration = services.registrations.get(registration_id)
    if registration is None:
        return True
    # Sent before but not recorded (the disk refused, or its user was busy elsewhere):
    # record it now, don't send it again.
    unrecorded: dict[str, int | None] = context.bot_data.setdefault(_UNRECORDED, {})
    message: Message | None = None
    outcome = Outcome("sent")
    if note.id in unrecorded:
        sent_as = unrecorded[note.id]
        recorded = services.deliveries.record(registration_id, note.id, outcome, sent_as)
        if recorded:
            unrecorded.pop(note.id)
        return recorded
    try:
        if note.channel is Channel.EMAIL:
            await _send_mail(services, registration, note)
        else:
            message = await _send_chat(context, registration, note)
    except RetryAfter as error:
        wait = error.retry_after
        outcome = Outcome("retry", wait if isinstance(wait, timedelta) else timedelta(seconds=wait))
    except Forbidden as error:
        if note.channel is Channel.CHAT and _is_staff_chat(services, note.recipient):
            log.error(
                "cannot post in the reviewers' group %s (%s): add the bot back to it; "
                "notification %s will be retried",
                note.recipient,
                error,
                note.id,
            )
            outcome = Outcome("transient", str(error))
        else:
            outcome = Outcome("blocked", str(error))
    except BadRequest as error:
        log.error("notification %s refused by Telegram: %s", note.id, error)
        outcome = Outcome("permanent", str(error))
    except (NetworkError, TelegramError, MailError) as error:
        outcome = Outcome("transient", str(error))
    message_id = message.message_id if message is not None else None
    recorded = False
    try:
        recorded = services.deliveries.record(registration_id, note.id, outcome, message_id)
    finally:
        if not recorded and outcome.kind == "sent":
            unrecorded[note.id] = message_id  # a message sent is not sent again
    return recorded


def _is_staff_chat(services: Services, recipient: str) -> bool:
    """Whether a chat notification goes to the reviewers' group rather than to a user."""
    admin_chat = services.settings.ADMIN_CHAT_ID
    return admin_chat is not None and recipient == str(admin_chat)


async def _send_chat(
    context: Context, registration: Registration, note: Notification
) -> Message | None:
    chat_id = int(note.recipient)
    if note.template == "card":
        text, buttons = card(context.services, registration)
        return await context.bot.send_message(chat_id, text, reply_markup=buttons)
    if note.template.startswith("document-"):
        return await _send_document(context, registration, note, chat_id)
    return await _send_decision(context, registration, note, chat_id)


async def _send_decision(
    context: Context, registration: Registration, note: Notification, chat_id: int
) -> Message:
    services = context.services
    locale = account_locale(services, registration.user_id)
    texts = services.texts
    # An approved developer is pointed at the profile, and at verifying the e-mail there.
    address = registration.answers.get("admin_email")
    verify = (
        note.template == "approved"
        and services.settings.email_enabled
        and registration.email_verified_at is None
        and isinstance(address, str)
    )
    text = texts.render(
        locale,
        f"decision_{note.template}",
        registration=registration,
        email=any(
            n.channel is Channel.EMAIL and n.template == note.template for n in registration.outbox
        ),
        reasons=flagged_reasons(texts, locale, registration),
        verify=verify,
        address=address,
    )
    markup: InlineKeyboardMarkup | None = None
    if note.template == "changes_requested":
        markup = keyboards.inline(
            [[(texts.plain(locale, "button.fix_now"), f"ap:fix:{registration.id}")]]
        )
    elif note.template == "approved":
        rows = [[(texts.plain(locale, "button.profile"), "menu:profile")]]
        if verify:
            role = texts.plain(locale, f"role.{registration.role}.name")
            verify_button = texts.plain(locale, "profile.button.verify", role=role)
            rows.insert(0, [(verify_button, f"pf:verify:{registration.id}")])
        markup = keyboards.inline(rows)
    return await context.bot.send_message(chat_id, text, reply_markup=markup)


async def _send_document(
    context: Context, registration: Registration, note: Notification, chat_id: int
) -> Message | None:
    key = str(note.params.get("field"))
    value = registration.answers.get(key)
    if not isinstance(value, dict):
        return None  # replaced or skipped since: nothing to show
    services = context.services
    locale = services.settings.DEFAULT_LOCALE
    caption = services.texts.t(
        locale,
        "review.document_caption",
        id=registration.number,
        field=services.texts.plain(locale, f"field.{key}.label"),
    )
    # The card's message, known once it was sent (documents wait for it); "reply_to" is
    # how documents queued before that was so named it.
    reply_to = registration.card_message_id or note.params.get("reply_to")
    kwargs: dict[str, Any] = {"caption": caption}
    if isinstance(reply_to, int):
        kwargs["reply_to_message_id"] = reply_to
        kwargs["allow_sending_without_reply"] = True
    mime = str(value.get("mime_type", ""))
    if mime.startswith("image/") and not value.get("file_name"):
        # Sent as a photo: Telegram re-encoded it and it has no name to mislead anyone.
        return await context.bot.send_photo(chat_id, value["file_id"], **kwargs)
    # Sent as a file: uploaded again from our checked copy under a name made from the field
    # and the detected type, so "licence.pdf.exe" reaches reviewers as "licence.pdf".
    data = await asyncio.to_thread(services.uploads.read, str(value["stored_as"]))
    upload = InputFile(data, filename=documents.file_name(key, mime))
    return await context.bot.send_document(chat_id, upload, **kwargs)


async def _send_mail(services: Services, registration: Registration, note: Notification) -> None:
    if services.mailer is None:
        raise MailError("e-mail is not configured")
    locale = account_locale(services, registration.user_id)
    texts = services.texts
    reasons = [
        (texts.plain(locale, f"field.{key}.label"), reason_text(texts, locale, value, plain=True))
        for key, value in registration.flagged.items()
    ]
    params = {
        "registration": registration,
        "reasons": reasons,
        "params": note.params,
        "support": services.settings.SUPPORT_EMAIL,
    }
    await services.mailer.send(
        Mail(
            to=note.recipient,
            subject=texts.plain(locale, f"mail.{note.template}.subject", id=registration.number),
            text=texts.render_mail(locale, note.template, "txt", **params),
            html=texts.render_mail(locale, note.template, "html", **params),
            # In the Message-ID the recipient sees: the number, not the id (a user id).
            reference=note.id.replace(registration.id, registration.number, 1),
        )
    )
