"""The one place where the application is wired: settings and storage in, a ready
``telegram.ext.Application`` out. The command line and the tests both call ``build``."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import os
import tomllib
from collections.abc import Callable, Coroutine
from datetime import datetime, timedelta
from typing import Any, cast

from telegram import BotCommand, BotCommandScopeAllPrivateChats, BotCommandScopeChat, Update
from telegram.constants import ParseMode
from telegram.ext import (
    AIORateLimiter,
    Application,
    ApplicationBuilder,
    ContextTypes,
    ConversationHandler,
    Defaults,
    Job,
    JobQueue,
    PersistenceInput,
)
from telegram.request import BaseRequest, HTTPXRequest

from bot.commit_barrier import CommittingMailer, CommittingRequest
from bot.mailer import Mailer, SmtpMailer
from bot.offline.identity import OFFLINE_TOKEN
from bot.receiving import ReceivingRequest
from bot.rules.models import utcnow
from bot.rules.workdays import CHINA, china_date
from bot.services.accounts import AccountService
from bot.services.change_requests import ReviewerDrafts
from bot.services.faq import load_questions
from bot.services.faq_book import FaqBook
from bot.services.faq_desk import FaqDesk
from bot.services.faq_drafts import Drafts
from bot.services.faq_gaps import GapLog
from bot.services.outbox import Deliveries
from bot.services.privacy import PersonalData
from bot.services.profile import ProfileService
from bot.services.registrations import RegistrationService
from bot.services.reports import Reports
from bot.services.review import ReviewService
from bot.services.support import SupportDesk
from bot.services.taken_limit import TakenLimit
from bot.services.uploads import Uploads
from bot.settings import LOCALES, Settings
from bot.texts import TEMPLATES_DIR, Texts
from bot.update_order import PerUserUpdateProcessor
from conversations import (
    admin_confirm,
    basics,
    delivery,
    faq,
    flood,
    mydata,
    profile,
    support,
    support_group,
)
from conversations.applicant import journey as applicant
from conversations.applicant import reminders
from conversations.common import BotData, Context, Services
from conversations.faq_desk import desk as faq_desk
from conversations.review import desk as reviewer
from conversations.review import overview
from storage.persistence import StorePersistence
from storage.protocols import CommitFailed, Processes, Storage
from storage.update_inbox import InboxQueue

log = logging.getLogger(__name__)

PRIVATE_COMMANDS = (
    "start",
    "apply",
    "status",
    "profile",
    "cancel",
    "faq",
    "support",
    "close",
    "mydata",
    "delete",
    "language",
    "help",
)


class DurableApplication(Application):  # type: ignore[type-arg]
    """Writes the persistence after every update instead of once a minute, so nothing the
    bot has acknowledged is lost to a crash (PTB writes its persistence every 60 s by
    default, and kill -9 loses what that batch held); where the storage commits in groups,
    each update is a unit of work whose changes are committed at its end at the latest.

    Where several processes share the storage, each claims stored updates (``InboxQueue``)
    and reads the user's conversation states and ``user_data`` again before handling one:
    another process may have handled the user's previous update."""

    storage: Storage | None = None
    _claiming: asyncio.Task[None] | None = None

    async def process_update(self, update: object) -> None:
        queue = self.update_queue if isinstance(self.update_queue, InboxQueue) else None
        committed = False
        try:
            if self.storage is not None:
                user = update.effective_user if isinstance(update, Update) else None
                self.storage.begin(None if user is None else user.id)
            if queue is not None and queue.processes is not None:
                await self._reload(update)
            await super().process_update(update)
            await self.update_persistence()
            if queue is not None:
                queue.handled(update)
            if self.storage is not None:
                await self.storage.committed()
            committed = True
        except CommitFailed:
            # Its changes and its inbox mark are gone: it is handled again.
            log.exception("the commit of an update's changes failed")
        finally:
            if self.storage is not None:
                self.storage.end()
            # Also after an error outside the handlers (the database gone a moment while
            # reading the user's state): the user's updates must not stay held here.
            if queue is not None:
                await queue.finished(update, committed)

    async def _reload(self, update: object) -> None:
        persistence = self.persistence
        if not isinstance(persistence, StorePersistence) or not isinstance(update, Update):
            return
        user, chat = update.effective_user, update.effective_chat
        states = self._conversation_handler_conversations
        conversations = {}
        for handlers in self.handlers.values():
            for handler in handlers:
                if not isinstance(handler, ConversationHandler) or handler.name not in states:
                    continue
                key: list[int] = []
                if handler.per_chat and chat is not None:
                    key.append(chat.id)
                if handler.per_user and user is not None:
                    key.append(user.id)
                if key and not handler.per_message:
                    conversations[handler.name] = (tuple(key), states[handler.name])
        await persistence.reload(
            user.id if user else None, self.user_data[user.id] if user else None, conversations
        )

    async def start(self) -> None:
        await super().start()
        queue = self.update_queue
        if isinstance(queue, InboxQueue) and queue.processes is not None:
            self._claiming = asyncio.create_task(queue.claim_loop(self.bot), name="claims")

    async def stop(self) -> None:
        claiming, self._claiming = self._claiming, None
        if claiming is not None:
            claiming.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await claiming
        await super().stop()


