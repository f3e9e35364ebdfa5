"""Bad input on the incident loop, as people produce it: forged and stale buttons, presses from
the wrong people and chats, odd answers in the middle of a report, and what the bot says back.

Every scenario asserts what the person sees and that the store did not change.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.simulator import SimCallbackQuery, SimMessage, SimUser, TelegramSimulator
from models.clock import ManualClock
from models.incidents import EventKind, IncidentView, Lifecycle, Source, TimelineEvent
from models.outbox import OutboxStatus
from tests.harness import BotHarness
from tests.scenario import City, build_city, report

FIRE = "🔥 Kebakaran"
MEDICAL = "🚑 Darurat medis"
PALANGKA_RAYA = (-2.2100, 113.9200)
JAKARTA = (-6.2, 106.8)

STALE = "Tombol ini sudah tidak berlaku"
NOT_MEMBER = "Hanya anggota instansi ini"
OTHER_AGENCY = "Ini bukan urusan instansi grup ini"
NOT_PERMITTED = "tidak punya izin"
CLOSED = "Kejadian ini sudah ditutup"
ASK_LOCATION = "Di mana lokasinya?"
ASK_DESCRIPTION = "Apa yang terjadi?"
ASK_CONTACT = "Bolehkah petugas menghubungi Anda?"


# --- people and the store ---


async def resident(city: City, name: str) -> SimUser:
    """A resident who has opened the private chat with the bot."""
    person = city.sim.add_user(name, language_code="id")
    await city.harness.says(person, "/start")
    return person


async def agency_id(harness: BotHarness, code: str) -> int:
    async with harness.services.store.read() as tx:
        agency = await tx.agency_by_code(code)
    assert agency is not None
    return agency.id


async def incident_state(
    harness: BotHarness, *numbers: int
) -> list[tuple[IncidentView | None, list[TimelineEvent]]]:
    """Everything the store knows about these incidents, to compare before and after."""
    async with harness.services.store.read() as tx:
        return [(await tx.incident_view(n), await tx.events(n)) for n in numbers]


async def incident_numbers(harness: BotHarness) -> list[int]:
    """Every incident in the store, oldest first."""
    async with (
        harness.services.store.read() as tx,
        tx.db.execute("SELECT id FROM incidents ORDER BY id") as cursor,
    ):
        return [int(row[0]) async for row in cursor]


async def incident_count(harness: BotHarness) -> int:
    return len(await incident_numbers(harness))


async def acknowledgements(harness: BotHarness, number: int) -> int:
    async with harness.services.store.read() as tx:
        return await tx.count_events(number, EventKind.ACKNOWLEDGED)


async def draft_step(harness: BotHarness, user: SimUser) -> str | None:
    async with harness.services.store.read() as tx:
        draft = await tx.draft(user.id)
    return None if draft is None else draft.step


def mentions_incident(text: str | None, number: int) -> bool:
    return re.search(rf"#{number}\b", text or "") is not None


# --- acting as people ---


async def press(
    harness: BotHarness, user: SimUser, message: SimMessage, data: str
) -> SimCallbackQuery:
    """A press with `data` on `message`, answered and settled."""
    query = await harness.sim.press_raw(user, message, data=data)
    await harness.sim.wait_for(lambda: query.answered, what=f"an answer to the press {data!r}")
    await harness.settle()
    return query


async def press_button(
    harness: BotHarness, user: SimUser, message: SimMessage, label: str
) -> SimCallbackQuery:
    query = await harness.sim.press_button(user, message, text=label)
    await harness.sim.wait_for(lambda: query.answered, what=f"an answer to {label!r}")
    await harness.settle()
    return query


async def reply_to(harness: BotHarness, user: SimUser, sending: Awaitable[object]) -> SimMessage:
    """Send something in private (a location, a contact, a file) and return the bot's answer."""
    sim = harness.sim
    chat = sim.private_chat(user)
    before = len(sim.bot_messages(chat))
    await sending
    await sim.wait_for(lambda: len(sim.bot_messages(chat)) > before, what="the bot's answer")
    return sim.bot_messages(chat)[-1]


