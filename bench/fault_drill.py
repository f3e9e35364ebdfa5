"""The fault drill at full size: Telegram answering 429s, bursts of 5xx, slow answers and a
60-second outage while the bot delivers messages and card edits with pacing on and the limits
enforced (`tests.faults.fault_drill`, which CI runs with a 3-second outage). Everything must
arrive once, in order, with no limit exceeded."""

from __future__ import annotations

from bench.common import Row, main, row, simulator_and_bot
from tests.faults import fault_drill


async def measure(smoke: bool) -> list[Row]:
    outage = 1.0 if smoke else 60.0
    size = {"chats": 1, "per_chat": 1, "edits_per_chat": 1} if smoke else {}
    async with simulator_and_bot() as (sim, harness):
        await harness.start(outbox_pacing=True, outbox_max_backoff_seconds=1.0)
        result = await fault_drill(sim, harness, outage_seconds=outage, **size)
    note = f"({outage:.0f} s outage)"
    return [
        row(
            f"fault drill: messages delivered {note}",
            result.delivered,
            "count",
            target=f"== {result.messages}",
        ),
        row("fault drill: duplicates", result.duplicates, "count", target="== 0"),
        row("fault drill: out of order", result.out_of_order, "count", target="== 0"),
        row("fault drill: stale cards", result.stale_cards, "count", target="== 0"),
        row("fault drill: limit violations", result.limit_violations, "count", target="== 0"),
        row("fault drill: duration", result.seconds, "s"),
    ]


if __name__ == "__main__":
    main(__doc__ or "", measure)
