"""The crash drill at full size: the real bot as a subprocess, SIGKILLed at least ten times while
a stream of 240 calls, acknowledgements and task picks goes on, then checked for what people
were promised (`tests.crash`, which CI runs with 60 actions). Prints the counts it checked, then
its rows; every check must find nothing wrong. `--smoke` runs 20 actions and 5 kills."""

from __future__ import annotations

from bench.common import Row, main, row, scratch_dir
from tests.crash import CrashPlan, CrashReport, run_crash_drill

FULL = CrashPlan(operations=240, kills=10, seed=2024, time_limit=130.0)
SMOKE = CrashPlan(operations=20, kills=5, seed=2024, time_limit=55.0)


def rows(report: CrashReport, plan: CrashPlan) -> list[Row]:
    counts = report.counts
    figures = [
        row(
            "crash: actions in the stream",
            counts["operations"],
            "count",
            target=f">= {plan.operations}",
        ),
        row("crash: SIGKILLs", counts["kills"], "count", target=f">= {plan.kills}"),
        row("crash: confirmations seen", counts["confirmations seen"], "count"),
        row(
            "crash: kills between a call's commit and its update's record",
            counts.get("kills between a call's commit and its update's record", 0),
            "count",
        ),
        row("crash: cards checked", counts["cards checked (one per incident and chat)"], "count"),
        row(
            "crash: duplicate cards explained by a kill mid-send",
            counts["duplicate cards explained by a kill mid-send"],
            "count",
        ),
        row(
            "crash: acknowledgements answered Tercatat",
            counts["acknowledge presses answered Tercatat"],
            "count",
        ),
        row(
            "crash: reminder firings",
            counts["reminder firings (one timeline event each)"],
            "count",
        ),
        row("crash: duration", report.seconds, "s"),
    ]
    for check in report.CHECKS:
        figures.append(
            row(f"crash: {check} problems", len(report.failed(check)), "count", target="== 0")
        )
    return figures


async def measure(smoke: bool) -> list[Row]:
    plan = SMOKE if smoke else FULL
    with scratch_dir() as workdir:
        report = await run_crash_drill(plan, workdir)
        print("\n".join(report.lines()))
        if report.failed("quiet", "calls", "cards", "acknowledgements", "tasks", "reminders"):
            print("bot log (end):\n" + report.log_tail(30))
    return rows(report, plan)


if __name__ == "__main__":
    main(__doc__ or "", measure)
