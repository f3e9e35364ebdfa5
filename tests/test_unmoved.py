"""Owning a call to the end: after an agency acknowledges, somebody of it must be assigned or on
the way within a time per severity, or its group and on-duty members are reminded, then the
coordinators; reminders that no longer apply say what happened instead. Under a manual clock."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.services.incidents import NewIncident
from bot.simulator import TelegramSimulator
from models.clock import ManualClock
from models.incident_types import IncidentType
from models.incidents import AssignmentEvent, Hurt, Location, Severity, Source
from tests.harness import BotHarness
from tests.scenario import City
from tests.test_reminders import _agency_id, city_with_coordinators, texts, tick

UNMOVED = "belum ada yang ditugaskan atau berangkat"
# A medical call of each severity (hurt raises it): routed to Dinkes alone.
MINUTES = {Severity.CRITICAL: 3, Severity.HIGH: 5, Severity.MEDIUM: 10, Severity.LOW: 30}


async def acknowledged_call(city: City, severity: Severity) -> tuple[int, int]:
    """A call of `severity` to Dinkes, acknowledged by Dewi; (incident, Dinkes' id)."""
    harness = city.harness
    services = harness.services
    submitted = await services.incidents.submit(
        NewIncident(
            kind=IncidentType.MEDICAL,
            location=Location(-2.21, 113.92, "Pasar Kahayan"),
            description="Pingsan di pasar",
            hurt=Hurt.YES if severity is Severity.CRITICAL else Hurt.UNKNOWN,
            hurt_count=5 if severity is Severity.CRITICAL else None,
            source=Source.CALL,
        )
    )
    number = submitted.incident_id
    view = await services.incidents.view(number)
    assert view is not None
    if view.incident.severity is not severity:
        await services.incidents.set_severity(number, severity, city.dispatcher.id)
    dinkes = await _agency_id(harness, "dinkes")
    await services.incidents.acknowledge(number, dinkes, city.crews["dinkes"][0].id)
    await harness.settle()
    return number, dinkes


@pytest.mark.parametrize("severity", list(Severity))
async def test_acknowledged_but_unmoved_reminds_the_group_then_coordinators(
    sim: TelegramSimulator, harness: BotHarness, severity: Severity
) -> None:
    clock = ManualClock()
    city, coordinators = await city_with_coordinators(sim, harness, clock)
    number, _dinkes = await acknowledged_call(city, severity)
    group = city.groups["dinkes"]
    dewi = city.crews["dinkes"][0]
    wait = timedelta(minutes=MINUTES[severity])

    assert await tick(harness, clock, wait - timedelta(seconds=1)) == 0
    assert await tick(harness, clock, timedelta(seconds=1)) == 1
    (first,) = [m for m in sim.bot_messages(group) if UNMOVED in (m.text or "")]
    assert f"#{number}" in (first.text or "") and first.reply_to_message_id is not None
    private = [m for m in sim.bot_messages(sim.private_chat(dewi)) if UNMOVED in (m.text or "")]
    assert len(private) == 1, "the on-duty member hears it in private too"

    await tick(harness, clock, wait)  # the second reminder in the group
    assert len([m for m in sim.bot_messages(group) if UNMOVED in (m.text or "")]) == 2
    assert not [t for t in texts(sim, coordinators) if UNMOVED in t]
    await tick(harness, clock, wait)  # then the coordinators
    escalations = [t for t in texts(sim, coordinators) if UNMOVED in t]
    assert len(escalations) == 1 and "+62" not in escalations[0]

    # Dewi takes it: every reminder says what happened instead, once.
    await harness.services.incidents.assign(number, _dinkes, dewi.id, dewi.id)
    await harness.settle()
    for chat in (group, coordinators, sim.private_chat(dewi)):
        moot = [
            m
            for m in sim.bot_messages(chat)
            if f"#{number}" in (m.text or "") and "Sudah ditangani" in (m.text or "")
        ]
        assert moot, chat.title
        assert all("Dewi ditugaskan pukul" in (m.text or "") for m in moot)
    assert not [m for m in sim.bot_messages(group) if UNMOVED in (m.text or "")]
    await tick(harness, clock, timedelta(hours=1))  # the task's own follow-ups may come; no more
    assert not [m for m in sim.bot_messages(group) if UNMOVED in (m.text or "")]


async def test_movement_before_the_time_stops_the_reminder(
    sim: TelegramSimulator, harness: BotHarness
) -> None:
    clock = ManualClock()
    city, _coordinators = await city_with_coordinators(sim, harness, clock)
    number, dinkes = await acknowledged_call(city, Severity.HIGH)
    dewi = city.crews["dinkes"][0]
    await tick(harness, clock, timedelta(minutes=4))
    await harness.services.incidents.assign(number, dinkes, dewi.id, dewi.id)
    await harness.settle()
    await tick(harness, clock, timedelta(minutes=30))
    assert not [t for t in texts(sim, city.groups["dinkes"]) if UNMOVED in t]


async def test_an_acknowledgement_reminder_says_who_acknowledged_once_it_is_moot(
    sim: TelegramSimulator, harness: BotHarness
) -> None:
    clock = ManualClock()
    city, _coordinators = await city_with_coordinators(sim, harness, clock)
    await harness.services.incidents.submit(
        NewIncident(
            kind=IncidentType.MEDICAL,
            location=Location(-2.21, 113.92, "Pasar Kahayan"),
            description="Pingsan di pasar",
            source=Source.CALL,
        )
    )
    await harness.settle()
    await tick(harness, clock, timedelta(minutes=3))  # high: the group is reminded
    group = city.groups["dinkes"]
    reminder = next(m for m in sim.bot_messages(group) if "belum dikonfirmasi" in (m.text or ""))
    card = next(m for m in sim.bot_messages(group) if (m.text or "").startswith("🟠 #"))
    await sim.press_button(city.crews["dinkes"][0], card, text="✅ Terima")
    await harness.settle()
    assert "Sudah ditangani" in (reminder.text or "") and "diterima oleh Dewi" in (
        reminder.text or ""
    ), reminder.text


async def test_en_route_but_not_on_scene_reaches_the_group_when_it_repeats(
    sim: TelegramSimulator, harness: BotHarness
) -> None:
    clock = ManualClock()
    city, _coordinators = await city_with_coordinators(sim, harness, clock)
    number, dinkes = await acknowledged_call(city, Severity.HIGH)
    dewi = city.crews["dinkes"][0]
    services = harness.services
    await services.incidents.assign(number, dinkes, dewi.id, dewi.id)
    view = await services.incidents.view(number)
    assert view is not None
    (task,) = view.assignments
    await services.incidents.task_progress(task.id, dewi.id, AssignmentEvent.DEPART)
    await harness.settle()
    await tick(harness, clock, timedelta(minutes=30))
    assert any("Sudah di lokasi?" in t for t in texts(sim, sim.private_chat(dewi)))
    assert not any("belum tiba di lokasi" in t for t in texts(sim, city.groups["dinkes"]))
    await tick(harness, clock, timedelta(minutes=30))
    assert sum("Sudah di lokasi?" in t for t in texts(sim, sim.private_chat(dewi))) == 2
    assert any("Dewi berangkat ke kejadian" in t for t in texts(sim, city.groups["dinkes"]))
    await tick(harness, clock, timedelta(hours=2))
    assert sum("belum tiba di lokasi" in t for t in texts(sim, city.groups["dinkes"])) == 1
