"""The storage benchmark (``python -m bench.store_latency``) seeds through the shared seeding
module and prints its table; the benchmarks are modules of the ``bench`` package that shadow
none of the project's packages, so no benchmark edits ``sys.path``."""

from __future__ import annotations

import pytest
from conftest import ROOT, run_python

PACKAGES = ("bot", "conversations", "storage")


def test_no_benchmark_module_shadows_a_package_or_edits_the_import_path() -> None:
    modules = sorted((ROOT / "bench").glob("*.py"))
    assert {m.stem for m in modules} & set(PACKAGES) == set()
    assert [m.name for m in modules if "sys.path" in m.read_text("utf-8")] == []


@pytest.mark.slow
def test_the_storage_benchmark_runs_on_seeded_data_and_prints_its_ratios() -> None:
    out = run_python(
        "-m", "bench.store_latency", "--sizes", "200,400", "--samples", "30", timeout=300
    )
    assert "ratio 400/200 (must stay below 2):" in out, out
    for size in ("200", "400"):
        assert any(line.split()[:1] == [size] for line in out.splitlines()), out
