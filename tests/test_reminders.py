"""Reminders and escalation with a controllable clock: each step at its time, never twice,
never after the call was owned, and nothing lost across a restart."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from bot.simulator import SimChat, TelegramSimulator
from models.clock import ManualClock
from models.incidents import EventKind
from models.reminders import ReminderKind
from tests.harness import BotHarness
from tests.scenario import City, build_city, report

FIRE_ACK = timedelta(seconds=180)  # a fire is of high severity
ESCALATION_EVERY = timedelta(seconds=300)


async def city_with_coordinators(
    sim: TelegramSimulator, harness: BotHarness, clock: ManualClock
) -> tuple[City, SimChat]:
    city = await build_city(sim, harness, clock=clock)
    group = sim.add_group("Koordinator 112", members=[city.admin, city.coordinator])
    sim.add_bot_to_group(group, by=city.admin)
    await harness.settle()
    await harness.says(city.admin, "/daftar koordinator", chat=group)
    return city, group


async def a_reported_fire(
    sim: TelegramSimulator, harness: BotHarness
) -> tuple[ManualClock, City, SimChat, int]:
    """A city with a coordinators' group, on a manual clock, where Ani has just reported a fire."""
    clock = ManualClock()
    city, coordinators = await city_with_coordinators(sim, harness, clock)
    reporter = sim.add_user("Ani", language_code="id")
    await harness.says(reporter, "/start")
    return clock, city, coordinators, await report(city, reporter)


async def tick(harness: BotHarness, clock: ManualClock, delta: timedelta) -> int:
    """Let time pass and run what is due, as the scheduler would."""
    clock.advance(delta)
    sent = await harness.services.reminders.sweep()
    await harness.settle()
    return sent


def texts(sim: TelegramSimulator, chat: SimChat) -> list[str]:
    return [m.text or "" for m in sim.bot_messages(chat)]


async def events(harness: BotHarness, number: int, kind: str) -> int:
    async with harness.services.store.read() as tx:
        return await tx.count_events(number, kind)


async def test_each_step_fires_at_its_time_and_not_before(
    sim: TelegramSimulator, harness: BotHarness
) -> None:
    clock, city, coordinators, number = await a_reported_fire(sim, harness)
    damkar = city.groups["damkar"]
    card = city.card("damkar", number)

    assert await tick(harness, clock, FIRE_ACK - timedelta(seconds=1)) == 0
    assert await tick(harness, clock, timedelta(seconds=1)) == 2  # damkar and relawan
    reminder = sim.bot_messages(damkar)[-1]
    assert (
        reminder.text is not None and "Pengingat" in reminder.text and f"#{number}" in reminder.text
    )
    assert reminder.reply_to_message_id == card.message_id, "the reminder replies to the card"
    assert any(
        e["type"] == "text_mention" or "tg://user" in str(e.get("url", ""))
        for e in reminder.entities
    )

    assert await tick(harness, clock, FIRE_ACK - timedelta(seconds=1)) == 0
    assert await tick(harness, clock, timedelta(seconds=1)) == 2  # second group reminder
    assert await events(harness, number, EventKind.REMINDED) == 4
    assert not any("Eskalasi" in t for t in texts(sim, coordinators))

    assert await tick(harness, clock, FIRE_ACK) == 2  # escalation for both agencies
    escalations = [t for t in texts(sim, coordinators) if "Eskalasi" in t]
    assert len(escalations) == 2
    assert any("Damkar Palangka Raya" in t for t in escalations)
    assert any("Eskalasi" in t for t in texts(sim, sim.private_chat(city.coordinator)))

    assert await tick(harness, clock, ESCALATION_EVERY - timedelta(seconds=1)) == 0
    assert await tick(harness, clock, timedelta(seconds=1)) == 2
    assert await events(harness, number, EventKind.ESCALATED) == 4


