"""The incident loop as people live it: report, cards, acknowledge, assign, progress, close."""

from __future__ import annotations

import asyncio

from bot.simulator import TelegramSimulator
from models.incidents import EventKind, Lifecycle, ResponseStatus
from tests.harness import BotHarness
from tests.scenario import build_city, report


async def test_a_volunteer_reports_a_fire_and_the_routed_groups_get_the_card(
    sim: TelegramSimulator, harness: BotHarness
) -> None:
    city = await build_city(sim, harness)
    warga = sim.add_user("Ani", language_code="id")
    await harness.says(warga, "/start")
    number = await report(city, warga, photos=2)

    damkar = city.card("damkar", number)
    relawan = city.card("relawan", number)
    assert damkar.text == relawan.text, "every agency sees the same truth"
    assert damkar.text is not None
    assert "Rumah kayu terbakar" in damkar.text
    assert "+6281255550101" in damkar.text
    assert damkar.buttons[0] == ["✅ Terima", "👤 Tugaskan"]
    assert city.cards("dinkes") == [], "medical is not routed a fire"
    # The pin and the album follow the card.
    group = city.groups["damkar"]
    assert any(m.location is not None or m.venue is not None for m in sim.bot_messages(group))
    assert sum(1 for m in sim.bot_messages(group) if m.photo) == 2
    # The reporter is told the number and who was notified.
    confirmation = sim.bot_messages(sim.private_chat(warga))[-1].text or ""
    assert f"#{number}" in confirmation
    assert "Damkar Palangka Raya" in confirmation and "Relawan Damkar" in confirmation


async def test_acknowledge_assign_progress_resolve_with_reporter_feedback(
    sim: TelegramSimulator, harness: BotHarness
) -> None:
    city = await build_city(sim, harness)
    warga = sim.add_user("Ani", language_code="id")
    await harness.says(warga, "/start")
    number = await report(city, warga)
    rudi = city.crews["damkar"][0]
    sari = city.crews["relawan"][0]
    inbox = sim.private_chat(warga)

    press = await sim.press_button(rudi, city.card("damkar", number), text="✅ Terima")
    await sim.wait_for(lambda: press.answered, what="the acknowledgement answered")
    await harness.settle()
    card = city.card("damkar", number)
    assert card.text is not None and "diterima oleh Rudi" in card.text
    assert city.card("relawan", number).text == card.text, "re-rendered everywhere"
    assert any("diterima" in (m.text or "").lower() for m in sim.bot_messages(inbox)[-2:])

    # Relawan assigns Sari (who takes it herself), she accepts en route, on scene, done.
    press = await sim.press_button(sari, city.card("relawan", number), text="👤 Tugaskan")
    await sim.wait_for(lambda: press.answered, what="the assign press answered")
    await harness.settle()
    picker = sim.bot_messages(city.groups["relawan"])[-1]
    press = await sim.press_button(
        sari, picker, text=next(t for row in picker.buttons for t in row if "sendiri" in t)
    )
    await sim.wait_for(lambda: press.answered, what="taking the task")
    await harness.settle()
    task = sim.bot_messages(sim.private_chat(sari))[-1]
    assert task.text is not None and f"#{number}" in task.text
    for label in ("🚒 Berangkat", "📍 Di lokasi", "🏁 Selesai"):
        task = sim.bot_messages(sim.private_chat(sari))[-1]
        button = next(t for row in task.buttons for t in row if label in t)
        press = await sim.press_button(sari, task, text=button)
        await sim.wait_for(lambda p=press: p.answered, what=f"{label} answered")
        await harness.settle()
    # Relawan is done; Damkar still has to finish before the incident resolves.
    async with harness.services.store.read() as tx:
        view = await tx.incident_view(number)
    assert view is not None
    assert view.incident.lifecycle is Lifecycle.OPEN
    assert any("menuju lokasi" in (m.text or "") for m in sim.bot_messages(inbox))

    card = city.card("damkar", number)
    done = next(t for row in card.buttons for t in row if "Selesai" in t)
    press = await sim.press_button(rudi, card, text=done)
    await sim.wait_for(lambda: press.answered, what="damkar done")
    await harness.settle()
    async with harness.services.store.read() as tx:
        view = await tx.incident_view(number)
        events = [e.kind for e in await tx.events(number)]
    assert view is not None and view.incident.lifecycle is Lifecycle.RESOLVED
    assert all(r.status is ResponseStatus.DONE for r in view.responses)
    assert city.card("damkar", number).buttons == [], "a closed card has no buttons"
    assert EventKind.RESOLVED in events
    assert "selesai" in (sim.bot_messages(inbox)[-1].text or "").lower()


async def test_same_instant_double_acknowledgement_counts_once(
    sim: TelegramSimulator, harness: BotHarness
) -> None:
    city = await build_city(sim, harness)
    warga = sim.add_user("Ani", language_code="id")
    await harness.says(warga, "/start")
    number = await report(city, warga)
    rudi = city.crews["damkar"][0]
    budi = sim.add_user("Budi", language_code="id")
    sim.add_member(city.groups["damkar"], budi)
    await harness.says(budi, "/gabung", chat=city.groups["damkar"])
    card = city.card("damkar", number)
    edits_before = sum(1 for c in sim.calls if c.method == "editMessageText" and c.ok)

    first, second = await asyncio.gather(
        sim.press_button(rudi, card, text="✅ Terima"),
        sim.press_button(budi, card, text="✅ Terima"),
    )
    await sim.wait_for(lambda: first.answered and second.answered, what="both presses answered")
    await harness.settle()
    async with harness.services.store.read() as tx:
        acks = await tx.count_events(number, EventKind.ACKNOWLEDGED)
    assert acks == 1
    answers = sorted([first.answer_text or "", second.answer_text or ""])
    assert any("sudah diterima" in a.lower() for a in answers), answers
    edits = [c for c in sim.calls if c.method == "editMessageText" and c.ok][edits_before:]
    chats = [c.params["chat_id"] for c in edits]
    # Both cards once, and the private alert of Damkar's on-duty member (Relawan's say the same).
    expected = {city.groups["damkar"].id, city.groups["relawan"].id, rudi.id}
    assert sorted(chats) == sorted(expected), chats


