"""The fault drill: Telegram answering 429s, 5xx bursts, slow answers and a full outage while the
bot delivers a queue of messages and edits. Shared by the CI test and the benchmark."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

from bot.simulator import SimUser, TelegramSimulator
from models.outbox import OutboxStatus, OutgoingMessage, SendMethod
from tests.harness import BotHarness


@dataclass
class DrillResult:
    chats: int
    messages: int
    edits: int
    delivered: int
    duplicates: int
    out_of_order: int
    stale_cards: int
    too_many_requests: int
    limit_violations: int
    seconds: float

    def lines(self) -> list[str]:
        return [f"{name}: {value}" for name, value in vars(self).items()]


async def fault_drill(
    sim: TelegramSimulator,
    harness: BotHarness,
    *,
    chats: int = 4,
    per_chat: int = 5,
    edits_per_chat: int = 3,
    outage_seconds: float = 3.0,
) -> DrillResult:
    """Queue messages through the faults, phase by phase, and check what people finally see."""
    started = time.monotonic()
    sim.enforce_rate_limits = True
    people: list[SimUser] = []
    for index in range(chats):
        person = sim.add_user(f"P{index}", language_code="id")
        await harness.says(person, "/start")
        people.append(person)

    store, clock = harness.services.store, harness.services.clock

    async def enqueue(round_: int) -> None:
        async with store.transaction() as tx:
            for person in people:
                for n in range(per_chat):
                    text = f"r{round_}-m{n}"
                    await tx.enqueue(
                        OutgoingMessage(person.id, SendMethod.SEND_MESSAGE, {"text": text}),
                        clock.now(),
                    )
                ref = f"card:{round_}:{person.id}"
                await tx.enqueue(
                    OutgoingMessage(
                        person.id, SendMethod.SEND_MESSAGE, {"text": f"card{round_} v0"}, ref=ref
                    ),
                    clock.now(),
                )
                for version in range(1, edits_per_chat + 1):
                    await tx.enqueue(
                        OutgoingMessage(
                            person.id,
                            SendMethod.EDIT_MESSAGE_TEXT,
                            {"text": f"card{round_} v{version}"},
                            target_ref=ref,
                        ),
                        clock.now(),
                    )

    async def drain(limit: float) -> None:
        """Until the outbox has nothing pending (postponed rows included)."""
        async with asyncio.timeout(limit):
            while True:
                await harness.settle(timeout=limit)
                async with store.read() as tx:
                    if await tx.count_outbox(OutboxStatus.PENDING) == 0:
                        return
                seen = len(sim.calls)
                # A postponed row is retried when its time comes: wait for that request.
                await sim.wait_for(
                    lambda seen=seen: len(sim.calls) > seen, timeout=limit, what="a retry"
                )

    faults = sim.faults
    # 1: one send in ten answered 429 with retry_after.
    faults.mode, faults.retry_after, faults.error_rate = "retry_after", 1, 0.1
    await enqueue(1)
    await drain(60)
    # 2: bursts of 5xx.
    faults.mode, faults.error_rate = "status", 0.0
    faults.fail_next(4, status=502)
    await enqueue(2)
    faults.fail_next(3, status=500)
    await drain(60)
    # 3: slow answers.
    faults.latency = 0.2
    await enqueue(3)
    await drain(60)
    faults.latency = 0.0
    # 4: a full outage; everything written meanwhile waits, then goes.
    faults.outage = True
    await enqueue(4)
    await sim.wait_for(
        lambda: any(not c.ok for c in sim.calls[-5:]), what="a send failing in the outage"
    )
    await _pause(outage_seconds)
    faults.outage = False
    await drain(60 + outage_seconds)

    delivered = duplicates = out_of_order = stale = 0
    for person in people:
        shown = [m.text or "" for m in sim.bot_messages(sim.private_chat(person))]
        plain = [t for t in shown if t.startswith("r")]
        delivered += len(plain)
        duplicates += len(plain) - len(set(plain))
        for round_ in range(1, 5):
            ours = [t for t in plain if t.startswith(f"r{round_}-")]
            if ours != [f"r{round_}-m{n}" for n in range(per_chat)]:
                out_of_order += 1
            cards = [t for t in shown if t.startswith(f"card{round_} ")]
            if cards != [f"card{round_} v{edits_per_chat}"]:
                stale += 1
    edits = sum(1 for c in sim.calls if c.method == "editMessageText" and c.ok)
    return DrillResult(
        chats=chats,
        messages=chats * per_chat * 4,
        edits=edits,
        delivered=delivered,
        duplicates=duplicates,
        out_of_order=out_of_order,
        stale_cards=stale,
        too_many_requests=sim.stats.too_many_requests,
        limit_violations=sim.stats.limit_violations,
        seconds=round(time.monotonic() - started, 1),
    )


async def _pause(seconds: float) -> None:
    """The outage lasts this long in wall time: there is nothing to await but time itself."""
    await asyncio.sleep(seconds)
