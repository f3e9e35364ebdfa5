"""Escalations that wake without flooding: each coordinator chooses where they reach them
(`/eskalasi`); the detailed message is edited in place at every repeat, and one short ping per
repeat notifies, replacing the one before. Under a manual clock."""

from __future__ import annotations

import pytest

from bot.simulator import ApiCall, SimChat, TelegramSimulator
from models.clock import ManualClock
from models.refs import escalation_ping_ref
from tests.harness import BotHarness
from tests.test_reminders import ESCALATION_EVERY, FIRE_ACK, _agency_id, a_reported_fire, tick

PING = "masih belum ditangani"


async def escalated(harness: BotHarness, clock: ManualClock) -> None:
    """Two group reminders, then the first escalation (a fire: one timeout apart)."""
    for _step in range(3):
        await tick(harness, clock, FIRE_ACK)


def detailed(sim: TelegramSimulator, chat: SimChat, agency: str) -> list[str]:
    return [
        m.text or ""
        for m in sim.bot_messages(chat)
        if "Eskalasi" in (m.text or "") and f"oleh {agency}" in (m.text or "").split("\n", 1)[0]
    ]


def pings(sim: TelegramSimulator, chat: SimChat) -> list[str]:
    return [
        m.text or "" for m in sim.bot_messages(chat) if PING in (m.text or "") and not m.deleted
    ]


def sends(sim: TelegramSimulator, chat: SimChat) -> list[ApiCall]:
    return [
        c
        for c in sim.calls
        if c.ok and c.method == "sendMessage" and str(c.params.get("chat_id")) == str(chat.id)
    ]


@pytest.mark.parametrize(
    ("choice", "in_group", "in_private"),
    [(None, True, True), ("grup", True, False), ("pribadi", False, True), ("keduanya", True, True)],
)
async def test_each_choice_delivers_once_per_coordinator(
    sim: TelegramSimulator,
    harness: BotHarness,
    choice: str | None,
    in_group: bool,
    in_private: bool,
) -> None:
    clock, city, coordinators, _number = await a_reported_fire(sim, harness)
    kiki = city.coordinator
    if choice is not None:
        answer = await harness.says(kiki, f"/eskalasi {choice}")
        assert "Mulai sekarang" in (answer.text or ""), answer.text
    await escalated(harness, clock)
    private = sim.private_chat(kiki)
    assert len(detailed(sim, coordinators, "Damkar")) == (1 if in_group else 0)
    assert len(detailed(sim, private, "Damkar")) == (1 if in_private else 0)


async def test_every_repeat_edits_the_detail_and_replaces_its_ping(
    sim: TelegramSimulator, harness: BotHarness
) -> None:
    clock, city, coordinators, number = await a_reported_fire(sim, harness)
    await escalated(harness, clock)
    before = len(sends(sim, coordinators))
    (first,) = [
        m
        for m in sim.bot_messages(coordinators)
        if "oleh Damkar" in (m.text or "").split("\n", 1)[0]
    ]
    shown = first.text
    for _repeat in range(3):
        await tick(harness, clock, ESCALATION_EVERY)
        # One ping per repeat (per agency: Damkar and Relawan), the previous ones gone.
        assert len(pings(sim, coordinators)) == 2, pings(sim, coordinators)
        assert len(detailed(sim, coordinators, "Damkar")) == 1
    assert len(sends(sim, coordinators)) - before == 6  # 3 repeats × 2 agencies: only pings
    assert first.text != shown  # the detail shows the latest wait
    assert "+62" not in (first.text or "")

    rudi = city.crews["damkar"][0]
    await sim.press_button(rudi, city.card("damkar", number), text="✅ Terima")
    await harness.settle()
    assert "Eskalasi #" in (first.text or "") and "selesai" in (first.text or ""), first.text
    assert [p for p in pings(sim, coordinators) if "ditangani Damkar" in p] == []  # its ping went
    damkar = await _agency_id(harness, "damkar")
    async with harness.services.store.read() as tx:  # a later repeat would not delete it again
        assert not await tx.still_shown(escalation_ping_ref(number, damkar, coordinators.id))
    assert len([p for p in pings(sim, coordinators) if "Relawan" in p]) == 1


async def test_without_a_choice_the_group_still_gets_it_when_one_coordinator_wants_it(
    sim: TelegramSimulator, harness: BotHarness
) -> None:
    clock, city, coordinators, _number = await a_reported_fire(sim, harness)
    kiki = city.coordinator
    await harness.says(kiki, "/eskalasi pribadi")
    lina = sim.add_user("Lina", username="lina", language_code="id")
    await harness.says(lina, "/start")
    await harness.says(city.admin, "/peran beri koordinator @lina")
    await escalated(harness, clock)
    assert len(detailed(sim, coordinators, "Damkar")) == 1  # Lina keeps the default: both
    assert len(detailed(sim, sim.private_chat(kiki), "Damkar")) == 1
    assert len(detailed(sim, sim.private_chat(lina), "Damkar")) == 1
    shown = await harness.says(kiki, "/eskalasi")
    assert "di chat pribadi" in (shown.text or "")
    wrong = await harness.says(kiki, "/eskalasi kadang")
    assert "/eskalasi grup" in (wrong.text or "")
    rudi = city.crews["damkar"][0]
    refused = await harness.says(rudi, "/eskalasi pribadi")
    assert "Mulai sekarang" not in (refused.text or "")