async def test_acknowledging_stops_the_chain(sim: TelegramSimulator, harness: BotHarness) -> None:
    clock, city, coordinators, number = await a_reported_fire(sim, harness)
    await tick(harness, clock, FIRE_ACK)
    rudi, sari = city.crews["damkar"][0], city.crews["relawan"][0]
    for person, code in ((rudi, "damkar"), (sari, "relawan")):
        press = await sim.press_button(person, city.card(code, number), text="✅ Terima")
        await sim.wait_for(lambda p=press: p.answered, what="acknowledged")
    await harness.settle()
    unacknowledged = "belum dikonfirmasi"
    before = sum(unacknowledged in t for t in texts(sim, city.groups["damkar"]))
    for _ in range(6):
        # What comes now is about nobody moving (tests/test_unmoved.py), never about
        # acknowledging.
        await tick(harness, clock, ESCALATION_EVERY)
    assert sum(unacknowledged in t for t in texts(sim, city.groups["damkar"])) == before
    assert not any(unacknowledged in t for t in texts(sim, coordinators))


async def test_a_coordinator_acknowledges_on_the_agencys_behalf(
    sim: TelegramSimulator, harness: BotHarness
) -> None:
    clock, city, coordinators, number = await a_reported_fire(sim, harness)
    for _ in range(3):  # two group reminders, then the escalation
        await tick(harness, clock, FIRE_ACK)
    inbox = sim.private_chat(city.coordinator)
    escalation = next(
        m
        for m in reversed(sim.bot_messages(inbox))
        if "oleh Damkar Palangka Raya" in (m.text or "").split("\n")[0]
    )
    button = next(t for row in escalation.buttons for t in row if "Terima atas nama" in t)
    press = await sim.press_button(city.coordinator, escalation, text=button)
    await sim.wait_for(lambda: press.answered, what="on-behalf press")
    await harness.settle()
    assert await events(harness, number, EventKind.ACKNOWLEDGED_ON_BEHALF) == 1
    card = city.card("damkar", number).text or ""
    assert "Kiki" in card
    # Every copy of that escalation now says who owns the call, and offers nothing to press
    # for Damkar any more.
    owned = [
        m
        for chat in (inbox, coordinators)
        for m in sim.bot_messages(chat)
        if f"Eskalasi #{number} selesai" in (m.text or "")
    ]
    assert len(owned) == 2, [m.text for m in sim.bot_messages(coordinators)]
    assert all("Damkar Palangka Raya" in (m.text or "") and "Kiki" in (m.text or "") for m in owned)
    assert all(m.buttons == [[f"📄 Buka #{number}"]] for m in owned)
    escalated = await events(harness, number, EventKind.ESCALATED)
    await tick(harness, clock, ESCALATION_EVERY)
    # Relawan still has not answered, so only its escalation repeats.
    assert await events(harness, number, EventKind.ESCALATED) == escalated + 1
    # Somebody who is not a coordinator cannot do that (the admin, in the coordinators' group).
    relawan = next(
        m
        for m in reversed(sim.bot_messages(coordinators))
        if "oleh Relawan Damkar" in (m.text or "").split("\n")[0]
    )
    press = await sim.press_button(city.admin, relawan, text="✅ Terima atas nama Relawan Damkar")
    await sim.wait_for(lambda: press.answered, what="refused press")
    assert press.answer_text is not None and "izin" in press.answer_text


async def test_a_restart_with_overdue_reminders_fires_each_once_and_says_it_is_late(
    sim: TelegramSimulator, harness: BotHarness
) -> None:
    clock, city, _coordinators, number = await a_reported_fire(sim, harness)
    async with harness.services.store.read() as tx:
        pending = await tx.pending_schedule(until=clock.now() + timedelta(days=1))
    assert len(pending) == 3  # both agencies' acknowledgement, and the open-too-long follow-up
    await harness.stop()
    clock.advance(timedelta(hours=1))  # many intervals pass while the bot is down
    await harness.start(admins=[city.admin], clock=clock)
    assert harness.app is not None
    scheduler = harness.services.scheduler
    # A job for every pending reminder that is overdue or near; the two-hour follow-up is not.
    assert scheduler.rebuilt == 2
    assert scheduler.rebuilt == sum(due <= clock.now() + scheduler.horizon for _, due in pending)
    # The rebuilt jobs (or the sweep, whichever comes first) fire what fell due, once.
    await harness.services.reminders.sweep()
    for code in ("damkar", "relawan"):
        group = city.groups[code]
        await sim.wait_for(
            lambda g=group: any("terlambat" in t for t in texts(sim, g)),
            what=f"late reminder in {code}",
        )
    await harness.settle()
    late = [t for t in texts(sim, city.groups["damkar"]) if "terlambat" in t]
    assert len(late) == 1
    assert await harness.services.reminders.sweep() == 0, "not once per missed interval"
    assert await events(harness, number, EventKind.REMINDED) == 2


