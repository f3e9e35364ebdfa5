"""/lupakan: a person's data erased everywhere the bot put it — the database file, its
write-ahead log, and every chat — after one tap of confirmation."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from bot.simulator import SimChat, SimMessage, SimUser, TelegramSimulator
from models.clock import ManualClock
from models.users import anonymous_label
from tests.harness import BotHarness
from tests.scenario import City, build_city, report

FIRE_ACK = timedelta(seconds=180)
PHONE_FORMS = ("6281255550101", "812-5555-0101", "812 5555 0101", "81255550101")


def shows(message: SimMessage) -> str:
    """Everything a message shows or carries: text, caption, its HTML, a shared contact."""
    parts = [message.text, message.html, message.caption, message.caption_html]
    if message.contact:
        parts.append(str(message.contact))
    return " ".join(part or "" for part in parts)


def chats_showing(sim: TelegramSimulator, *needles: str) -> list[tuple[str, str]]:
    found = []
    for chat in sim.chats():
        for message in sim.messages(chat):
            text = shows(message)
            if any(needle in text for needle in needles):
                found.append((chat.title or str(chat.id), text[:80]))
    return found


def in_files(database: Path, *needles: str) -> list[str]:
    found = []
    for path in (database, database.with_name(database.name + "-wal")):
        if path.exists():
            data = path.read_bytes()
            found += [f"{path.name}: {n}" for n in needles if n.encode() in data]
    return found


async def city_with_everything(
    sim: TelegramSimulator, harness: BotHarness
) -> tuple[City, SimUser, SimChat, int]:
    """Ani reports a fire with her number; Rudi takes the task; Relawan never answers and is
    escalated to the coordinators; the dispatcher looks the incident up in private."""
    clock = ManualClock()
    city = await build_city(sim, harness, clock=clock)
    coordinators = sim.add_group("Koordinator 112", members=[city.admin, city.coordinator])
    sim.add_bot_to_group(coordinators, by=city.admin)
    await harness.settle()
    await harness.says(city.admin, "/daftar koordinator", chat=coordinators)
    ani = sim.add_user("Ani", last_name="Lestari", username="ani_pky", language_code="id")
    await harness.says(ani, "/start")
    fire = await report(city, ani)  # shares her own contact: +62 812-5555-0101
    rudi = city.crews["damkar"][0]
    await sim.press_button(rudi, city.card("damkar", fire), text="👤 Tugaskan")
    await harness.settle()
    await sim.press_button(
        rudi, sim.bot_messages(city.groups["damkar"])[-1], text="🙋 Saya sendiri"
    )
    await harness.settle()
    for _ in range(3):
        clock.advance(FIRE_ACK)
        await harness.services.reminders.sweep()
        await harness.settle()
    await harness.says(city.dispatcher, f"/kejadian {fire}")
    await harness.settle()
    return city, ani, coordinators, fire


async def test_erasing_a_reporter_leaves_her_number_nowhere(
    sim: TelegramSimulator, harness: BotHarness
) -> None:
    city, ani, _coordinators, fire = await city_with_everything(sim, harness)
    # Before: her number is on the cards, the task card and the looked-up view (escalations
    # never repeat it), and in her own chat.
    assert len(chats_showing(sim, *PHONE_FORMS)) >= 5, chats_showing(sim, *PHONE_FORMS)
    assert not any("Eskalasi" in text for _chat, text in chats_showing(sim, *PHONE_FORMS))
    assert any("Eskalasi" in text for _chat, text in chats_showing(sim, "Ani"))  # escalated
    assert in_files(harness.database_path, *PHONE_FORMS), "the search below can find it"

    question = await harness.says(ani, "/lupakan")
    assert "Hapus data Anda" in (question.text or "")
    assert await _still_known(harness, ani), "nothing is erased before she confirms"
    await sim.press_button(ani, question, text="🗑 Ya, hapus data saya")
    await harness.settle()

    assert chats_showing(sim, *PHONE_FORMS) == []
    assert chats_showing(sim, "Lestari", "ani_pky") == []
    assert in_files(harness.database_path, *PHONE_FORMS, "Lestari", "ani_pky") == []
    label = anonymous_label(ani.id)
    assert label in (city.card("damkar", fire).text or "")
    done = sim.bot_messages(sim.private_chat(ani))[-1]
    assert "sudah dihapus" in (done.text or ""), done.text
    assert done.buttons == []
    # Her own message with her contact is gone from her chat too.
    assert not [m for m in sim.messages(sim.private_chat(ani)) if m.contact]
    # The incident goes on: the card still works for the agencies.
    sari = city.crews["relawan"][0]
    query = await sim.press_button(sari, city.card("relawan", fire), text="✅ Terima")
    await harness.settle()
    assert query.answered and "tercatat" in (query.answer_text or "").lower()


async def test_a_typed_number_and_a_responders_name_go_too(
    sim: TelegramSimulator, harness: BotHarness
) -> None:
    city = await build_city(sim, harness)
    budi = sim.add_user("Budi", language_code="id")
    await harness.says(budi, "/start")
    fire = await report(city, budi, share_phone=False)
    rudi = city.crews["damkar"][0]
    await sim.press_button(rudi, city.card("damkar", fire), text="✅ Terima")
    await harness.settle()
    assert "Rudi" in (city.card("damkar", fire).text or "")
    question = await harness.says(rudi, "/lupakan")
    await sim.press_button(rudi, question, text="🗑 Ya, hapus data saya")
    await harness.settle()
    card = city.card("damkar", fire).text or ""
    assert "Rudi" not in card and anonymous_label(rudi.id) in card
    assert "Rudi" not in "".join(t for _c, t in chats_showing(sim, "Diterima oleh"))


async def test_saying_no_keeps_everything(sim: TelegramSimulator, harness: BotHarness) -> None:
    city = await build_city(sim, harness)
    ani = sim.add_user("Ani", language_code="id")
    await harness.says(ani, "/start")
    fire = await report(city, ani)
    question = await harness.says(ani, "/lupakan")
    await sim.press_button(ani, question, text="Tidak, simpan")
    await harness.settle()
    assert "Tidak ada yang dihapus" in (sim.bot_messages(sim.private_chat(ani))[-1].text or "")
    assert "6281255550101" in (city.card("damkar", fire).text or "")
    assert await _still_known(harness, ani)


async def _still_known(harness: BotHarness, person: SimUser) -> bool:
    async with harness.services.store.read() as tx:
        known = await tx.person(person.id)
    return known is not None and known.first_name == person.first_name
