"""``/faq_gaps``: what users asked that the FAQ did not answer, grouped, most asked first, each
with "new entry from it", "an entry answers it" and "dismiss"."""

from __future__ import annotations

from markupsafe import Markup
from telegram import ForceReply, Message, Update

from bot.services.faq_book import FaqError
from bot.services.faq_drafts import Prompt
from bot.services.faq_gaps import GapStatus
from conversations import faq, keyboards
from conversations.common import Context, callback_parts
from conversations.faq_desk import drafts, shared

GAPS_SHOWN = 10


# -- /faq_gaps ----------------------------------------------------------------------------
async def gaps(update: Update, context: Context) -> None:
    """/faq_gaps: the most asked unanswered questions, grouped, with what to do."""
    turn = shared.turn_of(update, context)
    services = context.services
    found = services.faq.gaps.open_gaps()
    shown = found[:GAPS_SHOWN]
    staff = turn.locale
    titles = {e.key: faq.title_plain(services.texts, staff, e) for e in services.faq.book.entries()}
    text = turn.render("faq_gaps", gaps=shown, total=len(found), titles=titles)
    rows = [
        [
            (turn.button("gap_new", gap=g.id), f"fq:gn:{g.id}"),
            (turn.button("gap_teach", gap=g.id), f"fq:gt:{g.id}"),
            (turn.button("gap_dismiss", gap=g.id), f"fq:gd:{g.id}"),
        ]
        for g in shown
    ]
    await turn.reply(text, keyboards.inline(rows) if rows else None)


async def on_gap_new(update: Update, context: Context) -> None:
    """ "New entry" on a gap: a draft whose wordings start with the gap's questions."""
    parts = callback_parts(update)
    if len(parts) == 3 and parts[2].isdigit():
        await drafts.from_gap(update, context, int(parts[2]))


async def on_gap_teach(update: Update, context: Context) -> None:
    """ "An entry answers it" on a gap: ask which one (the agent replies with its key)."""
    turn = shared.turn_of(update, context)
    parts = callback_parts(update)
    gap = context.services.faq.gaps.get(int(parts[2])) if parts[2].isdigit() else None
    if gap is None or gap.status is not GapStatus.OPEN:
        await shared.show_error(turn, FaqError("gap_closed", gap=parts[2]))
        return
    await turn.acknowledge()
    user = update.effective_user
    assert user is not None
    mention = Markup('<a href="tg://user?id={}">{}</a>').format(user.id, user.full_name)
    force = ForceReply(selective=True, input_field_placeholder=turn.button("placeholder_key"))
    text = turn.t("faq_desk.ask.teach", mention=mention, gap=gap.id, text=gap.text)
    asked = await turn.reply(text, force)
    if asked is not None:
        context.services.faq.drafts.asked(user.id, asked.message_id, Prompt(gap=gap.id))


async def teach(update: Update, context: Context, gap_id: int, message: Message) -> None:
    """The agent named the entry answering a gap: its questions become that entry's."""
    turn = shared.turn_of(update, context)
    key = (message.text or "").strip().casefold().removeprefix("/").split(" ")[0]
    try:
        entry, _ = context.services.faq.teach(gap_id, key, turn.user_id)
    except FaqError as error:
        await shared.show_error(turn, error)
        return
    shown = faq.title(context.services.texts, turn.locale, entry)
    await turn.reply(turn.t("faq_desk.taught", gap=gap_id, entry=entry.key, title=shown))


async def on_gap_dismiss(update: Update, context: Context) -> None:
    """ "Dismiss" on a gap: it needs no entry (small talk, another service)."""
    turn = shared.turn_of(update, context)
    parts = callback_parts(update)
    try:
        if not parts[2].isdigit():
            raise FaqError("gap_closed", gap=parts[2])
        gap = context.services.faq.dismiss(int(parts[2]), turn.user_id)
    except FaqError as error:
        await shared.show_error(turn, error)
        return
    await turn.acknowledge()
    await turn.reply(turn.t("faq_desk.gap_dismissed", gap=gap.id))
