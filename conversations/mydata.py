"""The user's own data, in a private chat: /mydata sends everything stored about them as a
JSON document; /delete removes registration drafts after a confirmation, and explains why
submitted registrations are kept."""

from __future__ import annotations

import json

from telegram import Update
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, filters

from bot.rules.models import Role
from conversations import keyboards
from conversations.common import Context, Turn, callback_parts

EXPORT_NAME = "mydata.json"

PRIVATE = filters.ChatType.PRIVATE


async def export(update: Update, context: Context) -> None:
    """/mydata: everything stored about the user, as one JSON document."""
    turn = Turn.of(update, context)
    data = context.services.privacy.export(turn.user_id)
    document = json.dumps(data, ensure_ascii=False, indent=2).encode("utf-8")
    await turn.send_document(document, EXPORT_NAME, turn.t("mydata.caption"))


async def ask_delete(update: Update, context: Context) -> None:
    """/delete: what would be deleted (drafts) and what is kept and why; asks to confirm."""
    turn = Turn.of(update, context)
    plan = context.services.privacy.plan(turn.user_id)
    markup = None
    if plan.drafts:
        # The roles shown ride in the button, so a draft opened after this message was
        # sent is not deleted by an old confirmation.
        roles = ".".join(r.role.value for r in plan.drafts)
        markup = keyboards.inline(
            [
                [(turn.plain("button.delete_confirm"), f"my:del:{roles}")],
                [(turn.plain("button.delete_keep"), "my:keep")],
            ]
        )
    await turn.reply(turn.render("delete_plan", drafts=plan.drafts, kept=plan.kept), markup)


async def on_delete(update: Update, context: Context) -> None:
    """Confirmed: delete the drafts that were shown (one submitted since then is kept)."""
    turn = Turn.of(update, context)
    await turn.acknowledge()
    parts = callback_parts(update)
    names = parts[2].split(".") if len(parts) == 3 else []
    roles = [Role(name) for name in names if name in {r.value for r in Role}]
    deleted = context.services.privacy.delete_drafts(turn.user_id, roles)
    if context.user_data is not None and context.user_data.get("active") in {r.id for r in deleted}:
        # The applicant form's choice of draft; it would point at nothing.
        context.user_data.pop("active")
    if not deleted:
        await turn.reply(turn.t("mydata.nothing_deleted"))
        return
    await turn.reply(turn.render("delete_done", deleted=deleted))


async def on_keep(update: Update, context: Context) -> None:
    """Not confirmed: nothing is deleted."""
    turn = Turn.of(update, context)
    await turn.acknowledge()
    await turn.reply(turn.t("mydata.kept"))


def register(application: Application) -> None:  # type: ignore[type-arg]
    """Add /mydata, /delete and the confirmation buttons."""
    application.add_handler(CommandHandler("mydata", export, filters=PRIVATE))
    application.add_handler(CommandHandler("delete", ask_delete, filters=PRIVATE))
    application.add_handler(CallbackQueryHandler(on_delete, pattern=r"^my:del:[a-z.]+$"))
    application.add_handler(CallbackQueryHandler(on_keep, pattern=r"^my:keep$"))
