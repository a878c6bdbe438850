"""Writing an entry: ``/faq_add`` (guided, part by part, each asked with ForceReply), ``/faq_edit``,
a new entry from a gap; the preview as users get it, save, cancel; ``/faq_cancel``."""

from __future__ import annotations

from typing import Any

from markupsafe import Markup
from telegram import ForceReply, Message, Update

from bot.services.faq_book import Entry, FaqError
from bot.services.faq_drafts import PARTS, Draft, Invalid, Prompt
from bot.settings import LOCALES
from conversations import faq, keyboards
from conversations.common import Context, callback_parts
from conversations.faq_desk import shared

#: Short codes for the parts in callback data (``fq:p:<draft>:<code>``).
CODES = {"topic.zh": "tz", "topic.en": "te", "questions.zh": "qz", "questions.en": "qe"}
CODES |= {"answer.zh": "az", "answer.en": "ae"}
PART_OF = {code: part for part, code in CODES.items()}


# -- drafts: /faq_add, /faq_edit, the parts, the preview, save ----------------------------
async def add(update: Update, context: Context) -> None:
    """/faq_add: a new entry, asked part by part."""
    turn = shared.turn_of(update, context)
    if await _unfinished(update, context, "a"):
        return
    draft = context.services.faq.drafts.start_new(turn.user_id)
    await turn.reply(turn.t("faq_desk.started_new"))
    await _next(update, context, draft)


async def edit(update: Update, context: Context) -> None:
    """/faq_edit KEY: the entry as users get it, with a button for each part."""
    turn = shared.turn_of(update, context)
    key = await shared.named_key(turn, context, "edit")
    if key is not None:
        await _edit(update, context, key)


async def _edit(update: Update, context: Context, key: str) -> None:
    turn = shared.turn_of(update, context)
    entry = await shared.live_entry(turn, key)
    if entry is None:
        return
    if await _unfinished(update, context, f"e.{key}"):
        return
    draft = context.services.faq.drafts.start_edit(turn.user_id, entry)
    await _preview(update, context, draft)


async def _unfinished(update: Update, context: Context, wanted: str) -> bool:
    """When the agent has a draft open, ask before dropping it: True when asked (the new
    draft waits for the answer). Asking for the same edit again just continues it."""
    turn = shared.turn_of(update, context)
    draft = context.services.faq.drafts.get(turn.user_id)
    if draft is None:
        return False
    if wanted == f"e.{draft.key}":
        await _next(update, context, draft)
        return True
    what = (
        turn.t("faq_desk.what_edit", entry=draft.key)
        if draft.key is not None
        else turn.t("faq_desk.what_new")
    )
    buttons = [
        [(turn.button("continue"), f"fq:go:{draft.id}")],
        [(turn.button("start_new"), f"fq:new:{wanted}")],
    ]
    await turn.acknowledge()
    await turn.reply(turn.t("faq_desk.resume", what=what), keyboards.inline(buttons))
    return True


async def on_continue(update: Update, context: Context) -> None:
    """ "Continue the draft": the next question, or the preview when all is there."""
    turn = shared.turn_of(update, context)
    draft = await _own_draft(update, context)
    if draft is not None:
        await turn.acknowledge()
        await _next(update, context, draft)


async def on_start_new(update: Update, context: Context) -> None:
    """ "Drop it, start the new one": the draft goes, what the agent asked for begins."""
    turn = shared.turn_of(update, context)
    await turn.acknowledge()
    parts = callback_parts(update)
    wanted = ":".join(parts[2:])
    desk = context.services.faq
    desk.drafts.discard(turn.user_id)
    if wanted == "a":
        await add(update, context)
    elif wanted.startswith("e."):
        await _edit(update, context, wanted.removeprefix("e."))
    elif wanted.startswith("g.") and wanted[2:].isdigit():
        await from_gap(update, context, int(wanted[2:]))


async def _next(update: Update, context: Context, draft: Draft) -> None:
    """Ask for the next missing part, or show the preview when none is missing."""
    if draft.pending:
        await _ask(update, context, draft, draft.pending[0])
    else:
        await _preview(update, context, draft)


async def _ask(
    update: Update, context: Context, draft: Draft, part: str, problem: str | None = None
) -> None:
    """Ask for one part, as a question the agent replies to (ForceReply, aimed at them)."""
    turn = shared.turn_of(update, context)
    user = update.effective_user
    assert user is not None
    name, locale = part.split(".")
    value = draft.value(part)
    params: dict[str, Any] = {
        "mention": Markup('<a href="tg://user?id={}">{}</a>').format(user.id, user.full_name),
        "language": shared.language_name(turn, locale),
        "written_in": locale,  # the example is one in the language asked for
        "step": None if draft.editing else PARTS.index(part) + 1,
        "steps": len(PARTS),
        "problem": problem,
    }
    if name == "questions":
        params["current"] = "\n".join(value) if isinstance(value, list) else ""
    else:
        params["current"] = bool(value)
    text = turn.t(f"faq_desk.ask.{name}", **params)
    force = ForceReply(selective=True, input_field_placeholder=turn.button("placeholder"))
    message = update.effective_message
    quote = message.message_id if update.callback_query is None and message else None
    asked = await turn.reply(text, force, quote=quote)
    if asked is not None:
        context.services.faq.drafts.asked(
            user.id, asked.message_id, Prompt(draft=draft.id, part=part)
        )


def _draft_entry(context: Context, draft: Draft) -> Entry:
    """The draft as an entry, to render it as users would get it (an edited shipped entry
    keeps its templates for the parts nobody typed)."""
    current = context.services.faq.book.get(draft.key) if draft.key is not None else None
    return Entry(
        key=draft.key or "new",
        shipped=current is not None and current.shipped,
        **draft.content.model_dump(),
    )