async def choose(
    harness: BotHarness, user: SimUser, question: SimMessage, label: str
) -> SimMessage:
    """Press a button of the draft's question and return the next question."""
    return await reply_to(harness, user, harness.sim.press_button(user, question, text=label))


async def begin_report(harness: BotHarness, user: SimUser, kind: str = FIRE) -> SimMessage:
    """`/lapor` and the type; returns the location question."""
    question = await harness.says(user, "/lapor")
    return await choose(harness, user, question, kind)


async def report_up_to_contact(harness: BotHarness, user: SimUser) -> SimMessage:
    """A fire report filled in up to the contact question; returns it."""
    await begin_report(harness, user)
    await reply_to(harness, user, harness.sim.send_location(user, *PALANGKA_RAYA))
    hurt = await harness.says(user, "Rumah kayu terbakar, api besar")
    return await choose(harness, user, hurt, "Tidak ada")


async def city_with(sim: TelegramSimulator, harness: BotHarness, **start: Any) -> City:
    """A small city with its own settings or clock: an admin, dispatcher Dita and the fire
    brigade with Rudi on duty."""
    admin = sim.add_user("Yusuf", username="yusuf", language_code="id")
    dispatcher = sim.add_user("Dita", username="dita", language_code="id")
    await harness.start(admins=[admin], **start)
    city = City(sim, harness, admin, dispatcher, coordinator=admin)
    for person in (admin, dispatcher):
        await harness.says(person, "/start")
    await harness.says(admin, "/peran beri dispatcher @dita")
    rudi = sim.add_user("Rudi", username="rudi", language_code="id")
    await city.agency("damkar", "Damkar Palangka Raya", rudi)
    return city


# --- 1. forged callback data on a card ---


async def test_forged_presses_on_a_card_are_answered_and_change_nothing(
    sim: TelegramSimulator, harness: BotHarness
) -> None:
    city = await build_city(sim, harness)
    fire = await report(city, await resident(city, "Ani"))
    medical = await report(
        city,
        await resident(city, "Bram"),
        kind_button=MEDICAL,
        description="Orang pingsan di pinggir jalan, tidak sadar",
    )
    damkar, dinkes = await agency_id(harness, "damkar"), await agency_id(harness, "dinkes")
    rudi = city.crews["damkar"][0]
    card = city.card("damkar", fire)
    shown = (card.text, card.buttons)
    before = await incident_state(harness, fire, medical)
    forged = {
        f"1|zzz|{fire}|{damkar}": STALE,  # an action no version ever had
        f"9|ack|{fire}|{damkar}": STALE,  # another version of the schema
        f"1|ack|{fire}": STALE,  # truncated
        f"1|ack|{medical}|{damkar}": STALE,  # an incident this agency has no part in
        f"1|ack|99999|{damkar}": STALE,  # no such incident
        f"1|ack|{fire}|{dinkes}": STALE,  # another agency than the chat's: not on this card
        "1|ack|abc|def": STALE,  # not numbers
        f"1|ack|{fire}|{damkar}|" + "0|" * 30: STALE,  # longer than Telegram's 64 bytes
        f"1|tk.ok|{fire}": STALE,  # a task card's button for a task that does not exist
        f"1|mg|{fire}": NOT_PERMITTED,  # the card's own Manage button, pressed by a member
    }
    for data, expected in forged.items():
        query = await press(harness, rudi, card, data)
        assert expected in (query.answer_text or ""), (data, query.answer_text)
    assert await incident_state(harness, fire, medical) == before
    assert (card.text, card.buttons) == shown, "the card is as it was"


