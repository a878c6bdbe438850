"""The parts of the bot-process crash test (test_bot_crash.py) that know the journey: what
applicants type, which step a bot message asks for, the applicants themselves, the bot as a
child process, and what the server's record witnesses of the outbox."""

from __future__ import annotations

import asyncio
import hashlib
import os
import re
import signal
import subprocess
import sys
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.offline import samples
from bot.offline.http_server import BotApiServer, HttpTelegram
from bot.offline.identity import BOT_ID
from bot.offline.people import Person
from bot.offline.records import BotMessage, SentCall
from bot.offline.transport import FakeBotAPI
from bot.rules import form
from bot.rules.models import Notification, Registration, Role
from bot.rules.validators import credit_code_check_char, resident_id_check_char
from bot.settings import Settings
from bot.texts import Texts

ROOT = Path(__file__).resolve().parents[2]
TOKEN = f"{BOT_ID}:crash-test-token-00000000000000000000"
ADMIN_CHAT = -1001000
REVIEWERS = (501, 502)
ROLE = Role.ISV

KEYS = [f.key for f in form.fields_for(ROLE)]
STAGES = ["phone", "agreement", "roles", "confirm", *KEYS, "summary", "submitted"]
RANK = {stage: i for i, stage in enumerate(STAGES)}
#: The role-confirm screen is the roles step's place: /apply shows the roles again, or the
#: confirmation of a role picked before (the pick is remembered until confirmed).
STORED = {"confirm": "roles"}
STORED_RANK = {stage: i for i, stage in enumerate(s for s in STAGES if s not in STORED)}
#: The button each step is answered with.
BUTTONS = {
    "agreement": "ap:agree:",
    "roles": f"ap:role:{ROLE}",
    "confirm": f"ap:role_ok:{ROLE}",
    "legal_id_type": "ap:choice:legal_id_type:resident",
    "admin_id_type": "ap:choice:admin_id_type:resident",
    "summary": "ap:submit:",
}
#: How each file is sent: the front of the ID card as a photo, the others as documents.
UPLOADS: dict[str, dict[str, Any]] = {
    "legal_id_front": {"as_photo": True},
    "legal_id_back": {"file_name": "back.png", "mime_type": "image/png"},
    "licence": {"file_name": "licence.pdf", "mime_type": "application/pdf"},
}
TEXTS = Texts()
#: "Step k of N" as the bot words it (the applicants speak English); group 1 is k.
STEP = re.compile(
    re.escape(TEXTS.plain("en", "misc.step", step="@K@", steps="@N@"))
    .replace("@K@", r"(\d+)")
    .replace("@N@", r"\d+")
)
ERROR_TEXT = TEXTS.plain("en", "misc.error")  # the apology after a handler failed
APPROVED_TEXT = "registration is approved"  # templates/en/decision_approved.html
#: A card (zh: the group's language): the registration's public number and its company.
CARD_ID = re.compile(r"新的注册申请.*?编号：(\S+) ·.*?企业名称：([^\n]+)", re.DOTALL)

JPEG, PNG, PDF = samples.jpeg(), samples.png(), samples.pdf()  # real: the bot parses uploads


# --- what applicants type -----------------------------------------------------------------


def resident_id(sequence: int, birth: str) -> str:
    """A valid resident ID number (GB 11643)."""
    first17 = f"110105{birth}{sequence % 1000:03d}"
    return first17 + resident_id_check_char(first17)


def credit_code(serial: int) -> str:
    """A valid unified social credit code (GB 32100-2015)."""
    first17 = f"91330100MA{serial % 10**7:07d}"
    return first17 + credit_code_check_char(first17)


def answers(n: int) -> dict[str, str | bytes]:
    """Applicant n's valid English answers (as in tests/conversations/journey.py); the files
    differ per applicant and field, so a file stored in the wrong place shows."""
    tail = f"applicant {n}".encode()
    return {
        "legal_name": "Wei Zhang",
        "legal_id_type": "resident",
        "legal_id_number": resident_id(n, "19900307"),
        "legal_id_front": JPEG + b"front " + tail,
        "legal_id_back": PNG + b"back " + tail,
        "company_name": f"Test {n} Ltd",
        "credit_code": credit_code(n),
        "licence": PDF + tail,
        "business_scope": "technology development, technical consulting, software development",
        "licence_legal_rep": "Wei Zhang",
        "description": "We build order printing and shipping software for online stores.",
        "admin_name": "Na Li",
        "admin_id_type": "resident",
        "admin_id_number": resident_id(n + 500, "19851120"),
        "admin_mobile": f"1391234{n:04d}",
        "admin_email": f"dev{n}@example.com",
        "admin_account_id": f"admin_{n}",
    }


def stored_form(key: str, given: dict[str, str | bytes]) -> object:
    """What storage must hold for an answer: the validator's value, a file's sha256."""
    value = given[key]
    if isinstance(value, bytes):
        return hashlib.sha256(value).hexdigest()
    validate = form.FIELDS[key].validate
    if validate is None:  # a choice: stored as given
        return value
    texts = {k: v for k, v in given.items() if isinstance(v, str)}
    return validate(value, texts, ROLE)


