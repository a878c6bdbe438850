"""kill -9 at random moments: every acknowledged write survives and every file still parses."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from bot.rules.models import Status
from storage.atomic import is_temp
from storage.tinydb_store import TinyDBStorage

ROOT = Path(__file__).resolve().parents[2]
RUNS = 50

# The child prints "B <op>" before each call and "A <op>" once it returned: an "A" line is
# a write the bot could have confirmed to a user.
CHILD = r"""
import sys
from pathlib import Path

from bot.rules.models import Account, Registration, Role, Status
from storage.tinydb_store import TinyDBStorage

store = TinyDBStorage.open(Path(sys.argv[1]))
base = int(sys.argv[2])
print("ready", flush=True)


def op(text, call):
    print("B " + text, flush=True)
    call()
    print("A " + text, flush=True)


def registration(uid, status):
    return Registration(
        id=Registration.make_id(uid, Role.ISV), user_id=uid, role=Role.ISV, status=status,
        answers={"company": "深圳市某某科技有限公司" * 3, "i": uid, "note": "x" * 600},
    )


i = 0
while True:
    uid = base + i
    rid = Registration.make_id(uid, Role.ISV)
    op(f"acct {uid}", lambda: store.accounts.save(Account(user_id=uid, phone="13800138000")))
    op(f"reg {rid} draft", lambda: store.registrations.save(registration(uid, Status.DRAFT)))
    op(f"reg {rid} submitted",
       lambda: store.registrations.save(registration(uid, Status.SUBMITTED)))
    op(f"kv {uid} {i}", lambda: store.kv.put("ptb.user_data", str(uid), {"i": i}))
    if i % 3 == 2:
        gone = Registration.make_id(uid - 1, Role.ISV)
        op(f"del {gone}", lambda: store.registrations.delete(gone))
    if i % 4 == 3:
        done = uid - 2
        op(f"reg {Registration.make_id(done, Role.ISV)} approved",
           lambda: store.registrations.save(registration(done, Status.APPROVED)))
    i += 1
"""


@dataclass
class Model:
    """What the storage must hold, from the acknowledged operations."""

    accounts: set[int] = field(default_factory=set)
    regs: dict[str, str] = field(default_factory=dict)
    kv: dict[str, Any] = field(default_factory=dict)

    def apply(self, op: str) -> None:
        kind, *args = op.split()
        if kind == "acct":
            self.accounts.add(int(args[0]))
        elif kind == "reg":
            self.regs[args[0]] = args[1]
        elif kind == "del":
            self.regs.pop(args[0], None)
        elif kind == "kv":
            self.kv[args[0]] = {"i": int(args[1])}
        else:
            raise AssertionError(op)


def every_file_parses(data_dir: Path) -> None:
    for path in data_dir.rglob("*.json"):
        if not is_temp(path.name):
            json.loads(path.read_bytes())


def run_child(data_dir: Path, base: int, delay: float) -> list[str]:
    """Start the writer, kill -9 it ``delay`` seconds after it is ready; its output lines."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    command = [sys.executable, "-c", CHILD, str(data_dir), str(base)]
    with subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=ROOT, env=env
    ) as proc:
        assert proc.stdout is not None and proc.stderr is not None
        first = proc.stdout.readline()
        if first == b"ready\n":
            time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        # Read through the same buffered reader as readline: communicate() would read the
        # raw pipe and lose whatever readline had already buffered past "ready".
        out, err = proc.stdout.read(), proc.stderr.read()
    assert first == b"ready\n", f"child did not start: {first!r} {err.decode()}"
    assert proc.returncode == -signal.SIGKILL, err.decode()
    # A line cut short by the kill has no newline: it was never acknowledged.
    return out.decode().split("\n")[:-1]


@pytest.mark.slow
def test_acknowledged_writes_survive_kill_9(tmp_path: Path) -> None:
    seed = random.randrange(2**32)
    rng = random.Random(seed)
    model = Model()
    acknowledged = 0
    for run in range(RUNS):
        lines = run_child(tmp_path, base=(run + 1) * 100_000, delay=rng.uniform(0, 0.150))
        in_flight = None
        for line in lines:
            tag, op = line.split(" ", 1)
            if tag == "A":
                model.apply(op)
                acknowledged += 1
                in_flight = None
            else:
                in_flight = op
        context = f"seed={seed} run={run} in_flight={in_flight!r}"

        every_file_parses(tmp_path)
        store = TinyDBStorage.open(tmp_path)  # the dead child's lock is gone with it
        try:
            check(store, model, in_flight, context)
        finally:
            store.close()
    assert acknowledged > RUNS  # the kills did land after real work


def check(store: TinyDBStorage, model: Model, in_flight: str | None, context: str) -> None:
    """The storage equals the model, give or take the one unacknowledged operation."""
    after = Model(set(model.accounts), dict(model.regs), dict(model.kv))
    if in_flight is not None:
        after.apply(in_flight)
    regs = {r.id: r.status.value for r in store.registrations.all()}
    kv = dict(store.kv.items("ptb.user_data"))
    assert regs in (model.regs, after.regs), context
    assert kv in (model.kv, after.kv), context
    for uid in model.accounts:
        assert store.accounts.get(uid) is not None, f"{context} account {uid}"
    # Indexes and counter agree with what is stored.
    assert store.registrations.count() == len(regs), context
    for status in Status:
        listed = sorted(r.id for r in store.registrations.with_status(status))
        assert listed == sorted(rid for rid, s in regs.items() if s == status.value), context
    # Carry the in-flight operation's outcome into the model for the next runs.
    model.regs, model.kv = regs, kv
    model.accounts = {uid for uid in after.accounts if store.accounts.get(uid) is not None}