async def test_an_acknowledgement_in_the_same_instant_as_the_reminder_wins(
    sim: TelegramSimulator, harness: BotHarness
) -> None:
    clock, city, _, number = await a_reported_fire(sim, harness)
    clock.advance(FIRE_ACK)
    async with harness.services.store.read() as tx:
        due = [r for r in await tx.due_reminders(clock.now(), 10) if r.kind is ReminderKind.ACK]
    damkar_id = await _agency_id(harness, "damkar")
    damkar_reminder = next(r for r in due if r.agency_id == damkar_id)
    rudi = city.crews["damkar"][0]
    agency_id = damkar_reminder.agency_id
    assert agency_id is not None
    await asyncio.gather(
        harness.services.incidents.acknowledge(number, agency_id, rudi.id),
        harness.services.reminders.fire(damkar_reminder.id),
    )
    await harness.settle()
    async with harness.services.store.read() as tx:
        timeline = await tx.events(number)
    kinds = [(e.kind, e.agency_code) for e in timeline]
    ack_at = kinds.index((EventKind.ACKNOWLEDGED, "damkar"))
    assert (EventKind.REMINDED, "damkar") not in kinds[ack_at:], "no reminder after the ack"
    assert await harness.services.reminders.sweep() <= 1  # relawan's may still fire; damkar's not


async def test_without_a_coordinators_group_escalations_go_private_and_admins_are_warned(
    sim: TelegramSimulator, harness: BotHarness
) -> None:
    clock = ManualClock()
    city = await build_city(sim, harness, clock=clock)
    reporter = sim.add_user("Ani", language_code="id")
    await harness.says(reporter, "/start")
    await report(city, reporter)
    for _ in range(3):
        await tick(harness, clock, FIRE_ACK)
    assert any("Eskalasi" in t for t in texts(sim, sim.private_chat(city.coordinator)))
    assert any(
        "grup koordinator belum terdaftar" in t for t in texts(sim, sim.private_chat(city.admin))
    )


async def test_follow_ups_for_stale_tasks_and_long_open_incidents(
    sim: TelegramSimulator, harness: BotHarness
) -> None:
    clock, city, coordinators, number = await a_reported_fire(sim, harness)
    rudi = city.crews["damkar"][0]
    damkar = city.groups["damkar"]
    await harness.services.incidents.assign(
        number, (await _agency_id(harness, "damkar")), rudi.id, city.admin.id
    )
    await harness.settle()
    await tick(harness, clock, timedelta(minutes=5))
    assert any("belum menerima tugas" in t for t in texts(sim, damkar))
    task = next(m for m in reversed(sim.bot_messages(sim.private_chat(rudi))) if m.buttons)
    press = await sim.press_button(
        rudi, task, text=next(t for row in task.buttons for t in row if "Terima" in t)
    )
    await sim.wait_for(lambda: press.answered, what="accepted")
    await harness.settle()
    await tick(harness, clock, timedelta(minutes=10))
    assert any("Sudah berangkat?" in t for t in texts(sim, sim.private_chat(rudi)))
    await tick(harness, clock, timedelta(hours=2))
    assert any("sudah terbuka" in t for t in texts(sim, sim.private_chat(city.dispatcher)))
    assert any("sudah terbuka" in t for t in texts(sim, coordinators))
    assert await events(harness, number, EventKind.FOLLOW_UP) == 3


async def _agency_id(harness: BotHarness, code: str) -> int:
    async with harness.services.store.read() as tx:
        agency = await tx.agency_by_code(code)
    assert agency is not None
    return agency.id