def stored_value(answers: dict[str, Any], key: str) -> object:
    """An answer as stored, comparable with ``stored_form`` (a file by its sha256)."""
    value = answers.get(key)
    return value.get("sha256") if isinstance(value, dict) else value


# --- what the bot shows -------------------------------------------------------------------


def buttons(message: BotMessage) -> list[dict[str, Any]]:
    """The message's buttons, as sent."""
    return [b for row in message.rows for b in row if isinstance(b, dict)]


def stage_of(message: BotMessage) -> str | None:
    """The step a bot message asks for, or None for a notice (saved, approved, error …)."""
    sent = buttons(message)
    if any(b.get("request_contact") for b in sent):
        return "phone"
    data = [str(b.get("callback_data", "")) for b in sent]
    for stage in ("agreement", "confirm", "roles", "summary"):
        if any(d.startswith(BUTTONS[stage]) for d in data):
            return stage
    if step := STEP.search(message.text):
        return KEYS[int(step[1]) - 1]
    if message.text.startswith("✅ Submitted for review"):
        return "submitted"
    return None


def is_error(message: BotMessage) -> bool:
    """The bot's apology after a handler failed."""
    return ERROR_TEXT in message.text


def reply_after(api: FakeBotAPI, chat_id: int, mark: int) -> BotMessage | None:
    """The bot's answer in a private chat after ``mark`` (an index into ``api.sent``): the
    first prompt, or the apology when the handler failed."""
    for call in api.sent[mark:]:
        if call.method == "sendMessage":
            for message in call.messages:
                if message.chat_id == chat_id and (stage_of(message) or is_error(message)):
                    return message
    return None


def button(message: BotMessage, prefix: str) -> str:
    """The callback data of the message's button starting with ``prefix``."""
    for b in buttons(message):
        if str(b.get("callback_data", "")).startswith(prefix):
            return str(b["callback_data"])
    raise LookupError(f"no {prefix!r} button in {message.buttons}")


# --- people -------------------------------------------------------------------------------


@dataclass
class Sent:
    """An update a person sent whose answer is awaited: it comes after ``mark``."""

    stage: str  # the step it answers, or "apply"
    mark: int  # len(api.sent) when it was queued
    update_id: int


@dataclass
class Approval:
    """A reviewer's press of Approve, awaiting the bot's answer."""

    rid: str
    mark: int
    query_id: str
    number: str  # the registration's public number, which the bot's answers name


@dataclass
class Walker:
    """An applicant who answers whatever step the bot shows, with valid answers."""

    person: Person
    n: int
    joins: int  # the cycle in which the applicant first sends /apply
    approve: bool  # whether the reviewers approve this registration
    given: dict[str, str | bytes]
    stage: str | None = None  # the step on screen
    prompt: BotMessage | None = None
    acked: set[str] = field(default_factory=set)  # steps whose answer was acknowledged
    waiting: Sent | None = None
    errors: list[Sent] = field(default_factory=list)  # updates answered with an apology

    @property
    def rid(self) -> str:
        """The registration id."""
        return Registration.make_id(self.person.id, ROLE)

    @property
    def done(self) -> bool:
        """Submitted: nothing left to type."""
        return self.stage == "submitted"

    async def act(self, kit: HttpTelegram) -> None:
        """Answer the step on screen as a person would (buttons, text, uploads)."""
        stage, prompt, person = self.stage, self.prompt, self.person
        assert stage is not None and prompt is not None and not self.done
        mark = len(kit.api.sent)
        if stage == "phone":
            await person.share_contact()
        elif stage in BUTTONS:
            await person.press_data(button(prompt, BUTTONS[stage]), prompt.message_id)
        elif isinstance(data := self.given[stage], bytes):
            await person.upload(data, **UPLOADS[stage])
        else:
            await person.send(data)
        self.waiting = Sent(stage, mark, kit.last_update["update_id"])

    async def apply(self, kit: HttpTelegram) -> None:
        """Send /apply: the bot shows where the applicant stands."""
        mark = len(kit.api.sent)
        await self.person.send("/apply")
        self.waiting = Sent("apply", mark, kit.last_update["update_id"])

    def settle(self, api: FakeBotAPI) -> bool:
        """Take the bot's answer to the awaited update, if it came; True when none is awaited.
        An answer that shows a later step acknowledges the answer given."""
        sent = self.waiting
        if sent is None:
            return True
        reply = reply_after(api, self.person.id, sent.mark)
        if reply is None:
            return False
        self.waiting = None
        stage = stage_of(reply)
        if stage is None:
            self.errors.append(sent)  # the step on screen stays as it was
            return True
        if sent.stage != "apply" and RANK[stage] > RANK[sent.stage]:
            self.acked.add(sent.stage)
        self.stage, self.prompt = stage, reply
        return True


