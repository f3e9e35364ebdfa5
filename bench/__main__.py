"""`python -m bench [--smoke] [name …]`: run every benchmark module of bench/, each in a fresh
subprocess with a time limit, one after the other (they would disturb each other's timings
side by side), then write bench/results.json and print the table.

A benchmark module is any `bench/<name>.py` other than this runner, `common` and `__init__`, so a
new one (bench/crash_recovery.py, say) is picked up by its presence. Its contract: runnable as
`python -m bench.<name> [--smoke]`, bounded in time and count, and printing its rows as a JSON
list on the last line of stdout — objects with name, value, unit, target, baseline, ratio, ok.
A module that fails, overruns its limit or prints no rows gets a row saying so. The runner exits
0 even when targets are missed (it lists them); only a run it could not do at all is an error.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
REPO_ROOT = BENCH_DIR.parent
RESULTS = BENCH_DIR / "results.json"
NOT_BENCHMARKS = frozenset({"__init__", "__main__", "common"})
COLUMNS = ("name", "value", "unit", "target", "baseline", "ratio", "ok")
FIELDS = frozenset(COLUMNS)
# Seconds each module may take before it is stopped; each stays under 10 minutes (the whole run
# takes about 25).
TIME_LIMITS = {
    "fault_drill": 180.0,
    "scale": 150.0,
    "crash_recovery": 150.0,
    "storm": 240.0,
    "chart_memory": 240.0,  # 50 charts, each drawn by a fresh worker process (~2 s)
    "flood_day": 660.0,  # a flood afternoon at Telegram's real limits, drained (~6.5 min)
    "retention": 420.0,  # 1,000 calls through the bot, then a year's maintenance (~4 min)
}
DEFAULT_LIMIT = 90.0
SMOKE_LIMIT = 60.0


def discover() -> list[str]:
    """The benchmark modules in bench/, by name."""
    return sorted(p.stem for p in BENCH_DIR.glob("*.py") if p.stem not in NOT_BENCHMARKS)


def parse_rows(stdout: str) -> list[dict[str, Any]] | None:
    """The rows on the last non-empty line of a module's stdout, or None if there are none."""
    lines = [line for line in stdout.splitlines() if line.strip()]
    if not lines:
        return None
    try:
        rows = json.loads(lines[-1])
    except json.JSONDecodeError:
        return None
    if not isinstance(rows, list) or not all(
        isinstance(r, dict) and r.keys() >= FIELDS for r in rows
    ):
        return None
    return rows


def run_module(name: str, *, smoke: bool, limit: float) -> tuple[list[dict[str, Any]], float]:
    """Run one module in a fresh interpreter; its rows, or one row telling what went wrong."""
    command = [sys.executable, "-m", f"bench.{name}", *(["--smoke"] if smoke else [])]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    started = time.monotonic()
    try:
        done = subprocess.run(
            command,
            cwd=REPO_ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=limit,
            check=False,
        )
    except subprocess.TimeoutExpired:
        seconds = time.monotonic() - started
        return [_failure(name, f"stopped after {limit:.0f} s", seconds)], seconds
    seconds = time.monotonic() - started
    rows = parse_rows(done.stdout)
    if done.returncode != 0 or rows is None:
        tail = (done.stderr or done.stdout).strip().splitlines()[-5:]
        sys.stderr.write(
            f"bench.{name} failed (exit {done.returncode}):\n" + "\n".join(tail) + "\n"
        )
        return [_failure(name, f"exit {done.returncode}, no rows", seconds)], seconds
    return rows, seconds


def _failure(name: str, why: str, seconds: float) -> dict[str, Any]:
    return {
        "name": f"{name}: {why}",
        "value": round(seconds, 1),
        "unit": "s",
        "target": "runs",
        "baseline": None,
        "ratio": None,
        "ok": False,
    }


def table(rows: list[dict[str, Any]]) -> str:
    """The rows as a Markdown table (readable in a terminal too)."""
    cells = [[_cell(r.get(c)) for c in COLUMNS] for r in rows]
    widths = [max(len(c), *(len(line[i]) for line in cells)) for i, c in enumerate(COLUMNS)]
    lines = [
        "| " + " | ".join(c.ljust(w) for c, w in zip(COLUMNS, widths, strict=True)) + " |",
        "|" + "|".join("-" * (w + 2) for w in widths) + "|",
    ]
    for line in cells:
        lines.append(
            "| " + " | ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)) + " |"
        )
    return "\n".join(lines)


def _cell(value: object) -> str:
    if value is None:
        return "–"
    if value is True:
        return "yes"
    if value is False:
        return "**NO**"
    return str(value)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--smoke", action="store_true", help="every module at a tiny size")
    parser.add_argument("--output", type=Path, default=RESULTS, help="where to write the rows")
    parser.add_argument("names", nargs="*", help="only these modules (default: all)")
    args = parser.parse_args()
    names = args.names or discover()
    unknown = sorted(set(names) - set(discover()))
    if unknown:
        parser.error(f"no benchmark module {', '.join(unknown)} in {BENCH_DIR}")
    rows: list[dict[str, Any]] = []
    started = time.monotonic()
    for name in names:
        limit = SMOKE_LIMIT if args.smoke else TIME_LIMITS.get(name, DEFAULT_LIMIT)
        print(f"bench.{name} …", end=" ", flush=True)
        found, seconds = run_module(name, smoke=args.smoke, limit=limit)
        print(f"{seconds:.1f} s", flush=True)
        rows.extend(found)
    partial = args.output.with_name(args.output.name + ".tmp")
    partial.write_text(json.dumps(rows, indent=2, ensure_ascii=False) + "\n")
    partial.replace(args.output)
    print()
    print(table(rows))
    print(f"\n{len(names)} modules in {time.monotonic() - started:.0f} s; rows in {args.output}")
    missed = [r["name"] for r in rows if r.get("ok") is False]
    if missed:
        print("targets missed:\n" + "\n".join(f"  - {name}" for name in missed))
    else:
        print("every target met")
    return 0


if __name__ == "__main__":
    sys.exit(main())
