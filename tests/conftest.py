"""Shared fixtures: a simulator per test, and the real bot running against it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.simulator import TelegramSimulator
from tests.harness import BotHarness, harness_for


@pytest.fixture
async def sim() -> AsyncIterator[TelegramSimulator]:
    async with TelegramSimulator() as simulator:
        yield simulator


@pytest.fixture
async def harness(sim: TelegramSimulator, tmp_path: Path) -> AsyncIterator[BotHarness]:
    async with harness_for(sim, tmp_path) as running_bot:
        yield running_bot
