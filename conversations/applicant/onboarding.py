"""Before the form: the applicant binds their phone, accepts the agreement and chooses a
role (or picks which of their registrations to continue); a second registration may start
from the answers of the account's other one. Diagram: ``applicant.mmd`` in this package."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from telegram import ReplyKeyboardRemove, Update

from bot.rules import form, reuse, validators
from bot.rules.models import Document, Registration, Role
from bot.services.registrations import RoleTaken
from conversations import keyboards
from conversations.applicant import prompts, roles
from conversations.applicant.state import State
from conversations.common import Context, Turn, callback_parts


# -- phone -------------------------------------------------------------------------------
async def on_contact(update: Update, context: Context) -> State | int:
    """A shared contact: accepted only when it is the sender's own."""
    turn = Turn.of(update, context)
    message = update.effective_message
    user = update.effective_user
    assert message is not None and message.contact is not None and user is not None
    if message.contact.user_id != user.id:
        return await prompts.ask_phone(turn, turn.t("error.contact.not_yours"))
    return await _bind_phone(turn, message.contact.phone_number)


async def on_phone_text(update: Update, context: Context) -> State | int:
    """A typed mobile number."""
    message = update.effective_message
    assert message is not None and message.text is not None
    return await _bind_phone(Turn.of(update, context), message.text)


async def _bind_phone(turn: Turn, number: str) -> State | int:
    try:
        account = turn.services.accounts.bind_phone(turn.user_id, number)
    except validators.Invalid as error:
        return await prompts.ask_phone(turn, prompts.error_text(turn, error))
    assert account.phone is not None
    await turn.reply(
        turn.t("misc.phone_saved", phone=form.mask(account.phone)),
        ReplyKeyboardRemove(),
    )
    return await prompts.resume_turn(turn)


# -- agreement ---------------------------------------------------------------------------
async def on_agreement_page(update: Update, context: Context) -> State:
    """Turn a page of the agreement."""
    turn = Turn.of(update, context)
    await turn.acknowledge()
    parts = callback_parts(update)
    page = int(parts[2]) if len(parts) == 3 and parts[2].isdigit() else 0
    return await prompts.show_agreement(turn, page)


async def on_agree(update: Update, context: Context) -> State | int:
    """Record acceptance of the version shown (an outdated page is shown anew)."""
    turn = Turn.of(update, context)
    user = update.effective_user
    assert user is not None
    parts = callback_parts(update)
    version = context.services.agreement_version
    if len(parts) != 3 or parts[2] != version:
        await turn.acknowledge(turn.plain("misc.stale_button"))
        return await prompts.show_agreement(turn, 0, updated=True)
    context.services.accounts.accept_agreement(user.id, version)
    await turn.acknowledge()
    await turn.reply(turn.t("misc.agreement_accepted", version=version))
    return await prompts.resume_turn(turn)


async def on_decline(update: Update, context: Context) -> State:
    """Registration needs the agreement: explain, and offer to read it again."""
    turn = Turn.of(update, context)
    await turn.acknowledge()
    await turn.reply(
        turn.render("agreement_declined"),
        keyboards.inline([[(turn.plain("button.read_again"), "ap:agr:0")]]),
    )
    return State.AGREEMENT


# -- role --------------------------------------------------------------------------------
def _picked_role(update: Update) -> Role | None:
    """The role a button names (None for a button that names none we know)."""
    parts = callback_parts(update)
    try:
        return Role(parts[2])
    except (IndexError, ValueError):
        return None


async def on_role(update: Update, context: Context) -> State | int:
    """A role was picked: show what it means and ask to confirm (it cannot change)."""
    return await _on_role_button(update, context, roles.show_role)


async def _on_role_button(
    update: Update, context: Context, step: Callable[[Turn, Role], Awaitable[State | int]]
) -> State | int:
    """A button naming a role: ``step`` with it; the roles anew, saying why, when the
    button names none we know (an old one) or the applicant already holds that role."""
    turn = Turn.of(update, context)
    await turn.acknowledge()
    role = _picked_role(update)
    if role is None:
        return await roles.show_roles(turn, turn.t("misc.stale_button"))
    if role not in context.services.registrations.available_roles(turn.user_id):
        return await roles.show_roles(turn, turn.t("error.role.taken"))
    return await step(turn, role)


async def on_roles(update: Update, context: Context) -> State | int:
    """Back to the list of roles."""
    turn = Turn.of(update, context)
    await turn.acknowledge()
    return await roles.show_roles(turn)


async def on_role_confirmed(update: Update, context: Context) -> State | int:
    """Open the registration for the confirmed role and ask the first field; when another
    registration of the account holds answers it could start from, offer them first."""
    return await _on_role_button(update, context, _confirmed)


async def _confirmed(turn: Turn, role: Role) -> State | int:
    source = turn.services.registrations.reuse_source(turn.user_id)
    if source is not None:
        return await roles.show_reuse(turn, role, source)
    return await _open_registration(turn, role)


async def on_reuse(update: Update, context: Context) -> State | int:
    """The answer to the offer: reuse the other registration's answers (each checked again,
    its documents copied) or start fresh with an empty form."""
    if callback_parts(update)[1] == "reuse":
        return await _on_role_button(update, context, _reusing)
    return await _on_role_button(update, context, _open_registration)


async def _reusing(turn: Turn, role: Role) -> State | int:
    source = turn.services.registrations.reuse_source(turn.user_id)
    return await _open_registration(turn, role, source)


async def _open_registration(
    turn: Turn, role: Role, source: Registration | None = None
) -> State | int:
    """Open the draft (from ``source``'s answers, when given) and ask what comes next."""
    documents = await _copied_documents(turn, source) if source is not None else {}
    try:
        registration = turn.services.registrations.start(turn.user_id, role, source, documents)
    except RoleTaken:  # the service checks again, should another update have taken it
        return await roles.show_roles(turn, turn.t("error.role.taken"))
    prompts.choose(turn.context, registration)
    if turn.context.user_data is not None:
        turn.context.user_data.pop(roles.PENDING_ROLE, None)
        turn.context.user_data.pop(roles.REUSE_OFFERED, None)
    notice = roles.reused_notice(turn, registration, source) if source is not None else None
    return await prompts.ask(turn, registration, notice)


async def _copied_documents(
    turn: Turn, source: Registration
) -> dict[str, Document | validators.Invalid]:
    """``source``'s documents checked again and copied for a new registration (or why one
    cannot be); parsing files is CPU, so it runs off the event loop."""
    uploads = turn.services.uploads

    def copy(document: dict[str, Any]) -> Document | validators.Invalid:
        try:
            return uploads.copy(document, owner=source.user_id)
        except validators.Invalid as error:
            return error

    found = reuse.documents_of(source)
    return await asyncio.to_thread(lambda: {key: copy(doc) for key, doc in found.items()})


async def on_choose(update: Update, context: Context) -> State | int:
    """Work on one registration: "continue" one of several unfinished ones, or "Fix it now"
    under a change request (which then walks exactly the flagged fields)."""
    turn = Turn.of(update, context)
    await turn.acknowledge()
    parts = callback_parts(update)
    user = update.effective_user
    assert user is not None
    service = context.services.registrations
    registration = service.get(parts[2]) if len(parts) == 3 else None
    if registration is None or registration not in service.editable(user.id):
        return await prompts.resume_turn(turn, turn.t("misc.stale_button"))
    prompts.choose(context, registration)
    return await prompts.resume_turn(turn)
