"""Every call has an owner: a call no agency is routed to is reminded to the dispatchers and
coordinators until one of them takes it over (🙋 Ambil alih) or routes it. Under a manual clock."""

from __future__ import annotations

from datetime import timedelta

from bot.callbacks import ButtonAction, IncidentButton
from bot.simulator import SimChat, SimMessage, TelegramSimulator
from models.clock import ManualClock
from tests.harness import BotHarness
from tests.scenario import City
from tests.test_reminders import _agency_id, city_with_coordinators, texts, tick

TAKE = "🙋 Ambil alih"
UNOWNED = "Belum ada yang mengambil alih"
MEDIUM = timedelta(minutes=5)  # "lainnya" is of medium severity


async def other_call(city: City) -> int:
    """A dispatcher logs a call of type "lainnya": no agency is routed to it."""
    await city.harness.says(
        city.dispatcher, "/baru lainnya | Jl. Kinibalu 3 dekat masjid | pohon tumbang menutup jalan"
    )
    await city.harness.settle()
    async with city.harness.services.store.read() as tx:
        ids = await tx.open_incident_ids(None)
    return max(ids)


def copy_in(sim: TelegramSimulator, chat: SimChat, number: int) -> SimMessage:
    """The operators' copy of the incident in `chat` (headed: no agency has it)."""
    return next(
        m
        for m in sim.bot_messages(chat)
        if f"#{number} " in (m.text or "") and "Belum ada instansi" in (m.text or "")
    )


async def test_an_unrouted_call_is_reminded_until_a_dispatcher_takes_it_over(
    sim: TelegramSimulator, harness: BotHarness
) -> None:
    clock = ManualClock()
    city, coordinators = await city_with_coordinators(sim, harness, clock)
    number = await other_call(city)
    dita, kiki = city.dispatcher, city.coordinator
    mine = sim.private_chat(dita)
    for chat in (coordinators, mine, sim.private_chat(kiki)):
        copy = copy_in(sim, chat, number)
        assert [TAKE] in copy.buttons, (chat.title, copy.buttons)

    assert await tick(harness, clock, MEDIUM - timedelta(seconds=1)) == 0
    await tick(harness, clock, timedelta(seconds=1))
    for chat in (coordinators, mine, sim.private_chat(kiki)):
        assert sum(UNOWNED in t for t in texts(sim, chat)) == 1, chat.title
    await tick(harness, clock, MEDIUM)
    assert sum(UNOWNED in t for t in texts(sim, coordinators)) == 2

    query = await sim.press_button(dita, copy_in(sim, mine, number), text=TAKE)
    await harness.settle()
    assert query.show_alert and "mengambil alih" in (query.answer_text or "")
    for chat in (coordinators, mine, sim.private_chat(kiki)):
        copy = copy_in(sim, chat, number)
        assert "Diambil alih oleh Dita" in (copy.text or ""), copy.text
        assert [TAKE] not in copy.buttons
        moot = [m for m in sim.bot_messages(chat) if f"#{number}:" in (m.text or "")]
        assert moot and all("diambil alih oleh Dita" in (m.text or "") for m in moot), chat.title
    assert not any(UNOWNED in t for t in texts(sim, coordinators))

    # Kiki's screen had not caught up: pressing the old button changes nothing.
    late = await sim.press_raw(
        kiki,
        copy_in(sim, sim.private_chat(kiki), number),
        IncidentButton(ButtonAction.TAKE_OWNERSHIP, number).encode(),
    )
    await harness.settle()
    assert late.show_alert
    view = await harness.services.incidents.view(number)
    assert view is not None and view.incident.owner_id == dita.id
    await tick(harness, clock, timedelta(hours=1))
    assert not any(UNOWNED in t for t in texts(sim, coordinators))


async def test_routing_the_call_ends_its_reminders_too(
    sim: TelegramSimulator, harness: BotHarness
) -> None:
    clock = ManualClock()
    city, coordinators = await city_with_coordinators(sim, harness, clock)
    number = await other_call(city)
    await tick(harness, clock, MEDIUM)
    assert sum(UNOWNED in t for t in texts(sim, coordinators)) == 1
    bpbd = await _agency_id(harness, "damkar")
    await harness.services.incidents.add_agency(number, bpbd, city.dispatcher.id)
    await harness.settle()
    moot = [m for m in sim.bot_messages(coordinators) if f"#{number}:" in (m.text or "")]
    assert moot and "diteruskan ke Damkar Palangka Raya" in (moot[0].text or "")
    await tick(harness, clock, MEDIUM)
    assert not any(UNOWNED in t for t in texts(sim, coordinators))


async def test_only_dispatchers_and_coordinators_take_a_call_over(
    sim: TelegramSimulator, harness: BotHarness
) -> None:
    clock = ManualClock()
    city, _coordinators = await city_with_coordinators(sim, harness, clock)
    number = await other_call(city)
    rudi = city.crews["damkar"][0]
    await harness.says(rudi, "/saya")
    own = sim.bot_messages(sim.private_chat(rudi))[-1]
    forged = await sim.press_raw(
        rudi, own, IncidentButton(ButtonAction.TAKE_OWNERSHIP, number).encode()
    )
    await harness.settle()
    assert forged.show_alert
    view = await harness.services.incidents.view(number)
    assert view is not None and view.incident.owner_id is None
