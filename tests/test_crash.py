"""Nothing lost: the real bot, SIGKILLed six times while a dispatcher enters calls and agency
members acknowledge and take tasks, still has every call, one card per agency chat, each
acknowledgement once and every reminder fired once. (`bench/crash_recovery.py` runs the same
drill with the full stream of at least 200 actions.)

The drill runs once for the module (about 25 seconds); each test reads one of its checks, and
every test prints the counts.
"""

from __future__ import annotations

import asyncio

import pytest

from tests.crash import CrashPlan, CrashReport, run_crash_drill

PLAN = CrashPlan(operations=60, kills=6, seed=112, time_limit=80.0)


@pytest.fixture(scope="module")
def drill(tmp_path_factory: pytest.TempPathFactory) -> CrashReport:
    # Its own event loop: the drill owns the simulator and the bot process from start to end.
    return asyncio.run(run_crash_drill(PLAN, tmp_path_factory.mktemp("crash")))


def verdict(report: CrashReport, *checks: str) -> list[str]:
    """Print the counts, and return the problems of `checks` (with the log tail if any)."""
    print("\n".join(report.lines()))
    problems = report.failed(*checks)
    if problems:
        print("bot log (end):\n" + report.log_tail())
    return problems


def test_the_bot_was_killed_mid_stream_and_caught_up(drill: CrashReport) -> None:
    assert verdict(drill, "quiet") == []
    assert drill.counts["kills"] >= PLAN.kills >= 5
    assert drill.counts["bot lifetimes"] == drill.counts["kills"] + 1
    assert drill.counts["operations"] >= PLAN.operations
    for kind in ("burst", "confirmation", "card", "reminder", "random"):
        assert drill.counts[f"kills {kind}"] >= 1, kind
    assert drill.counts["updates waiting at restarts"] > 0, "no kill left updates in flight"


def test_every_call_the_dispatcher_saw_confirmed_exists(drill: CrashReport) -> None:
    # Also: every call line sent, while the bot lived or not, became an incident.
    assert verdict(drill, "calls") == []
    assert drill.counts["confirmations seen"] > 0


def test_a_replayed_call_line_does_not_become_a_second_incident(drill: CrashReport) -> None:
    # Two of the kills land right after the dispatcher saw a confirmation: the call was
    # committed but the update not yet recorded, so Telegram delivers the /baru again.
    assert verdict(drill, "replayed calls") == []
    assert drill.counts.get("kills between a call's commit and its update's record", 0) >= 1, (
        "no kill landed in the window, so the replay of a handled call was not exercised"
    )


def test_each_agency_chat_shows_one_card_per_incident(drill: CrashReport) -> None:
    # A card sent just before a kill, whose send the outbox had not recorded, goes out again
    # after the restart: such copies are detected and counted, any other copy fails.
    assert verdict(drill, "cards") == []
    assert drill.counts["cards checked (one per incident and chat)"] > 0


def test_each_acknowledgement_and_task_is_recorded_once(drill: CrashReport) -> None:
    assert verdict(drill, "acknowledgements", "tasks") == []
    assert drill.counts["acknowledge presses answered Tercatat"] > 0
    assert drill.counts["tasks taken (answered Tercatat)"] > 0
    assert drill.counts["presses unanswered"] == 0


def test_every_reminder_fires_once_across_the_kills(drill: CrashReport) -> None:
    assert verdict(drill, "reminders") == []
    assert drill.counts["reminders that fired after surviving a kill"] > 0
