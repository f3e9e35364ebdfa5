"""Every message gets through 429s, 5xx bursts, slow answers and an outage: in order, once,
edits coalesced, and the limits never exceeded. (`bench/faults.py` runs a 60-second outage.)"""

from __future__ import annotations

from bot.simulator import TelegramSimulator
from tests.faults import fault_drill
from tests.harness import BotHarness


async def test_nothing_is_lost_through_faults(sim: TelegramSimulator, harness: BotHarness) -> None:
    await harness.start(outbox_pacing=True, outbox_max_backoff_seconds=1.0)
    result = await fault_drill(sim, harness, outage_seconds=3.0)
    print("\n".join(result.lines()))
    assert result.delivered == result.messages
    assert result.duplicates == 0
    assert result.out_of_order == 0
    assert result.stale_cards == 0
    assert result.limit_violations == 0
    assert result.edits <= 4 * result.chats, "edits queued behind faults were coalesced"
