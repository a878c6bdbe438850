"""Whole applicant journeys under load, through the offline kit and the whole bot.

Run ``python -m bench.flow [--applicants 300] [--stored 1000,100000] [--quick] [--profile]
[--rtt MS] [--per-user] [--no-fsync] [--storage tinydb|postgres] [--processes N]
[--deployed N]``.

With ``--processes N`` (PostgreSQL) it also runs the whole bot as 1 and then N processes on
the smallest stored size's database, opened as ``python -m bot run`` opens it (shared with
other processes: the user's state read again before each update, locks across processes,
jobs led by one), new applicants shared between the processes, which start walking at the
same moment; it prints each figure, ``ratio processes N/1 throughput``, the factor over
Telegram's limit (target ≥ 25) and the same walks on TinyDB with one process beside them.
Each process is handed its applicants' updates directly by its own offline Telegram, as
several webhook processes behind a balancer routing by user would be: the inbox's own
statements (storing an update, claiming it, marking it handled) are not in these figures.
``--deployed N`` measures that deployed path instead: real ``python -m bot run`` processes
polling the fake Bot API over HTTP (``bench/processes.py``), on this machine's two cores
shared with the fake Telegram and the applicants.

``--storage postgres`` runs the bot on PostgreSQL: each stored size is filled as below and
copied into a fresh database with the bot's own ``migrate --from-tinydb`` code; the server
is ``DATABASE_URL``'s (its user must be allowed to create databases) or, when that is unset,
a throwaway cluster started for the run with the server's default, durable settings.

For each stored size a data folder is pre-filled straight on disk in the store's own layout
(``bench/seed.py``: fast, no fsync), then a child process opens it with the real
``TinyDBStorage`` and the whole bot (``bot.factory.build``: full PTB stack over
``bot.offline``), and N applicants walk the journey concurrently: /apply → share phone →
agree → role → confirm → every field (three uploads among them) → summary → submit. Their
updates interleave as an update queue delivers them: one update is handled at a time, as PTB
does with ``concurrent_updates`` off. Latency is the handling time of one update
(``Update.de_json`` + ``Application.process_update``, the durable persistence write
included); throughput is updates handled per wall-clock second.

A bare PTB application over the same kit, answering every one of the same updates with a
fixed text, gives the framework's floor.

Each configuration runs in its own process (this script with ``--internal``), so peak RSS
(``VmHWM``) is comparable between them. Prints a table, the ratios and the targets
(latency and RSS 100k/1k ≤ 1.5, throughput ≥ 10× Telegram's 30 messages/s); exits 1 when a
target is missed. ``--profile`` runs the largest configuration under cProfile and prints
where its time goes.

The kit answers Bot API calls instantly. ``--rtt MS`` makes every call take that long, like a
network round trip to Telegram; one update at a time, each awaiting its calls, throughput
then falls to about 1 / (calls per update × RTT). ``--per-user`` lets the application's own
update processor order the updates, as the bot does in production (``bot.update_order``:
users concurrently, each user's updates one at a time), the floor's too; by default the
benchmark hands over one update at a time, which shows what each one costs. ``--no-fsync``
leaves out the bot's fsyncs (an experiment showing what the disk's flushes cost; the bot
never runs so).

During the walks the bot's file replaces, fsyncs and removals are counted by the place they
touch in the data folder (``FileCalls``) and printed per update below the table.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import cProfile
import io
import json
import os
import pstats
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any, Literal

from telegram import Update
from telegram.ext import Application, ApplicationBuilder, TypeHandler

from bench import processes as bench_processes
from bench.seed import answers, fill, no_fsync
from bot.factory import build, settle_heap
from bot.offline import OfflineTelegram, Person, samples
from bot.offline.records import BotMessage, JSONDict
from bot.offline.transport import FakeBotAPI
from bot.rules import form
from bot.rules.form import Kind
from bot.rules.models import Registration, Role, Status
from bot.settings import Settings
from bot.texts import Texts
from bot.update_order import PerUserUpdateProcessor
from conversations import flood
from conversations.applicant import reminders
from storage.atomic import is_temp
from storage.postgres import PostgresStorage
from storage.postgres.from_tinydb import copy_from_tinydb
from storage.postgres.throwaway import ThrowawayCluster, create_database, drop_database
from storage.protocols import Storage
from storage.tinydb_store import (
    TinyDBStorage,
)


class FileCalls:
    """Counts ``os.replace``, ``os.fsync`` and ``os.unlink`` while on, by the place in the
    data folder they touch (a folder's fsync counts for the files in it)."""

    PLACES = (
        ("users/", "user files"),
        ("kv/ptb.", "persistence (kv/ptb.*)"),
        ("kv/", "other keys (kv/)"),
        ("unique/", "uniqueness claims"),
        ("files/", "documents"),
        ("index/status", "status index"),
        ("index/outbox", "outbox index"),
        ("index/registrations.json", "counter"),
        ("index/", "other indexes"),
        ("audit/", "other audit"),
    )

    def __init__(self, data_dir: Path) -> None:
        self.roots = (f"{data_dir}/", f"{data_dir.resolve()}/")
        self.counts: dict[tuple[str, str], int] = {}
        self.on = False
        real_replace, real_fsync, real_unlink = os.replace, os.fsync, os.unlink

        def replace(src: Any, dst: Any, **kwargs: Any) -> None:
            self.count("replace", str(dst))
            real_replace(src, dst, **kwargs)

        def fsync(fd: Any) -> None:
            if self.on:
                self.count("fsync", str(Path(f"/proc/self/fd/{fd}").readlink()) + "/")
            real_fsync(fd)

        def unlink(path: Any, **kwargs: Any) -> None:
            self.count("unlink", str(path))
            real_unlink(path, **kwargs)

        os.replace, os.fsync, os.unlink = replace, fsync, unlink

    def count(self, call: str, path: str) -> None:
        if not self.on:
            return
        relative = next((path[len(r) :] for r in self.roots if path.startswith(r)), "")
        folder, _, name = relative.rstrip("/").rpartition("/")
        if is_temp(name):  # .<name>.<random>.tmp: counted for <name>
            relative = f"{folder}/{name[1:].rsplit('.', 2)[0]}".lstrip("/")
        place = next((name for prefix, name in self.PLACES if relative.startswith(prefix)), "")
        key = (call, place or "elsewhere")
        self.counts[key] = self.counts.get(key, 0) + 1


#: Telegram's overall sending limit for one bot (about 30 messages a second), the yardstick
#: for throughput.
TELEGRAM_RATE = 30
TARGET_GROWTH = 1.5  # largest/smallest stored size, for latency percentiles and peak RSS
TARGET_RATE_FACTOR = 10  # throughput must be this many times Telegram's limit
#: With several processes on one database (issue 14): this many times Telegram's limit.
TARGET_PROCESSES_FACTOR = 25
#: New applicants get ids far above every stored one, so nothing they claim collides.
FIRST_APPLICANT = 900_000_001
#: Submissions are announced to the reviewers' group (review cards through the outbox).
ADMIN_CHAT, REVIEWERS = -1001000, (501, 502)

# Small uploads: the download path's cost per byte is not what this measures, and the kit
# keeps every file in memory (which would blur the RSS comparison).
JPEG, PDF = samples.jpeg(), samples.pdf()  # real: the bot parses uploads


StepKind = Literal["send", "press", "contact", "upload"]


@dataclass(frozen=True)
class Step:
    """One action of an applicant: a text, a button press, the phone contact or an upload."""

    kind: StepKind
    text: str = ""
    data: bytes = b""
    file_name: str | None = None
    mime_type: str | None = None
    as_photo: bool = False


def journey(n: int, locale: str, texts: Texts) -> list[Step]:
    """Every update of one applicant, from /apply to submit: the ISV role's fields as the
    form lists them (``form.fields_for``), so a new field is walked too."""
    a = answers(n, zh=locale == "zh")

    def press(key: str) -> Step:
        return Step("press", texts.plain(locale, key))

    steps = [
        Step("send", "/apply"),
        Step("contact"),
        press("button.agree"),
        press("role.isv.name"),
        press("button.confirm_role"),
    ]
    for field in form.fields_for(Role.ISV):
        if field.kind is Kind.CHOICE:
            steps.append(press(f"choice.{field.key}.{field.choices[0]}"))
        elif field.kind is Kind.DOCUMENT:
            steps.append(upload(n, field))
        else:
            steps.append(Step("send", a[field.key]))
    steps.append(press("button.submit"))
    return steps


def upload(n: int, field: form.Field) -> Step:
    """A document for ``field``: a photo where only images are taken, else a PDF. The bytes
    differ per applicant and field, so each is a new file for the file store to write."""
    tag = n.to_bytes(8, "big") + field.key.encode()
    if field.images_only:
        return Step("upload", data=JPEG + tag, as_photo=True)
    return Step("upload", data=PDF + tag, file_name=f"{field.key}.pdf", mime_type="application/pdf")


async def perform(person: Person, step: Step, floor: bool) -> list[BotMessage]:
    """Do one step; the floor bot shows no buttons, so a press is forged on its last message."""
    if step.kind == "send":
        return await person.send(step.text)
    if step.kind == "contact":
        return await person.share_contact()
    if step.kind == "upload":
        return await person.upload(
            step.data, file_name=step.file_name, mime_type=step.mime_type, as_photo=step.as_photo
        )
    if floor:
        return await person.press_data("floor", person.last().message_id)
    return await person.press(step.text)


def copy_to_postgres(data_dir: Path, database_url: str) -> None:
    """Copy the filled folder into the (empty) database, as ``migrate --from-tinydb`` does."""
    with (
        no_fsync(),
        TinyDBStorage.open(data_dir) as source,
        PostgresStorage.open(database_url) as target,
    ):
        counts, skipped = copy_from_tinydb(source, target)
    assert not skipped and counts["registrations"].in_database > 0, (counts, skipped)


@contextlib.contextmanager
def postgres_server() -> Iterator[str]:
    """Where the benchmark's databases are created: DATABASE_URL, or a throwaway cluster."""
    url = os.environ.get("DATABASE_URL")
    if url:
        yield url
        return
    cluster = ThrowawayCluster(durable=True)
    try:
        yield cluster.start()
    finally:
        cluster.stop()


# -- one measured configuration (a child process) -----------------------------------------
def memory_kb(field: str) -> int:
    """``VmRSS`` or ``VmHWM`` (peak) of this process in kB."""
    with contextlib.suppress(OSError):
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # kB on Linux: the peak


@dataclass(frozen=True)
class Mode:
    """How updates reach the bot: the network's round trip, and what runs concurrently."""

    rtt: float = 0.0  # seconds each Bot API call takes
    per_user: bool = False  # users concurrently, each user's updates one at a time

    def describe(self) -> str:
        order = "one at a time per user" if self.per_user else "one handled at a time"
        return f"{order}; Bot API round trip {self.rtt * 1000:.0f} ms"


class LatentAPI(FakeBotAPI):
    """The fake Bot API, answering each call after a network round trip."""

    def __init__(self, rtt: float) -> None:
        super().__init__()
        self.rtt = rtt

    async def do_request(
        self, url: str, method: str, *args: Any, **kwargs: Any
    ) -> tuple[int, bytes]:
        """Wait for the round trip, then answer as the kit does."""
        if self.rtt and not url.endswith("/getUpdates"):
            await asyncio.sleep(self.rtt)
        return await super().do_request(url, method, *args, **kwargs)


class TimedKit(OfflineTelegram):
    """The kit, handling one update at a time (an update queue) and timing each."""

    def __init__(self, mode: Mode) -> None:
        # Each update's own answer is timed; jobs (the outbox) run beside, as in production.
        super().__init__(LatentAPI(mode.rtt), wait_for_jobs=False, answers=False)
        self.mode = mode
        self.samples: list[float] = []
        self._queue = asyncio.Lock()

    async def feed(self, payload: JSONDict) -> list[BotMessage]:
        """Handle one update once the previous one is done (or, with ``per_user``, as the
        application's own update processor lets it); record how long it took."""
        async with self._queue if not self.mode.per_user else contextlib.nullcontext():
            start = time.perf_counter()
            try:
                return await super().feed(payload)
            finally:
                self.samples.append(time.perf_counter() - start)


async def walk_all(kit: TimedKit, walks: list[tuple[Person, list[Step]]], floor: bool) -> float:
    """Every applicant's walk as its own task; returns the wall time."""

    async def walk(person: Person, steps: list[Step]) -> None:
        for step in steps:
            await asyncio.sleep(0)  # let the others' updates in between
            await perform(person, step, floor)

    start = time.perf_counter()
    await asyncio.gather(*(walk(person, steps) for person, steps in walks))
    return time.perf_counter() - start


def people(
    kit: TimedKit, applicants: int, texts: Texts, first: int = 0
) -> list[tuple[Person, list[Step]]]:
    """The applicants (from the ``first``-th on), one in four writing in English, with their
    walks."""
    walks = []
    for i in range(first, first + applicants):
        user_id = FIRST_APPLICANT + i
        locale = "en" if i % 4 == 3 else "zh"
        person = kit.user(user_id, language_code="en" if locale == "en" else "zh-hans")
        walks.append((person, journey(user_id, locale, texts)))
    return walks


async def run_floor(applicants: int, mode: Mode) -> dict[str, Any]:
    """The framework's floor: bare PTB answering every update with a fixed text."""
    os.environ.setdefault("PTB_TIMEDELTA", "true")

    async def answer(update: Update, context: Any) -> None:
        if update.effective_chat is not None:
            await update.effective_chat.send_message("OK")

    started = time.perf_counter()
    kit = TimedKit(mode)
    builder = kit.wire(ApplicationBuilder()).updater(None)
    if mode.per_user:
        builder = builder.concurrent_updates(PerUserUpdateProcessor())
    app: Application[Any, Any, Any, Any, Any, Any] = builder.build()
    app.add_handler(TypeHandler(Update, answer))
    kit.attach(app)
    async with app:
        startup = time.perf_counter() - started
        rss_start = memory_kb("VmRSS")
        wall = await walk_all(kit, people(kit, applicants, Texts()), floor=True)
    return result(kit, wall, startup, rss_start) | {"scan_s": 0.0, "scan_mb": 0.0}


async def run_ours(
    data_dir: Path,
    applicants: int,
    mode: Mode,
    profile: bool,
    database_url: str | None,
    first: int = 0,
    together: bool = False,
) -> dict[str, Any]:
    """The whole bot on a pre-filled data folder (or the database it was copied into), its
    applicants from the ``first``-th on. ``together``: one of several processes on one
    database, which start walking at once (each prints ``READY``, then waits for a line)."""
    # The hourly reminder job would first run a minute after start, in the middle of the
    # walks; it is timed on its own below instead (``scan``).
    assert hasattr(reminders, "REMINDER_FIRST"), "the reminder's first run moved"
    reminders.REMINDER_FIRST = timedelta(hours=1)
    # The walkers are machines, a whole journey within seconds: the flood guard still runs
    # (its cost counts) but must not take them for flooders.
    flood.LIMIT = 10**9
    calls = FileCalls(data_dir)
    started = time.perf_counter()
    store: Storage = (
        PostgresStorage.open(database_url, shared=True)
        if database_url
        else TinyDBStorage.open(data_dir)
    )
    settings = Settings(
        _env_file=None,
        DATA_DIR=data_dir,
        ADMIN_CHAT_ID=ADMIN_CHAT,
        REVIEWER_IDS=list(REVIEWERS),
    )
    kit = TimedKit(mode)
    kit.group(ADMIN_CHAT, "Reviewers")
    app = build(settings, store, request=kit.api, rate_limit=False, album_wait=0.05)
    kit.attach(app)
    await app.initialize()
    await app.start()
    settle_heap()  # as ``python -m bot run`` does before it serves
    try:
        startup = time.perf_counter() - started
        rss_start = memory_kb("VmRSS")
        walks = people(kit, applicants, app.bot_data.services.texts, first)
        if together:
            print("READY", flush=True)
            await asyncio.to_thread(sys.stdin.readline)
        began = time.time()
        profiler = cProfile.Profile() if profile else None
        if profiler is not None:
            profiler.enable()
        calls.on = True
        wall = await walk_all(kit, walks, floor=False)
        calls.on = False
        if profiler is not None:
            profiler.disable()
            print_profile(profiler)
        figures = result(kit, wall, startup, rss_start) | {"began": began, "ended": time.time()}
        figures["file_calls"] = [[*key, n] for key, n in sorted(calls.counts.items())]
        for person, _ in walks:
            reg = store.registrations.get(Registration.make_id(person.id, Role.ISV))
            assert reg is not None and reg.status is Status.SUBMITTED, (person, reg)
        # What the hourly reminder job does first: find the idle drafts and fixes.
        start = time.perf_counter()
        app.bot_data.services.registrations.idle(settings.idle_rules)
        figures["scan_s"] = time.perf_counter() - start
        figures["scan_mb"] = memory_kb("VmHWM") / 1024
    finally:
        await app.stop()
        await app.shutdown()
        store.close()
    return figures


#: Where a function's own time is counted, by its file (first match wins); built-ins by name.
STAGES = (
    ("file system calls (open, write, fsync, rename, unlink)", ("posix.", "io.open", "_io.")),
    ("storage code, JSON and models", ("/storage/", "orjson", "pydantic", "_pydantic_core")),
    ("Telegram objects (PTB parsing updates and answers)", ("/telegram/_",)),
    ("PTB dispatch and requests", ("/telegram/ext/", "/telegram/request/", "/telegram/")),
    ("templates", ("jinja2", "markupsafe", "/bot/texts.py", "/templates/")),
    ("handlers, services and rules", ("/conversations/", "/bot/")),
    ("offline Telegram and the walkers (not the bot)", ("/bot/offline/", "/bench/")),
)


def stage_of(path: str, name: str) -> str:
    """The stage a profiled function belongs to."""
    where = name if path == "~" else path
    # The kit lives under bot/: look for it before the bot's own code.
    if "/bot/offline/" in where or "/bench/" in where:
        return STAGES[-1][0]
    for stage, marks in STAGES:
        if any(mark in where for mark in marks):
            return stage
    return "asyncio, logging and the rest of the standard library"


def print_profile(profiler: cProfile.Profile) -> None:
    """Where the time went: top functions by own time and by cumulative time, and shares by
    stage (under cProfile, Python code looks slower next to system calls than it is)."""
    for order in ("tottime", "cumulative"):
        out = io.StringIO()
        stats = pstats.Stats(profiler, stream=out).strip_dirs().sort_stats(order)
        stats.print_stats(25)
        print(f"--- profile, by {order} ---")
        print(out.getvalue())
    shares: dict[str, float] = {}
    raw = pstats.Stats(profiler).stats  # type: ignore[attr-defined]
    for (path, _line, name), (_cc, _nc, own, _cum, _callers) in raw.items():
        stage = stage_of(path, name)
        shares[stage] = shares.get(stage, 0.0) + own
    total = sum(shares.values())
    print("--- profile, own time by stage ---")
    for stage, seconds in sorted(shares.items(), key=lambda item: -item[1]):
        print(f"{100 * seconds / total:5.1f} %  {stage}")


def result(kit: TimedKit, wall: float, startup: float, rss_start: int) -> dict[str, Any]:
    """The figures of one run, taken right after it (latencies in ms, memory in MB)."""
    ms = sorted(s * 1000 for s in kit.samples)
    cuts = statistics.quantiles(ms, n=100, method="inclusive")
    return {
        "updates": len(ms),
        "calls": len(kit.api.sent) / len(ms),
        "wall_s": wall,
        "rate": len(ms) / wall,
        "p50": cuts[49],
        "p95": cuts[94],
        "p99": cuts[98],
        "max": ms[-1],
        "start_s": startup,
        "rss_start_mb": rss_start / 1024,
        "peak_mb": memory_kb("VmHWM") / 1024,
    }


def child(args: argparse.Namespace) -> int:
    """Run one configuration and print its figures as one ``RESULT {json}`` line."""
    figures: dict[str, Any]
    mode = Mode(rtt=args.rtt / 1000, per_user=args.per_user)
    if args.no_fsync and args.internal == "ours":
        # An experiment, never a setting: what the disk's flushes cost, by leaving them out.
        os.fsync = lambda fd: None
    if args.internal == "fill":
        started = time.perf_counter()
        fill(Path(args.data_dir), args.size, args.seed)
        if args.database_url:
            copy_to_postgres(Path(args.data_dir), args.database_url)
        figures = {"fill_s": time.perf_counter() - started}
    elif args.internal == "floor":
        figures = asyncio.run(run_floor(args.applicants, mode))
    else:
        data_dir = Path(args.data_dir)
        figures = asyncio.run(
            run_ours(
                data_dir,
                args.applicants,
                mode,
                args.profile,
                args.database_url,
                args.first,
                args.together,
            )
        )
    print("RESULT " + json.dumps(figures), flush=True)
    return 0


# -- the parent: runs the children, prints the table --------------------------------------
def spawn(*argv: str, show_output: bool = False) -> dict[str, Any]:
    """Run this module as a child with ``--internal ...``; its figures."""
    command = [sys.executable, "-m", "bench.flow", *argv]
    root = Path(__file__).resolve().parent.parent  # where ``bench`` is a package
    done = subprocess.run(command, cwd=root, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        sys.stderr.write(done.stdout + done.stderr)
        raise RuntimeError(f"benchmark child failed ({done.returncode}): {' '.join(argv)}")
    figures: dict[str, Any] | None = None
    for line in done.stdout.splitlines():
        if line.startswith("RESULT "):
            figures = json.loads(line.removeprefix("RESULT "))
        elif show_output:
            print(line)
    assert figures is not None, done.stdout
    return figures


def spawn_together(argvs: list[list[str]]) -> list[dict[str, Any]]:
    """Run children with ``--together`` at once: each starts its bot, says ``READY``, and all
    walk when every one is ready (so their walks overlap from the first update)."""
    root = Path(__file__).resolve().parent.parent
    children = [
        subprocess.Popen(
            [sys.executable, "-m", "bench.flow", *argv, "--together"],
            cwd=root,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for argv in argvs
    ]
    try:
        for proc in children:
            assert proc.stdout is not None
            line = proc.stdout.readline()
            if line.strip() != "READY":
                out, err = proc.communicate()
                sys.stderr.write(line + out + err)
                raise RuntimeError("benchmark child failed before its walks")
        for proc in children:
            assert proc.stdin is not None
            proc.stdin.write("go\n")
            proc.stdin.flush()
        figures = []
        for proc, argv in zip(children, argvs, strict=True):
            out, err = proc.communicate()
            found = [
                json.loads(line[7:]) for line in out.splitlines() if line.startswith("RESULT ")
            ]
            if proc.returncode != 0 or not found:
                sys.stderr.write(out + err)
                raise RuntimeError(f"benchmark child failed ({proc.returncode}): {' '.join(argv)}")
            figures.append(found[0])
        return figures
    finally:
        for proc in children:
            if proc.poll() is None:
                proc.kill()


COLUMNS = (
    ("updates", "updates", "{:>8d}"),
    ("calls", "calls", "{:>5.1f}"),
    ("wall_s", "wall s", "{:>7.1f}"),
    ("rate", "upd/s", "{:>7.0f}"),
    ("p50", "p50 ms", "{:>7.2f}"),
    ("p95", "p95 ms", "{:>7.2f}"),
    ("p99", "p99 ms", "{:>7.2f}"),
    ("max", "max ms", "{:>7.1f}"),
    ("start_s", "start s", "{:>7.2f}"),
    ("rss_start_mb", "rss0 MB", "{:>7.1f}"),
    ("peak_mb", "peak MB", "{:>7.1f}"),
    ("scan_s", "scan s", "{:>7.2f}"),
    ("scan_mb", "scan MB", "{:>7.1f}"),
)


def row(name: str, stored: str, figures: dict[str, Any]) -> str:
    """One line of the table."""
    cells = " ".join(fmt.format(figures[key]) for key, _, fmt in COLUMNS)
    return f"{name:<6} {stored:>7} {cells}"


def print_file_calls(size: int, figures: dict[str, Any]) -> None:
    """The bot's file replaces, fsyncs and removals per update during the walks, by place
    (none on PostgreSQL: nothing printed)."""
    if not figures.get("file_calls"):
        return
    updates = figures["updates"]
    by_place: dict[str, dict[str, float]] = {}
    totals = {"replace": 0.0, "fsync": 0.0, "unlink": 0.0}
    for call, place, n in figures.get("file_calls", []):
        by_place.setdefault(place, {})[call] = n / updates
        totals[call] += n / updates
    print(
        f"\nfile calls per update @{size}: replace {totals['replace']:.2f}, "
        f"fsync {totals['fsync']:.2f}, unlink {totals['unlink']:.2f}"
    )
    for place, calls in sorted(by_place.items(), key=lambda item: -sum(item[1].values())):
        cells = "  ".join(f"{call} {calls.get(call, 0.0):.2f}" for call in totals)
        print(f"  {place:<24} {cells}")


def verdict(ok: bool) -> str:
    return "ok" if ok else "MISSED"


def on_tinydb(size: int, common: list[str]) -> float:
    """Updates per second of the same walks with the bot on TinyDB (one process)."""
    with tempfile.TemporaryDirectory(prefix="bench-flow-") as tmp:
        spawn("--internal", "fill", "--size", str(size), "--data-dir", tmp, *common)
        return float(spawn("--internal", "ours", "--data-dir", tmp, *common)["rate"])


def together(count: int, applicants: int, argv: list[str]) -> dict[int, float]:
    """Updates per second of 1 and then ``count`` bot processes on one database (its data
    already there), the applicants shared between them, new ones for each run."""
    rates = {}
    first = applicants  # the stored size's own run walked the first ones
    for n in sorted({1, count}):
        shares = [applicants // n + (k < applicants % n) for k in range(n)]
        argvs = []
        for share in shares:
            argvs.append(
                ["--internal", "ours", *argv, "--applicants", str(share), "--first", str(first)]
            )
            first += share
        figures = spawn_together(argvs)
        wall = max(f["ended"] for f in figures) - min(f["began"] for f in figures)
        rates[n] = sum(f["updates"] for f in figures) / wall
        print(f"({n} processes: {rates[n]:.0f} updates/s)", flush=True)
    return rates


def main(argv: list[str] | None = None) -> int:
    """Run every configuration, print the table and ratios; 1 when a target is missed."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--applicants", type=int, default=None, help="default 300 (30 quick)")
    parser.add_argument("--stored", default=None, help="default 1000,100000 (quick 1000,10000)")
    parser.add_argument("--quick", action="store_true", help="a small run, under a minute")
    parser.add_argument("--profile", action="store_true", help="cProfile the largest size")
    parser.add_argument("--rtt", type=float, default=0.0, help="ms per Bot API call (default 0)")
    parser.add_argument("--per-user", action="store_true", help="users' updates concurrently")
    parser.add_argument(
        "--no-fsync", action="store_true", help="experiment: the bot's fsyncs left out"
    )
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--storage", choices=("tinydb", "postgres"), default="tinydb", help="default tinydb"
    )
    parser.add_argument(
        "--processes", type=int, default=0, help="postgres: also 1 and N bots on one database"
    )
    parser.add_argument(
        "--deployed",
        type=int,
        default=0,
        help="postgres: also 1 and N real bot processes over the HTTP fake Bot API",
    )
    parser.add_argument("--database-url", help=argparse.SUPPRESS)
    parser.add_argument("--internal", choices=("fill", "floor", "ours"), help=argparse.SUPPRESS)
    parser.add_argument("--data-dir", help=argparse.SUPPRESS)
    parser.add_argument("--size", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--first", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--together", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.internal:
        return child(args)

    applicants = args.applicants or (30 if args.quick else 300)
    stored = args.stored or ("1000,10000" if args.quick else "1000,100000")
    sizes = sorted({int(s) for s in stored.split(",")})
    per_walk = len(journey(FIRST_APPLICANT, "zh", Texts()))
    mode = Mode(rtt=args.rtt / 1000, per_user=args.per_user)
    print(
        f"{applicants} applicants × {per_walk} updates, interleaved, {mode.describe()}; "
        f"storage {args.storage}; latency = handling time of one update"
    )
    options = ["--seed", str(args.seed), "--rtt", str(args.rtt)]
    options += ["--per-user"] if args.per_user else []
    options += ["--no-fsync"] if args.no_fsync else []
    common = ["--applicants", str(applicants), *options]
    floor = spawn("--internal", "floor", *common)
    ours: dict[int, dict[str, Any]] = {}
    if (args.processes or args.deployed) and args.storage != "postgres":
        parser.error("--processes and --deployed need --storage postgres")
    processes: dict[int, float] = {}
    tinydb = 0.0  # with --processes: the same walks on TinyDB, one process
    deployed: dict[int, float] = {}
    with contextlib.ExitStack() as stack:
        server = stack.enter_context(postgres_server()) if args.storage == "postgres" else None
        if server is not None and args.deployed:
            # The deployed path, real processes (bench/processes.py): 1, then N.
            work = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-p-")))
            for n in sorted({1, args.deployed}):
                deployed[n] = bench_processes.throughput(applicants, n, server, work)
        for size in sizes:
            with tempfile.TemporaryDirectory(prefix="bench-flow-") as tmp:
                data_dir = ["--data-dir", tmp]
                if server is not None:
                    name = f"bench_flow_{os.getpid()}_{size}"
                    data_dir += ["--database-url", create_database(server, name)]
                filled = spawn("--internal", "fill", "--size", str(size), *data_dir, *common)
                profile = ["--profile"] if args.profile and size == sizes[-1] else []
                ours[size] = spawn(
                    "--internal", "ours", *data_dir, *common, *profile, show_output=bool(profile)
                )
                if server is not None and args.processes and size == sizes[0]:
                    processes = together(args.processes, applicants, [*data_dir, *options])
                    tinydb = on_tinydb(size, common)
                if server is not None:
                    drop_database(server, name)
                print(f"(filled {size} registrations in {filled['fill_s']:.1f} s)", flush=True)

    header = " ".join(f"{title:>{len(fmt.format(0))}}" for _, title, fmt in COLUMNS)
    print(f"\n{'config':<6} {'stored':>7} {header}")
    print(row("floor", "-", floor))
    for size in sizes:
        print(row("ours", str(size), ours[size]))
    print(
        "calls: Bot API calls per update; start s: open storage + build + initialize "
        "(persistence loaded); rss0: RSS after start; peak: VmHWM after the walks; scan s, "
        "scan MB: one reminder scan (registrations.idle) after them, and the peak RSS since"
    )

    for size in sizes:
        print_file_calls(size, ours[size])

    ok = True
    print()
    for size in sizes:
        ratio = ours[size]["rate"] / floor["rate"]
        print(f"ratio ours/floor throughput @{size}: {ratio:.3f}")
    small, large = sizes[0], sizes[-1]
    if large != small:
        for key, title in (("p50", "p50 latency"), ("p95", "p95 latency"), ("p99", "p99 latency")):
            ratio = ours[large][key] / ours[small][key]
            ok = ok and ratio <= TARGET_GROWTH
            print(
                f"ratio {large}/{small} {title}: {ratio:.2f} "
                f"(target ≤ {TARGET_GROWTH}: {verdict(ratio <= TARGET_GROWTH)})"
            )
        ratio = ours[large]["peak_mb"] / ours[small]["peak_mb"]
        ok = ok and ratio <= TARGET_GROWTH
        print(
            f"ratio {large}/{small} peak RSS: {ratio:.2f} "
            f"(target ≤ {TARGET_GROWTH}: {verdict(ratio <= TARGET_GROWTH)})"
        )
    if deployed:
        for n, rate in deployed.items():
            print(f"deployed {n}: {rate:.0f} updates/s (real bot processes, HTTP Bot API)")
        ratio = deployed[args.deployed] / deployed[1]
        print(f"ratio deployed {args.deployed}/1 throughput: {ratio:.2f}")
    if processes:
        print(f"tinydb 1 process: {tinydb:.0f} updates/s (the same walks, {sizes[0]} stored)")
        for n, rate in processes.items():
            print(
                f"processes {n}: {rate:.0f} updates/s ({applicants} applicants, {sizes[0]} stored)"
            )
        ratio = processes[args.processes] / processes[1]
        print(f"ratio processes {args.processes}/1 throughput: {ratio:.2f}")
        factor = processes[args.processes] / TELEGRAM_RATE
        ok = ok and factor >= TARGET_PROCESSES_FACTOR
        print(
            f"ratio throughput/{TELEGRAM_RATE} with {args.processes} processes: {factor:.1f} "
            f"(target ≥ {TARGET_PROCESSES_FACTOR}: {verdict(factor >= TARGET_PROCESSES_FACTOR)})"
        )
    for size in sizes:
        factor = ours[size]["rate"] / TELEGRAM_RATE
        ok = ok and factor >= TARGET_RATE_FACTOR
        print(
            f"ratio throughput/{TELEGRAM_RATE} @{size}: {factor:.1f} "
            f"(target ≥ {TARGET_RATE_FACTOR}: {verdict(factor >= TARGET_RATE_FACTOR)})"
        )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