async def test_a_forged_press_with_an_id_too_big_for_the_database_is_merely_stale(
    sim: TelegramSimulator, harness: BotHarness
) -> None:
    city = await build_city(sim, harness)
    fire = await report(city, await resident(city, "Ani"))
    damkar = await agency_id(harness, "damkar")
    before = await incident_state(harness, fire)
    query = await press(
        harness, city.crews["damkar"][0], city.card("damkar", fire), f"1|ack|{'9' * 19}|{damkar}"
    )
    assert await incident_state(harness, fire) == before
    assert STALE in (query.answer_text or ""), query.answer_text


# --- 2. presses from people and chats the card does not belong to ---


async def test_a_member_of_another_agency_pressing_a_copied_card_is_refused(
    sim: TelegramSimulator, harness: BotHarness
) -> None:
    city = await build_city(sim, harness)
    fire = await report(city, await resident(city, "Ani"))
    damkar_data = city.card("damkar", fire).button_data[0][0]
    assert damkar_data is not None and damkar_data.startswith("1|ack|")
    dewi = city.crews["dinkes"][0]
    somewhere_in_dinkes = sim.bot_messages(city.groups["dinkes"])[-1]
    before = await incident_state(harness, fire)

    query = await press(harness, dewi, somewhere_in_dinkes, damkar_data)

    # Damkar's button was never on that message: refused before anyone is asked anything.
    assert STALE in (query.answer_text or ""), query.answer_text
    assert query.show_alert
    assert await incident_state(harness, fire) == before
    assert await acknowledgements(harness, fire) == 0


# A group member who never sent /gabung now joins by pressing, and one who left the group is
# refused where they still can press (their private alert): tests/test_duty_alerts.py.


# --- 3. a replayed press ---


async def test_pressing_acknowledge_again_says_who_already_did_and_when(
    sim: TelegramSimulator, harness: BotHarness
) -> None:
    city = await build_city(sim, harness)
    fire = await report(city, await resident(city, "Ani"))
    rudi = city.crews["damkar"][0]
    card = city.card("damkar", fire)
    acknowledge = card.button_data[0][0]
    assert acknowledge is not None

    first = await press_button(harness, rudi, card, "✅ Terima")
    assert "Tercatat" in (first.answer_text or "")
    replay = await press(harness, rudi, city.card("damkar", fire), acknowledge)

    assert re.search(r"Sudah diterima oleh Rudi pukul \d{2}\.\d{2}", replay.answer_text or ""), (
        replay.answer_text
    )
    assert await acknowledgements(harness, fire) == 1


# --- 4. presses on closed incidents ---


async def test_a_press_on_the_card_of_a_resolved_incident_says_it_is_closed(
    sim: TelegramSimulator, harness: BotHarness
) -> None:
    city = await build_city(sim, harness)
    fire = await report(city, await resident(city, "Ani"))
    rudi = city.crews["damkar"][0]
    acknowledge = city.card("damkar", fire).button_data[0][0]
    assert acknowledge is not None
    await harness.services.incidents.resolve(fire, city.dispatcher.id)
    await harness.settle()
    assert city.card("damkar", fire).buttons == []
    before = await incident_state(harness, fire)

    query = await press(harness, rudi, city.card("damkar", fire), acknowledge)

    assert CLOSED in (query.answer_text or ""), query.answer_text
    assert await incident_state(harness, fire) == before
    assert await acknowledgements(harness, fire) == 0


