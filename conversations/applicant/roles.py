"""The roles step of the applicant conversation: the roles offered, a picked role shown to
confirm, and the offer to reuse the answers of the account's other registration."""

from __future__ import annotations

from bot.rules import form, reuse
from bot.rules.models import Registration, Role
from conversations import keyboards
from conversations.applicant.state import END, State, moving_to
from conversations.common import Turn

#: user_data: the role picked and shown for confirmation, not confirmed yet.
PENDING_ROLE = "role_pending"
#: user_data: the confirmed role whose registration waits for the answer to "reuse the
#: answers of your other registration?" (the draft is opened with that answer).
REUSE_OFFERED = "reuse_offered"


def pending_role(turn: Turn) -> Role | None:
    """The role waiting for confirmation, while it may still be registered."""
    data = turn.context.user_data or {}
    try:
        role = Role(data.get(PENDING_ROLE, ""))
    except ValueError:
        return None
    return role if role in turn.services.registrations.available_roles(turn.user_id) else None


async def show_role(turn: Turn, role: Role, notice: str | None = None) -> State:
    """A picked role with what it means, to confirm (it cannot change) or choose another;
    it stays waiting for confirmation, whatever comes in between."""
    if turn.context.user_data is not None:
        turn.context.user_data[PENDING_ROLE] = role.value
        turn.context.user_data.pop(REUSE_OFFERED, None)
    await moving_to(turn, State.ROLE)
    await turn.reply(
        turn.render("role_confirm", role=role.value, notice=notice),
        keyboards.inline(
            [
                [(turn.plain("button.confirm_role"), f"ap:role_ok:{role}")],
                [(turn.plain("button.other_role"), "ap:roles")],
            ]
        ),
    )
    return State.ROLE


def reuse_offered(turn: Turn, role: Role) -> Registration | None:
    """The registration whose answers were offered to the confirmed ``role``, while the
    applicant has not answered the offer (and it can still be made)."""
    data = turn.context.user_data or {}
    if data.get(REUSE_OFFERED) != role.value:
        return None
    return turn.services.registrations.reuse_source(turn.user_id)


async def show_reuse(
    turn: Turn, role: Role, source: Registration, notice: str | None = None
) -> State:
    """Offer the answers of the account's other registration to the confirmed role: reuse
    them (each checked again) or start fresh; it waits for the answer, whatever comes."""
    if turn.context.user_data is not None:
        turn.context.user_data[PENDING_ROLE] = role.value
        turn.context.user_data[REUSE_OFFERED] = role.value
    kept_out = reuse.kept_out(role)
    await moving_to(turn, State.ROLE)
    await turn.reply(
        turn.render(
            "reuse_offer",
            role=role.value,
            source_role=source.role.value,
            source_status=source.status.value,
            kept_out=kept_out,
            documents=bool(reuse.documents_of(source)),
            identity=any(form.FIELDS[key].roles is not None for key in kept_out),
            notice=notice,
        ),
        keyboards.inline(
            [
                [(turn.plain("button.reuse"), f"ap:reuse:{role}")],
                [(turn.plain("button.fresh"), f"ap:fresh:{role}")],
            ]
        ),
    )
    return State.ROLE


def reused_notice(turn: Turn, registration: Registration, source: Registration) -> str:
    """What a registration started from ``source`` took over, and what is left to answer."""
    waiting = turn.services.registrations.waiting(registration)
    return turn.t(
        "misc.reused",
        count=len(registration.answers),
        role=turn.plain(f"role.{source.role}.name"),
        fields=[turn.plain(f"field.{key}.label") for key in waiting],
    )


async def show_roles(turn: Turn, notice: str | None = None) -> State | int:
    if turn.context.user_data is not None:
        turn.context.user_data.pop(PENDING_ROLE, None)
        turn.context.user_data.pop(REUSE_OFFERED, None)
    service = turn.services.registrations
    editable = service.editable(turn.user_id)
    available = service.available_roles(turn.user_id)
    if not editable and not available:
        await turn.reply(turn.t("misc.all_roles_taken"))
        return END
    rows = [
        [
            (
                turn.plain("button.continue_role", role=turn.plain(f"role.{r.role}.name")),
                f"ap:cont:{r.id}",
            )
        ]
        for r in editable
    ]
    rows += keyboards.pairs(
        [(turn.plain(f"role.{role}.name"), f"ap:role:{role}") for role in available]
    )
    await moving_to(turn, State.ROLE)
    await turn.reply(
        turn.render(
            "roles",
            roles=list(Role),
            available=available,
            states={r.role.value: r.status.value for r in service.of_user(turn.user_id)},
            notice=notice,
            continuing=bool(editable),
        ),
        keyboards.inline(rows),
    )
    return State.ROLE