class LedJobQueue(JobQueue):  # type: ignore[type-arg]
    """Where several processes share the storage, the jobs that must run once across them
    (the outbox, reminders, the digest) run only in the process leading the jobs; elsewhere
    a request to deliver now is passed on to it. They never wait for a user another process
    holds (``Storage.without_waiting``): they take many users in turn, and a wait could
    close a deadlock with that process."""

    ONCE = frozenset({"outbox", delivery.NOW, "draft-reminders", "review-digest"})

    def __init__(self, storage: Storage) -> None:
        super().__init__()
        assert storage.processes is not None, "only where processes share the storage"
        self.processes: Processes = storage.processes
        self.storage = storage

    @staticmethod
    async def job_callback(job_queue: JobQueue, job: Job) -> None:  # type: ignore[type-arg]
        if isinstance(job_queue, LedJobQueue) and job.name in LedJobQueue.ONCE:
            processes = job_queue.processes
            if not processes.leading():
                if job.name == delivery.NOW:
                    # Heard by the leader once this commits: the registration to deliver.
                    processes.nudge(f"outbox:{job.data}" if job.data else "outbox")
                return
            job_queue.storage.without_waiting()
        await JobQueue.job_callback(job_queue, job)


def _deliver_now(processes: Processes, jobs: JobQueue | None) -> Callable[[str | None], None]:  # type: ignore[type-arg]
    """On news of a decision made in another process (committed): the job leader delivers
    at once. Every process hears the news, its sender too; only the leader acts on it, so a
    notice is never passed on again."""
    assert jobs is not None

    def deliver_now(registration_id: str | None) -> None:
        if processes.leading():
            jobs.run_once(
                cast(Any, delivery.deliver_due), 0, data=registration_id, name=delivery.NOW
            )

    return deliver_now


#: How long a job's change may wait for its group commit when no update comes.
GROUP_COMMIT_SECONDS = 0.1


def _commit(storage: Storage) -> Callable[[Context], Coroutine[Any, Any, None]]:
    async def commit(context: Context) -> None:
        storage.barrier()

    return commit


def agreement_version(root: Any = TEMPLATES_DIR) -> str:
    """The current agreement version (changing it asks every applicant again)."""
    with (root / "agreement.toml").open("rb") as handle:
        return str(tomllib.load(handle)["version"])


def faq_services(storage: Storage, clock: Callable[[], datetime], texts: Texts) -> FaqDesk:
    """The live FAQ (seeded from ``templates/``), its gaps and the agents' drafts."""
    strings = texts.strings
    book = FaqBook(
        storage.kv,
        storage.audit,
        clock,
        load_questions(texts.root / "faq.toml"),
        lambda locale, key: strings[locale].get(key, ""),
    )
    return FaqDesk(book, GapLog(storage.kv, clock), Drafts(storage.kv, clock))


