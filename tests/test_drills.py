"""Drills (`/latihan`): a scenario's reports reach the right groups, every message about them is
marked (and none of a real incident's), the simulated reporter answers, the statistics leave
them out, the after-action review times what was done, and stopping closes everything."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from pathlib import Path

import pytest

from bot.callbacks import ButtonAction, DrillButton
from bot.services.drills import SCENARIOS
from bot.services.messages import text_message
from bot.simulator import SimMessage, TelegramSimulator
from models.clock import ManualClock
from models.drills import DrillError, Step, load_scenario, load_scenarios
from models.incidents import Lifecycle
from tests.harness import BotHarness
from tests.scenario import City, build_city, headline, report
from tests.test_operators_feed import with_feed
from tests.test_reminders import city_with_coordinators, tick

MARKS = ("🧪 LATIHAN — bukan kejadian nyata", "🧪 DRILL — not a real emergency")
WORDS = {"text", "caption", "title"}


def labels(message: SimMessage) -> list[str]:
    return [label for row in message.buttons for label in row]


async def start_drill(city: City, code: str = "kebakaran_pahandut") -> int:
    """The dispatcher picks the scenario in /latihan and starts it with its default agencies."""
    sim, harness, dita = city.sim, city.harness, city.dispatcher
    picker = await harness.says(dita, "/latihan")
    scenarios = list(harness.services.drills.scenarios.values())
    title = next(s.title.id for s in scenarios if s.code == code)
    await sim.press_button(dita, picker, text=title[:60])
    await harness.settle()
    preview = sim.bot_messages(sim.private_chat(dita))[-1]
    await sim.press_button(dita, preview, text="▶️ Mulai sekarang")
    await harness.settle()
    status = sim.bot_messages(sim.private_chat(dita))[-1]
    assert "⏹ Hentikan latihan" in labels(status), status.text
    running = await harness.services.drills.running()
    assert running is not None
    return running.id


async def drill_incidents(harness: BotHarness, drill_id: int) -> list[int]:
    async with harness.services.store.read() as tx:
        return [n for n, _, _ in await tx.drill_incidents(drill_id)]


def words_about(sim: TelegramSimulator, number: int) -> list[tuple[str, str]]:
    """Every text, caption and venue title the bot sent or edited that names incident `number`
    (method, words), in every chat."""
    named = re.compile(rf"#{number}(?![0-9])")
    found = []
    for call in sim.calls:
        if not call.ok:
            continue
        for field in WORDS:
            words = call.params.get(field)
            if isinstance(words, str) and named.search(words):
                found.append((call.method, words))
        media = call.params.get("media")
        if isinstance(media, str):
            for item in json.loads(media):
                caption = item.get("caption") or ""
                if named.search(caption):
                    found.append((call.method, caption))
    return found


async def test_the_scenario_files_are_valid_and_cover_the_city() -> None:
    scenarios = load_scenarios(SCENARIOS)
    assert len(scenarios) >= 6
    assert {"kebakaran_pahandut", "karhutla_tjilik_riwut", "banjir_kahayan"} <= set(scenarios)
    assert {"kecelakaan_tjilik_riwut", "penyelamatan_air", "bangunan_runtuh"} <= set(scenarios)
    for scenario in scenarios.values():
        assert scenario.reports and Step.ACKNOWLEDGE in scenario.targets


@pytest.mark.parametrize(
    ("change", "said"),
    [
        ({"answers": {"people_inside": "maybe"}}, "people_inside"),
        ({"answers": {"colour": "red"}}, "no question 'colour'"),
        ({"targets": {"acknowledge": 10, "assign": 5}}, "must not get shorter"),
        ({"code": "other_name"}, "not the file's name"),
        ({"reports": []}, "reports"),
    ],
)
def test_a_bad_scenario_file_is_refused_saying_why(
    tmp_path: Path, change: dict[str, object], said: str
) -> None:
    good = json.loads((SCENARIOS / "kebakaran_pahandut.json").read_text(encoding="utf-8"))
    path = tmp_path / "kebakaran_pahandut.json"
    path.write_text(json.dumps({**good, **change}), encoding="utf-8")
    with pytest.raises(DrillError, match=said):
        load_scenario(path)


async def test_a_drill_is_marked_in_every_message_and_a_real_incident_in_none(
    sim: TelegramSimulator, harness: BotHarness
) -> None:
    clock = ManualClock()
    city, coordinators = await city_with_coordinators(sim, harness, clock)
    room = await with_feed(sim, city)
    ani = sim.add_user("Ani", language_code="id")
    await harness.says(ani, "/start")
    real = await report(city, ani, location=(-2.2500, 113.9500))
    drill_id = await start_drill(city)
    (first,) = await drill_incidents(harness, drill_id)
    # The fire's agencies (Damkar, Relawan) got it; Dinkes did not take part.
    assert city.card("damkar", first).text.startswith(MARKS[0])  # type: ignore[union-attr]
    assert city.card("relawan", first).text.startswith(MARKS[0])  # type: ignore[union-attr]
    assert not any(f"#{first} " in (m.text or "") for m in city.cards("dinkes"))
    assert any(MARKS[0] in (m.text or "") for m in sim.bot_messages(coordinators))
    # Tom speaks English: his private alert is marked in English.
    tom = city.crews["relawan"][1]
    alert = next(
        m for m in sim.bot_messages(sim.private_chat(tom)) if f"#{first}" in (m.text or "")
    )
    assert (alert.text or "").startswith(MARKS[1]), alert.text

    rudi = city.crews["damkar"][0]
    await sim.press_button(rudi, city.card("damkar", first), text="✅ Terima")
    await harness.settle()
    # Damkar asks the simulated reporter; the scenario answers at once, under every card.
    await sim.press_button(rudi, city.card("damkar", first), text="❓ Tanya pelapor")
    await harness.settle()
    picker = sim.bot_messages(sim.private_chat(rudi))[-1]
    await sim.press_button(rudi, picker, text="Masih ada orang di dalam?")
    await harness.settle()
    answers = [m for m in sim.bot_messages(city.groups["damkar"]) if "Jawaban" in (m.text or "")]
    assert answers and "Ya" in (answers[-1].text or ""), [m.text for m in answers]
    # The assign picker, the management card and /kejadian are marked too.
    await sim.press_button(rudi, city.card("damkar", first), text="👤 Tugaskan")
    await harness.settle()
    sim.add_member(room, city.dispatcher)
    await harness.says(city.dispatcher, f"/kejadian {first}")
    feed = next(
        m for m in sim.bot_messages(room) if m.has_protected_content and f"#{first} " in headline(m)
    )
    await sim.press_button(city.dispatcher, feed, text="⚙️ Kelola")
    await harness.settle()
    manage = sim.bot_messages(sim.private_chat(city.dispatcher))[-1]
    assert (manage.text or "").startswith(MARKS[0]), manage.text
    # Relawan never answers: reminders, then the coordinators are alerted.
    for _ in range(3):
        await tick(harness, clock, timedelta(minutes=3))
    second_due = await harness.services.drills.inject_due()
    assert second_due == 1  # the scenario's second report, due after 2 minutes
    await harness.settle()
    numbers = await drill_incidents(harness, drill_id)
    assert len(numbers) == 2

    for number in numbers:
        said = words_about(sim, number)
        assert len(said) > 5
        unmarked = [(m, w[:60]) for m, w in said if not w.startswith(MARKS)]
        assert unmarked == [], unmarked
    real_said = words_about(sim, real)
    marked = [w[:80] for _, w in real_said if any(MARK in w for MARK in MARKS)]
    assert real_said and marked == [], marked
    assert room.id in {c.params.get("chat_id") for c in sim.calls if c.ok}
    # /terbuka lists real and drill incidents alike; a drill's line says so.
    listed = await harness.says(city.dispatcher, "/terbuka")
    assert f"🧪 🟠 #{first} " in (listed.text or ""), listed.text
    assert f"\n🟠 #{real} " in (listed.text or ""), listed.text
    assert sim.unexpected_refusals() == []


async def test_statistics_and_digest_leave_the_drill_out(
    sim: TelegramSimulator, harness: BotHarness
) -> None:
    city = await build_city(sim, harness)
    ani = sim.add_user("Ani", language_code="id")
    await harness.says(ani, "/start")
    real = await report(city, ani)
    drill_id = await start_drill(city)
    drilled = await drill_incidents(harness, drill_id)
    now = harness.services.clock.now()
    async with harness.services.store.read() as tx:
        rows = await tx.period_rows(now - timedelta(days=1), now + timedelta(minutes=1))
    assert [row.id for row in rows.incidents] == [real]
    assert {row.incident_id for row in rows.responses} == {real}
    assert not {e.incident_id for e in rows.events} & set(drilled)


async def test_the_review_times_each_step_against_the_targets(
    sim: TelegramSimulator, harness: BotHarness
) -> None:
    clock = ManualClock()
    city, coordinators = await city_with_coordinators(sim, harness, clock)
    drill_id = await start_drill(city)
    (first,) = await drill_incidents(harness, drill_id)
    rudi, damkar = city.crews["damkar"][0], city.groups["damkar"]

    async def press_after(minutes: float, label: str, message: SimMessage | None = None) -> None:
        await tick(harness, clock, timedelta(minutes=minutes))
        await sim.press_button(rudi, message or city.card("damkar", first), text=label)
        await harness.settle()

    await press_after(1.5, "✅ Terima")
    await press_after(1.5, "👤 Tugaskan")
    picker = sim.bot_messages(damkar)[-1]
    await press_after(0, "🙋 Saya sendiri", picker)
    await press_after(2, "🚒 Berangkat")
    await press_after(5, "📍 Di lokasi")
    for _ in range(6):  # Relawan stays silent: reminded, then escalated
        await tick(harness, clock, timedelta(minutes=5))
    stopped = await harness.services.drills.stop(city.dispatcher.id)
    assert stopped.drill is not None and stopped.drill.id == drill_id
    await harness.settle()

    found = await harness.services.drills.review(drill_id)
    assert found is not None
    by_name = {one.agency_name: one for one in found.agencies}
    fire = by_name["Damkar Palangka Raya"]
    assert [s.minutes for s in fire.steps] == [1.5, 3.0, 5.0, 10.0, None]
    assert [s.late for s in fire.steps] == [False, False, False, False, True]
    assert fire.steps[0].by == "Rudi"
    relawan = by_name["Relawan Damkar"]
    assert relawan.acknowledged_minutes is None and relawan.escalations >= 1
    text = next(
        m.text or "" for m in sim.bot_messages(coordinators) if "Hasil latihan" in (m.text or "")
    )
    assert "1,5 menit (target 2) — Rudi" in text, text
    assert "Tidak pernah menerima" in text
    charts = [
        m for m in sim.bot_messages(coordinators) if m.photo and "Latihan" in (m.caption or "")
    ]
    assert len(charts) == 1, [m.caption for m in charts]
    # Stopped: its incident is closed and nothing more is reminded.
    view = await harness.services.incidents.view(first)
    assert view is not None and view.incident.lifecycle is Lifecycle.RESOLVED
    assert await tick(harness, clock, timedelta(hours=3)) == 0
    history = await harness.says(city.dispatcher, "/latihan riwayat")
    assert f"Latihan {drill_id}" in (history.text or "") and "Damkar Palangka Raya: 1,5 menit" in (
        history.text or ""
    )
    again = await harness.says(city.dispatcher, f"/latihan hasil {drill_id}")
    assert "1,5 menit (target 2)" in (again.text or "")


async def test_only_dispatchers_coordinators_and_admins_run_drills(
    sim: TelegramSimulator, harness: BotHarness
) -> None:
    city = await build_city(sim, harness)
    rudi = city.crews["damkar"][0]
    refused = await harness.says(rudi, "/latihan")
    assert "izin" in (refused.text or ""), refused.text
    picker = await harness.says(city.dispatcher, "/latihan")
    forged = await sim.press_raw(
        rudi,
        sim.bot_messages(sim.private_chat(rudi))[-1],
        DrillButton(ButtonAction.DRILL_START, 0, 1).encode(),
    )
    await harness.settle()
    assert forged.show_alert
    assert await harness.services.drills.running() is None
    # A second drill waits for the first to end.
    assert picker.buttons
    first = await harness.services.drills.start("banjir_kahayan", city.dispatcher.id)
    second = await harness.services.drills.start("kebakaran_pahandut", city.dispatcher.id)
    assert first.drill is not None and second.outcome.value == "running"
    await harness.says(city.dispatcher, "/latihan stop")
    await harness.settle()
    said = [m.text or "" for m in sim.bot_messages(sim.private_chat(city.dispatcher))]
    assert any("Latihan 1 dihentikan" in text for text in said), said[-3:]
    assert await harness.services.drills.running() is None


async def test_a_practice_report_shows_the_card_and_reaches_nobody(
    sim: TelegramSimulator, harness: BotHarness
) -> None:
    await build_city(sim, harness)
    budi = sim.add_user("Budi", language_code="id")
    await harness.says(budi, "/start")
    chat = sim.private_chat(budi)
    sent_before = len(sim.calls)
    await harness.says(budi, "/lapor latihan")
    await harness.settle()
    question = next(m for m in sim.bot_messages(chat) if "🔥 Kebakaran" in labels(m))
    said = [m.text or "" for m in sim.bot_messages(chat)]
    assert any("Latihan melapor" in text for text in said), said[-3:]
    await sim.press_button(budi, question, text="🔥 Kebakaran")
    await harness.settle()
    await harness.says(budi, "Jl. Rajawali gg. Sepakat 3 dekat masjid")
    await harness.says(budi, "Rumah kayu terbakar, asap hitam tinggi")
    await sim.press_button(budi, sim.bot_messages(chat)[-1], text="Tidak ada")
    await harness.settle()
    review = await harness.says(budi, "Lewati")
    await sim.press_button(budi, review, text="✅ Kirim laporan")
    await harness.settle()
    card = sim.bot_messages(chat)[-1].text or ""
    assert "tidak dikirim ke siapa pun" in card and "Damkar Palangka Raya" in card, card
    assert "Jl. Rajawali" in card
    # Nothing was filed and no other chat heard anything.
    assert await harness.services.incidents.view(1) is None
    later = [c for c in sim.calls[sent_before:] if "chat_id" in c.params]
    elsewhere = [(c.method, c.params["chat_id"]) for c in later if c.params["chat_id"] != budi.id]
    assert later and elsewhere == [], elsewhere


async def test_a_restart_files_each_scripted_report_once(
    sim: TelegramSimulator, harness: BotHarness
) -> None:
    clock = ManualClock()
    city = await build_city(sim, harness, clock=clock)
    started = await harness.services.drills.start("kebakaran_pahandut", city.dispatcher.id)
    assert started.drill is not None
    await harness.settle()
    assert len(await drill_incidents(harness, started.drill.id)) == 1
    await harness.restart(clock=clock)  # the second report waits in the database
    clock.advance(timedelta(minutes=2))
    assert await harness.services.drills.inject_due() == 1
    assert await harness.services.drills.inject_due() == 0
    await harness.settle()
    second = (await drill_incidents(harness, started.drill.id))[-1]
    assert city.card("damkar", second).text.startswith(MARKS[0])  # type: ignore[union-attr]


async def test_a_transaction_over_a_drill_and_a_real_incident_marks_only_the_drills(
    sim: TelegramSimulator, harness: BotHarness
) -> None:
    """Erasing a person re-renders every incident they touched in one transaction: the real
    one that comes after a drill's must not be marked as a drill."""
    city = await build_city(sim, harness)
    ani = sim.add_user("Ani", language_code="id")
    await harness.says(ani, "/start")
    real = await report(city, ani)
    started = await harness.services.drills.start("kebakaran_pahandut", city.dispatcher.id)
    assert started.drill is not None
    (drilled,) = await drill_incidents(harness, started.drill.id)
    store, now = harness.services.store, harness.services.clock.now()
    async with store.transaction() as tx:
        await tx.incident_view(drilled)
        first = await tx.enqueue(text_message(ani.id, f"tentang #{drilled}"), now)
        await tx.incident_view(real)
        second = await tx.enqueue(text_message(ani.id, f"tentang #{real}"), now)
        texts = {}
        for row_id in (first, second):
            async with tx.db.execute("SELECT payload FROM outbox WHERE id = ?", (row_id,)) as c:
                found = await c.fetchone()
            assert found is not None
            texts[row_id] = json.loads(found[0])["text"]
    assert texts[first].startswith(MARKS[0])
    assert texts[second] == f"tentang #{real}"
    await harness.settle()


async def test_a_real_report_is_never_taken_for_practice(
    sim: TelegramSimulator, harness: BotHarness
) -> None:
    """A practice left half done does not stand between a person and a real report: /lapor
    starts the real one afresh, and it is filed."""
    city = await build_city(sim, harness)
    ani = sim.add_user("Ani", language_code="id")
    await harness.says(ani, "/start")
    await harness.says(ani, "/lapor latihan")
    await harness.settle()
    chat = sim.private_chat(ani)
    practice = next(m for m in sim.bot_messages(chat) if "🔥 Kebakaran" in labels(m))
    assert "Latihan melapor — tidak dikirim" in (practice.text or ""), practice.text
    number = await report(city, ani)  # /lapor, as a person in an emergency would
    view = await harness.services.incidents.view(number)
    assert view is not None and view.incident.reporter_id == ani.id
    assert city.card("damkar", number).text is not None
