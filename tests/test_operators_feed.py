"""The 112 operators' feed (`/daftar operator`): every incident's card with the dispatchers'
buttons, kept in step like every card; critical incidents pinned while open, and said once when
the bot may not pin. Calls no agency is routed to are owned from here."""

from __future__ import annotations

from bot.callbacks import ButtonAction, IncidentButton
from bot.simulator import SimChat, SimMessage, TelegramSimulator
from models.clock import ManualClock
from models.incidents import Severity
from tests.harness import BotHarness
from tests.scenario import City, build_city, report
from tests.test_ownership import MEDIUM, TAKE, UNOWNED, other_call
from tests.test_reminders import texts, tick

ASK, MANAGE = "❓ Tanya pelapor", "⚙️ Kelola"
PIN_HINT = "tidak bisa disematkan"
CRITICAL_CALL = "/baru kebakaran | Jl. Rajawali 7 | rumah kayu terbakar | | Bu Sri | 3 orang"


async def with_feed(sim: TelegramSimulator, city: City, *, admin: bool = True) -> SimChat:
    """The 112 room's group, registered as the operators' feed (the bot an admin there, or not)."""
    room = sim.add_group("Ruang 112", members=[city.admin, city.dispatcher, city.coordinator])
    sim.add_bot_to_group(room, by=city.admin, admin=admin)
    await city.harness.settle()
    await city.harness.says(city.admin, "/daftar operator", chat=room)
    await city.harness.settle()
    return room


def feed_card(sim: TelegramSimulator, room: SimChat, number: int) -> SimMessage:
    """The feed's card of incident `number` (cards carry the reporter's phone: protected)."""
    cards = [
        m
        for m in sim.bot_messages(room)
        if m.has_protected_content and f" #{number} " in (m.text or "").split("\n", 1)[0]
    ]
    assert len(cards) == 1, [m.text for m in cards]
    return cards[0]


def labels(message: SimMessage) -> list[str]:
    return [label for row in message.buttons for label in row]


async def newest(harness: BotHarness) -> int:
    async with harness.services.store.read() as tx:
        return max(await tx.open_incident_ids(None))


async def critical_call(city: City) -> int:
    await city.harness.says(city.dispatcher, CRITICAL_CALL)
    await city.harness.settle()
    return await newest(city.harness)


async def test_registering_the_feed_answers_what_it_is_and_reserves_the_code(
    sim: TelegramSimulator, harness: BotHarness
) -> None:
    city = await build_city(sim, harness)
    room = await with_feed(sim, city)
    answer = sim.bot_messages(room)[-1].text or ""
    assert "feed operator" in answer and "Ruang Operator 112" in answer, answer
    feed = await harness.services.agencies.by_code("operator")
    assert feed is not None and feed.is_operators and feed.chat_id == room.id
    # The code is not an agency's: no incident type can be routed to it.
    await harness.says(city.admin, "/rute kebakaran damkar operator")
    assert "operator" in (sim.bot_messages(sim.private_chat(city.admin))[-1].text or "")
    table = await harness.services.routing.table()
    assert "operator" not in table.agencies


