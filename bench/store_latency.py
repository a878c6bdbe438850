"""Storage latency at 1k, 10k and 100k applicants: a write and a read must not grow with n.

Run ``python -m bench.store_latency [--sizes 1000,10000,100000] [--samples 300]``. Each
size is seeded by ``bench/seed.py`` (the flow benchmark's data, written straight on disk),
then the measured operations go through the real ``TinyDBStorage`` API:

- write: ``registrations.save`` of one draft turned ``submitted`` (user file + two markers)
- read: ``registrations.get`` by id

Prints a table of median and p95 latencies and the largest/smallest size ratio per metric;
exits 1 if a ratio reaches 2.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

from bench.seed import fill
from bot.rules.models import Registration, Role, Status
from storage.tinydb_store import TinyDBStorage

WARMUP = 30  # untimed operations before the samples


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
        fill(data_dir, size, seed, drafts=targets)
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