async def test_a_dispatcher_cancels_from_the_manage_card_and_old_presses_are_closed(
    sim: TelegramSimulator, harness: BotHarness
) -> None:
    city = await build_city(sim, harness)
    ani = await resident(city, "Ani")
    fire = await report(city, ani)
    rudi, dita = city.crews["damkar"][0], city.dispatcher
    acknowledge = city.card("damkar", fire).button_data[0][0]
    assert acknowledge is not None
    sim.add_member(city.groups["damkar"], dita)
    await harness.settle()

    opened = await press_button(harness, dita, city.card("damkar", fire), "⚙️ Kelola")
    assert "Menu kelola dikirim" in (opened.answer_text or ""), opened.answer_text
    manage = sim.bot_messages(sim.private_chat(dita))[-1]
    assert manage.text is not None and "Kelola kejadian" in manage.text
    await press_button(harness, dita, manage, "🚫 Batalkan: Laporan palsu")
    for code in ("damkar", "relawan"):  # it asks first: the reporter is told at once
        assert city.card(code, fire).buttons, "nothing happened yet"
    question = sim.bot_messages(sim.private_chat(dita))[-1]
    assert "Batalkan kejadian" in (question.text or ""), question.text
    await press_button(harness, dita, question, "🗑 Ya, batalkan")

    for code in ("damkar", "relawan"):
        card = city.card(code, fire)
        assert card.buttons == [], f"the {code} card keeps no buttons"
        assert card.text is not None and "dibatalkan" in card.text
    told = sim.bot_messages(sim.private_chat(ani))[-1].text or ""
    assert f"Laporan #{fire} ditutup" in told and "Laporan palsu" in told
    async with harness.services.store.read() as tx:
        view = await tx.incident_view(fire)
    assert view is not None and view.incident.lifecycle is Lifecycle.CANCELLED
    before = await incident_state(harness, fire)

    query = await press(harness, rudi, city.card("damkar", fire), acknowledge)

    assert CLOSED in (query.answer_text or ""), query.answer_text
    assert await incident_state(harness, fire) == before
    assert await acknowledgements(harness, fire) == 0


# --- 5. descriptions that are too long or full of special characters ---


async def test_a_ten_thousand_character_description_is_refused_then_a_long_one_is_cut_on_the_card(
    sim: TelegramSimulator, harness: BotHarness
) -> None:
    city = await build_city(sim, harness)
    ani = await resident(city, "Ani")
    await begin_report(harness, ani)
    await reply_to(harness, ani, sim.send_location(ani, *PALANGKA_RAYA))

    answer = await harness.says(ani, "api " * 2500)

    assert answer.text is not None
    assert "terlalu panjang" in answer.text and "3000" in answer.text
    assert ASK_DESCRIPTION in answer.text, "the question is asked again"
    assert await draft_step(harness, ani) == "description"
    async with harness.services.store.read() as tx:
        draft = await tx.draft(ani.id)
    assert draft is not None and "description" not in draft.data

    nasty = "<b>api</b> & <i>asap</i> *tebal* _miring_ `kode` [tautan](x) 🔥👩‍🚒 مرحبا بالعالم"
    description = nasty + " " + "rumah kayu terbakar habis. " * 105  # about 2900 characters
    hurt = await harness.says(ani, description)
    assert hurt.text is not None and "terluka" in hurt.text
    contact = await choose(harness, ani, hurt, "Tidak ada")
    review = await harness.says(ani, "Lewati")
    assert contact.text is not None and review.text is not None
    await press_button(harness, ani, review, "✅ Kirim laporan")
    (number,) = await incident_numbers(harness)

    card = city.card("damkar", number).text or ""
    assert nasty in card, "HTML, Markdown, emoji and RTL text arrive as they were typed"
    assert f"(teks lengkap: /kejadian {number})" in card
    assert len(card) <= 3500
    full = await harness.says(city.crews["damkar"][0], f"/kejadian {number}")
    assert description.strip() in (full.text or "")


async def test_the_longest_accepted_description_is_whole_in_kejadian_as_the_card_promises(
    sim: TelegramSimulator, harness: BotHarness
) -> None:
    city = await build_city(sim, harness)
    description = ("Rumah kayu terbakar habis, api menjalar ke rumah sebelah. " * 80)[:3000]
    number = await report(city, await resident(city, "Ani"), description=description)
    card = city.card("damkar", number).text or ""
    assert f"(teks lengkap: /kejadian {number})" in card
    full = await harness.says(city.crews["damkar"][0], f"/kejadian {number}")
    assert description.strip() in (full.text or "")


