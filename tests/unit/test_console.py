"""The terminal console: a scripted person chats with a tiny bot and the transcript is checked."""

import asyncio
import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from telegram import (
    ForceReply,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    ReplyKeyboardMarkup,
    Update,
)
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from bot.console import format_message, run_console
from bot.offline import OfflineTelegram
from bot.offline.ids import RisingIds

REPORT = b"%PDF-1.4 a report"
WAIT = "<wait>"  # a scripted line that stands for a person thinking while jobs run


async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Greet in HTML and offer the terms."""
    assert update.effective_message and update.effective_user
    keyboard = InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton("Agree", callback_data="agree"),
                InlineKeyboardButton("Decline", callback_data="decline"),
            ]
        ]
    )
    text = f"<b>Hello</b> {update.effective_user.first_name} &amp; welcome"
    await update.effective_message.reply_html(text, reply_markup=keyboard)


async def choose(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Record the choice in place and ask for the phone."""
    query = update.callback_query
    assert query and query.message
    await query.answer("Noted")
    await query.edit_message_text(f"You chose {query.data}")
    keyboard = ReplyKeyboardMarkup([[KeyboardButton("Share phone", request_contact=True)]])
    await context.bot.send_message(query.message.chat.id, "Your phone?", reply_markup=keyboard)


