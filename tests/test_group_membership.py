"""Membership follows the group: whoever leaves an agency's Telegram group leaves the agency, and
sees no reporter's phone number in the next request — whether the bot saw the group's "left"
message, was told by a chat_member update (as an admin), asked Telegram at the moment of access,
or checked every member when it started again after being down."""

from __future__ import annotations

import asyncio

from bot.simulator import SimUser, TelegramSimulator
from tests.harness import BotHarness
from tests.scenario import City, build_city, report

PHONE = "+6281255550101"  # the reporter's number as cards show it


async def member_of(harness: BotHarness, user: SimUser, code: str) -> bool:
    async with harness.services.store.read() as tx:
        agency = await tx.agency_by_code(code)
        assert agency is not None
        return agency.id in await tx.agency_ids_of(user.id)


async def a_fire(sim: TelegramSimulator, harness: BotHarness) -> tuple[City, SimUser, int]:
    city = await build_city(sim, harness)
    reporter = sim.add_user("Ani", language_code="id")
    await harness.says(reporter, "/start")
    return city, city.crews["damkar"][0], await report(city, reporter)


async def test_a_member_still_in_the_group_sees_the_incident_with_the_phone(
    sim: TelegramSimulator, harness: BotHarness
) -> None:
    _city, rudi, fire = await a_fire(sim, harness)
    answer = await harness.says(rudi, f"/kejadian {fire}")
    assert PHONE in (answer.text or ""), answer.text
    assert any(c.method == "getChatMember" and c.ok for c in sim.calls), "Telegram was asked"


async def test_leaving_the_group_ends_membership_and_duty_at_once(
    sim: TelegramSimulator, harness: BotHarness
) -> None:
    city, rudi, fire = await a_fire(sim, harness)
    damkar = city.groups["damkar"]
    sim.remove_member(damkar, rudi)  # the group shows "Rudi left"; the bot sees it in privacy mode
    await harness.settle()
    assert not await member_of(harness, rudi, "damkar")
    answer = await harness.says(rudi, f"/kejadian {fire}")
    assert PHONE not in (answer.text or ""), answer.text
    roster = await harness.says(city.admin, "/piket", chat=damkar)
    assert "Rudi" not in (roster.text or "")
    # Back in the Telegram group, he is not back in the agency until he joins it himself.
    sim.add_member(damkar, rudi)
    await harness.settle()
    assert not await member_of(harness, rudi, "damkar")
    await harness.says(rudi, "/gabung", chat=damkar)
    assert await member_of(harness, rudi, "damkar")


async def test_an_admin_bot_follows_a_silent_leave(
    sim: TelegramSimulator, harness: BotHarness
) -> None:
    """A large group hides join and leave messages; an administrator bot gets chat_member."""
    city, rudi, _fire = await a_fire(sim, harness)
    damkar = city.groups["damkar"]
    sim.set_bot_admin(damkar, True, by=city.admin)
    await harness.settle()
    sim.leave_silently(damkar, rudi)
    await harness.settle()
    assert not await member_of(harness, rudi, "damkar")
    assert sim.allowed_updates and "chat_member" in sim.allowed_updates


async def test_without_admin_rights_telegram_is_asked_before_a_phone_is_shown(
    sim: TelegramSimulator, harness: BotHarness
) -> None:
    city, rudi, fire = await a_fire(sim, harness)
    sim.leave_silently(city.groups["damkar"], rudi)  # the bot is told nothing
    await harness.settle()
    assert await member_of(harness, rudi, "damkar"), "nothing told the bot yet"
    answer = await harness.says(rudi, f"/kejadian {fire}")
    assert PHONE not in (answer.text or "")
    assert "tidak ada di grup instansi itu" in (answer.text or ""), answer.text
    assert not await member_of(harness, rudi, "damkar"), "the answer ended the membership"


async def test_when_telegram_cannot_be_asked_the_bots_record_stands(
    sim: TelegramSimulator, harness: BotHarness
) -> None:
    _city, rudi, fire = await a_fire(sim, harness)
    await harness.settle()
    sim.faults.fail_next(1, status=502)  # the question about Rudi's membership
    answer = await harness.says(rudi, f"/kejadian {fire}")
    assert PHONE in (answer.text or ""), answer.text
    assert await member_of(harness, rudi, "damkar")


async def test_who_left_while_the_bot_was_down_is_out_after_it_starts(
    sim: TelegramSimulator, harness: BotHarness
) -> None:
    city, rudi, _fire = await a_fire(sim, harness)
    sari = city.crews["relawan"][0]
    await harness.stop()
    sim.leave_silently(city.groups["damkar"], rudi)
    await harness.start(admins=[city.admin], membership_check_at_start=True)
    await asyncio.wait_for(harness.services.membership.reconciled.wait(), timeout=10)
    assert sum(c.method == "getChatMember" for c in sim.calls) == 4, "every member, once"
    assert not await member_of(harness, rudi, "damkar")
    assert await member_of(harness, sari, "relawan"), "those still in the group stay"


async def test_leaving_the_coordinators_group_keeps_the_role(
    sim: TelegramSimulator, harness: BotHarness
) -> None:
    city = await build_city(sim, harness)
    coordinators = sim.add_group("Koordinator 112", members=[city.admin, city.coordinator])
    sim.add_bot_to_group(coordinators, by=city.admin)
    await harness.settle()
    await harness.says(city.admin, "/daftar koordinator", chat=coordinators)
    await harness.says(city.coordinator, "/gabung", chat=coordinators)
    sim.remove_member(coordinators, city.coordinator)
    await harness.settle()
    async with harness.services.store.read() as tx:
        assert await tx.agency_ids_of(city.coordinator.id) == frozenset()
        assert "koordinator" in {role.value for role in await tx.roles_of(city.coordinator.id)}