async def test_merged_or_resolved_incidents_are_not_chased(
    sim: TelegramSimulator, harness: BotHarness
) -> None:
    clock = ManualClock()
    city, _coordinators = await city_with_coordinators(sim, harness, clock)
    reporter = sim.add_user("Ani", language_code="id")
    await harness.says(reporter, "/start")
    first = await report(city, reporter)
    second = await report(city, reporter, description="Kebakaran yang sama, dilaporkan lagi")
    await harness.services.incidents.merge(second, first, city.dispatcher.id)
    await harness.services.incidents.resolve(first, city.dispatcher.id)
    await harness.settle()
    assert await tick(harness, clock, timedelta(hours=3)) == 0
    async with harness.services.store.read() as tx:
        assert await tx.pending_reminders_of(first) == []
        assert await tx.pending_reminders_of(second) == []


async def test_the_self_check_notices_late_reminders(
    sim: TelegramSimulator, harness: BotHarness
) -> None:
    clock = ManualClock()
    city, _ = await city_with_coordinators(sim, harness, clock)
    reporter = sim.add_user("Ani", language_code="id")
    await harness.says(reporter, "/start")
    await report(city, reporter)
    assert harness.app is not None
    scheduler = harness.services.scheduler
    assert await scheduler.check_health()
    clock.advance(FIRE_ACK + timedelta(seconds=90))  # due, and nothing fired it (a stuck loop)
    assert not await scheduler.check_health()
    await harness.settle()
    assert any("tertinggal" in t for t in texts(sim, sim.private_chat(city.coordinator)))
    assert not await scheduler.check_health()  # still late, but coordinators are not spammed
    await harness.settle()
    assert sum("tertinggal" in t for t in texts(sim, sim.private_chat(city.coordinator))) == 1


async def test_the_morning_digest_reaches_coordinators_with_its_chart(
    sim: TelegramSimulator, harness: BotHarness
) -> None:
    clock = ManualClock()
    city, coordinators = await city_with_coordinators(sim, harness, clock)
    reporter = sim.add_user("Ani", language_code="id")
    await harness.says(reporter, "/start")
    await report(city, reporter)
    clock.advance(timedelta(days=1))
    assert await harness.services.digest.send_daily() >= 2
    await harness.settle()
    for chat in (coordinators, sim.private_chat(city.coordinator)):
        shown = sim.bot_messages(chat)
        assert any(m.photo for m in shown), f"no chart in {chat.title or chat.id}"
        assert any("kebakaran" in (m.text or "").lower() for m in shown)
    async with harness.services.store.read() as tx:
        from models.outbox import OutboxStatus

        assert await tx.count_outbox(OutboxStatus.PARKED) == 0


async def test_a_reminder_gets_its_job_only_when_it_comes_near(
    sim: TelegramSimulator, harness: BotHarness
) -> None:
    """Reminders minutes away have no job yet (making one cost an acknowledgement ~4 % of its
    CPU); the sweep gives each its job once it falls within the horizon, once, and a reminder
    moved beyond the horizon loses the job it had."""
    clock, _city, _coordinators, _number = await a_reported_fire(sim, harness)
    scheduler = harness.services.scheduler
    jobs = scheduler.job_queue.scheduler

    def armed() -> dict[int, object]:
        return {
            rid: job.next_run_time
            for rid, _ in pending
            if (job := jobs.get_job(f"reminder:{rid}")) is not None
        }

    async with harness.services.store.read() as tx:
        pending = await tx.pending_schedule(until=clock.now() + timedelta(days=1))
    assert len(pending) == 3 and all(due - clock.now() > scheduler.horizon for _, due in pending)
    assert armed() == {}, "nothing is near yet"
    clock.advance(FIRE_ACK - scheduler.horizon)  # the acknowledgement reminders come near
    assert await scheduler.arm_due_soon() == 2
    near = {rid: due for rid, due in pending if due - clock.now() <= scheduler.horizon}
    assert len(near) == 2 and armed() == near, "a job at each one's time, none for the far one"
    assert await scheduler.arm_due_soon() == 0, "a job is made once"
    moved, _ = next(iter(near.items()))
    scheduler.schedule(moved, clock.now() + 2 * scheduler.horizon)
    assert moved not in armed(), "moved beyond the horizon: its early job is gone"
    scheduler.schedule(moved, clock.now() + scheduler.horizon / 2)
    assert armed()[moved] == clock.now() + scheduler.horizon / 2
