"""Random interleavings of applicants, reviewers, the outbox and restarts, checked after
every step (a hypothesis ``RuleBasedStateMachine`` over the whole bot and the offline kit).

Three applicants answer (validly, invalidly, with stickers, files, commands and old buttons);
two reviewers and an outsider claim, release, approve, reject and request changes, in the
reviewers' group and elsewhere; the outbox runs, time passes, the bot restarts. After each
step: every registration has one status, reached by allowed transitions only; every decision
has exactly one chat notification, and each sent one reached the chat exactly once; e-mail
addresses and administrator ids are unique and their index agrees with the answers; stored
answers are valid; a registration changes only when its applicant or a reviewer acts on it,
and a restart changes nothing; no handler or job raised.

No fault is injected here (``test_faults.py`` does that), so an error reaching the error
handler is a bug: the kit re-raises it and the step fails. No SMTP server either, so there
is no e-mail channel to count.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import tempfile
from collections import Counter
from collections.abc import Coroutine
from pathlib import Path
from typing import Any, TypeVar

import pytest
from conftest import ADMIN_CHAT, REVIEWERS, BotHarness, Clock, make_settings
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
    run_state_machine_as_test,
)
from journey import JPEG, PDF, PNG, Applicant, resident_id, submit
from test_faults import errors_expected

from bot import factory
from bot.offline import Person
from bot.offline.records import BotMessage
from bot.rules import form
from bot.rules.form import Kind
from bot.rules.models import AuditEvent, Delivery, Registration, Role, Status
from bot.rules.status import EDITABLE, TRANSITIONS, WAITING, Action
from bot.services.registrations import RegistrationService
from bot.texts import Texts
from conversations.applicant import prompts
from storage import atomic
from storage.tinydb_store import INDEXED_STATUSES, status_dir

T = TypeVar("T")

APPLICANTS = (7101, 7102, 7103)
LANGUAGES = {7101: "en", 7102: "zh", 7103: "en"}
OUTSIDER = 7109  # neither applicant nor reviewer
ACTORS = (*REVIEWERS, OUTSIDER)
ELSEWHERE = -1003000  # a group that is not the reviewers'
CHATS = (ADMIN_CHAT, ADMIN_CHAT, ELSEWHERE)
ROLES = (Role.ISV, Role.PARTNER)
#: Unique values come from small pools shared by everyone, so they collide (an address in
#: other letter case is the same address).
EMAILS = ("dev1@example.com", "DEV1@example.com", "dev2@example.com", "dev3@example.com")
ADMIN_IDS = ("admin_1", "ADMIN_1", "admin_2", "admin_3")
#: Names applicants give, and change to.
NAMES = {"zh": ("张伟", "王芳"), "en": ("Wei Zhang", "Fang Wang")}
#: What people type whatever the bot asks: answers to other steps, HTML, commands.
JUNK = (
    "Tom123",
    "<b>x</b> & <script>",
    "x" * 300,
    "张伟",
    "Wei Zhang",
    "13912345678",
    "dev2@example.com",
    "91350100M000100Y43",
    "/status",
    "/help",
    "/cancel",
    "/start",
    "/apply",
    "/language",
    "/frobnicate",
    "/queue",
    "/approve 7101-isv",
)
#: Audit actions that move a registration, as actions of the status machine.
MOVES = {
    "submitted": Action.SUBMIT,
    "claimed": Action.CLAIM,
    "released": Action.RELEASE,
    "approved": Action.APPROVE,
    "changes_requested": Action.REQUEST_CHANGES,
    "removed": Action.REMOVE,
}
#: Each decision's message to the applicant, recognised by its first character.
DECISIONS = {"approved": "🎉", "changes_requested": "✏️", "removed": "⛔"}


class NoSync:
    """``os`` for ``storage.atomic`` without fsync (the writes and renames are real)."""

    def fsync(self, fd: int) -> None:
        pass

    def __getattr__(self, name: str) -> Any:
        return getattr(os, name)


def callbacks(message: BotMessage) -> list[str]:
    """The callback data of a message's inline buttons."""
    return [str(b["callback_data"]) for row in message.rows for b in row if "callback_data" in b]


