"""The user's own data, in a private chat: /mydata sends everything stored about them as a
JSON document; /delete removes registration drafts after a confirmation, and explains why
submitted registrations are kept."""

from __future__ import annotations

import io
import json

from telegram import Update
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, filters

from bot.rules.models import Role
from conversations import keyboards
from conversations.common import Context, acknowledge, callback_parts, locale_of, reply

EXPORT_NAME = "mydata.json"

PRIVATE = filters.ChatType.PRIVATE


async def export(update: Update, context: Context) -> None:
    """/mydata: everything stored about the user, as one JSON document."""
    user, chat = update.effective_user, update.effective_chat
    assert user is not None and chat is not None
    locale = locale_of(update, context)
    data = context.services.privacy.export(user.id)
    document = json.dumps(data, ensure_ascii=False, indent=2).encode("utf-8")
    await chat.send_document(
        io.BytesIO(document),
        filename=EXPORT_NAME,
        caption=context.services.texts.t(locale, "mydata.caption"),
    )


async def ask_delete(update: Update, context: Context) -> None:
    """/delete: what would be deleted (drafts) and what is kept and why; asks to confirm."""
    user = update.effective_user
    assert user is not None
    locale = locale_of(update, context)
    texts = context.services.texts
    plan = context.services.privacy.plan(user.id)
    markup = None
    if plan.drafts:
        # The roles shown ride in the button, so a draft opened after this message was
        # sent is not deleted by an old confirmation.
        roles = ".".join(r.role.value for r in plan.drafts)
        markup = keyboards.inline(
            [
                [(texts.plain(locale, "button.delete_confirm"), f"my:del:{roles}")],
                [(texts.plain(locale, "button.delete_keep"), "my:keep")],
            ]
        )
    await reply(
        update, texts.render(locale, "delete_plan", drafts=plan.drafts, kept=plan.kept), markup
    )


async def on_delete(update: Update, context: Context) -> None:
    """Confirmed: delete the drafts that were shown (one submitted since then is kept)."""
    await acknowledge(update, context)
    user = update.effective_user
    assert user is not None
    locale = locale_of(update, context)
    texts = context.services.texts
    parts = callback_parts(update)
    names = parts[2].split(".") if len(parts) == 3 else []
    roles = [Role(name) for name in names if name in {r.value for r in Role}]
    deleted = context.services.privacy.delete_drafts(user.id, roles)
    if context.user_data is not None and context.user_data.get("active") in {r.id for r in deleted}:
        # The applicant form's choice of draft; it would point at nothing.
        context.user_data.pop("active")
    if not deleted:
        await reply(update, texts.t(locale, "mydata.nothing_deleted"))
        return
    await reply(update, texts.render(locale, "delete_done", deleted=deleted))


async def on_keep(update: Update, context: Context) -> None:
    """Not confirmed: nothing is deleted."""
    await acknowledge(update, context)
    locale = locale_of(update, context)
    await reply(update, context.services.texts.t(locale, "mydata.kept"))


def register(application: Application) -> None:  # type: ignore[type-arg]
    """Add /mydata, /delete and the confirmation buttons."""
    application.add_handler(CommandHandler("mydata", export, filters=PRIVATE))
    application.add_handler(CommandHandler("delete", ask_delete, filters=PRIVATE))
    application.add_handler(CallbackQueryHandler(on_delete, pattern=r"^my:del:[a-z.]+$"))
    application.add_handler(CallbackQueryHandler(on_keep, pattern=r"^my:keep$"))
