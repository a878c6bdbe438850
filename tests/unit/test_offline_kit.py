"""The offline Telegram kit: people chat with a tiny PTB bot; nothing leaves the process."""

import asyncio
import datetime as dtm
import io
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from PIL import Image
from telegram import (
    Bot,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputMediaDocument,
    KeyboardButton,
    Message,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
    Update,
)
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError, TimedOut
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from bot.offline import BOT_USERNAME, OFFLINE_TOKEN, FakeBotAPI, FaultKind, OfflineTelegram
from bot.offline.ids import RisingIds
from bot.telegram_html import parse as parse_html

REVIEWERS = -100500

# --- a tiny bot -------------------------------------------------------------------------------


def terms_keyboard() -> InlineKeyboardMarkup:
    """Agree / Decline, plus a button whose handler changes nothing."""
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton("Agree", callback_data="terms:agree"),
                InlineKeyboardButton("Decline", callback_data="terms:decline"),
            ],
            [InlineKeyboardButton("Refresh", callback_data="refresh")],
        ]
    )


async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Greet in HTML and offer the terms."""
    assert update.effective_message and update.effective_user
    name = update.effective_user.first_name
    text = f"<b>Welcome</b>, {name}! Do you agree?"
    await update.effective_message.reply_html(text, reply_markup=terms_keyboard())


async def choose(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Record the choice in place, then ask for the phone with a contact button."""
    query = update.callback_query
    assert query and query.data and query.message
    await query.answer("Noted")
    await query.edit_message_text(f"You chose: {query.data.removeprefix('terms:')}")
    button = KeyboardButton("Share my phone", request_contact=True)
    keyboard = ReplyKeyboardMarkup([[button]], one_time_keyboard=True, resize_keyboard=True)
    await context.bot.send_message(query.message.chat.id, "Your phone?", reply_markup=keyboard)


