"""Delivery under Telegram's limits and Telegram's answers: pacing, coalescing, 403, reposts."""

from __future__ import annotations

from bot.runtime.pacing import Pacer, PacingLimits
from bot.simulator import SimChat, TelegramSimulator
from models.outbox import OutboxStatus, OutgoingMessage, Priority, SendMethod
from tests.harness import BotHarness
from tests.scenario import build_city, report


class FakeTime:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_pacer_allows_a_short_burst_then_one_per_second_per_chat() -> None:
    clock = FakeTime()
    pacer = Pacer(PacingLimits(), clock)
    for _ in range(3):
        assert pacer.wait(42) == 0.0
        pacer.done(pacer.record(42))
    assert 0.9 < pacer.wait(42) <= 1.1
    assert pacer.wait(43) == 0.0, "another chat is not held up"
    clock.now += pacer.wait(42)
    assert pacer.wait(42) == 0.0


def test_pacer_keeps_groups_under_twenty_a_minute_and_all_under_thirty_a_second() -> None:
    clock = FakeTime()
    pacer = Pacer(PacingLimits(), clock)
    for _ in range(20):
        clock.now += pacer.wait(-100)
        pacer.done(pacer.record(-100))
    assert pacer.wait(-100) > 30, "the 21st message in a minute waits for the window"
    clock.now += 100
    for chat in range(30):
        assert pacer.wait(chat) == 0.0
        pacer.done(pacer.record(chat))
    assert pacer.wait(999) > 0, "the 31st message in a second waits"


def test_a_send_still_in_flight_keeps_holding_the_window() -> None:
    clock = FakeTime()
    pacer = Pacer(PacingLimits(global_per_second=2), clock)
    first = pacer.record(1)
    pacer.done(pacer.record(2))
    clock.now += 10  # long after the window, but the first send was never answered
    assert pacer.wait(3) > 0
    pacer.done(first)
    clock.now += 2
    assert pacer.wait(3) == 0.0


async def blocked_chat_queue(harness: BotHarness, chat_id: int, *messages: OutgoingMessage) -> None:
    async with harness.services.store.transaction() as tx:
        for message in messages:
            await tx.enqueue(message, harness.services.clock.now())


async def test_only_the_newest_pending_edit_of_a_card_is_sent(
    sim: TelegramSimulator, harness: BotHarness
) -> None:
    await harness.start()
    sari = sim.add_user("Sari", language_code="id")
    await harness.says(sari, "/start")
    sim.faults.outage = True  # Telegram unreachable while the card changes five times
    await blocked_chat_queue(
        harness,
        sari.id,
        OutgoingMessage(sari.id, SendMethod.SEND_MESSAGE, {"text": "v0"}, ref="card:x"),
        *[
            OutgoingMessage(
                sari.id, SendMethod.EDIT_MESSAGE_TEXT, {"text": f"v{i}"}, target_ref="card:x"
            )
            for i in range(1, 6)
        ],
    )
    sim.faults.outage = False
    await sim.wait_for(
        lambda: any(m.text == "v5" for m in sim.bot_messages(sim.private_chat(sari))), what="v5"
    )
    await harness.settle()
    edits = [c for c in sim.calls if c.method == "editMessageText" and c.ok]
    assert [c.params.get("text") for c in edits] == ["v5"]
    async with harness.services.store.read() as tx:
        assert await tx.count_outbox(OutboxStatus.DROPPED) == 4


async def test_a_deleted_card_is_posted_again_and_later_edits_find_it(
    sim: TelegramSimulator, harness: BotHarness
) -> None:
    sim.expect_refusal("message to edit not found")  # how the bot learns a card was deleted
    city = await build_city(sim, harness)
    reporter = sim.add_user("Ani", language_code="id")
    await harness.says(reporter, "/start")
    number = await report(city, reporter)
    old = city.card("damkar", number)
    old.deleted = True  # somebody deleted the card in the group
    rudi = city.crews["damkar"][0]
    damkar = await _agency(harness, "damkar")
    await harness.services.incidents.acknowledge(number, damkar, rudi.id)
    await harness.settle()
    card = city.card("damkar", number)
    assert card.message_id != old.message_id
    assert "diterima oleh Rudi" in (card.text or "")
    async with harness.services.store.read() as tx:
        ref = await tx.message_ref(f"card:{number}:{damkar}")
    assert ref == (card.chat_id, card.message_id)


