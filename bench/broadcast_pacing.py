"""Figure 3, broadcast pacing: the delivery machinery at Telegram's limits. One outbox message of
priority BROADCAST to each of 300 groups, pacing on, the simulator enforcing the limits (a send
over them is answered 429). Reported: the achieved rate over what the limits allow, the 429s
and limit violations, and the delay of one URGENT card enqueued mid-drain against the minimum
the limits force on it at that moment.

What the limits allow: each group gets one message, so the group limits (20 a minute) and the
per-chat limit do not bind; the global limit of 30 a second does. N sends occupy at least
ceil(N / 30) one-second windows, so the fastest drain is N / ceil(N / 30) messages per second;
the achieved rate is N over (first send to last send + one window).
"""

from __future__ import annotations

import math

from bench.common import CallWatch, Row, chat_of, checked, main, row, simulator_and_bot
from bot.simulator import SimChat, TelegramSimulator
from models.outbox import OutgoingMessage, Priority, SendMethod

GLOBAL_PER_SECOND = 30
SENDS = frozenset({"sendMessage"})


def groups_with_the_bot(sim: TelegramSimulator, count: int) -> list[SimChat]:
    """Groups the bot is already a member of (as after being added long ago: no updates)."""
    admin = sim.add_user("Admin", language_code="id")
    groups = []
    for n in range(count):
        group = sim.add_group(f"Posko {n}", members=[admin])
        group.bot_status, group.bot_ever_member = "member", True
        groups.append(group)
    return groups


async def measure(smoke: bool) -> list[Row]:
    count = 40 if smoke else 300
    async with simulator_and_bot() as (sim, harness):
        await harness.start(outbox_pacing=True)
        await harness.settle()
        groups = groups_with_the_bot(sim, count + 1)
        urgent_group, broadcast_groups = groups[0], groups[1:]
        sim.enforce_rate_limits = True
        violations, refused = sim.stats.limit_violations, sim.stats.too_many_requests
        store, clock, outbox = (
            harness.services.store,
            harness.services.clock,
            harness.services.outbox,
        )
        sends = CallWatch(sim, SENDS)
        async with store.transaction() as tx:
            for group in broadcast_groups:
                message = OutgoingMessage(
                    group.id,
                    SendMethod.SEND_MESSAGE,
                    {"text": f"📢 Latihan evakuasi besok pukul 08.00 ({group.title})"},
                    Priority.BROADCAST,
                )
                await tx.enqueue(message, clock.now())
        await sends.wait_count(count // 2, 60, "half the broadcast")
        assert outbox.pacer is not None
        async with store.transaction() as tx:
            forced = outbox.pacer.wait(urgent_group.id)  # what the limits impose right now
            await tx.enqueue(
                OutgoingMessage(
                    urgent_group.id,
                    SendMethod.SEND_MESSAGE,
                    {"text": "🔥 #1 Kebakaran · kartu baru"},
                    Priority.URGENT,
                ),
                clock.now(),
            )
        enqueued = sim.clock()  # committed: the sender may take it from here
        await sends.wait_count(count + 1, 60, "the whole broadcast and the card")
        await harness.settle(30)
        calls = [c for c in sends.found if chat_of(c) in {g.id for g in groups}]
        urgent = next(c for c in calls if chat_of(c) == urgent_group.id)
        overtaken = sum(1 for c in calls if enqueued < c.at < urgent.at)
        violations = sim.stats.limit_violations - violations
        refused = sim.stats.too_many_requests - refused
    total = len(calls)
    span = max(c.at for c in calls) - min(c.at for c in calls)
    achieved = total / (span + 1.0)
    allowed = total / math.ceil(total / GLOBAL_PER_SECOND)
    delay_ms, forced_ms = (urgent.at - enqueued) * 1000, forced * 1000
    return [
        row(
            f"broadcast to {count} groups: achieved rate / what the limits allow",
            achieved,
            "msg/s",
            target="ratio >= 0.9",
            baseline=allowed,
        ),
        row("broadcast: 429 answers", refused, "count", target="== 0"),
        row(
            "broadcast: limit violations seen by the simulator", violations, "count", target="== 0"
        ),
        checked(
            f"URGENT card mid-drain: delay vs the pacing-forced minimum "
            f"(broadcast sends in between: {overtaken})",
            delay_ms,
            "ms",
            delay_ms <= forced_ms + 100,
            "<= baseline + 100",
            baseline=forced_ms,
        ),
    ]


if __name__ == "__main__":
    main(__doc__ or "", measure)
