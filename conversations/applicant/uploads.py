"""Uploads for the form's document fields: photos and files are downloaded, checked by
content, stored by hash, and an album gets one answer for all of its items."""

from __future__ import annotations

import asyncio
import logging
from typing import Any, cast

from telegram import Document as TgDocument
from telegram import Message, PhotoSize, Update
from telegram.error import TelegramError

from bot.rules import documents, form, validators
from bot.rules.form import Kind
from bot.rules.models import Document, Registration
from bot.services.registrations import AlreadyAnswered
from bot.telegram_html import MAX_DOWNLOAD
from conversations.applicant import prompts
from conversations.applicant.state import State
from conversations.common import Context, Turn

log = logging.getLogger(__name__)


async def on_document(update: Update, context: Context) -> State | int:
    """A photo or document for the current field; albums get one answer for all items."""
    turn = Turn.of(update, context)
    message = update.effective_message
    assert message is not None
    registration = prompts.active(turn)
    if registration is None or registration.cursor is None:
        return await prompts.resume_turn(turn)
    if registration.already_answered(message.message_id):
        # Handed over again after a restart (see on_text): not downloaded, not stored again.
        return await prompts.resume_turn(turn)
    key = registration.cursor
    field = form.FIELDS[key]
    outcome: str
    if field.kind is not Kind.DOCUMENT:
        # A button or a typed answer is asked: say which, and download nothing.
        outcome = prompts.expected_answer(turn, field)
    else:
        try:
            outcome, registration = await _answer(turn, message, registration, key)
        except AlreadyAnswered:
            return await prompts.resume_turn(turn)
    if message.media_group_id is not None:
        return _collect_album_item(turn, message.media_group_id, outcome, registration)
    return await prompts.ask(turn, registration, outcome)


async def _answer(
    turn: Turn, message: Message, registration: Registration, key: str
) -> tuple[str, Registration]:
    """Download and store the upload as the answer to ``key``: what to tell the applicant,
    and the registration as it now stands (``AlreadyAnswered`` as the service raises it)."""
    try:
        doc = await _download(message, turn.context, registration.user_id)
        registration = turn.services.registrations.answer_document(
            registration.id, key, doc, message.message_id
        )
        return turn.t("misc.file_saved", field=turn.plain(f"field.{key}.label")), registration
    except validators.Invalid as error:
        if error.code == "document.bad_type" and form.FIELDS[key].images_only:
            error = validators.Invalid("document.not_image")  # not "… or PDF" at a photo step
        return prompts.error_text(turn, error), registration
    except TelegramError:
        log.warning("download failed for a document of %s", registration.id, exc_info=True)
        return turn.t("error.document.download"), registration


async def _download(message: Message, context: Context, owner: int) -> Document:
    """Fetch, check and store an upload of user ``owner``; raises ``validators.Invalid`` for
    what we refuse."""
    name: str | None = None
    declared: str | None = "image/jpeg"  # Telegram re-encodes photos as JPEG
    if message.photo:
        upload: PhotoSize | TgDocument = message.photo[-1]  # the largest size
    elif message.document is not None:
        upload = message.document
        name, declared = message.document.file_name, message.document.mime_type
    else:
        raise validators.Invalid("document.bad_type")
    file_id, unique_id, size = upload.file_id, upload.file_unique_id, upload.file_size
    if size is not None and size > MAX_DOWNLOAD:
        raise validators.Invalid("document.too_big")
    if not documents.declared_ok(declared):
        raise validators.Invalid("document.bad_type")
    telegram_file = await context.bot.get_file(file_id)
    if telegram_file.file_size is not None and telegram_file.file_size > MAX_DOWNLOAD:
        raise validators.Invalid("document.too_big")
    data = bytes(await telegram_file.download_as_bytearray())
    accept = context.services.uploads.accept
    return await asyncio.to_thread(  # parsing the file is CPU: off the event loop
        lambda: accept(data, owner=owner, file_id=file_id, file_unique_id=unique_id, file_name=name)
    )


def _collect_album_item(
    turn: Turn, group_id: str, outcome: str, registration: Registration
) -> State:
    """Keep the outcome of one album item; a job answers once the album has arrived."""
    context = turn.context
    albums: dict[str, list[str]] = context.bot_data.setdefault("albums", {})
    albums.setdefault(group_id, []).append(outcome)
    job_queue = context.job_queue
    assert job_queue is not None
    name = f"album:{group_id}"
    for job in job_queue.get_jobs_by_name(name):
        job.schedule_removal()
    job_queue.run_once(
        cast(Any, _answer_album),  # JobQueue is not generic over our Context subclass
        context.services.album_wait,
        name=name,
        chat_id=turn.chat_id,
        user_id=registration.user_id,
        data={"group": group_id, "registration": registration.id, "locale": turn.locale},
    )
    return State.SUMMARY if registration.cursor is None else State.FORM


async def _answer_album(context: Context) -> None:
    """One answer for a whole album: what each item did, then the next prompt."""
    job = context.job
    assert job is not None and isinstance(job.data, dict) and job.chat_id is not None
    data: dict[str, Any] = job.data
    outcomes = context.bot_data.get("albums", {}).pop(data["group"], [])
    registration = context.services.registrations.get(data["registration"])
    if registration is None:
        return
    # The prompt goes to the chat the album came from, as a direct answer would.
    turn = Turn.in_chat(context, job.chat_id, registration.user_id, data["locale"])
    # The same outcome for every item (a step that takes no file, a refused type) is said
    # once, not numbered per item.
    same = len(set(outcomes)) == 1
    notice = outcomes[0] if same else turn.render("album", outcomes=outcomes)
    await prompts.ask(turn, registration, notice)
