"""The storage benchmark (``python -m bench.store_latency``) seeds through the shared seeding
module and prints its table; the benchmarks are modules of the ``bench`` package that shadow
none of the project's packages, so no benchmark edits ``sys.path``."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("bot", "conversations", "storage")


def test_no_benchmark_module_shadows_a_package_or_edits_the_import_path() -> None:
    modules = sorted((ROOT / "bench").glob("*.py"))
    assert {m.stem for m in modules} & set(PACKAGES) == set()
    assert [m.name for m in modules if "sys.path" in m.read_text("utf-8")] == []


@pytest.mark.slow
def test_the_storage_benchmark_runs_on_seeded_data_and_prints_its_ratios() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "bench.store_latency", "--sizes", "200,400", "--samples", "30"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode in (0, 1) and "Traceback" not in done.stderr, done.stderr
    assert "ratio 400/200 (must stay below 2):" in done.stdout, done.stdout
    for size in ("200", "400"):
        assert any(line.split()[:1] == [size] for line in done.stdout.splitlines()), done.stdout
