"""The flow benchmark (``python -m bench.flow``) runs end to end in its quick mode and prints
its table and ratios. The targets themselves are not checked here: machines are noisy."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from bot.rules import form
from bot.rules.form import Kind
from bot.rules.models import Role

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_the_quick_flow_benchmark_completes_and_prints_its_ratios() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "bench.flow", "--quick"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    # 0: every target met, 1: one missed; a crash would show a traceback.
    assert done.returncode in (0, 1) and "Traceback" not in done.stderr, done.stderr
    out = done.stdout
    for config in ("floor        -", "ours      1000", "ours     10000"):
        assert config in out, out
    for ratio in (
        "ratio ours/floor throughput @1000:",
        "ratio ours/floor throughput @10000:",
        "ratio 10000/1000 p50 latency:",
        "ratio 10000/1000 p95 latency:",
        "ratio 10000/1000 p99 latency:",
        "ratio 10000/1000 peak RSS:",
        "ratio throughput/30 @1000:",
        "ratio throughput/30 @10000:",
    ):
        assert ratio in out, out


#: Printed by the benchmark's own module (``bench`` is run from the repository, not installed).
WALK_FIGURES = """
import json
from bench.flow import FIRST_APPLICANT, journey
from bot.texts import Texts
steps = journey(FIRST_APPLICANT, "en", Texts())
print(json.dumps([[s.kind, s.text, s.data.hex()] for s in steps]))
"""


def test_the_benchmark_walks_every_field_the_form_asks_of_its_role() -> None:
    done = subprocess.run(
        [sys.executable, "-c", WALK_FIGURES],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    steps = json.loads(done.stdout)
    fields = form.fields_for(Role.ISV)
    # /apply, phone, agreement, role, confirmation; one step per field; submit.
    assert len(steps) == 5 + len(fields) + 1
    uploads = [data for kind, _, data in steps if kind == "upload"]
    assert len(uploads) == sum(f.kind is Kind.DOCUMENT for f in fields)
    assert len(set(uploads)) == len(uploads), "each upload is a new file"