def mine(uid: int) -> set[str]:
    """The registrations an applicant can have."""
    return {Registration.make_id(uid, role) for role in ROLES}


class BotMachine(RuleBasedStateMachine):
    """The whole bot on a fresh DATA_DIR, driven by people in random order."""

    def __init__(self) -> None:
        super().__init__()
        self.tmp = Path(tempfile.mkdtemp(prefix="stateful-"))
        self.loop = asyncio.new_event_loop()
        self.h = BotHarness(make_settings(self.tmp / "data"), Clock())
        self.kit = self.h.kit
        self.kit.group(ELSEWHERE, "Elsewhere")
        self.people = {uid: self.kit.user(uid, language_code=LANGUAGES[uid]) for uid in APPLICANTS}
        self.actors = {uid: self.kit.user(uid, language_code="zh") for uid in ACTORS}
        self.answers = {uid: Applicant(uid, LANGUAGES[uid] == "zh").answers for uid in APPLICANTS}
        #: What each registration held after the last step (status, answers, flags, round,
        #: cursor), and which registrations the current step may change (None: any).
        self.seen: dict[str, tuple[Any, ...]] = {}
        self.touching: set[str] | None = set()
        self._view: tuple[list[Registration], dict[str, list[AuditEvent]]] | None = None
        self.run(self._start())

    async def _start(self, restart: bool = False) -> None:
        await (self.h.restart() if restart else self.h.start())
        # Errors are collected, not re-raised, so known bugs can be told from new ones.
        self.kit.raise_errors = False

    def run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        """Run a step's coroutine, then let the jobs it started (the outbox) finish."""
        self._view = None
        try:
            return self.loop.run_until_complete(coroutine)
        finally:
            self.loop.run_until_complete(self._settle())

    async def _settle(self) -> None:
        for _ in range(5):
            await asyncio.sleep(0)
        lanes = self.h.app.bot_data.get("outbox_lanes", {}) if self.h.app is not None else {}
        if lanes:  # deliveries under way finish first
            await asyncio.wait(list(lanes.values()))

    def teardown(self) -> None:
        try:
            self.loop.run_until_complete(self.h.stop())
        finally:
            self.loop.close()
            shutil.rmtree(self.tmp, ignore_errors=True)

    # -- reading the bot's state -----------------------------------------------------------
    def stored(self) -> list[Registration]:
        """Every registration, read now."""
        return list(self.h.store.registrations.all())

    def view(self) -> tuple[list[Registration], dict[str, list[AuditEvent]]]:
        """Registrations and their audit trails after the last step (read once per step)."""
        if self._view is None:
            registrations = self.stored()
            audit = self.h.store.audit
            self._view = registrations, {r.id: audit.for_subject(r.id) for r in registrations}
        return self._view

    def active(self, uid: int) -> Registration | None:
        """The registration the applicant is filling in, as the bot picks it."""
        editable: list[Registration] = self.h.services.registrations.editable(uid)
        chosen = self.h.app.user_data.get(uid, {}).get("active")
        for registration in editable:
            if registration.id == chosen:
                return registration
        return editable[0] if len(editable) == 1 else None

    def target(self, n: int) -> str:
        """A registration waiting for review when there is one (even n), else any stored
        one (drafts, decided ones), else one that does not exist."""
        registrations = self.stored()
        waiting = sorted(r.id for r in registrations if r.status in WAITING)
        known = sorted(r.id for r in registrations)
        pool = waiting if waiting and n % 2 == 0 else known
        return pool[n // 2 % len(pool)] if pool else Registration.make_id(7101, Role.ISV)

    def card(self, registration_id: str) -> int:
        """The card's message id (the card a reviewer presses), or an id of nothing."""
        stored = self.h.store.registrations.get(registration_id)
        if stored is not None and stored.card_message_id is not None:
            return stored.card_message_id
        return 1

    def old_button(self, chat: int, back: int, which: int) -> tuple[str, int] | None:
        """A button of one of the bot's messages in a chat, counted from the newest."""
        pressable = [m for m in self.kit.messages(chat) if callbacks(m)]
        if not pressable:
            return None
        message = pressable[-1 - back % len(pressable)]
        data = callbacks(message)
        return data[which % len(data)], message.message_id

    # -- what people do --------------------------------------------------------------------
    async def _answer(self, person: Person, registration: Registration, pick: int) -> None:
        """A valid answer to the field asked (unique values from the shared pools), often
        a different one than before: a new ID type or name invalidates what depends on it."""
        key = registration.cursor
        assert key is not None
        field = form.FIELDS[key]
        answers = registration.answers
        if field.kind is Kind.CHOICE:
            choice = field.choices[pick % len(field.choices)]
            await person.press_data(f"ap:choice:{key}:{choice}", self.kit.last(person).message_id)
        elif key.endswith("_id_number") and answers.get(key.replace("number", "type")) == "other":
            await person.send(f"E{person.id:05d}{pick % 1000:03d}")
        elif key.endswith("_id_number"):
            await person.send(resident_id(person.id + pick % 3 + (500 if "admin" in key else 0)))
        elif key in ("legal_name", "admin_name"):
            await person.send(NAMES[LANGUAGES[person.id]][pick % 2])
        elif key == "licence_legal_rep":
            await person.send(str(answers.get("legal_name", self.answers[person.id][key])))
        elif key == "licence":
            await person.upload(PDF, file_name="licence.pdf", mime_type="application/pdf")
        elif field.kind is Kind.DOCUMENT:
            # The back is another picture than the front (one photo is refused for both).
            await person.upload(PNG if key == "legal_id_back" else JPEG, as_photo=True)
        elif key == "admin_email":
            await person.send(EMAILS[pick % len(EMAILS)])
        elif key == "admin_account_id":
            await person.send(ADMIN_IDS[pick % len(ADMIN_IDS)])
        else:
            await person.send(self.answers[person.id][key])

    async def _proceed(self, person: Person, pick: int) -> None:
        """Do the right next thing: answer the field asked, or what /apply asks for."""
        state = self.h.store.kv.get("ptb.conv.applicant", f"{person.id},{person.id}")
        registration = self.active(person.id)
        if state == "form" and registration is not None and registration.cursor is not None:
            await self._answer(person, registration, pick)
            return
        asked = (await person.send("/apply"))[-1]
        data = callbacks(asked)
        account = self.h.store.accounts.get(person.id)
        version = self.h.services.agreement_version
        if account is None or account.phone is None:
            await person.share_contact()
        elif account.agreement_version != version:
            await person.press_data(f"ap:agree:{version}", asked.message_id)
        elif continuing := [d for d in data if d.startswith("ap:cont:")]:
            await person.press_data(continuing[pick % len(continuing)], asked.message_id)
        elif submitting := [d for d in data if d.startswith("ap:submit:")]:
            await person.press_data(submitting[0], asked.message_id)
        elif offer := [d for d in data if d.startswith(("ap:reuse:", "ap:fresh:"))]:
            # A second registration: start from the first one's answers, or fresh.
            await person.press_data(offer[pick % len(offer)], asked.message_id)
        elif roles := [d for d in data if d in {f"ap:role:{r.value}" for r in ROLES}]:
            role = roles[pick % len(roles)].split(":")[2]
            shown = await person.press_data(f"ap:role:{role}", asked.message_id)
            await person.press_data(f"ap:role_ok:{role}", shown[-1].message_id)
        elif (registration := self.active(person.id)) is not None and registration.cursor:
            await self._answer(person, registration, pick)

    async def _request_changes(
        self, reviewer: Person, registration_id: str, chat: int, field: int, reason: int
    ) -> None:
        """Request changes as a reviewer does, each press on the message the bot just
        showed: Request changes, a field, Next, a reason, Send (stopping when refused)."""
        steps = [
            (f"rv:changes:{registration_id}", "rv:f:"),
            (f"rv:f:{registration_id}:{field}", "rv:next:"),
            (f"rv:next:{registration_id}", "rv:r:"),
            (f"rv:r:{registration_id}:0:{reason}", "rv:send:"),
            (f"rv:send:{registration_id}", None),
        ]
        message_id = self.card(registration_id)
        for data, expected in steps:
            shown = await reviewer.press_data(data, message_id, chat)
            if expected is None:
                return
            following = [m for m in shown if any(d.startswith(expected) for d in callbacks(m))]
            if not following:
                return
            message_id = following[-1].message_id

    def _head_start(self, uid: int, ahead: str) -> None:
        """Phone, agreement and the answers up to the administrator's e-mail ("form"), or
        every answer and the submission ("submitted"), stored through the services exactly as
        the bot stores them: the form through Telegram takes most of an example's steps
        (``completes_the_form`` still walks it)."""
        services = self.h.services
        services.accounts.ensure(uid, language_code=LANGUAGES[uid])
        services.accounts.bind_phone(uid, self.people[uid].phone_number)
        services.accounts.accept_agreement(uid, services.agreement_version)
        registration = services.registrations.start(uid, Role.ISV)
        n = APPLICANTS.index(uid)
        own = {"admin_email": f"dev{n + 1}@example.com", "admin_account_id": f"admin_{n + 1}"}
        while registration.cursor is not None and (
            ahead == "submitted" or registration.cursor != "admin_email"
        ):
            key = registration.cursor
            field = form.FIELDS[key]
            if field.kind is Kind.DOCUMENT:
                pdf = key == "licence"
                data, mime = (PDF, "application/pdf") if pdf else (JPEG, "image/jpeg")
                if key == "legal_id_back":
                    data, mime = PNG, "image/png"  # another picture than the front
                file_id, unique_id = self.kit.api.add_file(data, mime_type=mime)
                document = services.uploads.accept(
                    data, owner=uid, file_id=file_id, file_unique_id=unique_id, file_name=None
                )
                registration = services.registrations.answer_document(
                    registration.id, key, document
                )
            else:
                value = "resident" if field.kind is Kind.CHOICE else self.answers[uid][key]
                value = own.get(key, value)
                registration = services.registrations.answer_text(registration.id, key, value)
        if ahead == "submitted":
            services.registrations.submit(registration.id)

    # -- start -----------------------------------------------------------------------------
    @initialize(
        head_starts=st.tuples(*[st.sampled_from(["none", "form", "submitted"])] * len(APPLICANTS))
    )
    def applicants_arrive(self, head_starts: tuple[str, ...]) -> None:
        """Some applicants start from nothing, others have most of the form done or have
        submitted already."""
        self._view = None
        for uid, ahead in zip(APPLICANTS, head_starts, strict=True):
            if ahead != "none":
                self._head_start(uid, ahead)

    # -- applicants ------------------------------------------------------------------------
    @rule(uid=st.sampled_from(APPLICANTS), pick=st.integers(0, 7))
    def proceed(self, uid: int, pick: int) -> None:
        """An applicant does what the bot asks next (phone, agreement, role, the field,
        submit), unique values drawn from pools shared by everyone."""
        self.touching = mine(uid)
        self.run(self._proceed(self.people[uid], pick))

    @rule(uid=st.sampled_from(APPLICANTS), pick=st.integers(0, 7))
    def completes_the_form(self, uid: int, pick: int) -> None:
        """An applicant goes on until submitted, or stuck (e.g. every address they try is
        taken), trying the next pooled value after each refusal."""
        self.touching = mine(uid)

        async def walk() -> None:
            stuck = 0
            for step in range(40):
                before = self.stored()
                await self._proceed(self.people[uid], pick + step)
                after = self.stored()
                mine = [r for r in after if r.user_id == uid]
                if mine and not any(r.status in EDITABLE for r in mine):
                    return
                stuck = stuck + 1 if before == after else 0
                if stuck > 4:
                    return

        self.run(walk())

    @rule(
        uid=st.sampled_from(APPLICANTS),
        field=st.integers(0, len(form.fields_for(Role.ISV)) - 1),
        pick=st.integers(0, 7),
    )
    def changes_an_answer(self, uid: int, field: int, pick: int) -> None:
        """From the summary (a draft's, or after a change request's flagged fields), the
        applicant edits any answer and gives another value; the walk goes on from there."""
        registration = self.active(uid)
        if registration is None or registration.cursor is not None:
            return
        self.touching = mine(uid)
        person = self.people[uid]
        key = form.fields_for(registration.role)[field].key

        async def change() -> None:
            await person.press_data(f"ap:edit:{key}", self.kit.last(person).message_id)
            edited = self.active(uid)
            if edited is not None and edited.cursor == key:
                await self._answer(person, edited, pick)

        self.run(change())

    @rule(uid=st.sampled_from(APPLICANTS), text=st.sampled_from(JUNK))
    def types(self, uid: int, text: str) -> None:
        """An applicant types something the step may not expect (answers, HTML, commands,
        a reviewer's command)."""
        self.touching = mine(uid)
        self.run(self.people[uid].send(text))

    @rule(uid=st.sampled_from(APPLICANTS), kind=st.sampled_from(["sticker", "text file", "photo"]))
    def sends_something_else(self, uid: int, kind: str) -> None:
        """A sticker, a file the form refuses, or a photo, wherever the applicant is."""
        self.touching = mine(uid)
        person = self.people[uid]
        if kind == "sticker":
            self.run(person.send_sticker())
        elif kind == "text file":
            self.run(person.upload(b"just some notes", file_name="notes.txt"))
        else:
            self.run(person.upload(JPEG, as_photo=True))

    @rule(uid=st.sampled_from(APPLICANTS), back=st.integers(0, 30), which=st.integers(0, 30))
    def presses_a_button(self, uid: int, back: int, which: int) -> None:
        """An applicant presses a button of the newest message or of an old one (stale)."""
        self.touching = mine(uid)
        found = self.old_button(uid, back, which)
        if found is not None:
            self.run(self.people[uid].press_data(*found))

    # -- reviewers (and an outsider, and the wrong group) ------------------------------------
    @rule(
        who=st.sampled_from(ACTORS),
        nth=st.integers(0, 7),
        chat=st.sampled_from(CHATS),
        release=st.booleans(),
    )
    def claims_or_releases(self, who: int, nth: int, chat: int, release: bool) -> None:
        """Claim or Release on a registration's card."""
        registration_id = self.target(nth)
        self.touching = {registration_id}
        action = "release" if release else "claim"
        data = f"rv:{action}:{registration_id}"
        self.run(self.actors[who].press_data(data, self.card(registration_id), chat))

    @rule(who=st.sampled_from(ACTORS), nth=st.integers(0, 7), chat=st.sampled_from(CHATS))
    def approves(self, who: int, nth: int, chat: int) -> None:
        """Approve on a registration's card."""
        registration_id = self.target(nth)
        self.touching = {registration_id}
        data = f"rv:approve:{registration_id}"
        self.run(self.actors[who].press_data(data, self.card(registration_id), chat))
        # The confirmation's second tap, for the round the reviewer was shown.
        stored = self.h.store.registrations.get(registration_id)
        seen = stored.round if stored is not None else 0
        confirm = f"rv:apok:{registration_id}:{seen}"
        self.run(self.actors[who].press_data(confirm, self.card(registration_id), chat))

    @rule(who=st.sampled_from(ACTORS), nth=st.integers(0, 7), chat=st.sampled_from(CHATS))
    def rejects(self, who: int, nth: int, chat: int) -> None:
        """/reject with a reason."""
        registration_id = self.target(nth)
        self.touching = {registration_id}
        self.run(self.actors[who].send(f"/reject {registration_id} 资料不全", chat))

    @rule(
        who=st.sampled_from(ACTORS),
        nth=st.integers(0, 7),
        chat=st.sampled_from(CHATS),
        field=st.integers(0, 15),
        reason=st.integers(0, 9),
    )
    def requests_changes(self, who: int, nth: int, chat: int, field: int, reason: int) -> None:
        """Request changes on one field with a catalogue reason."""
        registration_id = self.target(nth)
        self.touching = {registration_id}
        reviewer = self.actors[who]
        self.run(self._request_changes(reviewer, registration_id, chat, field, reason))

    @rule(
        who=st.sampled_from(ACTORS),
        back=st.integers(0, 30),
        which=st.integers(0, 30),
        chat=st.sampled_from([ADMIN_CHAT, ELSEWHERE]),
    )
    def presses_a_reviewers_button(self, who: int, back: int, which: int, chat: int) -> None:
        """Any button of the reviewers' group, new or old, pressed there or elsewhere."""
        self.touching = None
        found = self.old_button(ADMIN_CHAT, back, which)
        if found is not None:
            self.run(self.actors[who].press_data(found[0], found[1], chat))

    @rule(
        who=st.sampled_from(ACTORS),
        command=st.sampled_from(["/queue", "/review", "/history", "/find dev", "/release"]),
        nth=st.integers(0, 7),
        chat=st.sampled_from([ADMIN_CHAT, ELSEWHERE]),
    )
    def reviewer_command(self, who: int, command: str, nth: int, chat: int) -> None:
        """Reviewers' commands, by anyone, anywhere."""
        registration_id = self.target(nth)
        self.touching = {registration_id}
        self.run(self.actors[who].send(f"{command} {registration_id}", chat))

    # -- the system ------------------------------------------------------------------------
    @rule()
    def outbox_runs(self) -> None:
        """The outbox delivers everything due."""
        self.touching = set()
        self.run(self.h.deliver())

    @rule(minutes=st.sampled_from([1, 30, 150]))
    def time_passes(self, minutes: int) -> None:
        """Time passes (a claim lapses after two hours)."""
        self.touching = set()
        self._view = None
        self.h.clock.advance(minutes=minutes)

    @rule()
    def restart(self) -> None:
        """The process restarts on the same DATA_DIR."""
        self.touching = set()
        self.run(self._start(restart=True))

    # -- invariants ------------------------------------------------------------------------
    @invariant()
    def nothing_raised(self) -> None:
        assert self.kit.errors == [], f"handlers or jobs raised: {self.kit.errors}"
        assert self.h.app.running

    @invariant()
    def one_status_each_reached_by_allowed_transitions(self) -> None:
        registrations, trails = self.view()
        for registration in registrations:
            events = trails[registration.id]
            assert events and events[0].action == "created"
            status = Status.DRAFT
            for event in events:
                action = MOVES.get(event.action)
                if action is None or (action is Action.CLAIM and status is Status.IN_REVIEW):
                    continue  # not a move, or a lapsed claim taken again
                allowed = TRANSITIONS.get(status, {})
                assert action in allowed, f"{registration.id}: {action} in {status}"
                status = allowed[action]
            assert registration.status is status, f"{registration.id}: {events}"
        # The status indexes list each registration once, under its status.
        for indexed in INDEXED_STATUSES:
            folder = status_dir(self.h.settings.DATA_DIR, indexed)
            marked = {p.name for p in folder.iterdir()} if folder.exists() else set()
            assert marked == {r.id for r in registrations if r.status is indexed}, indexed

    @invariant()
    def each_decision_notified_once(self) -> None:
        registrations, trails = self.view()
        for registration in registrations:
            events = Counter(e.action for e in trails[registration.id])
            notes = Counter((n.template, n.channel.value) for n in registration.outbox)
            assert notes["card", "chat"] == events["submitted"] == registration.round
            assert not any(channel == "email" for _, channel in notes)
            # Messages name a registration by its public number, never by its id.
            told = [
                m for m in self.kit.messages(registration.user_id) if registration.number in m.text
            ]
            for kind, mark in DECISIONS.items():
                assert notes[kind, "chat"] == events[kind], f"{registration.id}: {kind}"
                sent = [
                    n.message_id
                    for n in registration.outbox
                    if n.template == kind and n.state is Delivery.SENT
                ]
                shown = [m.message_id for m in told if m.text.startswith(mark)]
                assert Counter(shown) == Counter(sent), f"{registration.id}: {kind} {shown}"

    @invariant()
    def unique_values_are_unique_and_indexed(self) -> None:
        registrations, _ = self.view()
        for kind, key in (("email", "admin_email"), ("admin_id", "admin_account_id")):
            held: dict[str, str] = {}
            for registration in registrations:
                value = registration.answers.get(key)
                if isinstance(value, str):
                    normal = value.strip().casefold()
                    assert normal not in held, f"{value}: {held.get(normal)}, {registration.id}"
                    held[normal] = registration.id
            folder = self.h.settings.DATA_DIR / "unique" / kind
            claims = [json.loads(p.read_bytes()) for p in sorted(folder.glob("*.json"))]
            assert {c["value"]: c["owner"] for c in claims} == held, kind

    @invariant()
    def every_field_asked_belongs_to_the_walk_shown(self) -> None:
        """No dead end: the field an applicant is asked is a step of their walk."""
        registrations, _ = self.view()
        for registration in registrations:
            key = registration.cursor
            if key is not None and registration.status in EDITABLE:
                assert key in RegistrationService.sequence(registration), (
                    registration.id,
                    key,
                    registration.walk,
                )

    @invariant()
    def stored_answers_are_valid(self) -> None:
        registrations, _ = self.view()
        for registration in registrations:
            for key, value in registration.answers.items():
                # An answer waiting to be confirmed again may no longer hold (a licence
                # representative after a new legal name): it is asked before submission.
                if key in registration.recheck:
                    assert registration.status in EDITABLE, registration.id
                    continue
                validate = form.FIELDS[key].validate
                if validate is not None and isinstance(value, str):
                    validate(value, registration.answers, registration.role)

    @invariant()
    def only_those_acting_change_a_registration(self) -> None:
        registrations, _ = self.view()
        now = {r.id: (r.status, r.answers, r.flagged, r.round, r.cursor) for r in registrations}
        for registration_id, before in self.seen.items():
            assert registration_id in now, f"{registration_id} disappeared"
            if self.touching is not None and registration_id not in self.touching:
                assert now[registration_id] == before, f"{registration_id} changed"
        self.seen = now


@pytest.mark.slow
def test_random_interleavings_keep_every_invariant(monkeypatch: pytest.MonkeyPatch) -> None:
    """Hypothesis drives the machine: 25 runs of up to 30 steps, each on a fresh bot."""
    texts = Texts()  # the templates are read once, not at every start and restart
    monkeypatch.setattr(factory, "Texts", lambda: texts)
    # No fsync: surviving power loss is test_crash.py's business; this is about logic.
    monkeypatch.setattr(atomic, "os", NoSync())
    run_state_machine_as_test(
        BotMachine,
        settings=settings(
            max_examples=25,
            stateful_step_count=30,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
        ),
    )


# -- what the machine found, as examples ---------------------------------------------------
async def test_a_double_tap_on_an_agreement_page_is_harmless(
    harness: BotHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Tapping "Next »" twice before the page turns (the second tap arrives with the old
    message) shows page 2 once, with no error."""
    monkeypatch.setattr(prompts, "PAGE_CHARS", 600)
    user = harness.kit.user(7201, language_code="en")
    await user.send("/apply")
    page = (await user.press("Share my phone number"))[-1]
    data = page.callback_data("Next »")
    with errors_expected(harness.kit) as errors:
        await user.press_data(data, page.message_id)
        await user.press_data(data, page.message_id)
    assert errors == []
    assert not any("went wrong" in m.text for m in user.messages())


async def test_ticking_a_field_again_after_cancelling_is_harmless(harness: BotHarness) -> None:
    """A reviewer ticks a field, cancels, then ticks the same field on the same picker:
    the picker shows it ticked, with no error."""
    await submit(harness, 7202)
    reviewer = harness.kit.user(REVIEWERS[0], language_code="zh")
    group = harness.admin_group
    picker = (await reviewer.press("要求修改", chat=group))[-1]
    tick = picker.callback_data("企业描述")
    with errors_expected(harness.kit) as errors:
        await reviewer.press_data(tick, picker.message_id, group)
        await reviewer.press("取消", chat=group)
        await reviewer.press_data(tick, picker.message_id, group)
    assert errors == []
    [shown] = [m for m in group.messages() if m.message_id == picker.message_id]
    assert shown.has_button("✅ 企业描述")