# --- 6. locations that cannot be right ---


async def test_unreadable_and_faraway_locations_are_questioned(
    sim: TelegramSimulator, harness: BotHarness
) -> None:
    city = await build_city(sim, harness)
    ani = await resident(city, "Ani")
    await begin_report(harness, ani)

    for latitude, longitude in ((0.0, 0.0), (95.0, 113.9)):
        answer = await reply_to(harness, ani, sim.send_location(ani, latitude, longitude))
        assert answer.text is not None
        assert "tidak bisa dibaca" in answer.text and ASK_LOCATION in answer.text
        assert await draft_step(harness, ani) == "location"

    far = await reply_to(harness, ani, sim.send_location(ani, *JAKARTA))
    assert far.text is not None and "di luar wilayah layanan" in far.text
    assert await draft_step(harness, ani) == "location_far"
    again = await choose(harness, ani, far, "Kirim lokasi lain")
    assert ASK_LOCATION in (again.text or "")
    assert await draft_step(harness, ani) == "location"

    far = await reply_to(harness, ani, sim.send_location(ani, *JAKARTA))
    described = await choose(harness, ani, far, "Ya, lokasinya benar")
    assert ASK_DESCRIPTION in (described.text or "")
    async with harness.services.store.read() as tx:
        draft = await tx.draft(ani.id)
    assert draft is not None and draft.step == "description"
    assert (draft.data["latitude"], draft.data["longitude"]) == JAKARTA
    assert await incident_count(harness) == 0


# --- 7. things a report cannot carry, at the contact step ---


async def test_files_stickers_and_other_peoples_contacts_are_refused_at_the_contact_step(
    sim: TelegramSimulator, harness: BotHarness
) -> None:
    city = await build_city(sim, harness)
    ani = await resident(city, "Ani")
    bram = await resident(city, "Bram")
    question = await report_up_to_contact(harness, ani)
    assert ASK_CONTACT in (question.text or "")

    for name, mime in (("laporan.pdf", "application/pdf"), ("sticker.webp", "image/webp")):
        answer = await reply_to(harness, ani, sim.send_document(ani, name, mime, data=b"x"))
        assert answer.text is not None
        assert "tidak bisa dimasukkan ke laporan" in answer.text, name
        assert ASK_CONTACT in answer.text
        assert await draft_step(harness, ani) == "contact"

    answer = await reply_to(
        harness, ani, sim.send_contact(ani, "+62 812-5555-0202", user_id=bram.id)
    )
    assert answer.text is not None and "kontak orang lain" in answer.text
    assert await draft_step(harness, ani) == "contact"
    async with harness.services.store.read() as tx:
        draft = await tx.draft(ani.id)
    assert draft is not None and "phone" not in draft.data
    assert await incident_count(harness) == 0


# --- 8. commands in the middle of a report ---


async def test_help_mid_report_keeps_the_draft_and_the_report_goes_through(
    sim: TelegramSimulator, harness: BotHarness
) -> None:
    city = await build_city(sim, harness)
    ani = await resident(city, "Ani")
    await begin_report(harness, ani)

    help_text = await harness.says(ani, "/bantuan")
    assert "Bantuan Siaga 112" in (help_text.text or "")
    assert await draft_step(harness, ani) == "location"

    again = await harness.says(ani, "/lapor")
    assert "sedang mengisi laporan" in (again.text or "")
    assert ASK_LOCATION in (again.text or "")
    assert await draft_step(harness, ani) == "location"

    await reply_to(harness, ani, sim.send_location(ani, *PALANGKA_RAYA))
    hurt = await harness.says(ani, "Rumah kayu terbakar, api besar")
    await choose(harness, ani, hurt, "Tidak ada")
    review = await harness.says(ani, "Lewati")
    await press_button(harness, ani, review, "✅ Kirim laporan")
    assert await incident_count(harness) == 1
    assert await draft_step(harness, ani) is None


