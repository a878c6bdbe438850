"""Before the form: the applicant binds their phone, accepts the agreement and chooses a
role (or picks which of their registrations to continue). Diagram: applicant.mmd."""

from __future__ import annotations

from telegram import ReplyKeyboardRemove, Update

from bot.rules import form, validators
from bot.rules.models import Role
from bot.services.registrations import RoleTaken
from conversations import keyboards
from conversations.applicant import prompts
from conversations.applicant.prompts import State
from conversations.common import Context, acknowledge, callback_parts, locale_of, reply


# -- phone -------------------------------------------------------------------------------
async def on_contact(update: Update, context: Context) -> State | int:
    """A shared contact: accepted only when it is the sender's own."""
    message = update.effective_message
    user = update.effective_user
    assert message is not None and message.contact is not None and user is not None
    locale = locale_of(update, context)
    texts = context.services.texts
    if message.contact.user_id != user.id:
        return await prompts.ask_phone(update, context, texts.t(locale, "error.contact.not_yours"))
    return await _bind_phone(update, context, message.contact.phone_number)


async def on_phone_text(update: Update, context: Context) -> State | int:
    """A typed mobile number."""
    message = update.effective_message
    assert message is not None and message.text is not None
    return await _bind_phone(update, context, message.text)


async def _bind_phone(update: Update, context: Context, number: str) -> State | int:
    user = update.effective_user
    assert user is not None
    locale = locale_of(update, context)
    texts = context.services.texts
    try:
        account = context.services.accounts.bind_phone(user.id, number)
    except validators.Invalid as error:
        return await prompts.ask_phone(update, context, prompts.error_text(context, locale, error))
    assert account.phone is not None
    await reply(
        update,
        texts.t(locale, "misc.phone_saved", phone=form.mask(account.phone)),
        ReplyKeyboardRemove(),
    )
    return await prompts.resume(update, context)


# -- agreement ---------------------------------------------------------------------------
async def on_agreement_page(update: Update, context: Context) -> State:
    """Turn a page of the agreement."""
    await acknowledge(update, context)
    parts = callback_parts(update)
    page = int(parts[2]) if len(parts) == 3 and parts[2].isdigit() else 0
    return await prompts.show_agreement(update, context, page)


async def on_agree(update: Update, context: Context) -> State | int:
    """Record acceptance of the version shown (an outdated page is shown anew)."""
    user = update.effective_user
    assert user is not None
    parts = callback_parts(update)
    locale = locale_of(update, context)
    texts = context.services.texts
    version = context.services.agreement_version
    if len(parts) != 3 or parts[2] != version:
        await acknowledge(update, context, texts.plain(locale, "misc.stale_button"))
        return await prompts.show_agreement(update, context, 0, updated=True)
    context.services.accounts.accept_agreement(user.id, version)
    await acknowledge(update, context)
    await reply(update, texts.t(locale, "misc.agreement_accepted", version=version))
    return await prompts.resume(update, context)


async def on_decline(update: Update, context: Context) -> State:
    """Registration needs the agreement: explain, and offer to read it again."""
    await acknowledge(update, context)
    locale = locale_of(update, context)
    texts = context.services.texts
    await reply(
        update,
        texts.render(locale, "agreement_declined"),
        keyboards.inline([[(texts.plain(locale, "button.read_again"), "ap:agr:0")]]),
    )
    return State.AGREEMENT


# -- role --------------------------------------------------------------------------------
async def on_role(update: Update, context: Context) -> State | int:
    """A role was picked: show what it means and ask to confirm (it cannot change)."""
    await acknowledge(update, context)
    parts = callback_parts(update)
    user = update.effective_user
    assert user is not None
    locale = locale_of(update, context)
    texts = context.services.texts
    try:
        role = Role(parts[2])
    except (IndexError, ValueError):
        return await prompts.show_roles(update, context, texts.t(locale, "misc.stale_button"))
    if role not in context.services.registrations.available_roles(user.id):
        return await prompts.show_roles(update, context, texts.t(locale, "error.role.taken"))
    await reply(
        update,
        texts.render(locale, "role_confirm", role=role.value),
        keyboards.inline(
            [
                [(texts.plain(locale, "button.confirm_role"), f"ap:role_ok:{role}")],
                [(texts.plain(locale, "button.other_role"), "ap:roles")],
            ]
        ),
    )
    return State.ROLE


async def on_roles(update: Update, context: Context) -> State | int:
    """Back to the list of roles."""
    await acknowledge(update, context)
    return await prompts.show_roles(update, context)


async def on_role_confirmed(update: Update, context: Context) -> State | int:
    """Open the registration for the confirmed role and ask the first field."""
    await acknowledge(update, context)
    parts = callback_parts(update)
    user = update.effective_user
    assert user is not None
    locale = locale_of(update, context)
    texts = context.services.texts
    try:
        role = Role(parts[2])
        registration = context.services.registrations.start(user.id, role)
    except (IndexError, ValueError):
        return await prompts.show_roles(update, context, texts.t(locale, "misc.stale_button"))
    except RoleTaken:
        return await prompts.show_roles(update, context, texts.t(locale, "error.role.taken"))
    prompts.choose(context, registration)
    return await prompts.ask(update, context, registration)


async def on_choose(update: Update, context: Context) -> State | int:
    """Work on one registration: "continue" one of several unfinished ones, or "Fix it now"
    under a change request (which then walks exactly the flagged fields)."""
    await acknowledge(update, context)
    parts = callback_parts(update)
    user = update.effective_user
    assert user is not None
    service = context.services.registrations
    registration = service.get(parts[2]) if len(parts) == 3 else None
    if registration is None or registration not in service.editable(user.id):
        stale = context.services.texts.t(locale_of(update, context), "misc.stale_button")
        return await prompts.resume(update, context, stale)
    prompts.choose(context, registration)
    return await prompts.resume(update, context)
