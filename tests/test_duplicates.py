"""Duplicate reports: the second report of the same fire says so at once on both cards, one press
merges it, another says it is not one; nobody else's press changes anything. Also the scoring
itself (models.duplicates) and the labelled set it is measured on (tests/data)."""

from __future__ import annotations

import dataclasses
import json
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from bot.callbacks import ButtonAction, SimilarChoice
from bot.simulator import SimChat, SimMessage, TelegramSimulator
from models.duplicates import Basis, DuplicatePolicy, Report, best_match, compare, text_likeness
from models.incident_types import IncidentType
from models.incidents import Lifecycle, Location
from tests.data import make_duplicate_pairs
from tests.harness import BotHarness
from tests.scenario import City, build_city, report
from tests.test_operators_feed import feed_card, with_feed

HERE = (-2.2100, 113.9200)
NEAR = (-2.2100, 113.9209)  # about 100 m east
FAR = (-2.2100, 113.9650)  # about 5 km east
MERGE, NOT_ONE = "🔗 Gabungkan ke #{}", "✖️ Bukan duplikat"


def labels(message: SimMessage) -> list[str]:
    return [label for row in message.buttons for label in row]


async def two_fires(sim: TelegramSimulator, harness: BotHarness) -> tuple[City, SimChat, int, int]:
    city = await build_city(sim, harness)
    room = await with_feed(sim, city)
    ani = sim.add_user("Ani", language_code="id")
    bram = sim.add_user("Bram", language_code="id")
    for reporter in (ani, bram):
        await harness.says(reporter, "/start")
    first = await report(city, ani, location=HERE)
    second = await report(city, bram, location=NEAR, description="Asap hitam dari rumah kayu")
    return city, room, first, second


async def test_a_second_report_close_by_is_hinted_on_both_cards_and_a_far_one_is_not(
    sim: TelegramSimulator, harness: BotHarness
) -> None:
    city, room, first, second = await two_fires(sim, harness)
    hinted = city.card("damkar", second).text or ""
    assert f"⚠️ Mungkin sama dengan #{first} (" in hinted and " m, 0 menit sebelumnya)" in hinted
    assert f"🔁 Laporan serupa: #{second}" in (city.card("damkar", first).text or "")
    assert f"🔁 Laporan serupa: #{second}" in (city.card("relawan", first).text or "")
    # The agencies see the hint; merging is the dispatchers' (their buttons are on the feed).
    assert MERGE.format(first) not in labels(city.card("damkar", second))
    assert labels(feed_card(sim, room, second))[:2] == [MERGE.format(first), NOT_ONE]
    assert MERGE.format(first) not in labels(feed_card(sim, room, first))
    # Bram is told gently, and his report is filed and posted as always.
    bram = sim.users()[-1]
    told = [m.text or "" for m in sim.bot_messages(sim.private_chat(bram))]
    assert any(f"Laporan serupa (#{first}) sudah diterima" in text for text in told)
    assert len(city.cards("damkar")) == 2

    cici = sim.add_user("Cici", language_code="id")
    await harness.says(cici, "/start")
    third = await report(city, cici, location=FAR)
    assert "Mungkin sama" not in (city.card("damkar", third).text or "")
    assert f"#{third}" not in (city.card("damkar", first).text or "")
    assert sim.unexpected_refusals() == []


async def test_one_press_merges_the_duplicate(sim: TelegramSimulator, harness: BotHarness) -> None:
    city, room, first, second = await two_fires(sim, harness)
    query = await sim.press_button(
        city.dispatcher, feed_card(sim, room, second), text=MERGE.format(first)
    )
    await harness.settle()
    assert f"Digabung ke #{first}" in (query.answer_text or "")
    view = await harness.services.incidents.view(second)
    assert view is not None and view.incident.lifecycle is Lifecycle.MERGED
    assert view.incident.merged_into == first
    assert "Mungkin sama" not in (city.card("damkar", second).text or "")
    kept = city.card("damkar", first).text or ""
    assert "Laporan serupa" not in kept and f"#{second}" in kept  # now merged in, not hinted
    assert feed_card(sim, room, second).buttons == []
    # A second press on the old screen (the buttons are gone) changes nothing.
    late = await sim.press_raw(
        city.coordinator,
        feed_card(sim, room, second),
        SimilarChoice(ButtonAction.NOT_SIMILAR, second, first).encode(),
    )
    await harness.settle()
    assert late.show_alert
    assert sim.unexpected_refusals() == []