async def test_cancel_mid_report_removes_the_draft_and_its_old_buttons_go_stale(
    sim: TelegramSimulator, harness: BotHarness
) -> None:
    city = await build_city(sim, harness)
    ani = await resident(city, "Ani")
    await begin_report(harness, ani)
    await reply_to(harness, ani, sim.send_location(ani, *PALANGKA_RAYA))
    hurt = await harness.says(ani, "Rumah kayu terbakar, api besar")

    cancelled = await harness.says(ani, "/batal")

    assert "Laporan dibatalkan" in (cancelled.text or "")
    assert await draft_step(harness, ani) is None
    query = await press_button(harness, ani, hurt, "Tidak ada")
    assert "Tidak ada laporan yang sedang diisi" in (query.answer_text or ""), query.answer_text
    assert await draft_step(harness, ani) is None
    assert await incident_count(harness) == 0
    nothing = await harness.says(ani, "/batal")
    assert "Tidak ada laporan yang sedang diisi" in (nothing.text or "")


# --- 9. the rate limit ---


async def test_a_second_report_within_the_window_is_refused_with_when_and_112(
    sim: TelegramSimulator, harness: BotHarness
) -> None:
    clock = ManualClock(datetime(2026, 1, 1, 3, 0, tzinfo=UTC))  # 10.00 WIB
    city = await city_with(sim, harness, clock=clock, report_limit_count=1)
    ani = await resident(city, "Ani")
    await report(city, ani)
    clock.advance(timedelta(minutes=4))

    refused = await harness.says(ani, "/lapor")

    assert refused.text is not None
    assert "bisa melapor lagi pukul 10.10" in refused.text
    assert "telepon 112" in refused.text
    assert await draft_step(harness, ani) is None
    assert await incident_count(harness) == 1


# --- 10. an abandoned draft ---


async def test_an_answer_after_the_draft_expired_is_told_so(
    sim: TelegramSimulator, harness: BotHarness
) -> None:
    clock = ManualClock(datetime(2026, 1, 1, 3, 0, tzinfo=UTC))
    await harness.start(clock=clock)
    ani = sim.add_user("Ani", language_code="id")
    await begin_report(harness, ani)
    await reply_to(harness, ani, sim.send_location(ani, *PALANGKA_RAYA))
    assert await draft_step(harness, ani) == "description"
    clock.advance(timedelta(minutes=61))

    answer = await harness.says(ani, "Rumah kayu terbakar, api besar")

    assert "kedaluwarsa" in (answer.text or "")
    assert await draft_step(harness, ani) is None
    assert await incident_count(harness) == 0


async def test_the_sweep_of_abandoned_drafts_tells_the_reporter(
    sim: TelegramSimulator, harness: BotHarness
) -> None:
    clock = ManualClock(datetime(2026, 1, 1, 3, 0, tzinfo=UTC))
    app = await harness.start(clock=clock)
    ani = sim.add_user("Ani", language_code="id")
    await begin_report(harness, ani)
    clock.advance(timedelta(minutes=61))
    assert app.job_queue is not None
    (sweep,) = app.job_queue.get_jobs_by_name("expire-conversations")

    await sweep.run(app)  # what the scheduler does every minute
    await harness.settle()

    assert await draft_step(harness, ani) is None
    assert "kedaluwarsa" in (sim.bot_messages(sim.private_chat(ani))[-1].text or "")


# --- 11. a dispatcher logs a 112 call ---


async def test_a_dispatcher_logs_a_call_in_one_line_and_the_card_carries_the_callers_phone(
    sim: TelegramSimulator, harness: BotHarness
) -> None:
    city = await build_city(sim, harness)
    line = "kebakaran | Jl. Rajawali 7 dekat pasar | rumah kayu terbakar | 0812-3456-7890"

    answer = await harness.says(city.dispatcher, f"/baru {line}")
    await harness.settle()

    found = re.search(r"kejadian #(\d+)", answer.text or "")
    assert found is not None, answer.text
    number = int(found.group(1))
    async with harness.services.store.read() as tx:
        view = await tx.incident_view(number)
    assert view is not None
    assert view.incident.source is Source.CALL and view.incident.reporter_id is None
    card = city.card("damkar", number).text or ""
    assert "+6281234567890" in card and "panggilan 112" in card and "Rajawali" in card


