"""Shared fixtures: a simulator per test, and the real bot running against it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.simulator import TelegramSimulator
from tests.harness import BotHarness, harness_for


@pytest.fixture
async def sim() -> AsyncIterator[TelegramSimulator]:
    """A simulator for the test. A call Telegram refused fails the test, unless the test said
    it provoked that refusal (`sim.expect_refusal`)."""
    async with TelegramSimulator() as simulator:
        yield simulator
    refused = simulator.unexpected_refusals()
    assert not refused, "Telegram refused calls of the bot:\n" + "\n".join(
        f"  {call.method} {call.error_code} {call.description} {_brief(call.params)}"
        for call in refused
    )


def _brief(params: dict[str, object]) -> str:
    shown = {key: params[key] for key in ("chat_id", "message_id", "text") if key in params}
    return repr(shown)[:200]


@pytest.fixture
async def harness(sim: TelegramSimulator, tmp_path: Path) -> AsyncIterator[BotHarness]:
    async with harness_for(sim, tmp_path) as running_bot:
        yield running_bot
