"""Every benchmark still runs: each module of bench/ at a tiny size (`--smoke`) in its own
process, exiting 0 and printing well-formed rows, so the suite cannot rot between full runs.

The modules run side by side (each has its own simulator on a free port and its own scratch
directory; smoke numbers mean nothing), so the whole check takes as long as the slowest one."""

from __future__ import annotations

import json
import math
import subprocess
import sys
import time
from dataclasses import dataclass

import pytest

from bench.__main__ import COLUMNS, REPO_ROOT, SMOKE_LIMIT, discover, parse_rows


@dataclass(frozen=True)
class Finished:
    returncode: int
    stdout: str
    stderr: str


@pytest.fixture(scope="module")
def smoke_runs() -> dict[str, Finished]:
    """Every module started at once with --smoke, then awaited within the smoke time limit."""
    running = {
        name: subprocess.Popen(
            [sys.executable, "-m", f"bench.{name}", "--smoke"],
            cwd=REPO_ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for name in discover()
    }
    deadline = time.monotonic() + SMOKE_LIMIT
    finished = {}
    for name, proc in running.items():
        try:
            stdout, stderr = proc.communicate(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            proc.kill()
            stdout, stderr = proc.communicate()
            stderr += f"\nstopped after {SMOKE_LIMIT:.0f} s"
        finished[name] = Finished(proc.returncode, stdout, stderr)
    return finished


@pytest.mark.parametrize("name", discover())
def test_benchmark_runs_at_a_tiny_size(name: str, smoke_runs: dict[str, Finished]) -> None:
    done = smoke_runs[name]
    assert done.returncode == 0, done.stderr[-3000:]
    rows = parse_rows(done.stdout)
    assert rows, f"no rows on the last line of stdout: {done.stdout[-500:]!r}"
    for row in rows:
        assert set(COLUMNS) <= row.keys()
        assert isinstance(row["name"], str) and row["name"]
        assert isinstance(row["value"], int | float) and math.isfinite(row["value"]), row
        assert isinstance(row["unit"], str)
        assert row["ok"] in (True, False, None)
        assert row["target"] is None or isinstance(row["target"], str)
        json.dumps(row)  # the runner writes them back out as they are


def test_the_runner_finds_the_figures() -> None:
    expected = {
        "ack_throughput",
        "report_latency",
        "broadcast_pacing",
        "reminder_lateness",
        "scale",
        "write_path",
        "fault_drill",
        "chart_memory",
    }
    assert expected <= set(discover())
