"""The one press pipeline, tried as a modified client would try it.

Telegram does not check that the data of a pressed button belongs to the message it was pressed
on. So: every family's data is pressed on every kind of message that carries buttons; buttons
are tapped twice; forwarded copies, deleted messages and messages too old for Telegram to show
are pressed. None of it changes state, none makes Telegram refuse a call of the bot (the `sim`
fixture fails the test on any), none leaves a traceback, and every press is answered once.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest

from bot.callbacks import ButtonAction, StopBroadcast, decode, families
from bot.simulator import SimCallbackQuery, SimMessage, SimUser, TelegramSimulator
from models.clock import ManualClock
from tests.harness import BotHarness
from tests.scenario import City, build_city, report

STALE = "Tombol ini sudah tidak berlaku"
OLD_QUESTION = "Pertanyaan ini sudah lewat"
FIRE_ACK = timedelta(seconds=180)


@dataclass
class Kind:
    """A kind of message that carries buttons, and someone who can see it to press on it."""

    name: str
    message: SimMessage
    presser: SimUser


# --- the state a refused press must leave alone ---


async def fingerprint(harness: BotHarness) -> dict[str, list[tuple[Any, ...]]]:
    """Every row a press could change (the record of handled updates aside)."""
    queries = {
        "incidents": "SELECT id, lifecycle, severity, cancel_reason, updated_at FROM incidents",
        "responses": "SELECT * FROM responses",
        "assignments": "SELECT * FROM assignments",
        "events": "SELECT COUNT(*), MAX(id) FROM incident_events",
        "conversations": "SELECT user_id, kind, step, data, message_id FROM conversations",
        "broadcasts": "SELECT * FROM broadcasts",
        "receipts": "SELECT * FROM broadcast_receipts",
        "memberships": "SELECT * FROM memberships",
        "agencies": "SELECT id, chat_id, thread_id, active FROM agencies",
        "reminders": "SELECT id, state, due_at FROM reminders",
        "outbox": "SELECT COUNT(*), MAX(id) FROM outbox",
        "shown": "SELECT chat_id, message_id, buttons FROM bot_messages",
    }
    found = {}
    async with harness.services.store.read() as tx:
        for name, sql in queries.items():
            found[name] = [tuple(row) for row in await tx.db.execute_fetchall(f"{sql} ORDER BY 1")]
    return found


async def answered(sim: TelegramSimulator, query: SimCallbackQuery) -> SimCallbackQuery:
    await sim.wait_for(lambda: query.answered, what=f"an answer to {query.data!r}")
    return query


# --- a city with one message of every kind ---


async def every_kind(sim: TelegramSimulator, harness: BotHarness) -> tuple[City, list[Kind]]:
    """A city on a manual clock in which the bot has sent one message of every kind with buttons:
    a card, an on-duty member's alert, a task card, a picker, a report's question and review
    card, a management card, an escalation, a broadcast's question, copy and status message, a
    question picker, a question to a reporter, an offer to add to a report, a duplicate hint, a
    note proposal, a drill picker, and an agency-move question."""
    clock = ManualClock()
    city = await build_city(sim, harness, clock=clock)
    coordinators = sim.add_group("Koordinator 112", members=[city.admin, city.coordinator])
    sim.add_bot_to_group(coordinators, by=city.admin)
    await harness.settle()
    await harness.says(city.admin, "/daftar koordinator", chat=coordinators)
    damkar = city.groups["damkar"]
    rudi = city.crews["damkar"][0]
    ani = sim.add_user("Ani", language_code="id")
    await harness.says(ani, "/start")
    fire = await report(city, ani)

    kinds = [Kind("card", city.card("damkar", fire), rudi)]
    # Relawan's on-duty members got a private alert; Damkar's is answered below (Rudi takes it).
    sari = city.crews["relawan"][0]
    alert = next(
        m for m in sim.bot_messages(sim.private_chat(sari)) if (m.text or "").startswith("🚨")
    )
    assert alert.buttons, alert.text
    kinds.append(Kind("on-duty alert", alert, sari))
    # Rudi takes the call himself; a second picker stays open.
    picker = await _open_picker(city, rudi, fire)
    await sim.press_button(rudi, picker, text="🙋 Saya sendiri")
    await harness.settle()
    task = sim.bot_messages(sim.private_chat(rudi))[-1]
    assert task.buttons, task.text
    kinds.append(Kind("task card", task, rudi))
    kinds.append(Kind("picker", await _open_picker(city, rudi, fire), rudi))

    budi = sim.add_user("Budi", language_code="id")
    await harness.says(budi, "/start")
    kinds.append(Kind("report question", await harness.says(budi, "/lapor"), budi))
    kinds.append(Kind("review card", await _review(city, sim.add_user("Cici")), _last_user(sim)))

    sim.add_member(damkar, city.dispatcher)
    await harness.settle()
    await sim.press_button(city.dispatcher, city.card("damkar", fire), text="⚙️ Kelola")
    await harness.settle()
    kinds.append(
        Kind(
            "management card",
            sim.bot_messages(sim.private_chat(city.dispatcher))[-1],
            city.dispatcher,
        )
    )

    for _ in range(3):  # Relawan never answers: two reminders, then the escalation
        clock.advance(FIRE_ACK)
        await harness.services.reminders.sweep()
        await harness.settle()
    escalation = next(m for m in sim.bot_messages(coordinators) if "Eskalasi" in (m.text or ""))
    kinds.append(Kind("escalation", escalation, city.coordinator))

    dispatcher_chat = sim.private_chat(city.dispatcher)
    question = await harness.says(city.dispatcher, "/siaran")
    urgency = await harness.says(city.dispatcher, "Asap karhutla menuju Jekan Raya, tutup jendela.")
    await sim.press_button(city.dispatcher, urgency, text="⚠️ Peringatan")
    await harness.settle()
    await sim.press_button(
        city.dispatcher, sim.bot_messages(dispatcher_chat)[-1], text="🏢 Semua grup instansi"
    )
    await harness.settle()
    await sim.press_button(
        city.dispatcher, sim.bot_messages(dispatcher_chat)[-1], text="📣 Kirim sekarang"
    )
    await harness.settle()
    assert question.text
    copy = next(m for m in sim.bot_messages(damkar) if ["✅ Diterima"] in m.buttons)
    kinds.append(Kind("broadcast copy", copy, rudi))
    status = next(m for m in sim.bot_messages(dispatcher_chat) if ["📋 Rincian"] in m.buttons)
    kinds.append(Kind("broadcast status", status, city.dispatcher))
    await harness.says(city.dispatcher, "/siaran")
    urgency = await harness.says(city.dispatcher, "Banjir di Jalan Yos Sudarso, hindari jalan itu.")
    kinds.append(Kind("broadcast question", urgency, city.dispatcher))

    # Information after the report: Rudi's question picker, Sari's question to Ani, Eka's
    # offer to add to her report, and Rudi's reply to the card proposed as a note.
    await sim.press_button(rudi, city.card("damkar", fire), text="❓ Tanya pelapor")
    await harness.settle()
    kinds.append(Kind("ask picker", sim.bot_messages(sim.private_chat(rudi))[-1], rudi))
    await sim.press_button(sari, city.card("relawan", fire), text="❓ Tanya pelapor")
    await harness.settle()
    await sim.press_button(
        sari, sim.bot_messages(sim.private_chat(sari))[-1], text="Masih ada orang di dalam?"
    )
    await harness.settle()
    asked = sim.bot_messages(sim.private_chat(ani))[-1]
    assert asked.buttons == [["Ya", "Tidak", "Tidak tahu"]], asked.text
    kinds.append(Kind("question to a reporter", asked, ani))
    eka = sim.add_user("Eka", language_code="id")
    await harness.says(eka, "/start")
    second = await report(city, eka, description="Asap tebal dari gudang di belakang pasar")
    offer = await harness.says(eka, "Sekarang apinya sampai ke atap")
    assert offer.buttons, offer.text
    kinds.append(Kind("addition offer", offer, eka))
    # Eka's pin is Ani's: her report is hinted as a duplicate, and its management card says so.
    await sim.press_button(city.dispatcher, city.card("damkar", second), text="⚙️ Kelola")
    await harness.settle()
    hinted = sim.bot_messages(sim.private_chat(city.dispatcher))[-1]
    assert f"🔗 Gabungkan ke #{fire}" in [b for row in hinted.buttons for b in row], hinted.buttons
    kinds.append(Kind("duplicate hint", hinted, city.dispatcher))
    await sim.send_message(
        rudi, "Kami sudah dekat", chat=damkar, reply_to=city.card("damkar", fire)
    )
    await harness.settle()
    proposal = sim.bot_messages(damkar)[-1]
    assert "catatan" in (proposal.text or ""), proposal.text
    kinds.append(Kind("note proposal", proposal, rudi))

    picker = await harness.says(city.dispatcher, "/latihan")
    assert picker.buttons, picker.text
    kinds.append(Kind("drill picker", picker, city.dispatcher))

    erase = await harness.says(ani, "/lupakan")
    kinds.append(Kind("erasure question", erase, ani))

    elsewhere = sim.add_group("Posko Damkar Baru", members=[city.admin])
    sim.add_bot_to_group(elsewhere, by=city.admin)
    await harness.settle()
    move = await harness.says(city.admin, "/daftar damkar Damkar Palangka Raya", chat=elsewhere)
    assert move.buttons, move.text
    kinds.append(Kind("agency move question", move, city.admin))
    return city, kinds


async def _open_picker(city: City, member: SimUser, number: int) -> SimMessage:
    sim = city.sim
    await sim.press_button(member, city.card("damkar", number), text="👤 Tugaskan")
    await city.harness.settle()
    picker = sim.bot_messages(city.groups["damkar"])[-1]
    assert "Tugaskan" in (picker.text or ""), picker.text
    return picker


async def _review(city: City, person: SimUser) -> SimMessage:
    """`person` fills in a report up to its review card."""
    sim, harness = city.sim, city.harness
    question = await harness.says(person, "/lapor")
    await sim.press_button(person, question, text="🔥 Kebakaran")
    await harness.settle()
    await sim.send_location(person, -2.21, 113.92)
    await harness.settle()
    hurt = await harness.says(person, "Gudang kayu terbakar di dekat pasar")
    await sim.press_button(person, hurt, text="Tidak ada")
    await harness.settle()
    review = await harness.says(person, "Lewati")
    assert (review.text or "").startswith("Periksa laporan Anda"), review.text
    return review


def _last_user(sim: TelegramSimulator) -> SimUser:
    return sim.users()[-1]


def data_on(message: SimMessage) -> set[str]:
    return {data for row in message.button_data for data in row if data}


# --- every family on every kind ---


async def test_every_family_pressed_on_every_other_kind_of_message_changes_nothing(
    sim: TelegramSimulator, harness: BotHarness, caplog: pytest.LogCaptureFixture
) -> None:
    _city, kinds = await every_kind(sim, harness)
    samples: dict[type, str] = {}
    for kind in kinds:
        for data in sorted(data_on(kind.message)):
            button = decode(data)
            assert button is not None, data
            samples.setdefault(type(button), data)
    # Stop shows only while a broadcast is sending; its data is made, like a modified client would.
    samples.setdefault(StopBroadcast, StopBroadcast(ButtonAction.BC_STOP, 1, 1).encode())
    assert set(samples) == set(families().values()), "a family of buttons is missing here"

    await harness.settle()
    before = await fingerprint(harness)
    caplog.clear()
    caplog.set_level(logging.INFO)
    pressed = 0
    for kind in kinds:
        own = data_on(kind.message)
        for family, data in samples.items():
            if data in own:
                continue
            query = await answered(sim, await sim.press_raw(kind.presser, kind.message, data))
            await harness.settle()
            pressed += 1
            assert query.answers == 1, (kind.name, data)
            assert query.show_alert and query.answer_text, (kind.name, data, query.answer_text)
            after = await fingerprint(harness)
            changed = [table for table in before if before[table] != after[table]]
            assert not changed, (kind.name, family.__name__, data, changed)
    await harness.settle()
    assert pressed >= len(kinds) * (len(samples) - 3)
    assert await fingerprint(harness) == before
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    refused = [r for r in caplog.records if r.getMessage().startswith("press refused")]
    assert len(refused) == pressed, "each refused press is logged once"
    assert all(r.levelno == logging.INFO for r in refused)


# --- double taps, forwarded copies, deleted and old messages ---


async def test_a_double_tap_on_a_report_question_answers_it_once(
    sim: TelegramSimulator, harness: BotHarness
) -> None:
    await build_city(sim, harness)
    budi = sim.add_user("Budi", language_code="id")
    await harness.says(budi, "/start")
    question = await harness.says(budi, "/lapor")
    first = await sim.press_button(budi, question, text="🔥 Kebakaran")
    second = await sim.press_button(budi, question, text="🚑 Darurat medis")  # before any answer
    await harness.settle()
    assert first.answers == second.answers == 1
    assert not first.show_alert
    assert OLD_QUESTION in (second.answer_text or "")
    async with harness.services.store.read() as tx:
        draft = await tx.draft(budi.id)
    assert draft is not None and draft.step == "location" and draft.data["type"] == "kebakaran"
    questions = [m for m in sim.bot_messages(sim.private_chat(budi)) if "Di mana" in (m.text or "")]
    assert len(questions) == 1, "the next question was asked once"


async def test_closing_a_picker_twice_deletes_it_once(
    sim: TelegramSimulator, harness: BotHarness
) -> None:
    city = await build_city(sim, harness)
    fire = await report(city, sim.add_user("Ani", language_code="id"))
    rudi = city.crews["damkar"][0]
    picker = await _open_picker(city, rudi, fire)
    first = await sim.press_button(rudi, picker, text="✖ Tutup")
    second = await sim.press_raw(rudi, picker, picker.button_data[-1][-1] or "")
    await harness.settle()
    assert first.answers == second.answers == 1
    assert STALE in (second.answer_text or "")
    deletions = [c for c in sim.calls if c.method == "deleteMessage"]
    assert len(deletions) == 1 and deletions[0].ok


async def test_somebody_elses_picker_is_theirs(sim: TelegramSimulator, harness: BotHarness) -> None:
    city = await build_city(sim, harness)
    fire = await report(city, sim.add_user("Ani", language_code="id"))
    rudi = city.crews["damkar"][0]
    joko = sim.add_user("Joko", username="joko", language_code="id")
    sim.add_member(city.groups["damkar"], joko)
    await harness.says(joko, "/gabung", chat=city.groups["damkar"])
    picker = await _open_picker(city, rudi, fire)
    before = await fingerprint(harness)
    for label in ("🙋 Saya sendiri", "✖ Tutup"):
        query = await answered(sim, await sim.press_button(joko, picker, text=label))
        assert "dibuka oleh orang lain" in (query.answer_text or ""), query.answer_text
    await harness.settle()
    assert await fingerprint(harness) == before
    assert sim.find_message(picker.chat_id, picker.message_id) is not None, "still Rudi's"


async def test_a_forwarded_copy_of_a_report_question_changes_nothing(
    sim: TelegramSimulator, harness: BotHarness
) -> None:
    await build_city(sim, harness)
    budi = sim.add_user("Budi", language_code="id")
    await harness.says(budi, "/start")
    question = await harness.says(budi, "/lapor")
    neighbours = sim.add_group("Tetangga RT 04", members=[budi])  # a group without the bot
    copy = await sim.forward_message(budi, question, chat=neighbours)
    assert copy.buttons == question.buttons, "Telegram keeps the buttons on a forwarded copy"
    await harness.settle()
    before = await fingerprint(harness)
    query = await answered(sim, await sim.press_button(budi, copy, text="🔥 Kebakaran"))
    await harness.settle()
    assert STALE in (query.answer_text or "")
    assert await fingerprint(harness) == before, "the draft is as it was"
    # The question itself still works.
    await sim.press_button(budi, question, text="🔥 Kebakaran")
    await harness.settle()
    async with harness.services.store.read() as tx:
        draft = await tx.draft(budi.id)
    assert draft is not None and draft.step == "location"


async def test_presses_on_a_deleted_message_change_nothing(
    sim: TelegramSimulator, harness: BotHarness
) -> None:
    city = await build_city(sim, harness)
    fire = await report(city, sim.add_user("Ani", language_code="id"))
    rudi = city.crews["damkar"][0]
    picker = await _open_picker(city, rudi, fire)
    myself = next(d for row in picker.button_data for d in row if d and "asg.me" in d)
    await sim.press_button(rudi, picker, text="✖ Tutup")
    await harness.settle()
    before = await fingerprint(harness)
    query = await answered(sim, await sim.press_raw(rudi, picker, myself, inaccessible=True))
    await harness.settle()
    assert STALE in (query.answer_text or "")
    assert await fingerprint(harness) == before


async def test_an_old_card_telegram_no_longer_shows_still_works(
    sim: TelegramSimulator, harness: BotHarness
) -> None:
    """Telegram leaves the content of an old message out of the press; the bot's own record of
    the card is what counts."""
    city = await build_city(sim, harness)
    fire = await report(city, sim.add_user("Ani", language_code="id"))
    card = city.card("damkar", fire)
    acknowledge = card.button_data[0][0] or ""
    query = await answered(
        sim, await sim.press_raw(city.crews["damkar"][0], card, acknowledge, inaccessible=True)
    )
    await harness.settle()
    assert query.answer_text and "tercatat" in query.answer_text.lower(), query.answer_text
    assert "Diterima" in (city.card("damkar", fire).text or "")


async def test_a_button_press_after_the_card_changed_explains_why_it_is_gone(
    sim: TelegramSimulator, harness: BotHarness
) -> None:
    city = await build_city(sim, harness)
    fire = await report(city, sim.add_user("Ani", language_code="id"))
    sari, tom = city.crews["relawan"]
    card = city.card("relawan", fire)
    acknowledge = card.button_data[0][0] or ""
    await answered(sim, await sim.press_button(sari, card, callback_data=acknowledge))
    await harness.settle()
    # Tom's phone still showed the button when he pressed it.
    late = await answered(sim, await sim.press_raw(tom, card, acknowledge))
    await harness.settle()
    assert late.answer_text and "Sari" in late.answer_text, late.answer_text


# --- edits Telegram would refuse ---


async def test_an_assignment_sends_no_edit_that_changes_nothing(
    sim: TelegramSimulator, harness: BotHarness
) -> None:
    city = await build_city(sim, harness)
    fire = await report(city, sim.add_user("Ani", language_code="id"))
    rudi = city.crews["damkar"][0]
    picker = await _open_picker(city, rudi, fire)
    await sim.press_button(rudi, picker, text="🙋 Saya sendiri")
    await harness.settle()
    # Another agency acknowledging re-renders every copy; the task card does not change.
    sari = city.crews["relawan"][0]
    await sim.press_button(sari, city.card("relawan", fire), text="✅ Terima")
    await harness.settle()
    task = sim.bot_messages(sim.private_chat(rudi))[-1]
    edits = [
        c
        for c in sim.calls
        if c.method.startswith("editMessage")
        and str(c.params.get("chat_id")) == str(rudi.id)
        and str(c.params.get("message_id")) == str(task.message_id)
    ]
    assert edits == [], "the task card shows the same as it was sent"
    assert not sim.unexpected_refusals()