def build(
    settings: Settings,
    storage: Storage,
    *,
    request: BaseRequest | None = None,
    clock: Callable[[], datetime] = utcnow,
    rate_limit: bool = True,
    album_wait: float = 1.0,
    texts: Texts | None = None,
    mailer: Mailer | None = None,
) -> Application:  # type: ignore[type-arg]
    """Build the application: handlers, persistence, services, command menus."""
    # PTB 22 warns unless durations (RetryAfter.retry_after, …) are timedeltas; opt in.
    os.environ.setdefault("PTB_TIMEDELTA", "true")
    texts = texts or Texts()
    token = settings.TELEGRAM_BOT_TOKEN.get_secret_value() if settings.TELEGRAM_BOT_TOKEN else None
    builder = (
        ApplicationBuilder()
        .application_class(DurableApplication)
        .token(token or OFFLINE_TOKEN)
        .base_url(settings.TELEGRAM_API_BASE_URL)
        .base_file_url(settings.TELEGRAM_API_BASE_FILE_URL)
        .defaults(Defaults(parse_mode=ParseMode.HTML))
        .context_types(ContextTypes(context=Context, bot_data=BotData))
        .persistence(
            StorePersistence(
                storage.kv,
                store_data=PersistenceInput(
                    bot_data=False, chat_data=False, user_data=True, callback_data=False
                ),
            )
        )
        .post_init(_post_init)
        .concurrent_updates(PerUserUpdateProcessor())
    )
    inbox = None
    if storage.inbox is not None:
        # Each update is stored before Telegram is told it arrived (storage/update_inbox.py).
        inbox = InboxQueue(storage.inbox, storage.barrier, storage.processes)
        builder = builder.update_queue(inbox)
    if storage.processes is not None and inbox is not None:
        builder = builder.job_queue(LedJobQueue(storage))
        # One process polls Telegram at a time (bot/receiving.py).
        polling = request or HTTPXRequest()
        builder = builder.get_updates_request(
            ReceivingRequest(polling, storage.processes.receiving, inbox.before_poll)
        )
    if storage.commits_in_groups:
        # Nothing is sent to Telegram before its commit (bot/commit_barrier.py).
        sender = request or HTTPXRequest(connection_pool_size=256)
        builder = builder.request(CommittingRequest(sender, storage.committed))
        if request is not None and storage.processes is None:
            builder = builder.get_updates_request(request)
        if mailer is None and settings.email_enabled:
            mailer = SmtpMailer(settings)
        if mailer is not None:
            mailer = CommittingMailer(mailer, storage.committed)
    elif request is not None:
        builder = builder.request(request).get_updates_request(request)
    if rate_limit:
        # AIORateLimiter is typed for dict rate-limit args; the builder's default is None.
        builder = builder.rate_limiter(AIORateLimiter())  # type: ignore[arg-type]
    application = builder.build()
    if isinstance(application, DurableApplication) and storage.commits_in_groups:
        application.storage = storage
        jobs = application.job_queue
        assert jobs is not None, "the job-queue extra is a dependency"
        # What jobs change (the outbox marking a message sent) is committed soon even when
        # no update comes: otherwise a crash would send it again.
        jobs.run_repeating(_commit(storage), interval=GROUP_COMMIT_SECONDS, name="commit")
    queue = application.update_queue
    if isinstance(queue, InboxQueue) and storage.processes is not None:
        queue.listeners["outbox"] = [_deliver_now(storage.processes, application.job_queue)]
    services = build_services(settings, storage, texts, clock, mailer, album_wait)
    application.bot_data.services = services
    register_handlers(application, services)
    schedule_jobs(application, services)
    return application


def build_services(
    settings: Settings,
    storage: Storage,
    texts: Texts,
    clock: Callable[[], datetime],
    mailer: Mailer | None,
    album_wait: float,
) -> Services:
    """Every service, each once, over the one storage (handlers never see storage)."""
    files = storage.files  # every process reads the same documents (TinyDB: DATA_DIR/files)
    support = SupportDesk(storage.kv, clock)
    # One count of "already used" answers for the form and the profile's e-mail change.
    taken_limit = TakenLimit(clock)
    return Services(
        settings=settings,
        texts=texts,
        clock=clock,
        accounts=AccountService(storage, clock),
        registrations=RegistrationService(
            storage, clock, admin_chat=settings.ADMIN_CHAT_ID, taken_limit=taken_limit
        ),
        uploads=Uploads(files),
        review=ReviewService(
            storage,
            clock,
            claim_for=timedelta(minutes=settings.REVIEW_CLAIM_MINUTES),
            email=settings.email_enabled,
            china_today=lambda: china_date(clock()),
        ),
        reviewer_drafts=ReviewerDrafts(storage.kv),
        deliveries=Deliveries(storage.registrations, clock),
        reports=Reports(storage.registrations),
        profile=ProfileService(storage, clock, taken_limit),
        privacy=PersonalData(storage, files, support, clock),
        support=support,
        faq=faq_services(storage, clock, texts),
        mailer=mailer
        if mailer is not None
        else (SmtpMailer(settings) if settings.email_enabled else None),
        agreement_version=agreement_version(texts.root),
        album_wait=album_wait,
    )


