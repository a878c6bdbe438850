"""Storage latency at 1k, 10k and 100k applicants: a write and a read must not grow with n.

Run ``python bench/storage.py [--sizes 1000,10000,100000] [--samples 300]``. Each size is
filled directly on disk in the store's own layout and serialiser (fast), then the measured
operations go through the real ``TinyDBStorage`` API:

- write: ``registrations.save`` of one draft turned ``submitted`` (user file + two markers)
- read: ``registrations.get`` by id

Prints a table of median and p95 latencies and the largest/smallest size ratio per metric;
exits 1 if a ratio reaches 2.
"""

from __future__ import annotations

import sys
from pathlib import Path

if not __package__:
    # Run as a script, this folder would come first on sys.path and its storage.py would
    # shadow the ``storage`` package.
    _HERE = Path(__file__).resolve().parent
    sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]
    sys.path.insert(0, str(_HERE.parent))

import argparse
import os
import random
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.rules.models import Account, Document, Registration, Role, Status
from storage.atomic import dumps
from storage.tinydb_store import (
    INDEXED_STATUSES,
    TinyDBStorage,
    counter_path,
    status_dir,
    user_path,
)

T0 = datetime(2026, 1, 5, tzinfo=UTC)
WARMUP = 30  # untimed operations before the samples
# Where applicants stand in a long-running bot: most are done, some wait, a few are drafts.
BACKGROUND = [
    (Status.APPROVED, 55),
    (Status.REJECTED, 10),
    (Status.DRAFT, 15),
    (Status.SUBMITTED, 8),
    (Status.IN_REVIEW, 6),
    (Status.CHANGES_REQUESTED, 4),
    (Status.RESUBMITTED, 2),
]


def answers(rng: random.Random, user_id: int) -> dict[str, Any]:
    """Answers of a realistic size (~1 KB with the rest of the record)."""
    doc = Document(
        file_id=f"BQACAgUAAxkBAAI{user_id:012d}",
        file_unique_id=f"AgAD{user_id:08d}",
        file_name="营业执照.pdf",
        mime_type="application/pdf",
        size=rng.randrange(100_000, 5_000_000),
        sha256=f"{rng.getrandbits(256):064x}",
        stored_as=f"files/ab/{rng.getrandbits(256):064x}.pdf",
    )
    return {
        "company_name": f"深圳市第{user_id}号科技有限公司",
        "credit_code": "91350100M000100Y43",
        "contact_name": "张三",
        "phone": f"138{user_id % 10**8:08d}",
        "email": f"dev{user_id}@example.com",
        "address": "广东省深圳市南山区科技园南区某某大厦18楼",
        "website": f"https://www.example{user_id}.cn",
        "description": "为平台商家提供订单管理、库存同步与数据分析服务。" * 3,
        "license": doc.model_dump(mode="json"),
    }


def fill(data_dir: Path, size: int, drafts: list[int], rng: random.Random) -> None:
    """Write ``size`` applicants straight into the store's layout (no fsync: setup only)."""
    statuses = [s for s, _ in BACKGROUND]
    weights = [w for _, w in BACKGROUND]
    chosen = set(drafts)
    created: set[Path] = set()
    for user_id in range(1, size + 1):
        status = Status.DRAFT if user_id in chosen else rng.choices(statuses, weights)[0]
        when = T0 + timedelta(seconds=user_id)
        account = Account(user_id=user_id, locale="zh", created_at=when, updated_at=when)
        reg = Registration(
            id=Registration.make_id(user_id, Role.ISV),
            user_id=user_id,
            role=Role.ISV,
            status=status,
            answers=answers(rng, user_id),
            created_at=when,
            updated_at=when,
        )
        path = user_path(data_dir, user_id)
        if path.parent not in created:
            path.parent.mkdir(parents=True, exist_ok=True)
            created.add(path.parent)
        doc = {
            "account": {"1": account.model_dump(mode="json")},
            "registrations": {"1": reg.model_dump(mode="json")},
        }
        path.write_bytes(dumps(doc))
        if status in INDEXED_STATUSES:
            marker = status_dir(data_dir, status) / reg.id
            if marker.parent not in created:
                marker.parent.mkdir(parents=True, exist_ok=True)
                created.add(marker.parent)
            marker.touch()
    counter_path(data_dir).write_bytes(dumps({"count": size, "pending": None}))
    os.sync()  # measured fsyncs must not pay for flushing the fill


def elapsed_ms(start: float) -> float:
    return (time.perf_counter() - start) * 1000


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20, method="inclusive")[-1]


def measure(size: int, samples: int, seed: int) -> dict[str, float]:
    """Fill a temp store with ``size`` applicants and time ``samples`` writes and reads."""
    rng = random.Random(seed)
    warmup = min(WARMUP, size // 10)
    targets = rng.sample(range(1, size + 1), min(samples + warmup, size))
    with tempfile.TemporaryDirectory(prefix="bench-storage-") as tmp:
        data_dir = Path(tmp)
        started = time.perf_counter()
        fill(data_dir, size, targets, rng)
        fill_s = time.perf_counter() - started
        started = time.perf_counter()
        store = TinyDBStorage.open(data_dir)  # walks the tree once for crash leftovers
        open_s = time.perf_counter() - started
        try:
            regs = store.registrations
            writes: list[float] = []
            reads: list[float] = []
            # Reads and writes alternate so both see the same disk and cache conditions; the
            # first few of each are a warm-up (fresh memory in a VM is slow to touch).
            for n, user_id in enumerate(targets):
                rid = Registration.make_id(rng.randrange(1, size + 1), Role.ISV)
                start = time.perf_counter()
                found = regs.get(rid)
                read_ms = elapsed_ms(start)
                assert found is not None

                reg = regs.get(Registration.make_id(user_id, Role.ISV))
                assert reg is not None and reg.status == Status.DRAFT
                reg.status = Status.SUBMITTED
                start = time.perf_counter()
                regs.save(reg)
                write_ms = elapsed_ms(start)
                if n >= warmup:
                    reads.append(read_ms)
                    writes.append(write_ms)
        finally:
            store.close()
    return {
        "write_p50": statistics.median(writes),
        "write_p95": p95(writes),
        "read_p50": statistics.median(reads),
        "read_p95": p95(reads),
        "fill_s": fill_s,
        "open_s": open_s,
    }


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print its table; 1 if a largest/smallest ratio reaches 2."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument("--samples", type=int, default=500)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    sizes = sorted(int(s) for s in args.sizes.split(","))

    metrics = ["write_p50", "write_p95", "read_p50", "read_p95"]
    print(f"samples per size: {args.samples}; times in ms")
    header = " ".join(f"{m:>10}" for m in metrics)
    print(f"{'applicants':>10} {header} {'fill s':>7} {'open s':>7}")
    results: dict[int, dict[str, float]] = {}
    for size in sizes:
        results[size] = measure(size, args.samples, args.seed)
        row = results[size]
        cells = " ".join(f"{row[m]:>10.3f}" for m in metrics)
        print(f"{size:>10} {cells} {row['fill_s']:>7.1f} {row['open_s']:>7.2f}", flush=True)

    if len(sizes) < 2:
        return 0
    small, large = sizes[0], sizes[-1]
    ok = True
    print(f"\nratio {large}/{small} (must stay below 2):")
    for m in metrics:
        ratio = results[large][m] / results[small][m]
        ok = ok and ratio < 2
        print(f"  {m:<10} {ratio:5.2f}  {'ok' if ratio < 2 else 'TOO SLOW'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