async def test_every_incident_is_in_the_feed_and_kept_in_step(
    sim: TelegramSimulator, harness: BotHarness
) -> None:
    city = await build_city(sim, harness)
    room = await with_feed(sim, city)
    ani = sim.add_user("Ani", language_code="id")
    await harness.says(ani, "/start")
    fire = await report(city, ani)
    card = feed_card(sim, room, fire)
    text = card.text or ""
    # One line per routed agency, the dispatchers' buttons, no agency's own buttons.
    assert "Damkar Palangka Raya" in text and "Relawan Damkar" in text, text
    assert labels(card) == [ASK, MANAGE], card.buttons
    assert card.has_protected_content
    # The feed has the card alone: no map pin or photo messages beside it.
    assert [m.text for m in sim.bot_messages(room)][-1] == card.text

    rudi = city.crews["damkar"][0]
    await sim.press_button(rudi, city.card("damkar", fire), text="✅ Terima")
    await harness.settle()
    assert feed_card(sim, room, fire).text != text  # edited in place, not posted again
    assert "Rudi" in (feed_card(sim, room, fire).text or "")

    # A dispatcher opens the management card from the feed, in private.
    await sim.press_button(city.dispatcher, feed_card(sim, room, fire), text=MANAGE)
    await harness.settle()
    manage = sim.bot_messages(sim.private_chat(city.dispatcher))[-1]
    assert "Kelola kejadian" in (manage.text or "")
    await sim.press_button(city.dispatcher, manage, text="✅ Selesaikan kejadian")
    await harness.settle()
    confirm = sim.bot_messages(sim.private_chat(city.dispatcher))[-1]
    await sim.press_button(city.dispatcher, confirm, text="✅ Ya, selesaikan")
    await harness.settle()
    closed = feed_card(sim, room, fire)
    assert closed.buttons == [] and "Selesai" in (closed.text or ""), closed.text
    assert sim.unexpected_refusals() == []


async def test_an_unrouted_call_is_owned_from_the_feed_and_reminded_there_until_then(
    sim: TelegramSimulator, harness: BotHarness
) -> None:
    clock = ManualClock()
    city = await build_city(sim, harness, clock=clock)
    room = await with_feed(sim, city)
    number = await other_call(city)
    card = feed_card(sim, room, number)
    assert TAKE in labels(card) and "Belum ada instansi" in (card.text or ""), card.text
    await tick(harness, clock, MEDIUM)
    assert sum(UNOWNED in t for t in texts(sim, room)) == 1

    # A member of the room with no role presses it: refused, nothing changes.
    stranger = sim.add_user("Tono", language_code="id")
    sim.add_member(room, stranger)
    refused = await sim.press_button(stranger, feed_card(sim, room, number), text=TAKE)
    await harness.settle()
    assert refused.show_alert
    view = await harness.services.incidents.view(number)
    assert view is not None and view.incident.owner_id is None

    await sim.press_button(city.dispatcher, feed_card(sim, room, number), text=TAKE)
    await harness.settle()
    owned = feed_card(sim, room, number)
    assert "Diambil alih oleh Dita" in (owned.text or "") and TAKE not in labels(owned)
    moot = [m for m in sim.bot_messages(room) if f"#{number}:" in (m.text or "")]
    assert moot and all("diambil alih oleh Dita" in (m.text or "") for m in moot)
    await tick(harness, clock, MEDIUM * 3)
    assert not any(UNOWNED in t for t in texts(sim, room))
    # A forged press of the old button on the feed's card changes nothing either.
    late = await sim.press_raw(
        city.coordinator,
        feed_card(sim, room, number),
        IncidentButton(ButtonAction.TAKE_OWNERSHIP, number).encode(),
    )
    await harness.settle()
    assert late.show_alert
    view = await harness.services.incidents.view(number)
    assert view is not None and view.incident.owner_id == city.dispatcher.id


async def test_critical_incidents_are_pinned_while_open(
    sim: TelegramSimulator, harness: BotHarness
) -> None:
    city = await build_city(sim, harness)
    room = await with_feed(sim, city)
    first = await critical_call(city)
    second = await critical_call(city)
    cards = [feed_card(sim, room, n).message_id for n in (first, second)]
    assert room.pinned_ids == cards
    ani = sim.add_user("Ani", language_code="id")
    await harness.says(ani, "/start")
    ordinary = await report(city, ani)
    assert feed_card(sim, room, ordinary).message_id not in room.pinned_ids

    await harness.services.incidents.resolve(first, city.dispatcher.id)
    await harness.settle()
    assert room.pinned_ids == [feed_card(sim, room, second).message_id]
    # Lowered from critical: unpinned; raised to critical: pinned.
    incidents = harness.services.incidents
    await incidents.set_severity(second, Severity.HIGH, city.dispatcher.id)
    await harness.settle()
    assert room.pinned_ids == []
    await incidents.set_severity(ordinary, Severity.CRITICAL, city.dispatcher.id)
    await harness.settle()
    assert room.pinned_ids == [feed_card(sim, room, ordinary).message_id]
    assert not any(PIN_HINT in t for t in texts(sim, room))
    assert sim.unexpected_refusals() == []