async def _preview(update: Update, context: Context, draft: Draft) -> None:
    """The answer in each language exactly as users get it, then the draft's card with a
    button per part, Save and Cancel."""
    turn = shared.turn_of(update, context)
    services = context.services
    texts = services.texts
    entry = _draft_entry(context, draft)
    email = services.settings.SUPPORT_EMAIL
    for locale in LOCALES:
        body = texts.render(
            locale,
            "faq_answer",
            title=faq.title(texts, locale, entry),
            answer=faq.answer(texts, locale, entry, email),
        )
        label = turn.t("faq_desk.preview_label", language=shared.language_name(turn, locale))
        await turn.reply(
            turn.render("faq_preview", label=label, body=body),
        )
    card = turn.render(
        "faq_draft",
        key=draft.key,
        gap=draft.gap,
        titles=[(shared.language_name(turn, loc), faq.title(texts, loc, entry)) for loc in LOCALES],
        wordings=[
            (shared.language_name(turn, loc), entry.questions.get(loc, [])) for loc in LOCALES
        ],
    )
    rows = [
        [
            (
                turn.button(f"part_{name}", language=shared.language_name(turn, loc)),
                f"fq:p:{draft.id}:{CODES[f'{name}.{loc}']}",
            )
            for loc in LOCALES
        ]
        for name in ("topic", "questions", "answer")
    ]
    rows.append(
        [
            (turn.button("save"), f"fq:save:{draft.id}"),
            (turn.button("cancel"), f"fq:drop:{draft.id}"),
        ]
    )
    await turn.reply(card, keyboards.inline(rows))


async def _own_draft(update: Update, context: Context) -> Draft | None:
    """The agent's draft named by the button, or None (and the agent told it is closed)."""
    turn = shared.turn_of(update, context)
    parts = callback_parts(update)
    draft = context.services.faq.drafts.get(turn.user_id)
    if draft is None or len(parts) < 3 or parts[2] != draft.id:
        await turn.acknowledge(turn.button("draft_gone"), alert=True)
        return None
    return draft


async def on_part(update: Update, context: Context) -> None:
    """A part's button on the card: ask for it again."""
    turn = shared.turn_of(update, context)
    draft = await _own_draft(update, context)
    parts = callback_parts(update)
    if draft is None or len(parts) != 4 or parts[3] not in PART_OF:
        return
    await turn.acknowledge()
    draft = context.services.faq.drafts.ask(draft, PART_OF[parts[3]])
    await _next(update, context, draft)


async def on_part_reply(update: Update, context: Context, prompt: Prompt, message: Message) -> None:
    """The agent's reply to the question for a part of their draft."""
    turn = shared.turn_of(update, context)
    desk = context.services.faq
    draft = desk.drafts.get(turn.user_id)
    if draft is None or draft.id != prompt.draft or prompt.part is None:
        await turn.reply(turn.t("faq_desk.stale_prompt"), quote=message.message_id)
        return
    if not message.text:
        await _ask(update, context, draft, prompt.part, problem=turn.t("faq_desk.text_only"))
        return
    try:
        draft = desk.drafts.fill(draft, prompt.part, message.text)
    except Invalid as invalid:
        problem = turn.t(f"faq_desk.invalid.{invalid.code}", **invalid.params)
        await _ask(update, context, draft, prompt.part, problem=problem)
        return
    await _next(update, context, draft)


async def on_save(update: Update, context: Context) -> None:
    """Save: publish the entry at once, close the gap it came from."""
    turn = shared.turn_of(update, context)
    draft = await _own_draft(update, context)
    if draft is None:
        return
    texts = context.services.texts
    try:
        saved = context.services.faq.save(draft.agent)
    except FaqError as error:
        await shared.show_error(turn, error)
        return
    await turn.acknowledge()
    await shared.drop_buttons(update)
    shown = faq.title(texts, turn.locale, saved.entry)
    done = "saved_new" if saved.added else "saved_edit"
    await turn.reply(turn.t(f"faq_desk.{done}", entry=saved.entry.key, title=shown))
    if saved.gap is not None:
        await turn.reply(turn.t("faq_desk.gap_linked", gap=saved.gap.id, entry=saved.entry.key))


async def on_drop(update: Update, context: Context) -> None:
    """Cancel on the card: the draft goes, nothing changes."""
    turn = shared.turn_of(update, context)
    draft = await _own_draft(update, context)
    if draft is None:
        return
    context.services.faq.drafts.discard(draft.agent)
    await turn.acknowledge()
    await shared.drop_buttons(update)
    await turn.reply(turn.t("faq_desk.cancelled"))


async def cancel(update: Update, context: Context) -> None:
    """/faq_cancel: drop the draft being written."""
    turn = shared.turn_of(update, context)
    drafts = context.services.faq.drafts
    agent = turn.user_id
    if drafts.get(agent) is None:
        await turn.reply(turn.t("faq_desk.error.no_draft"))
        return
    drafts.discard(agent)
    await turn.reply(turn.t("faq_desk.cancelled"))


async def from_gap(update: Update, context: Context, gap_id: int) -> None:
    """A new draft whose wordings start with a gap's questions."""
    turn = shared.turn_of(update, context)
    if await _unfinished(update, context, f"g.{gap_id}"):
        return
    try:
        draft = context.services.faq.start_from_gap(turn.user_id, gap_id)
    except FaqError as error:
        await shared.show_error(turn, error)
        return
    await turn.acknowledge()
    await turn.reply(turn.t("faq_desk.started_gap", gap=gap_id))
    await _next(update, context, draft)