async def test_a_bad_call_line_gets_the_usage_and_a_non_dispatcher_is_refused(
    sim: TelegramSimulator, harness: BotHarness
) -> None:
    city = await build_city(sim, harness)
    for bad in ("kebakaran | sini", "gempa | Jl. Rajawali 7 dekat pasar | rumah roboh semua"):
        answer = await harness.says(city.dispatcher, f"/baru {bad}")
        assert "Cara pakai" in (answer.text or ""), bad
    line = "kebakaran | Jl. Rajawali 7 dekat pasar | rumah kayu terbakar"
    refused = await harness.says(city.crews["damkar"][0], f"/baru {line}")
    assert NOT_PERMITTED in (refused.text or "")
    await harness.settle()
    assert await incident_count(harness) == 0


async def test_a_dispatcher_logs_a_call_through_the_short_form(
    sim: TelegramSimulator, harness: BotHarness
) -> None:
    city = await build_city(sim, harness)
    dita = city.dispatcher

    kind = await harness.says(dita, "/baru")
    assert "Catat panggilan 112" in (kind.text or "")
    where = await choose(harness, dita, kind, FIRE)
    assert "menurut penelepon" in (where.text or "")
    what = await harness.says(dita, "Jl. Rajawali 7 dekat pasar")
    assert "menurut penelepon" in (what.text or "")
    phone = await harness.says(dita, "Rumah kayu terbakar, api besar")
    assert "Nomor telepon penelepon" in (phone.text or "")
    hurt = await harness.says(dita, "Lewati")
    assert "terluka" in (hurt.text or ""), hurt.text
    count = await choose(harness, dita, hurt, "Ada")
    name = await harness.says(dita, "2")
    assert "Nama penelepon" in (name.text or ""), name.text
    review = await harness.says(dita, "Bu Sri")
    assert "Rajawali" in (review.text or "") and "Penelepon: Bu Sri" in (review.text or "")
    assert count.text
    await choose(harness, dita, review, "✅ Kirim laporan")
    await harness.settle()
    manage = sim.bot_messages(sim.private_chat(dita))[-1]
    # The management card follows the confirmation, for the dispatcher to act at once.
    assert "Kelola kejadian" in (manage.text or ""), manage.text
    created = sim.bot_messages(sim.private_chat(dita))[-2]

    found = re.search(r"kejadian #(\d+)", created.text or "")
    assert found is not None, created.text
    number = int(found.group(1))
    card = city.card("damkar", number).text or ""
    assert "Pelapor: Bu Sri" in card and "Ada, 2 orang" in card, card
    async with harness.services.store.read() as tx:
        view = await tx.incident_view(number)
    assert view is not None and view.incident.source is Source.CALL
    assert "Rumah kayu terbakar" in (city.card("damkar", number).text or "")
    assert await draft_step(harness, dita) is None


# --- 12. an assignee who never opened the private chat ---


