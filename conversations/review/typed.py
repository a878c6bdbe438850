"""A reviewer's typed answers (replies to the bot's questions): a reason for a field, for
"not passed" or for a removal. The applicant reads them as typed, so one written in the
other language than the applicant's is held and pointed out first: send it as it is, or
rewrite it.

The language is told by script (``bot.rules.language.written_in``: the share of Chinese
characters among the letters). The bot speaks Chinese and English, which never share a
script, so the script decides exactly where a statistical language detector is weakest
(a sentence or two), and a Chinese reason naming "PDF" stays Chinese."""

from __future__ import annotations

from telegram import Update

from bot.rules.language import written_in
from bot.services.change_requests import AwaitedAnswer, HeldAnswer
from conversations import keyboards
from conversations.common import Context, Turn, account_locale, callback_parts
from conversations.review import cards
from conversations.review.change_requests import ask_next_reason
from conversations.review.removal import ask_to_confirm_removal


async def typed_answer(update: Update, context: Context) -> None:
    """A reviewer's reply to one of our questions: held if in the other language, else used."""
    turn = cards.turn_of(update, context)
    message = update.effective_message
    assert message is not None and message.reply_to_message is not None
    asked = message.reply_to_message.message_id
    drafts = context.services.reviewer_drafts
    what = drafts.awaited(turn.user_id, asked)
    if what is None or not message.text:
        return
    drafts.answered(turn.user_id, asked)
    registration = await cards.allowed(turn, lambda: context.services.review.get(what.id))
    if registration is None:
        return
    reads = account_locale(context.services, registration.user_id)
    written = written_in(message.text)
    if written is not None and written != reads:
        held = HeldAnswer(**what.model_dump(), text=message.text)
        drafts.hold_typed(turn.user_id, held)
        await turn.reply(
            turn.t("review.language_mismatch", applicant=reads, text=message.text[:1000]),
            keyboards.inline(
                [
                    [
                        (turn.button("send_as_is"), f"rv:tyok:{what.id}"),
                        (turn.button("rewrite"), f"rv:tyre:{what.id}"),
                    ]
                ]
            ),
        )
        return
    await _use(turn, what, message.text)


async def _take_held(update: Update, context: Context) -> tuple[Turn, HeldAnswer] | None:
    """The press on a held answer's button: the answer taken (its buttons gone), or None
    after telling the reviewer the button is out of date."""
    turn = cards.turn_of(update, context)
    held = context.services.reviewer_drafts.take_typed(turn.user_id, callback_parts(update)[2])
    if held is None:
        await turn.acknowledge(turn.button("stale"), alert=True)
        return None
    await turn.acknowledge()
    await cards.strip_buttons(turn)
    return turn, held


async def send_held(update: Update, context: Context) -> None:
    """ "Send as it is": the held answer is used as typed."""
    if taken := await _take_held(update, context):
        turn, held = taken
        await _use(turn, held, held.text)


async def rewrite_held(update: Update, context: Context) -> None:
    """ "Rewrite": the held answer is dropped and the question asked again."""
    if not (taken := await _take_held(update, context)):
        return
    turn, held = taken
    what = AwaitedAnswer(action=held.action, id=held.id, field=held.field)
    await cards.await_text(turn, what, question(turn, what))


def question(turn: Turn, what: AwaitedAnswer) -> str:
    """The question a typed answer replies to."""
    if what.action == "reason":
        label = turn.plain(f"field.{what.field}.label")
        return turn.t("review.ask_reason", field=label, id=what.id)
    return turn.t(f"review.ask_{what.action}_reason", id=what.id)


async def _use(turn: Turn, what: AwaitedAnswer, text: str) -> None:
    """Take a typed answer: a removal's reason (to confirm), "not passed", a field's reason."""
    review, drafts = turn.services.review, turn.services.reviewer_drafts
    rid = what.id
    if what.action == "remove":
        await ask_to_confirm_removal(turn, rid, text)
        return
    if what.action == "reject":
        await cards.act(turn, lambda r: review.not_passed(rid, r, text), "rejected")
        return
    field = what.field
    draft = None if field is None else drafts.give_reason(turn.user_id, rid, field, text)
    if draft is None:
        await turn.reply(turn.t("review.stale"))
        return
    registration = await cards.allowed(turn, lambda: review.get(rid))
    if registration is not None:
        await ask_next_reason(turn, rid, registration.role, draft)
