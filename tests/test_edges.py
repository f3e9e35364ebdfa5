"""Edges found in review: atomic submission, replays, where the phone may show, one-shot
follow-ups, and what /lupakan erases."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from bot.simulator import TelegramSimulator
from models.clock import ManualClock
from models.incidents import EventKind
from tests.harness import BotHarness
from tests.scenario import build_city, report

PHONE = "+6281255550101"


async def incident_count(harness: BotHarness) -> int:
    async with (
        harness.services.store.read() as tx,
        tx.db.execute("SELECT COUNT(*) FROM incidents") as cur,
    ):
        row = await cur.fetchone()
    assert row is not None
    return int(row[0])


async def test_a_failed_submission_keeps_the_draft_and_files_nothing(
    sim: TelegramSimulator, harness: BotHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    city = await build_city(sim, harness)
    ani = sim.add_user("Ani", language_code="id")
    chat = sim.private_chat(ani)
    await harness.says(ani, "/lapor")
    await sim.press_button(ani, sim.bot_messages(chat)[-1], text="🔥 Kebakaran")
    await harness.settle()
    await harness.says(ani, "Jl. Rajawali nomor 7 dekat pasar")
    hurt = await harness.says(ani, "Rumah kayu terbakar, api besar")
    await sim.press_button(ani, hurt, text="Tidak ada")
    await harness.settle()
    review = await harness.says(ani, "Lewati")

    async def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("disk full")

    monkeypatch.setattr(harness.services.incidents, "submit_in", broken)
    press = await sim.press_button(ani, review, text="✅ Kirim laporan")
    await sim.wait_for(lambda: press.answered, what="the failed press answered")
    await harness.settle()
    assert await incident_count(harness) == 0
    async with harness.services.store.read() as tx:
        draft = await tx.draft(ani.id)
    assert draft is not None and draft.step == "review", "the report waits to be sent again"
    del city


async def test_a_call_entry_replayed_after_a_crash_files_one_incident(
    sim: TelegramSimulator, harness: BotHarness
) -> None:
    city = await build_city(sim, harness)
    await harness.says(
        city.dispatcher, "/baru kebakaran | Jl. Rajawali 7 dekat pasar | rumah terbakar"
    )
    update = next(u for u in reversed(sim.issued_updates) if "/baru" in str(u))
    async with harness.services.store.transaction() as tx:
        # As if the bot died after filing it but before recording the update as handled.
        await tx.db.execute(
            "DELETE FROM processed_updates WHERE update_id = ?", (update["update_id"],)
        )
    sim.inject_update(dict(update))
    await sim.wait_for(lambda: sim.updates_pending == 0, what="the replay confirmed")
    await harness.settle()
    assert await incident_count(harness) == 1
    assert len(city.cards("damkar")) == 1


async def test_the_phone_shows_only_where_it_may(
    sim: TelegramSimulator, harness: BotHarness
) -> None:
    city = await build_city(sim, harness)
    ani = sim.add_user("Ani", language_code="id")
    await harness.says(ani, "/start")
    number = await report(city, ani)
    for code in ("damkar", "dinkes"):
        sim.add_member(city.groups[code], city.dispatcher)
    in_routed = await harness.says(
        city.dispatcher, f"/kejadian {number}", chat=city.groups["damkar"]
    )
    in_other = await harness.says(
        city.dispatcher, f"/kejadian {number}", chat=city.groups["dinkes"]
    )
    in_private = await harness.says(city.dispatcher, f"/kejadian {number}")
    assert PHONE in (in_routed.text or "")
    assert PHONE not in (in_other.text or ""), "an agency the call is not routed to"
    assert PHONE in (in_private.text or "")


async def test_me_in_a_group_never_shows_the_phone(
    sim: TelegramSimulator, harness: BotHarness
) -> None:
    city = await build_city(sim, harness)
    rudi = city.crews["damkar"][0]
    async with harness.services.store.transaction() as tx:
        await tx.set_phone(rudi.id, PHONE)
    in_group = await harness.says(rudi, "/saya", chat=city.groups["damkar"])
    in_private = await harness.says(rudi, "/saya")
    assert PHONE not in (in_group.text or "")
    assert PHONE in (in_private.text or "")


async def test_forget_erases_the_phone_on_past_reports(
    sim: TelegramSimulator, harness: BotHarness
) -> None:
    city = await build_city(sim, harness)
    ani = sim.add_user("Ani", language_code="id")
    await harness.says(ani, "/start")
    number = await report(city, ani)
    question = await harness.says(ani, "/lupakan")
    await sim.press_button(ani, question, text="🗑 Ya, hapus data saya")
    await harness.settle()
    async with harness.services.store.read() as tx:
        incident = await tx.incident(number)
    assert incident is not None and incident.reporter_phone is None


async def test_the_open_too_long_follow_up_fires_once(
    sim: TelegramSimulator, harness: BotHarness
) -> None:
    clock = ManualClock()
    city = await build_city(sim, harness, clock=clock)
    ani = sim.add_user("Ani", language_code="id")
    await harness.says(ani, "/start")
    number = await report(city, ani)
    clock.advance(timedelta(hours=2, minutes=1))
    await harness.services.reminders.sweep()
    await harness.settle()
    for level in ("kritis", "rendah", "tinggi"):  # later changes must not arm it again
        await harness.says(city.dispatcher, f"/keparahan {number} {level}")
        await harness.services.reminders.sweep()
        await harness.settle()
    async with harness.services.store.read() as tx:
        follow_ups = [e for e in await tx.events(number) if e.kind == EventKind.FOLLOW_UP]
    assert len(follow_ups) == 1
