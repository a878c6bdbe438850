"""The flow benchmark (``python -m bench.flow``) runs end to end in its quick mode and prints
its table and ratios. The targets themselves are not checked here: machines are noisy."""

from __future__ import annotations

import json

import pytest
from conftest import run_python

from bot.rules import form
from bot.rules.form import Kind
from bot.rules.models import Role


@pytest.mark.slow
def test_the_quick_flow_benchmark_completes_and_prints_its_ratios() -> None:
    out = run_python("-m", "bench.flow", "--quick", timeout=600)
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


@pytest.mark.slow
def test_the_processes_benchmark_runs_the_bot_as_one_and_two_processes_on_postgres() -> None:
    out = run_python(
        "-m",
        "bench.flow",
        "--storage",
        "postgres",
        "--per-user",
        "--stored",
        "1000",
        "--applicants",
        "20",
        "--processes",
        "2",
        timeout=600,
    )
    for line in (
        "ours      1000",
        "tinydb 1 process:",
        "processes 1:",
        "processes 2:",
        "ratio processes 2/1 throughput:",
        "ratio throughput/30 with 2 processes:",
        "ratio throughput/30 @1000:",
    ):
        assert line in out, out


#: Printed by the benchmark's own module (``bench`` is run from the repository, not installed).
WALK_FIGURES = """
import json
from bench.flow import FIRST_APPLICANT, journey
from bot.texts import Texts
steps = journey(FIRST_APPLICANT, "en", Texts())
print(json.dumps([[s.kind, s.text, s.data.hex()] for s in steps]))
"""


def test_the_benchmark_walks_every_field_the_form_asks_of_its_role() -> None:
    steps = json.loads(run_python("-c", WALK_FIGURES, timeout=120, exits=(0,)))
    fields = form.fields_for(Role.ISV)
    # /apply, phone, agreement, role, confirmation; one step per field; submit.
    assert len(steps) == 5 + len(fields) + 1
    uploads = [data for kind, _, data in steps if kind == "upload"]
    assert len(uploads) == sum(f.kind is Kind.DOCUMENT for f in fields)
    assert len(set(uploads)) == len(uploads), "each upload is a new file"