async def refresh(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Edit the message to what it already is: Telegram refuses that."""
    query = update.callback_query
    assert query and query.message
    await query.answer()
    await query.edit_message_text("Welcome, again", reply_markup=terms_keyboard())
    await query.edit_message_text("Welcome, again", reply_markup=terms_keyboard())


async def contact(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Accept only the sender's own contact card."""
    message = update.effective_message
    assert message and message.contact and update.effective_user
    own = message.contact.user_id == update.effective_user.id
    text = f"Phone {message.contact.phone_number} ({'yours' if own else 'not yours'})"
    await message.reply_text(text, reply_markup=ReplyKeyboardRemove())


async def upload(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Download what was sent and say how big it was."""
    message = update.effective_message
    assert message
    if message.document:
        what = f"{message.document.file_name} ({message.document.mime_type})"
        file = await message.document.get_file()
    else:
        what = "photo"
        file = await message.photo[-1].get_file()
    data = await file.download_as_bytearray()
    await message.reply_text(f"Received {what}: {len(data)} bytes")


async def other(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Name what arrived when the form expected something else."""
    message = update.effective_message
    assert message
    kinds = ("sticker", "voice", "location", "poll")
    await message.reply_text(f"A {next(k for k in kinds if getattr(message, k))}? Please type.")


async def album(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Send two documents as one album."""
    assert update.effective_message
    await update.effective_message.reply_media_group(
        [
            InputMediaDocument(b"front", filename="id-front.jpg"),
            InputMediaDocument(b"back", filename="id-back.jpg", caption="Both sides"),
        ]
    )


async def report(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Send a document the bot made."""
    assert update.effective_message
    await update.effective_message.reply_document(
        b"id,status\n1,approved\n", filename="report.csv", caption="<i>Today</i>", parse_mode="HTML"
    )


async def echo_html(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Echo user text as HTML without escaping it: the bug Telegram refuses."""
    assert update.effective_message
    await update.effective_message.reply_html(" ".join(context.args or []))


async def long_data(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Put Chinese text into callback data: over 64 bytes."""
    assert update.effective_message
    button = InlineKeyboardButton("选择", callback_data="营业执照" * 6)
    await update.effective_message.reply_text("Pick", reply_markup=InlineKeyboardMarkup([[button]]))


async def admins(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Call a method the offline kit does not implement."""
    assert update.effective_chat
    await context.bot.get_chat_administrators(update.effective_chat.id)


async def relay(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Forward a reply to the reviewers' group and say which message it answered."""
    message = update.effective_message
    assert message and message.reply_to_message
    await message.forward(REVIEWERS)
    await message.reply_text(f"Relayed your answer to #{message.reply_to_message.message_id}")


@dataclass
class Bench:
    """The kit, the application and the errors its own error handler collected."""

    kit: OfflineTelegram
    app: Application  # type: ignore[type-arg]
    errors: list[BaseException]


@pytest.fixture
async def bench() -> AsyncIterator[Bench]:
    """A tiny onboarding bot over the offline kit, initialized."""
    kit = OfflineTelegram()
    app = kit.wire(ApplicationBuilder()).updater(None).build()
    errors: list[BaseException] = []

    async def collect(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Keep handler errors: they never reach the test by themselves."""
        assert context.error
        errors.append(context.error)

    app.add_handler(CommandHandler("start", start))
    app.add_handler(CommandHandler("report", report))
    app.add_handler(CommandHandler("echo", echo_html))
    app.add_handler(CommandHandler("long", long_data))
    app.add_handler(CommandHandler("admins", admins))
    app.add_handler(CommandHandler("album", album))
    app.add_handler(CallbackQueryHandler(choose, pattern=r"^terms:"))
    app.add_handler(CallbackQueryHandler(refresh, pattern=r"^refresh$"))
    app.add_handler(MessageHandler(filters.CONTACT, contact))
    app.add_handler(MessageHandler(filters.Document.ALL | filters.PHOTO, upload))
    app.add_handler(MessageHandler(filters.REPLY & filters.TEXT, relay))
    unexpected = filters.Sticker.ALL | filters.VOICE | filters.LOCATION | filters.POLL
    app.add_handler(MessageHandler(unexpected, other))
    app.add_error_handler(collect)
    kit.attach(app)
    kit.group(REVIEWERS, "Reviewers")
    async with app:
        yield Bench(kit, app, errors)


# --- chatting ---------------------------------------------------------------------------------


async def test_start_greets_with_buttons(bench: Bench) -> None:
    alice = bench.kit.user(1, "Alice")

    [welcome] = await alice.send("/start")

    assert welcome.text == "Welcome, Alice! Do you agree?"
    assert welcome.source.startswith("<b>Welcome</b>")
    assert welcome.buttons == [["Agree", "Decline"], ["Refresh"]]
    assert welcome.callback_data("Agree") == "terms:agree"
    assert welcome.raw["entities"] == [{"type": "bold", "offset": 0, "length": 7}]
    assert bench.app.bot.username == BOT_USERNAME


async def test_pressing_edits_the_message_and_answers_the_query(bench: Bench) -> None:
    alice = bench.kit.user(1, "Alice")
    await alice.send("/start")

    edited, question = await alice.press("Agree")

    assert edited.edited and edited.text == "You chose: agree"
    assert edited.buttons == []  # an edit without reply_markup drops the keyboard
    assert question.text == "Your phone?" and question.buttons == [["Share my phone"]]
    assert alice.last_answer == "Noted"
    assert bench.kit.unanswered_callbacks == []
    assert [m.text for m in alice.messages()] == ["You chose: agree", "Your phone?"]


async def test_press_finds_a_button_by_part_of_its_text(bench: Bench) -> None:
    alice = bench.kit.user(1, "Alice")
    await alice.send("/start")

    edited, _ = await alice.press("Decl")

    assert edited.text == "You chose: decline"


async def test_contact_button_shares_the_own_phone_once(bench: Bench) -> None:
    alice = bench.kit.user(1, "Alice", phone_number="8613800138000")
    await alice.send("/start")
    await alice.press("Agree")

    [answer] = await alice.press("Share my phone")

    assert answer.text == "Phone 8613800138000 (yours)"
    with pytest.raises(LookupError, match="no button"):
        await alice.press("Share my phone")  # one-time keyboard, and removed anyway


async def test_someone_elses_contact_card_is_told_apart(bench: Bench) -> None:
    alice = bench.kit.user(1, "Alice")

    [answer] = await alice.share_contact("8613900139000", user_id=2)

    assert answer.text == "Phone 8613900139000 (not yours)"


async def test_uploads_are_downloaded_by_the_bot(bench: Bench, tmp_path: Path) -> None:
    alice = bench.kit.user(1, "Alice")
    licence = tmp_path / "licence.pdf"
    licence.write_bytes(b"%PDF" + bytes(1020))

    [from_path] = await alice.upload(licence)
    [from_bytes] = await alice.upload(b"abc", file_name="notes.txt")
    [photo] = await alice.upload(b"\xff\xd8\xff" + bytes(97), as_photo=True)

    assert from_path.text == "Received licence.pdf (application/pdf): 1024 bytes"
    assert from_bytes.text == "Received notes.txt (text/plain): 3 bytes"
    assert photo.text == "Received photo: 100 bytes"


async def test_documents_the_bot_sends_are_kept(bench: Bench) -> None:
    alice = bench.kit.user(1, "Alice")

    [sent] = await alice.send("/report")

    assert sent.text == "Today" and sent.source == "<i>Today</i>"
    assert sent.document is not None and sent.document["file_name"] == "report.csv"
    stored = bench.kit.api.file(sent.document["file_id"])
    assert stored.data == b"id,status\n1,approved\n"
    file = await bench.app.bot.get_file(sent.document["file_id"])
    assert await file.download_as_bytearray() == bytearray(stored.data)


async def test_albums_share_a_media_group(bench: Bench) -> None:
    alice = bench.kit.user(1, "Alice")

    front, back = await alice.send("/album")

    assert front.raw["media_group_id"] == back.raw["media_group_id"]
    assert back.text == "Both sides"
    assert front.document and bench.kit.api.file(front.document["file_id"]).data == b"front"


async def test_unexpected_content_reaches_the_bot(bench: Bench) -> None:
    alice = bench.kit.user(1, "Alice")

    replies = [
        *await alice.send_sticker(),
        *await alice.send_voice(),
        *await alice.send_location(31.23, 121.47),
        *await alice.send_poll("Which plan?"),
    ]

    assert [m.text.split("?")[0] for m in replies] == [
        "A sticker",
        "A voice",
        "A location",
        "A poll",
    ]


async def test_two_users_are_kept_apart(bench: Bench) -> None:
    alice, bob = bench.kit.user(1, "Alice"), bench.kit.user(2, "Bob", language_code="en")
    await alice.send("/start")
    await bob.send("/start")

    await bob.press("Decline")

    assert alice.last().text == "Welcome, Alice! Do you agree?"
    assert bob.messages()[0].text == "You chose: decline"
    assert [m.chat_id for m in bob.replies()] == [2, 2]
    assert alice.last().message_id == bob.messages()[0].message_id == 2  # ids count per chat


async def test_replies_and_forwards_reach_the_group(bench: Bench) -> None:
    alice = bench.kit.user(1, "Alice")
    [welcome] = await alice.send("/start")

    forwarded, answer = await alice.reply_to(welcome.message_id, "My company is 蓝天科技")

    assert forwarded.chat_id == REVIEWERS and forwarded.text == "My company is 蓝天科技"
    assert forwarded.raw["forward_origin"]["sender_user"]["id"] == 1
    assert answer.text == f"Relayed your answer to #{welcome.message_id}"


async def test_group_privacy_mode_hides_plain_messages(bench: Bench) -> None:
    reviewer = bench.kit.user(7, "Reviewer")
    group = bench.kit.group(REVIEWERS, "Reviewers")

    [greeting] = await reviewer.send(f"/start@{BOT_USERNAME}", chat=group)
    unseen = await reviewer.send("just chatting", chat=group)

    assert greeting.chat_id == REVIEWERS and greeting.text.startswith("Welcome, Reviewer")
    assert unseen == [] and bench.kit.unseen[-1]["text"] == "just chatting"


# --- what Telegram refuses --------------------------------------------------------------------


async def test_an_edit_that_changes_nothing_is_refused(bench: Bench) -> None:
    alice = bench.kit.user(1, "Alice")
    await alice.send("/start")

    # (?i): PTB strips "Bad Request: " and capitalizes the rest of Telegram's description.
    with pytest.raises(BadRequest, match=r"(?i)message is not modified"):
        await alice.press("Refresh")
    assert alice.last().text == "Welcome, again"


async def test_unescaped_html_is_refused(bench: Bench) -> None:
    alice = bench.kit.user(1, "Alice")

    with pytest.raises(BadRequest, match=r"(?i)can't parse entities"):
        await alice.send("/echo <script>alert(1)</script>")
    assert bench.errors and isinstance(bench.errors[0], BadRequest)


async def test_callback_data_over_64_bytes_is_refused(bench: Bench) -> None:
    alice = bench.kit.user(1, "Alice")

    with pytest.raises(BadRequest, match=r"(?i)button_data_invalid"):
        await alice.send("/long")


async def test_unknown_methods_are_refused_clearly(bench: Bench) -> None:
    alice = bench.kit.user(1, "Alice")

    with pytest.raises(BadRequest, match=r"(?i)getchatadministrators not supported by the offline"):
        await alice.send("/admins")
    assert bench.kit.api.refused[-1].method == "getChatAdministrators"


@pytest.mark.parametrize(
    ("source", "text", "entities"),
    [
        ("a &lt;b&gt; &amp; c", "a <b> & c", []),
        ("<b>营业执照</b> ok", "营业执照 ok", [{"type": "bold", "offset": 0, "length": 4}]),
        ("😀<i>x</i>", "😀x", [{"type": "italic", "offset": 2, "length": 1}]),  # UTF-16 offsets
        (
            '<a href="https://e.cn">see <b>this</b></a>',
            "see this",
            [
                {"type": "text_link", "url": "https://e.cn", "offset": 0, "length": 8},
                {"type": "bold", "offset": 4, "length": 4},
            ],
        ),
        (
            '<pre><code class="language-python">x = 1</code></pre>',
            "x = 1",
            [{"type": "pre", "language": "python", "offset": 0, "length": 5}],
        ),
    ],
)
def test_telegram_html_becomes_text_and_entities(
    source: str, text: str, entities: list[dict[str, object]]
) -> None:
    assert parse_html(source) == (text, entities)


@pytest.mark.parametrize(
    "source", ["1 < 2", "<br>", "<b>open", "<b><i>x</b></i>", "<span>x</span>"]
)
def test_html_telegram_refuses_is_refused(source: str) -> None:
    with pytest.raises(ValueError):
        parse_html(source)


# --- injected faults --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "error"),
    [
        ("forbidden", Forbidden),
        ("bad_request", BadRequest),
        ("retry_after", RetryAfter),
        ("server_error", NetworkError),
        ("timeout", TimedOut),
    ],
)
async def test_faults_raise_the_matching_telegram_error(
    bench: Bench, kind: FaultKind, error: type[TelegramError], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Without it PTB 22 warns (an error here) when it builds RetryAfter.
    monkeypatch.setenv("PTB_TIMEDELTA", "true")
    alice = bench.kit.user(1, "Alice")
    bench.kit.api.fail_next("sendMessage", kind, retry_after=7)

    with pytest.raises(error) as raised:
        await alice.send("/start")
    [again] = await alice.send("/start")  # the fault was for one call only

    assert type(raised.value) is error
    assert bench.errors == [raised.value]
    assert again.text.startswith("Welcome")
    if isinstance(raised.value, RetryAfter):
        assert raised.value.retry_after == dtm.timedelta(seconds=7)


async def test_a_blocked_user_fails_while_others_are_served(bench: Bench) -> None:
    alice, bob = bench.kit.user(1, "Alice"), bench.kit.user(2, "Bob")
    bench.kit.api.block(bob.id)

    with pytest.raises(Forbidden, match="bot was blocked by the user"):
        await bob.send("/start")
    [welcome] = await alice.send("/start")
    bench.kit.api.unblock(bob.id)

    assert welcome.chat_id == 1
    assert len(await bob.send("/start")) == 1


async def test_failing_lasts_for_the_block(bench: Bench) -> None:
    alice = bench.kit.user(1, "Alice")

    with bench.kit.api.failing(None, "server_error"):
        for _ in range(2):
            with pytest.raises(NetworkError):
                await alice.send("/start")

    assert len(await alice.send("/start")) == 1


async def test_polling_idles_and_commands_are_kept(bench: Bench) -> None:
    bot = bench.app.bot

    assert await bot.get_updates(timeout=0) == ()
    assert await bot.set_my_commands([("start", "Begin"), ("status", "Where is my application")])
    commands = await bot.get_my_commands()

    assert [c.command for c in commands] == ["start", "status"]


async def test_messages_from_before_a_restart_can_still_be_edited(tmp_path: Path) -> None:
    """In Telegram a card the bot posted before its restart is still there to edit (the
    console restarted: the reviewers' card stayed "submitted" after a decision)."""
    ids = tmp_path / "ids.json"
    before = FakeBotAPI(ids=RisingIds(ids))
    before.add_chat({"id": -100, "type": "supergroup", "title": "Reviewers"})
    async with Bot(OFFLINE_TOKEN, request=before) as bot:
        card = await bot.send_message(-100, "submitted")

    after = FakeBotAPI(ids=RisingIds(ids))
    after.add_chat({"id": -100, "type": "supergroup", "title": "Reviewers"})
    async with Bot(OFFLINE_TOKEN, request=after) as bot:
        edited = await bot.edit_message_text("approved", chat_id=-100, message_id=card.message_id)
        assert isinstance(edited, Message) and edited.text == "approved"
        assert after.messages[-100][card.message_id].edited
        with pytest.raises(BadRequest, match=r"[Mm]essage to edit not found"):
            await bot.edit_message_text("x", chat_id=-100, message_id=card.message_id + 1000)


async def test_a_photo_has_the_dimensions_of_its_image(bench: Bench) -> None:
    """The console showed every photo as 1280x960 (the /stats chart is 900x400)."""
    data = io.BytesIO()
    Image.new("RGB", (900, 400), (10, 20, 30)).save(data, format="PNG")
    await bench.kit.user(1).upload(data.getvalue(), as_photo=True)

    assert bench.kit.last_payload is not None
    sizes = bench.kit.last_payload["message"]["photo"]
    assert (sizes[-1]["width"], sizes[-1]["height"]) == (900, 400)
    assert max(sizes[0]["width"], sizes[0]["height"]) == 320  # the thumbnail keeps the shape
    assert sizes[0]["height"] == 142


async def test_an_action_waits_for_the_jobs_its_handler_started() -> None:
    """What a handler leaves to a job (the bot's outbox sends decisions so) is part of the
    action's answer, and never lands in the next action's: the next line of a test reads
    the last message it expects, however busy the machine."""
    kit = OfflineTelegram()
    app = kit.wire(ApplicationBuilder()).updater(None).build()
    assert app.job_queue is not None

    async def later(context: ContextTypes.DEFAULT_TYPE) -> None:
        await asyncio.sleep(0.3)  # a slow send, as under load
        assert context.job is not None and context.job.chat_id is not None
        await context.bot.send_message(context.job.chat_id, "Decided")

    async def decide(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_message and context.job_queue
        await update.effective_message.reply_text("Noted")
        context.job_queue.run_once(later, 0, chat_id=update.effective_message.chat_id)

    async def ping(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_message
        await update.effective_message.reply_text("Pong")

    app.add_handler(CommandHandler("decide", decide))
    app.add_handler(CommandHandler("ping", ping))
    kit.attach(app)
    async with app:
        await app.start()
        try:
            alice = kit.user(1, "Alice")
            assert [m.text for m in await alice.send("/decide")] == ["Noted", "Decided"]
            assert [m.text for m in await alice.send("/ping")] == ["Pong"]
        finally:
            await app.stop()
