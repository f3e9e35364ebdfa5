"""A dispatcher's entry of a 112 call: the caller's name and people hurt, in one line or in the
form, and the management card right after filing."""

from __future__ import annotations

import re

import pytest

from bot.simulator import TelegramSimulator
from models.incident_types import IncidentType
from models.incidents import Hurt, Severity
from models.report import CallLine, Problem, parse_call_line, parse_hurt
from tests.harness import BotHarness
from tests.scenario import build_city

LINE = "kebakaran | Jl. Rajawali 7 dekat pasar | rumah kayu terbakar"


@pytest.mark.parametrize(
    ("tail", "name", "hurt", "count"),
    [
        ("", None, Hurt.UNKNOWN, None),
        (" | 0812-3456-7890", None, Hurt.UNKNOWN, None),
        (" | 0812-3456-7890 | Pak Budi", "Pak Budi", Hurt.UNKNOWN, None),
        (" | | Pak Budi | tidak", "Pak Budi", Hurt.NONE, None),
        (" | | | ada", None, Hurt.YES, None),
        (" | 0812-3456-7890 | Bu Sri | 3 orang", "Bu Sri", Hurt.YES, 3),
        (" | | Bu Sri | Tidak Tahu", "Bu Sri", Hurt.UNKNOWN, None),
        (" | | \u200b | ", None, Hurt.UNKNOWN, None),  # invisible parts are empty parts
    ],
)
def test_the_line_takes_the_callers_name_and_people_hurt(
    tail: str, name: str | None, hurt: Hurt, count: int | None
) -> None:
    parsed = parse_call_line(LINE + tail)
    assert isinstance(parsed, CallLine), parsed
    assert parsed.type is IncidentType.FIRE
    assert (parsed.caller_name, parsed.hurt, parsed.hurt_count) == (name, hurt, count)


@pytest.mark.parametrize(
    ("tail", "problem"),
    [
        (" | | Pak Budi | banyak sekali", Problem.CALL_HURT_UNREADABLE),
        (" | | Pak Budi | 5000", Problem.CALL_HURT_UNREADABLE),
        (" | | " + "x" * 65, Problem.CALLER_NAME_LENGTH),
        (" | | a | b | c", Problem.CALL_TOO_MANY_PARTS),
    ],
)
def test_a_bad_part_is_named(tail: str, problem: Problem) -> None:
    assert parse_call_line(LINE + tail) is problem


def test_people_hurt_as_dispatchers_write_it() -> None:
    assert parse_hurt("Tidak ada") == (Hurt.NONE, None)
    assert parse_hurt("YA") == (Hurt.YES, None)
    assert parse_hurt("2") == (Hurt.YES, 2)
    assert parse_hurt("?") == (Hurt.UNKNOWN, None)
    assert parse_hurt("hmm") is Problem.CALL_HURT_UNREADABLE


async def test_a_call_in_one_line_with_the_callers_name_and_people_hurt(
    sim: TelegramSimulator, harness: BotHarness
) -> None:
    city = await build_city(sim, harness)
    dita = city.dispatcher
    await harness.says(dita, f"/baru {LINE} | 0812-3456-7890 | Pak Budi | 3")
    await harness.settle()
    manage = sim.bot_messages(sim.private_chat(dita))[-1]
    assert "Kelola kejadian" in (manage.text or ""), manage.text
    assert manage.buttons, "the dispatcher can act on it at once"
    created = sim.bot_messages(sim.private_chat(dita))[-2]
    found = re.search(r"#(\d+)", created.text or "")
    assert found is not None, created.text
    number = int(found.group(1))
    card = city.card("damkar", number).text or ""
    assert "Pelapor: Pak Budi" in card and "Ada, 3 orang" in card, card
    view = await harness.services.incidents.view(number)
    assert view is not None and view.incident.severity is Severity.CRITICAL  # many hurt

    wrong = await harness.says(dita, f"/baru {LINE} | | Pak Budi | banyak")
    assert "korban tidak terbaca" in (wrong.text or ""), wrong.text