async def test_not_a_duplicate_takes_the_hint_off_both_cards(
    sim: TelegramSimulator, harness: BotHarness
) -> None:
    city, room, first, second = await two_fires(sim, harness)
    # From the management card, in private.
    await sim.press_button(city.dispatcher, feed_card(sim, room, second), text="⚙️ Kelola")
    await harness.settle()
    manage = sim.bot_messages(sim.private_chat(city.dispatcher))[-1]
    assert NOT_ONE in labels(manage)
    query = await sim.press_button(city.dispatcher, manage, text=NOT_ONE)
    await harness.settle()
    assert "bukan duplikat" in (query.answer_text or "")
    assert NOT_ONE not in labels(sim.bot_messages(sim.private_chat(city.dispatcher))[-1])
    for number in (first, second):
        text = city.card("damkar", number).text or ""
        assert "Mungkin sama" not in text and "Laporan serupa" not in text, text
    assert NOT_ONE not in labels(feed_card(sim, room, second))
    view = await harness.services.incidents.view(second)
    assert view is not None and view.incident.lifecycle is Lifecycle.OPEN
    events = await harness.services.incidents.events(second)
    assert [e.kind for e in events].count("not_similar") == 1
    assert sim.unexpected_refusals() == []


async def test_a_members_or_strangers_press_on_the_merge_data_changes_nothing(
    sim: TelegramSimulator, harness: BotHarness
) -> None:
    city, room, first, second = await two_fires(sim, harness)
    rudi = city.crews["damkar"][0]
    stranger = sim.add_user("Tono", language_code="id")
    sim.add_member(room, stranger)
    forged = [
        (
            rudi,
            city.card("damkar", second),
            SimilarChoice(ButtonAction.MERGE_SIMILAR, second, first),
        ),
        (stranger, feed_card(sim, room, second), None),
        # A dispatcher's forged data naming another incident than the hint does.
        (
            city.dispatcher,
            feed_card(sim, room, second),
            SimilarChoice(ButtonAction.MERGE_SIMILAR, second, second + 40),
        ),
    ]
    for who, message, data in forged:
        if data is None:
            query = await sim.press_button(who, message, text=MERGE.format(first))
        else:
            query = await sim.press_raw(who, message, data.encode())
        await harness.settle()
        assert query.show_alert or query.answer_text, (who.first_name, query.answer_text)
    view = await harness.services.incidents.view(second)
    assert view is not None and view.incident.lifecycle is Lifecycle.OPEN
    assert view.similar_to is not None and view.similar_to.of_id == first
    assert sim.unexpected_refusals() == []


async def test_the_hint_goes_when_the_incident_it_names_is_closed(
    sim: TelegramSimulator, harness: BotHarness
) -> None:
    city, room, first, second = await two_fires(sim, harness)
    await harness.services.incidents.resolve(first, city.dispatcher.id)
    await harness.settle()
    assert "Mungkin sama" not in (city.card("damkar", second).text or "")
    assert MERGE.format(first) not in labels(feed_card(sim, room, second))
    # A press on a screen that still showed it changes nothing.
    late = await sim.press_raw(
        city.dispatcher,
        feed_card(sim, room, second),
        SimilarChoice(ButtonAction.MERGE_SIMILAR, second, first).encode(),
    )
    await harness.settle()
    assert late.show_alert
    view = await harness.services.incidents.view(second)
    assert view is not None and view.incident.lifecycle is Lifecycle.OPEN
    assert sim.unexpected_refusals() == []


async def test_typed_places_are_compared_by_their_words(
    sim: TelegramSimulator, harness: BotHarness
) -> None:
    city = await build_city(sim, harness)
    reporters = [sim.add_user(name, language_code="id") for name in ("Ani", "Bram", "Cici")]
    for reporter in reporters:
        await harness.says(reporter, "/start")
    first = await report(
        city, reporters[0], location=None, address="Jl. Rajawali gg. Sepakat 3 dekat masjid"
    )
    second = await report(
        city, reporters[1], location=None, address="jln rajawli gang sepakat 3, dkt mesjid"
    )
    third = await report(
        city, reporters[2], location=None, address="Jl. Rajawali gg. Sepakat 7 dekat pasar"
    )
    assert f"Mungkin sama dengan #{first} (alamat mirip" in (city.card("damkar", second).text or "")
    assert "Mungkin sama" not in (city.card("damkar", third).text or "")


# --- the scoring, without the bot ---