def register_handlers(application: Application, services: Services) -> None:  # type: ignore[type-arg]
    """Every handler, in the order PTB tries them (the first that matches answers)."""
    # The flood guard sees every update first; then the conversations; the basic handlers
    # answer what they leave (commands that work anywhere, and anything unexpected).
    flood.register(application)
    # The profile's short steps (a code, a new address) come before the long form.
    # The administrator's confirmation first: only "/start adm-…" enters it.
    admin_confirm.register(application)
    profile.register(application)
    applicant.register(application)
    # The FAQ, /mydata and tickets after the form (it keeps its text) and before the basic
    # handlers (a user with an open ticket writes to support, not to the FAQ).
    faq.register(application)
    mydata.register(application)
    # Support before the reviewers: when one group serves both, a reviewer's catch-all
    # reply handler must not swallow replies to tickets or to the FAQ desk's questions
    # (those filters are exact: they match only the bot's own ticket and prompt messages).
    support.register(application, services)
    support_group.register(application, services)
    faq_desk.register(application, services)
    reviewer.register(application, services)
    basics.register(application)


def schedule_jobs(application: Application, services: Services) -> None:  # type: ignore[type-arg]
    """Every repeating job (again at every start: jobs live in memory only)."""
    jobs = application.job_queue
    assert jobs is not None
    # The outbox; its first run sends what a crash left pending.
    jobs.run_repeating(
        cast(Any, delivery.deliver_due),
        interval=delivery.EVERY,
        first=delivery.FIRST,
        name="outbox",
    )
    jobs.run_repeating(
        cast(Any, reminders.remind_idle),
        interval=reminders.REMINDER_EVERY,
        first=reminders.REMINDER_FIRST,
        name="draft-reminders",
    )
    settings = services.settings
    if settings.ADMIN_CHAT_ID is not None and settings.REVIEWER_IDS:
        at = settings.REVIEW_DIGEST_TIME.replace(tzinfo=CHINA)
        jobs.run_daily(cast(Any, overview.digest), time=at, name="review-digest")


def settle_heap() -> None:
    """Once the application is built: what exists now lives as long as the process
    (handlers, templates, services, the models' schemas), so it leaves the garbage
    collector's scans, which then walk only what updates create. Measured with the flow
    benchmark: the collector's time per update about halved (docs/PERFORMANCE.md)."""
    gc.collect()  # what is garbage now is not kept for good
    gc.freeze()


async def _post_init(application: Application) -> None:  # type: ignore[type-arg]
    """Hand the inbox's waiting updates to the application again, then set the command
    menus per scope and language (needs no getChat/getChatMember)."""
    services: Services = application.bot_data.services
    bot = application.bot
    queue = application.update_queue
    if isinstance(queue, InboxQueue) and queue.processes is None:
        # Before any new update: what a process that died had received and not handled.
        await queue.replay(bot)
    for locale in LOCALES:
        language = None if locale == services.settings.DEFAULT_LOCALE else locale
        commands = [
            BotCommand(name, services.texts.plain(locale, f"command.{name}"))
            for name in PRIVATE_COMMANDS
        ]
        await bot.set_my_commands(
            commands, scope=BotCommandScopeAllPrivateChats(), language_code=language
        )
    # The staff groups' menus, in the platform's language; one group may serve both the
    # reviewers and support, and a chat has one menu, so theirs are joined.
    settings = services.settings
    locale = settings.DEFAULT_LOCALE
    menus: dict[int, list[BotCommand]] = {}
    if settings.ADMIN_CHAT_ID is not None:
        menus.setdefault(settings.ADMIN_CHAT_ID, []).extend(
            BotCommand(name, services.texts.plain(locale, f"command.{name}"))
            for name in reviewer.COMMANDS
        )
    if settings.SUPPORT_CHAT_ID is not None and settings.SUPPORT_AGENT_IDS:
        menus.setdefault(settings.SUPPORT_CHAT_ID, []).extend(
            BotCommand(name, services.texts.plain(locale, f"faq_desk.menu.{name}"))
            for name in faq_desk.MENU
        )
    for chat_id, commands in menus.items():
        await bot.set_my_commands(commands, scope=BotCommandScopeChat(chat_id))