async def test_without_admin_rights_the_feed_is_told_once_and_pinned_after_promotion(
    sim: TelegramSimulator, harness: BotHarness
) -> None:
    city = await build_city(sim, harness)
    room = await with_feed(sim, city, admin=False)
    first = await critical_call(city)
    second = await critical_call(city)
    third = await critical_call(city)
    assert sum(PIN_HINT in t for t in texts(sim, room)) == 1
    assert room.pinned_ids == []
    # The bot knew it was no admin there: it did not ask Telegram to pin at all.
    assert not [c for c in sim.calls if c.method == "pinChatMessage"]
    await harness.services.incidents.resolve(second, city.dispatcher.id)
    await harness.settle()

    sim.set_bot_admin(room, True, by=city.admin)
    await harness.settle()
    open_ones = {feed_card(sim, room, n).message_id for n in (first, third)}
    assert set(room.pinned_ids) == open_ones
    assert sum(PIN_HINT in t for t in texts(sim, room)) == 1
    assert sim.unexpected_refusals() == []

    # Demoted again: the next critical call is not pinned, and the group is told again, once.
    sim.set_bot_admin(room, False, by=city.admin)
    await harness.settle()
    fourth = await critical_call(city)
    await critical_call(city)
    assert feed_card(sim, room, fourth).message_id not in room.pinned_ids
    assert sum(PIN_HINT in t for t in texts(sim, room)) == 2


async def test_a_pin_telegram_refuses_is_explained_once_and_retried_on_promotion(
    sim: TelegramSimulator, harness: BotHarness
) -> None:
    city = await build_city(sim, harness)
    room = await with_feed(sim, city)
    # The bot loses its admin rights without Telegram telling it (an update lost): it tries.
    room.bot_status = "member"
    sim.expect_refusal("not enough rights", "pinChatMessage")
    first = await critical_call(city)
    await critical_call(city)
    refused = [c for c in sim.calls if c.method == "pinChatMessage" and not c.ok]
    assert len(refused) == 2
    assert sum(PIN_HINT in t for t in texts(sim, room)) == 1
    assert room.pinned_ids == []
    sim.set_bot_admin(room, True, by=city.admin)
    await harness.settle()
    assert feed_card(sim, room, first).message_id in room.pinned_ids
    assert len(room.pinned_ids) == 2


async def test_a_feed_registered_later_gets_the_open_incidents(
    sim: TelegramSimulator, harness: BotHarness
) -> None:
    city = await build_city(sim, harness)
    ani = sim.add_user("Ani", language_code="id")
    await harness.says(ani, "/start")
    done = await report(city, ani)
    await harness.services.incidents.resolve(done, city.dispatcher.id)
    bram = sim.add_user("Bram", language_code="id")
    await harness.says(bram, "/start")
    still_open = await report(city, bram, kind_button="🌊 Banjir")
    critical = await critical_call(city)
    await harness.settle()
    room = await with_feed(sim, city)
    numbers = [
        int((m.text or "").split(" #", 1)[1].split(" ", 1)[0])
        for m in sim.bot_messages(room)
        if m.has_protected_content
    ]
    assert numbers == [still_open, critical], numbers
    assert room.pinned_ids == [feed_card(sim, room, critical).message_id]
    # Registering it again (a rename) posts nothing twice.
    before = len(sim.bot_messages(room))
    await harness.says(city.admin, "/daftar operator Ruang 112 Kota", chat=room)
    assert len(sim.bot_messages(room)) == before + 1  # the answer only