T0 = datetime(2026, 12, 7, 8, 0)


def at(minutes: int) -> datetime:
    return T0 + timedelta(minutes=minutes)


def fire(
    number: int, minutes: int, place: Location, kind: IncidentType = IncidentType.FIRE
) -> Report:
    return Report(number, kind, place, at(minutes))


POLICY = DuplicatePolicy()


@pytest.mark.parametrize(
    ("a", "b", "alike"),
    [
        ("Jl. Rajawali gg. Sepakat 3 dekat masjid", "jalan rajawali gang sepakat 3", True),
        ("jln Kiniibalu 1", "Jl Kinibalu - Gg Sepakat 2", True),  # a typo, less detail
        ("gg Sepakat 3 jl Rajawali", "gg Sepakat 7 jl Rajawali", False),  # another gang
        ("Jl. Rajawali no. 12", "jalan Rajawali nomor 40", False),  # another house
        ("Jl. Tjilik Riwut km 12", "tjilik riwut km 15", False),
        ("jl rajawali dekat masjid", "jl garuda dekat masjid", False),
        ("Pasar Kahayan, Jl. Tjilik Riwut, Palangka Raya", "dekat pasar kahayan", True),
    ],
)
def test_text_likeness(a: str, b: str, alike: bool) -> None:
    assert (text_likeness(a, b) >= POLICY.text_threshold) is alike, text_likeness(a, b)


def test_pins_within_the_distance_and_the_window_match() -> None:
    old = fire(1, 0, Location(*HERE, None))
    match = compare(fire(2, 3, Location(*NEAR, None)), old, POLICY)
    assert match is not None and match.basis is Basis.PINS and match.of_id == 1
    assert match.distance_m is not None and 90 <= match.distance_m <= 110 and match.minutes == 3
    assert compare(fire(2, 3, Location(*FAR, None)), old, POLICY) is None
    assert compare(fire(2, 61, Location(*NEAR, None)), old, POLICY) is None  # outside the hour
    flood = fire(2, 3, Location(*NEAR, None), IncidentType.FLOOD)
    assert compare(flood, old, POLICY) is None  # an unrelated type
    peat = fire(2, 3, Location(*NEAR, None), IncidentType.FOREST_FIRE)
    assert compare(peat, old, POLICY) is not None  # a related one


def test_a_bare_pin_and_words_do_not_match_but_a_venue_and_words_do() -> None:
    words = fire(2, 5, Location(None, None, "dekat pasar Kahayan jl Tjilik Riwut"))
    assert compare(words, fire(1, 0, Location(*HERE, None)), POLICY) is None
    venue = fire(1, 0, Location(*HERE, "Pasar Kahayan, Jl. Tjilik Riwut, Palangka Raya"))
    match = compare(words, venue, POLICY)
    assert match is not None and match.basis is Basis.PIN_TEXT


def test_the_closest_candidate_wins() -> None:
    new = fire(9, 10, Location(*NEAR, None))
    candidates = [fire(1, 0, Location(-2.2100, 113.9230, None)), fire(2, 5, Location(*HERE, None))]
    match = best_match(new, candidates, POLICY)
    assert match is not None and match.of_id == 2
    assert best_match(new, [], POLICY) is None


def test_the_labelled_set_is_what_its_script_writes() -> None:
    path = Path(make_duplicate_pairs.__file__).with_name("duplicate_pairs.jsonl")
    stored = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    assert stored == json.loads(json.dumps(make_duplicate_pairs.pairs()))
    assert len(stored) >= 500
    share = {c: sum(p["category"] == c for p in stored) / len(stored) for c in ("text", "pin_text")}
    assert share["text"] >= 0.25 and share["pin_text"] >= 0.15, share
    hard = sum(p["kind"].startswith("hard") for p in stored) / len(stored)
    assert hard >= 0.25, hard
    assert {p["split"] for p in stored} == {"tune", "eval"}


def test_a_flood_of_similar_reports_is_counted_on_the_card() -> None:
    from bot.render.cards import similar_lines
    from tests.test_cards import make_incident, make_view

    view = dataclasses.replace(make_view(make_incident(id=1), []), similar=tuple(range(2, 42)))
    (line,) = similar_lines("id", view)
    assert line == "🔁 Laporan serupa: #2, #3, #4, #5, #6 dan 35 lainnya", line
    (line,) = similar_lines("en", dataclasses.replace(view, similar=(2, 3)))
    assert line == "🔁 Similar reports: #2, #3", line
