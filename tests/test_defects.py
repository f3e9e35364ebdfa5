"""Defects found when the bot was tried as a new user would try it, each shown fixed the way the
person meets it: odd numbers, venues, typed phone numbers, captions, the "may appear twice" note,
merged reporters, resolving and cancelling, the escalation cap, the broadcast's status wording,
and error logs without people's data."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import pytest
from telegram import Chat, Message, Update, User

from bot.i18n import t
from bot.simulator import SimUser, TelegramSimulator
from bot.store import Store
from handlers.errors import describe
from models.clock import ManualClock
from models.outbox import OutgoingMessage, SendMethod
from tests.harness import BotHarness
from tests.scenario import City, build_city, report

FIRE_ACK = timedelta(seconds=180)
ESCALATION_EVERY = timedelta(seconds=300)


async def resident(city: City, name: str, language: str = "id") -> SimUser:
    person = city.sim.add_user(name, language_code=language)
    await city.harness.says(person, "/start")
    return person


# --- numbers ---


@pytest.mark.parametrize("given", ["²", "١٢", "-3", "12345678901234567890", "1e3", "#"])
async def test_a_number_that_is_no_number_gets_a_correction_not_an_error(
    sim: TelegramSimulator, harness: BotHarness, caplog: pytest.LogCaptureFixture, given: str
) -> None:
    city = await build_city(sim, harness)
    for command in (f"/kejadian {given}", f"/gabungkan {given} 1", f"/bukalagi {given}"):
        answer = await harness.says(city.dispatcher, command)
        assert "bukan nomor" in (answer.text or ""), (command, answer.text)
    answer = await harness.says(city.dispatcher, f"/keparahan {given} kritis")
    assert "bukan nomor" in (answer.text or ""), answer.text
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


async def test_a_dispatchers_command_asks_the_policy_before_reading_the_number(
    sim: TelegramSimulator, harness: BotHarness
) -> None:
    city = await build_city(sim, harness)
    stranger = await resident(city, "Ani")
    answer = await harness.says(stranger, "/gabungkan ² x")
    assert "izin" in (answer.text or ""), answer.text


# --- what a reporter sends ---


async def test_a_venue_keeps_its_name_and_address_on_the_card(
    sim: TelegramSimulator, harness: BotHarness
) -> None:
    city = await build_city(sim, harness)
    ani = await resident(city, "Ani")
    chat = sim.private_chat(ani)
    question = await harness.says(ani, "/lapor")
    await sim.press_button(ani, question, text="🔥 Kebakaran")
    await harness.settle()
    await sim.send_venue(ani, -2.2096, 113.9139, "Pasar <Besar>", "Jl. A. Yani no. 1")
    await harness.settle()
    await harness.says(ani, "Kios-kios terbakar, api menjalar")
    await sim.press_button(ani, sim.bot_messages(chat)[-1], text="Tidak ada")
    await harness.settle()
    review = await harness.says(ani, "Lewati")
    await sim.press_button(ani, review, text="✅ Kirim laporan")
    await harness.settle()
    card = city.cards("damkar")[-1]
    assert "Pasar <Besar>, Jl. A. Yani no. 1" in (card.text or "")
    assert "Pasar &lt;Besar&gt;" in (card.html or ""), "escaped for Telegram's HTML"


async def test_a_typed_number_is_shown_as_given_by_the_reporter_not_as_theirs(
    sim: TelegramSimulator, harness: BotHarness
) -> None:
    city = await build_city(sim, harness)
    ani = await resident(city, "Ani")
    fire = await _report_typing_a_phone(city, ani, "0812 9999 1234")
    card = city.card("damkar", fire).text or ""
    assert "+6281299991234" in card and "diketik pelapor" in card
    async with harness.services.store.read() as tx:
        person = await tx.person(ani.id)
    assert person is not None and person.phone is None, "not stored as her own number"
    shared = await report(city, await resident(city, "Bram"))  # shares his own contact
    assert "diketik" not in (city.card("damkar", shared).text or "")


async def _report_typing_a_phone(city: City, person: SimUser, phone: str) -> int:
    sim, harness = city.sim, city.harness
    chat = sim.private_chat(person)
    question = await harness.says(person, "/lapor")
    await sim.press_button(person, question, text="🔥 Kebakaran")
    await harness.settle()
    await sim.send_location(person, -2.21, 113.92)
    await harness.settle()
    await harness.says(person, "Gudang kayu terbakar dekat pasar")
    await sim.press_button(person, sim.bot_messages(chat)[-1], text="Tidak ada")
    await harness.settle()
    review = await harness.says(person, phone)
    await sim.press_button(person, review, text="✅ Kirim laporan")
    await harness.settle()
    return len(city.cards("damkar"))


async def test_a_text_after_a_captioned_photo_adds_to_the_description(
    sim: TelegramSimulator, harness: BotHarness
) -> None:
    city = await build_city(sim, harness)
    ani = await resident(city, "Ani")
    chat = sim.private_chat(ani)
    question = await harness.says(ani, "/lapor")
    await sim.press_button(ani, question, text="🔥 Kebakaran")
    await harness.settle()
    await sim.send_location(ani, -2.21, 113.92)
    await harness.settle()
    await sim.send_photo(ani, caption="Rumah kayu terbakar di gang 3")
    await harness.settle()
    await harness.says(ani, "Dua anak masih di dalam")
    async with harness.services.store.read() as tx:
        draft = await tx.draft(ani.id)
    assert draft is not None
    assert draft.data["description"] == "Rumah kayu terbakar di gang 3\nDua anak masih di dalam"
    assert "terluka" in (sim.bot_messages(chat)[-1].text or "")


# --- the "may appear twice" note ---


async def test_a_task_card_held_back_until_start_arrives_without_a_twice_note(
    sim: TelegramSimulator, harness: BotHarness
) -> None:
    city = await build_city(sim, harness)
    fire = await report(city, await resident(city, "Ani"))
    rudi, group = city.crews["damkar"][0], city.groups["damkar"]
    newcomer = sim.add_user("Joko", username="joko", language_code="en")
    sim.add_member(group, newcomer)
    await harness.says(newcomer, "/gabung", chat=group)
    await harness.says(city.admin, "/peran beri petugas @rudi")
    sim.expect_refusal("can't initiate conversation")  # Joko never opened the private chat
    await sim.press_button(rudi, city.card("damkar", fire), text="👤 Tugaskan")
    await harness.settle()
    await sim.press_button(rudi, sim.bot_messages(group)[-1], text="⚪ Joko (tidak siaga)")
    await harness.settle()
    await harness.says(newcomer, "/start")
    await harness.settle()
    messages = sim.bot_messages(sim.private_chat(newcomer))
    assert any(["✅ Accept", "❌ Decline"] in m.buttons for m in messages), [
        m.buttons for m in messages
    ]
    texts = [m.text or "" for m in messages]
    assert not [t for t in texts if "twice" in t or "dua kali" in t]


async def test_a_send_cut_short_is_noted_in_the_chats_language_as_a_reply(
    sim: TelegramSimulator, harness: BotHarness
) -> None:
    await harness.start()
    tom = sim.add_user("Tom", language_code="en")
    await harness.says(tom, "/start")
    await harness.stop()
    store = Store(harness.database_path)
    await store.open()
    async with store.transaction() as tx:
        row = await tx.enqueue(
            OutgoingMessage(tom.id, SendMethod.SEND_MESSAGE, {"text": "Card #7"}, ref="card:7:1"),
            store.clock.now(),
        )
        await tx.db.execute("UPDATE outbox SET attempted_at = created_at WHERE id = ?", (row,))
    await store.close()
    await harness.start()
    await harness.settle()
    card = next(m for m in sim.bot_messages(sim.private_chat(tom)) if m.text == "Card #7")
    note = sim.bot_messages(sim.private_chat(tom))[-1]
    assert note.reply_to_message_id == card.message_id
    assert "may appear twice" in (note.text or ""), note.text


# --- merged reports ---


async def test_the_reporter_of_a_merged_report_follows_the_surviving_incident(
    sim: TelegramSimulator, harness: BotHarness
) -> None:
    city = await build_city(sim, harness)
    ani, bram = await resident(city, "Ani"), await resident(city, "Bram")
    first = await report(city, ani)
    second = await report(city, bram, description="Asap tebal dari rumah di Jl. Rajawali")
    await harness.says(city.dispatcher, f"/gabungkan {second} {first}")
    rudi = city.crews["damkar"][0]
    await sim.press_button(rudi, city.card("damkar", first), text="✅ Terima")
    await harness.settle()
    told = [m.text or "" for m in sim.bot_messages(sim.private_chat(bram))]
    assert any(f"#{first}" in text and "Damkar" in text for text in told[-2:]), told
    view = await harness.says(bram, f"/kejadian {first}")
    text = view.text or ""
    assert f"#{first}" in text and "Damkar" in text
    assert "Ani" not in text and "6281255550101" not in text, "not Ani's name nor her number"
    own = await harness.says(ani, f"/kejadian {first}")
    assert "Ani" in (own.text or "")


# --- the management card ---


async def test_a_dispatcher_resolves_from_the_management_card_after_confirming(
    sim: TelegramSimulator, harness: BotHarness
) -> None:
    city = await build_city(sim, harness)
    ani = await resident(city, "Ani")
    fire = await report(city, ani)
    dita = city.dispatcher
    sim.add_member(city.groups["damkar"], dita)
    await harness.settle()
    await sim.press_button(dita, city.card("damkar", fire), text="⚙️ Kelola")
    await harness.settle()
    manage = sim.bot_messages(sim.private_chat(dita))[-1]
    await sim.press_button(dita, manage, text="✅ Selesaikan kejadian")
    await harness.settle()
    assert "Selesaikan kejadian" in (manage.text or ""), "the card asks first"
    assert "selesai" not in (sim.bot_messages(sim.private_chat(ani))[-1].text or "").lower()
    await sim.press_button(dita, manage, text="↩️ Kembali")
    await harness.settle()
    assert "Kelola kejadian" in (manage.text or "")
    await sim.press_button(dita, manage, text="✅ Selesaikan kejadian")
    await harness.settle()
    await sim.press_button(dita, manage, text="✅ Ya, selesaikan")
    await harness.settle()
    assert "selesai" in (city.card("damkar", fire).text or "").lower()
    assert city.card("damkar", fire).buttons == []
    assert f"#{fire}" in (sim.bot_messages(sim.private_chat(ani))[-1].text or "")
    assert manage.buttons == [["↩️ Buka lagi"]], manage.buttons


# --- escalations ---


async def test_a_configured_escalation_cap_stops_and_says_so(
    sim: TelegramSimulator, harness: BotHarness
) -> None:
    clock = ManualClock()
    city = await build_city(sim, harness, clock=clock, escalation_max_repeats=2)
    coordinators = sim.add_group("Koordinator 112", members=[city.admin, city.coordinator])
    sim.add_bot_to_group(coordinators, by=city.admin)
    await harness.settle()
    await harness.says(city.admin, "/daftar koordinator", chat=coordinators)
    await report(city, await resident(city, "Ani"))

    def escalations() -> list[str]:
        return [
            m.text or ""
            for m in sim.bot_messages(coordinators)
            if "oleh Damkar Palangka Raya" in (m.text or "").split("\n")[0]
        ]

    for _ in range(3):  # two reminders in the group, then the first escalation
        clock.advance(FIRE_ACK)
        await harness.services.reminders.sweep()
        await harness.settle()
    for _ in range(4):
        clock.advance(ESCALATION_EVERY)
        await harness.services.reminders.sweep()
        await harness.settle()
    # One escalation, edited at its repeat to say it is the last, and one ping for the repeat.
    found = escalations()
    assert len(found) == 1, found
    assert "eskalasi terakhir" in found[0]
    pings = [
        m
        for m in sim.bot_messages(coordinators)
        if "masih belum ditangani Damkar" in (m.text or "") and not m.deleted
    ]
    assert len(pings) == 1


# --- wording ---


def test_the_broadcast_confirmation_does_not_say_where_the_status_message_is() -> None:
    for language in ("id", "en"):
        text = t(language, "broadcast.sent", number=3, count=5)
        assert "below" not in text and "di bawah" not in text
        assert "#3" in text


# --- logs ---


def test_a_failed_update_is_logged_without_what_people_wrote_or_who_they_are() -> None:
    user = User(7001, "Ani", False, last_name="Lestari", username="ani_pky")
    chat = Chat(7001, "private", first_name="Ani")
    message = Message(55, datetime.now(UTC), chat, from_user=user, text="0812 5555 0101")
    described = describe(Update(4242, message=message))
    assert described == "4242 (message in chat 7001)"
    assert "Ani" not in described and "0812" not in described