async def test_a_task_for_someone_who_never_pressed_start_is_handed_back_to_the_group(
    sim: TelegramSimulator, harness: BotHarness
) -> None:
    sim.expect_refusal("can't initiate conversation")  # how the bot learns it
    city = await build_city(sim, harness)
    fire = await report(city, await resident(city, "Ani"))
    rudi, group = city.crews["damkar"][0], city.groups["damkar"]
    await harness.says(city.admin, "/peran beri petugas @rudi")
    bayu = sim.add_user("Bayu", username="bayu", language_code="id")
    sim.add_member(group, bayu)
    await harness.says(bayu, "/gabung", chat=group)
    assert not bayu.started

    await press_button(harness, rudi, city.card("damkar", fire), "👤 Tugaskan")
    picker = sim.bot_messages(group)[-1]
    label = next(text for row in picker.buttons for text in row if "Bayu" in text)
    await press_button(harness, rudi, picker, label)
    told = await sim.wait_for(
        lambda: next(
            (m for m in sim.bot_messages(group) if "belum bisa dikirim" in (m.text or "")), None
        ),
        what="the group told the task did not reach Bayu",
    )

    assert told.text is not None and "Bayu" in told.text and "Start" in told.text
    assert sim.bot_messages(sim.private_chat(bayu)) == []
    async with harness.services.store.read() as tx:
        view = await tx.incident_view(fire)
        parked = await tx.count_outbox(OutboxStatus.PARKED)
    assert view is not None and [a.user_id for a in view.assignments] == [bayu.id]
    assert parked >= 1


# --- 13. looking incidents up ---


async def test_kejadian_shows_the_incident_to_those_who_may_see_it_only(
    sim: TelegramSimulator, harness: BotHarness
) -> None:
    city = await build_city(sim, harness)
    ani = await resident(city, "Ani")
    fire = await report(city, ani)
    stranger = await resident(city, "Joko")

    for person in (ani, city.crews["damkar"][0], city.dispatcher):
        shown = await harness.says(person, f"/kejadian {fire}")
        assert mentions_incident(shown.text, fire) and "Kronologi" in (shown.text or ""), (
            person.first_name
        )
    for person in (stranger, city.crews["dinkes"][0]):
        refused = await harness.says(person, f"/kejadian {fire}")
        assert NOT_MEMBER in (refused.text or ""), person.first_name
        assert "Rumah kayu" not in (refused.text or "")

    usage = await harness.says(ani, "/kejadian abc")
    assert "/kejadian 12" in (usage.text or "")
    missing = await harness.says(ani, "/kejadian 99999")
    assert "Kejadian #99999 tidak ditemukan" in (missing.text or "")


async def test_terbuka_lists_a_members_own_agencies_and_everything_for_the_dispatcher(
    sim: TelegramSimulator, harness: BotHarness
) -> None:
    city = await build_city(sim, harness)
    fire = await report(city, await resident(city, "Ani"))
    medical = await report(
        city,
        await resident(city, "Bram"),
        kind_button=MEDICAL,
        description="Orang pingsan di pinggir jalan, tidak sadar",
    )

    rudi = (await harness.says(city.crews["damkar"][0], "/terbuka")).text
    dewi = (await harness.says(city.crews["dinkes"][0], "/terbuka")).text
    dita = (await harness.says(city.dispatcher, "/terbuka")).text

    assert mentions_incident(rudi, fire) and not mentions_incident(rudi, medical)
    assert mentions_incident(dewi, medical) and not mentions_incident(dewi, fire)
    assert mentions_incident(dita, fire) and mentions_incident(dita, medical)
    stranger = await resident(city, "Joko")
    refused = (await harness.says(stranger, "/terbuka")).text
    assert NOT_PERMITTED in (refused or "")


async def test_a_description_of_invisible_characters_is_corrected_and_the_draft_waits(
    sim: TelegramSimulator, harness: BotHarness
) -> None:
    city = await build_city(sim, harness)
    ani = await resident(city, "Ani")
    await begin_report(harness, ani)
    await reply_to(harness, ani, sim.send_location(ani, *PALANGKA_RAYA))
    for invisible in ("\u200b" * 12, "\u200e\u200f" * 6, ". . . . . . . .", "🔥🔥🔥🔥🔥🔥🔥🔥"):
        answer = await harness.says(ani, invisible)
        assert "terlalu singkat" in (answer.text or ""), (invisible, answer.text)
        assert await draft_step(harness, ani) == "description"
    await harness.says(ani, "Rumah kayu terbakar, api besar")
    assert await draft_step(harness, ani) == "hurt"