async def test_a_dispatcher_merges_a_duplicate_and_both_cards_say_so(
    sim: TelegramSimulator, harness: BotHarness
) -> None:
    city = await build_city(sim, harness)
    first_reporter = sim.add_user("Ani", language_code="id")
    second_reporter = sim.add_user("Bram", language_code="id")
    await harness.says(first_reporter, "/start")
    await harness.says(second_reporter, "/start")
    original = await report(city, first_reporter)
    duplicate = await report(
        city, second_reporter, description="Ada kebakaran rumah di dekat pasar"
    )
    answer = await harness.says(city.dispatcher, f"/gabungkan {duplicate} {original}")
    assert answer.text is not None and "diperbarui" in answer.text
    await harness.settle()
    dup_card = city.card("damkar", duplicate).text or ""
    original_card = city.card("damkar", original).text or ""
    assert f"#{original}" in dup_card
    assert f"#{duplicate}" in original_card
    assert city.card("damkar", duplicate).buttons == []
    assert f"#{original}" in (sim.bot_messages(sim.private_chat(second_reporter))[-1].text or "")


async def test_nobody_registered_for_the_type_goes_to_dispatchers_and_coordinators(
    sim: TelegramSimulator, harness: BotHarness
) -> None:
    city = await build_city(sim, harness)
    coordinators = sim.add_group("Koordinator 112", members=[city.admin, city.coordinator])
    sim.add_bot_to_group(coordinators, by=city.admin)
    await harness.settle()
    await harness.says(city.admin, "/daftar koordinator", chat=coordinators)
    warga = sim.add_user("Ani", language_code="id")
    await harness.says(warga, "/start")
    number = await report(
        city, warga, kind_button="❗ Lainnya", description="Kabel listrik putus melintang di jalan"
    )
    for chat in (
        coordinators,
        sim.private_chat(city.dispatcher),
        sim.private_chat(city.coordinator),
    ):
        assert any(f"#{number}" in (m.text or "") for m in sim.bot_messages(chat)), chat.title
    for code in ("damkar", "relawan", "dinkes"):
        assert all(f"#{number}" not in (m.text or "") for m in sim.bot_messages(city.groups[code]))
    async with harness.services.store.read() as tx:
        assert await tx.count_events(number, EventKind.ROUTED_TO_NOBODY) == 1


async def test_a_restart_in_the_middle_of_a_report_loses_nothing(
    sim: TelegramSimulator, harness: BotHarness
) -> None:
    city = await build_city(sim, harness)
    warga = sim.add_user("Ani", language_code="id")
    chat = sim.private_chat(warga)
    await harness.says(warga, "/lapor")
    await sim.press_button(warga, sim.bot_messages(chat)[-1], text="🌊 Banjir")
    await sim.wait_for(
        lambda: "lokasi" in (sim.bot_messages(chat)[-1].text or "").lower(), what="location q"
    )
    await harness.says(warga, "Jl. Mahir Mahar gang 3 dekat sekolah")
    await harness.restart()
    answer = await harness.says(warga, "Air setinggi lutut masuk rumah warga")
    assert answer.text is not None and "terluka" in answer.text
    await sim.press_button(warga, answer, text="Tidak tahu")
    await sim.wait_for(lambda: "nomor" in (sim.bot_messages(chat)[-1].text or ""), what="contact q")
    review = await harness.says(warga, "Lewati")
    assert review.text is not None
    assert (
        "Banjir" in review.text and "Mahir Mahar" in review.text and "setinggi lutut" in review.text
    )
    del city


async def test_special_characters_survive_to_the_card_unchanged(
    sim: TelegramSimulator, harness: BotHarness
) -> None:
    city = await build_city(sim, harness)
    warga = sim.add_user("Ani", language_code="id")
    await harness.says(warga, "/start")
    nasty = "<b>api</b> & <script>alert(1)</script> _*[tebal]* 🔥 مرحبا"
    number = await report(city, warga, description=nasty)
    assert nasty in (city.card("damkar", number).text or "")


async def test_a_stale_button_after_resolution_changes_nothing(
    sim: TelegramSimulator, harness: BotHarness
) -> None:
    city = await build_city(sim, harness)
    warga = sim.add_user("Ani", language_code="id")
    await harness.says(warga, "/start")
    number = await report(city, warga)
    rudi = city.crews["damkar"][0]
    old_card = city.card("damkar", number)
    data = old_card.button_data[0][0]
    # A dispatcher resolves it from the management card (cancelled as handled elsewhere).
    await harness.services.incidents.resolve(number, city.dispatcher.id)
    await harness.settle()
    press = await sim.press_raw(rudi, city.card("damkar", number), data=data)
    await sim.wait_for(lambda: press.answered, what="the stale press answered")
    assert press.answer_text is not None and "ditutup" in press.answer_text.lower()
    async with harness.services.store.read() as tx:
        assert await tx.count_events(number, EventKind.ACKNOWLEDGED) == 0