async def _agency(harness: BotHarness, code: str) -> int:
    async with harness.services.store.read() as tx:
        agency = await tx.agency_by_code(code)
    assert agency is not None
    return agency.id


async def test_a_group_that_refuses_the_bot_is_parked_and_admins_are_told_once(
    sim: TelegramSimulator, harness: BotHarness
) -> None:
    sim.expect_refusal("bot was kicked")  # how the bot learns it was removed
    city = await build_city(sim, harness)
    reporter = sim.add_user("Ani", language_code="id")
    await harness.says(reporter, "/start")
    damkar: SimChat = city.groups["damkar"]
    damkar.bot_status = "kicked"  # removed without the bot hearing of it
    first = await report(city, reporter)
    second = await report(city, reporter, description="Kebakaran kedua di tempat lain")
    await harness.settle()
    notices = [
        m for m in sim.bot_messages(sim.private_chat(city.admin)) if "menolak bot" in (m.text or "")
    ]
    assert len(notices) == 1
    async with harness.services.store.read() as tx:
        agency = await tx.agency_by_code("damkar")
        assert agency is not None and not agency.reachable
        assert await tx.is_unreachable(damkar.id)
        pending = [
            i for i in await tx.outbox_items((OutboxStatus.PENDING,)) if i.chat_id == damkar.id
        ]
        assert pending == [], "no retrying against a chat that refuses the bot"
    # The bot is added back: what the agency missed goes now, in order.
    sim.add_bot_to_group(damkar, by=city.admin)
    await harness.settle()
    assert {first, second} <= {
        int((m.text or "").split("#", 1)[1].split(" ", 1)[0]) for m in city.cards("damkar")
    }


async def test_an_urgent_card_overtakes_a_broadcast_in_flight(
    sim: TelegramSimulator, harness: BotHarness
) -> None:
    await harness.start(outbox_pacing=True)
    admin = sim.add_user("Admin", language_code="id")
    groups = [sim.add_group(f"G{i}", members=[admin]) for i in range(45)]
    for group in groups:
        sim.add_bot_to_group(group, by=admin)
    await harness.settle()
    now = harness.services.clock.now()
    async with harness.services.store.transaction() as tx:
        for group in groups[:-1]:
            await tx.enqueue(
                OutgoingMessage(
                    group.id, SendMethod.SEND_MESSAGE, {"text": "siaran"}, Priority.BROADCAST
                ),
                now,
            )
        await tx.enqueue(
            OutgoingMessage(
                groups[-1].id, SendMethod.SEND_MESSAGE, {"text": "KARTU"}, Priority.URGENT
            ),
            now,
        )
    await sim.wait_for(
        lambda: any(m.text == "KARTU" for m in sim.bot_messages(groups[-1])), what="the card"
    )
    sends = [
        c.params.get("text")
        for c in sim.calls
        if c.method == "sendMessage" and c.ok and c.params.get("text") in ("siaran", "KARTU")
    ]
    assert sends.index("KARTU") < 8, "the card went in the first round, not after the broadcast"
    await harness.settle(timeout=15)
    assert sim.stats.limit_violations == 0


def test_the_pacer_lets_go_of_quiet_chats() -> None:
    clock = FakeTime()
    pacer = Pacer(PacingLimits(), clock)
    for chat in (-1, -2, 3):
        pacer.done(pacer.record(chat))
    clock.now += 120  # everything refilled, every window passed
    pacer.forget_idle()
    assert not pacer._buckets
    assert not pacer._group_sends
    assert pacer.wait(-1) == 0.0, "a forgotten chat starts afresh"