# --- the bot process ----------------------------------------------------------------------


class BotProcess:
    """``python -m bot run`` (or another command) as a child process; its output goes to a
    log file."""

    def __init__(self, env: dict[str, str], cwd: Path, log: Path, command: str = "run") -> None:
        self.env, self.cwd, self.log, self.command = env, cwd, log, command
        self.proc: asyncio.subprocess.Process | None = None
        self.spawns = 0

    @property
    def running(self) -> bool:
        """Whether the child is alive."""
        return self.proc is not None and self.proc.returncode is None

    async def start(self) -> None:
        """Spawn the bot."""
        assert self.proc is None, "one bot process at a time"
        self.spawns += 1
        with self.log.open("ab") as log:
            self.proc = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "bot",
                self.command,
                cwd=self.cwd,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    async def kill(self) -> None:
        """SIGKILL (if still running) and reap."""
        proc, self.proc = self.proc, None
        if proc is None:
            return
        if proc.returncode is None:
            proc.send_signal(signal.SIGKILL)
        await proc.wait()

    async def stop(self, seconds: float = 15.0) -> int:
        """SIGTERM, as an operator stops it; SIGKILL after ``seconds``. The exit code."""
        proc = self.proc
        assert proc is not None
        proc.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(proc.wait(), seconds)
        finally:
            await self.kill()
        assert proc.returncode is not None
        return proc.returncode

    def tail(self, chars: int = 4000) -> str:
        """The end of the bot's log."""
        return self.log.read_text(errors="replace")[-chars:] if self.log.exists() else ""


def bot_env(server: BotApiServer, data_dir: Path) -> dict[str, str]:
    """The bot's environment: ours, without any setting the caller's shell may carry."""
    env = {k: v for k, v in os.environ.items() if k not in Settings.model_fields}
    path = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH", "")) if p)
    return env | {
        "PYTHONPATH": path,
        "TELEGRAM_BOT_TOKEN": TOKEN,
        "TELEGRAM_API_BASE_URL": server.base_url,
        "TELEGRAM_API_BASE_FILE_URL": server.base_file_url,
        "DATA_DIR": str(data_dir),
        "ADMIN_CHAT_ID": str(ADMIN_CHAT),
        "REVIEWER_IDS": ",".join(map(str, REVIEWERS)),
        "LOG_LEVEL": "WARNING",
    }


async def until(condition: Callable[[], bool], seconds: float, what: str) -> None:
    """Poll ``condition`` every 20 ms; TimeoutError naming ``what`` after ``seconds``."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while not condition():
        if loop.time() > deadline:
            raise TimeoutError(f"{what}: not within {seconds} s")
        await asyncio.sleep(0.02)


# --- what the record witnesses ------------------------------------------------------------


@dataclass
class Witness:
    """Copies the server accepted of each kind of notification: the reviewers' cards and
    documents, the applicants' approvals."""

    cards: Counter[str] = field(default_factory=Counter)  # registration number -> cards
    documents: Counter[str] = field(default_factory=Counter)  # registration number -> documents
    numbers: dict[str, str] = field(default_factory=dict)  # company name -> number (cards)
    # "<registration id> · <field label>" (each document's caption) -> sent to the reviewers;
    # files are uploaded afresh under their detected type's name, so their ids differ.
    files: Counter[str] = field(default_factory=Counter)
    approvals: Counter[int] = field(default_factory=Counter)  # applicant -> approvals

    @classmethod
    def of(cls, api: FakeBotAPI, calls: Sequence[SentCall] | None = None) -> Witness:
        """Count what the bot has sent so far (or among ``calls``)."""
        seen = cls()
        for call in api.sent if calls is None else calls:
            message = call.message
            if message is None:
                continue
            if call.chat_id == ADMIN_CHAT and call.method in ("sendPhoto", "sendDocument"):
                seen.files[message.text] += 1
                seen.documents[message.text.split(" · ")[0]] += 1  # "<number> · <field>"
            elif call.method != "sendMessage":
                continue
            elif call.chat_id == ADMIN_CHAT and (card := CARD_ID.search(message.text)):
                seen.cards[card[1]] += 1
                seen.numbers[card[2].strip()] = card[1]
            elif APPROVED_TEXT in message.text:
                seen.approvals[message.chat_id] += 1
        return seen

    def copies(self, note: Notification, registration: Registration) -> int:
        """How many times a notification reached Telegram."""
        if note.template == "card":
            return self.cards[registration.number]
        if note.template == "approved":
            return self.approvals[registration.user_id]
        key = str(note.params.get("field"))
        if note.template.startswith("document-") and isinstance(
            registration.answers.get(key), dict
        ):
            label = TEXTS.plain("zh", f"field.{key}.label")  # the group's language
            return self.files[f"{registration.number} · {label}"]
        raise AssertionError(f"a notification this test does not expect: {note.id}")