async def received(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Say what arrived: a contact, a photo, a document, or text."""
    message = update.effective_message
    assert message
    if message.contact:
        await message.reply_text(f"Phone {message.contact.phone_number}")
    elif message.photo:
        await message.reply_text(f"Photo of {message.photo[-1].file_size} bytes")
    elif message.document:
        document = message.document
        await message.reply_text(f"Document {document.file_name} {document.mime_type}")
    elif message.reply_to_message:
        await message.reply_text(
            f"You replied to {message.reply_to_message.message_id}: {message.text}"
        )
    else:
        await message.reply_text(f"You said {message.text}")


async def ask(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Ask for a typed reason, as reviewers are asked (ForceReply)."""
    assert update.effective_message
    await update.effective_message.reply_text(
        "Your reason?", reply_markup=ForceReply(selective=True)
    )


async def report(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Send a file, as the reviewers' group gets the applicants' documents."""
    assert update.effective_chat
    await context.bot.send_document(update.effective_chat.id, REPORT, filename="report.pdf")


async def remind(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Schedule a message for a little later, as the deadline reminders will."""
    assert update.effective_chat and context.job_queue
    context.job_queue.run_once(reminder, 0.05, chat_id=update.effective_chat.id)


async def reminder(context: ContextTypes.DEFAULT_TYPE) -> None:
    """The job: a message nobody asked for just now."""
    assert context.job and context.job.chat_id
    await context.bot.send_message(context.job.chat_id, "Reminder: documents due")


def build(kit: OfflineTelegram, started: list[str]) -> Application:  # type: ignore[type-arg]
    """The tiny bot, with a post_init that notes it ran."""

    async def post_init(app: Application) -> None:  # type: ignore[type-arg]
        started.append("post_init")

    app = kit.wire(ApplicationBuilder()).post_init(post_init).build()
    app.add_handler(CommandHandler("start", start))
    app.add_handler(CommandHandler("remind", remind))
    app.add_handler(CommandHandler("ask", ask))
    app.add_handler(CommandHandler("report", report))
    app.add_handler(CallbackQueryHandler(choose))
    app.add_handler(MessageHandler(~filters.COMMAND, received))
    return app


def script(lines: list[str]) -> Callable[[str], str]:
    """An input function that types the lines, then ends the input."""
    pending = iter(lines)

    def type_line(prompt: str) -> str:
        line = next(pending, None)
        if line is None:
            raise EOFError
        if line == WAIT:
            time.sleep(0.3)  # runs in a worker thread: the event loop and its jobs go on
            return ""
        return line

    return type_line


async def chat(lines: list[str], **options: Any) -> tuple[str, OfflineTelegram, list[str]]:
    """Run the console over scripted lines; the transcript, the kit and lifecycle notes."""
    kit = OfflineTelegram()
    started: list[str] = []
    app = build(kit, started)
    output: list[str] = []
    await run_console(app, kit, input_fn=script(lines), output_fn=output.append, **options)
    assert not app.running
    return unnumbered("\n".join(output)), kit, started


def unnumbered(transcript: str) -> str:
    """The transcript without the messages' numbers ("bot #3:" reads "bot:")."""
    return re.sub(r"bot #\d+", "bot", transcript)


async def test_buttons_are_numbered_and_a_number_presses_one() -> None:
    transcript, _, started = await chat(["/start", "2", "/quit", "never read"])

    assert "bot: Hello Console & welcome\n    [1] Agree  [2] Decline" in transcript
    assert "bot (edited): You chose decline" in transcript
    assert "(toast) Noted" in transcript
    assert "bot: Your phone?\n    keyboard: [1] Share phone" in transcript
    assert "never read" not in transcript
    assert started == ["post_init"]


async def test_a_number_presses_a_reply_keyboard_button_too() -> None:
    transcript, _, _ = await chat(["/start", "1", "1"], user_id=5)

    assert "bot: Phone 8613800000005" in transcript  # the default number of user 5


async def test_numbers_without_buttons_and_say_are_sent_as_text() -> None:
    transcript, _, _ = await chat(["42", "/start", "/say 1"])

    assert "bot: You said 42" in transcript
    assert "bot: You said 1" in transcript
    assert "edited" not in transcript


async def test_uploads_contacts_and_help(tmp_path: Path) -> None:
    photo, sheet = tmp_path / "licence.png", tmp_path / "staff.csv"
    photo.write_bytes(b"\x89PNG" + bytes(60))
    sheet.write_bytes(b"name\n")
    lines = [f"/upload {photo}", f"/upload {sheet}", "/contact 13800138000", "/contact", "", "/?"]

    transcript, _, _ = await chat(lines)

    assert "bot: Photo of 64 bytes" in transcript
    assert "bot: Document staff.csv text/csv" in transcript
    assert "bot: Phone 13800138000" in transcript
    assert "bot: Phone 8613800000001" in transcript  # asked, Enter: the user's own number
    assert "/upload PATH" in transcript


async def test_switching_user_and_chat_labels_other_chats() -> None:
    lines = ["/start", "/as 2", "/start", "/in -100700", "/start@onboarding_test_bot", "/in", "hi"]

    transcript, kit, _ = await chat(lines)

    assert "[chat 1] bot: Hello" not in transcript  # user 1 was acting then
    assert "bot: Hello User2 & welcome" in transcript
    assert "[chat -100700] bot: Hello User2 & welcome" in transcript
    assert transcript.endswith("bot: You said hi")
    assert kit.groups[-100700].title == "Group -100700"


async def test_messages_from_jobs_are_printed_as_they_come() -> None:
    transcript, _, _ = await chat(["/remind", WAIT])

    assert "bot: Reminder: documents due" in transcript


async def test_format_message_labels_other_chats_and_numbers_messages() -> None:
    _, kit, _ = await chat(["/start"])
    [welcome] = kit.messages(1)

    assert format_message(welcome, private_chat=2).startswith("[chat 1] bot #2: Hello")


async def test_the_greeting_says_what_to_type_first() -> None:
    transcript, _, _ = await chat([])

    assert "Type /start to begin" in transcript


async def test_text_typed_after_a_prompt_is_its_reply_and_may_span_lines() -> None:
    transcript, _, _ = await chat(["/ask", "first line\\", "second line", "not a reply"])

    assert "bot: Your reason?\n    (asks for a reply: type it, or /reply 2 TEXT)" in transcript
    assert "bot: You replied to 2: first line\n    second line" in transcript
    assert "bot: You said not a reply" in transcript  # the prompt was answered


async def test_reply_answers_a_numbered_message_or_the_latest() -> None:
    lines = ["/start", "/reply 2 about the welcome", "/reply #4 and this", "/reply last one"]

    transcript, _, _ = await chat(lines)

    assert "bot: You replied to 2: about the welcome" in transcript
    assert "bot: You replied to 4: and this" in transcript
    assert "bot: You replied to 6: last one" in transcript  # the latest bot message


async def test_acting_as_someone_else_starts_in_their_private_chat() -> None:
    transcript, _, _ = await chat(["/in -100700", "/as 2", "hi"])

    assert transcript.endswith("bot: You said hi")  # not "[chat -100700] ..."
    assert "(now acting as User2, id 2, in private)" in transcript


async def test_files_the_bot_sends_are_saved_and_their_path_printed(tmp_path: Path) -> None:
    transcript, _, _ = await chat(["/report"], files_dir=tmp_path / "files")

    [saved] = [
        line.split("saved as ", 1)[1] for line in transcript.splitlines() if "saved as" in line
    ]
    assert Path(saved).parent == tmp_path / "files" and saved.endswith("report.pdf")
    assert await asyncio.to_thread(Path(saved).read_bytes) == REPORT


def test_ids_keep_rising_after_a_restart_even_a_killed_one(tmp_path: Path) -> None:
    path = tmp_path / "ids.json"
    first = RisingIds(path)
    handed = [first.next("chat 1") for _ in range(3)] + [first.next("update")]
    # No clean shutdown: the next process reads only what was written before handing out.
    again = RisingIds(path)

    assert handed == [1, 2, 3, 1]
    assert again.next("chat 1") > 3 and again.next("update") > 1
    assert RisingIds().next("chat 1") == 1  # without a file: from 1, as in tests
