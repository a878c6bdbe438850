"""The FAQ desk in the support chat: support agents curate the FAQ and answer tickets with
its entries. Diagram: ``faq_desk.mmd`` in this package.

- ``/faq_list``: every entry with its key, title and this month's answers (and votes);
- ``/faq_add``: a new entry, guided: the title, the wordings and the answer, each in 中文
  and English, then a preview of the answer as users get it, to save or to correct;
- ``/faq_edit KEY``: the same preview of an entry, with a button per part to change;
- ``/faq_remove KEY``: after a confirmation;
- ``/faq_gaps``: questions the FAQ did not answer, grouped, most asked first, each with
  "new entry from it", "an entry answers it" and "dismiss";
- ``/answer KEY`` in reply to a ticket message: that entry's answer to the user, in their
  language (``/answer`` alone suggests entries for the message replied to);
- ``/faq_cancel``: drop the draft being written.

Only agents in the support chat act (``support.agents``: one filter for every command and
reply here, the same check for every button); anyone else gets ``support.refuse``.

In a group the bot sees only commands and replies to its own messages (privacy mode), so
each part of a draft is asked with ForceReply and the agent replies to the question; the
draft and the questions asked are kept in storage, so a restart mid-way loses nothing.
Changes apply at once: the next user question is matched against the new FAQ.
"""

from __future__ import annotations

from telegram import Message, Update
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, MessageHandler, filters

from conversations import support
from conversations.common import Context, Services, callback_parts
from conversations.faq_desk import answers, drafts, entries, gaps, shared

#: The agents' commands, in menu order (``/close`` is the tickets', listed with them).
COMMANDS = ("faq_list", "faq_add", "faq_edit", "faq_remove", "faq_gaps", "faq_cancel", "answer")
MENU = (*COMMANDS, "close")


# -- access and wiring --------------------------------------------------------------------
_BUTTONS: dict[str, shared.Handler] = {
    "ls": entries.list_entries,
    "go": drafts.on_continue,
    "new": drafts.on_start_new,
    "p": drafts.on_part,
    "save": drafts.on_save,
    "drop": drafts.on_drop,
    "rm": entries.on_remove,
    "keep": entries.on_keep,
    "gn": gaps.on_gap_new,
    "gt": gaps.on_gap_teach,
    "gd": gaps.on_gap_dismiss,
    "ans": answers.on_send_entry,
}


async def on_reply(update: Update, context: Context) -> None:
    """An agent's reply to one of the bot's questions: a part of their draft, or the key of
    the entry that answers a gap."""
    turn = shared.turn_of(update, context)
    message = update.message
    if message is None or message.reply_to_message is None:
        return  # an edited reply: the first version was taken
    agent = turn.user_id
    prompt = context.services.faq.drafts.prompt(agent, message.reply_to_message.message_id)
    if prompt is None:
        return
    if prompt.gap is not None:
        await gaps.teach(update, context, prompt.gap, message)
        return
    await drafts.on_part_reply(update, context, prompt, message)


async def on_button(update: Update, context: Context) -> None:
    """Every button of the desk: checked once for chat and agent, then dispatched."""
    turn = shared.turn_of(update, context)
    if not support.is_agent(update, context.services.settings):
        await support.refuse(update, context)
        return
    parts = callback_parts(update)
    handler = _BUTTONS.get(parts[1]) if len(parts) >= 3 else None
    if handler is None:
        await turn.acknowledge(turn.button("draft_gone"), alert=True)
        return
    await handler(update, context)


class _RepliesToPrompt(filters.MessageFilter):
    """Replies to a question the bot asked this agent (looked up in storage, so a question
    asked before a restart still counts); other replies are left to other handlers."""

    def __init__(self, services: Services) -> None:
        super().__init__(name="RepliesToFaqPrompt")
        self._services = services

    def filter(self, message: Message) -> bool:
        """Whether the message replies to one of the sender's open questions."""
        target, user = message.reply_to_message, message.from_user
        if target is None or user is None:
            return False
        return self._services.faq.drafts.prompt(user.id, target.message_id) is not None


def register(application: Application, services: Services) -> None:  # type: ignore[type-arg]
    """The agents' commands, replies and buttons behind ``support.agents``; the same
    commands from anyone else, in any group, are refused."""
    if services.settings.SUPPORT_CHAT_ID is None:
        return
    staff = support.agents(services.settings)
    commands: dict[str, shared.Handler] = {
        "faq_list": entries.list_entries,
        "faq_add": drafts.add,
        "faq_edit": drafts.edit,
        "faq_remove": entries.remove,
        "faq_gaps": gaps.gaps,
        "faq_cancel": drafts.cancel,
        "answer": answers.answer,
    }
    for name, callback in commands.items():
        application.add_handler(CommandHandler(name, callback, filters=staff))
    application.add_handler(
        MessageHandler(
            staff & filters.REPLY & ~filters.COMMAND & _RepliesToPrompt(services), on_reply
        )
    )
    application.add_handler(CallbackQueryHandler(on_button, pattern=r"^fq:"))
    application.add_handler(
        CommandHandler(list(COMMANDS), support.refuse, filters=~filters.ChatType.PRIVATE)
    )
