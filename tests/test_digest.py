"""The coordinators' digest: figures against a hand-computed day, the store's rows of a period,
the morning's outbox rows, and the message and chart within Telegram's limits in both languages.

The fixture day is Wednesday 11 March 2026 in Palangka Raya (WIB, UTC+7):

    #6  fire      10 Mar 22:00  damkar acknowledges 11 Mar 00:10, resolved 02:00; escalated
                                10 Mar 22:05 and 11 Mar 00:05  → before the period: only its
                                in-period escalation counts
    #1  fire      08:00         damkar ack +1 min, on scene +10 min; resolved 09:00
    #2  fire      10:00         damkar ack +3 min, on scene +15 min; resolved 11:00
    #3  medical   12:00         dinkes ack +2 min, on scene +20 min; resolved 13:00
    #4  collapse  14:00         damkar ack +5 min, on scene +25 min; dinkes acknowledged by a
                                coordinator on its behalf +4 min, never on scene; escalated
                                14:03; resolved 12 Mar 03:00 (open at the period's end)
    #7  fire      15:00         damkar never acknowledges; merged into #1 at 15:05 (duplicate)
    #5  medical   23:30         dinkes never acknowledges; escalated 23:40; still open
    #8  fire      12 Mar 01:00  → after the period
"""

from __future__ import annotations

import base64
import statistics
import struct
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import numpy
import pytest
from hypothesis import given
from hypothesis import strategies as st

import bot.store
from bot.context import Services
from bot.render.cards import MESSAGE_LIMIT
from bot.render.digest import (
    CAPTION_LIMIT,
    digest_caption,
    digest_chart,
    digest_text,
    duration_text,
)
from bot.services.digest import DigestService
from bot.settings import LANGUAGES, Language, Settings, load_settings
from bot.simulator import TelegramSimulator
from bot.simulator.entities import parse_html, utf16_len
from bot.store import Store, Tx
from bot.store.stats import StatsQueries
from handlers.stats import parse_days
from models.agencies import AgencyKind, Role
from models.clock import ManualClock
from models.digest import (
    AgencyFigures,
    AgencyRow,
    Digest,
    EventRow,
    IncidentRow,
    OpenIncident,
    PeriodRows,
    ResponseRow,
    compute_digest,
    median,
    percentile,
)
from models.incident_types import IncidentType
from models.incidents import ACKNOWLEDGING, EventKind, Hurt, Lifecycle, Location, Severity, Source
from models.outbox import OutboxStatus, Priority, SendMethod
from tests.harness import BotHarness
from tests.scenario import build_city, report

WIB = ZoneInfo("Asia/Jakarta")
START = datetime(2026, 3, 11, tzinfo=WIB).astimezone(UTC)  # 10 Mar 17:00 UTC
END = datetime(2026, 3, 12, tzinfo=WIB).astimezone(UTC)
MORNING = datetime(2026, 3, 12, 7, 0, tzinfo=WIB).astimezone(UTC)
DAMKAR, DINKES = 1, 2
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def wib(hour: int, minute: int = 0, day: int = 11) -> datetime:
    return datetime(2026, 3, day, hour, minute, tzinfo=WIB).astimezone(UTC)


def minutes(n: float) -> timedelta:
    return timedelta(minutes=n)


# --- the fixture as plain rows ---

FIRE, MEDICAL, COLLAPSE = IncidentType.FIRE, IncidentType.MEDICAL, IncidentType.COLLAPSE
ACK, ON_BEHALF = EventKind.ACKNOWLEDGED.value, EventKind.ACKNOWLEDGED_ON_BEHALF.value
SCENE, ESCALATED = EventKind.ON_SCENE.value, EventKind.ESCALATED.value
RESOLVED, MERGED = EventKind.RESOLVED.value, EventKind.MERGED.value


def fixture_rows() -> PeriodRows:
    created = {
        6: wib(22, day=10),
        1: wib(8),
        2: wib(10),
        3: wib(12),
        4: wib(14),
        7: wib(15),
        5: wib(23, 30),
    }
    closed = {
        6: wib(2),
        1: wib(9),
        2: wib(11),
        3: wib(13),
        4: wib(3, day=12),
        7: wib(15, 5),
    }
    lifecycle = {i: Lifecycle.RESOLVED for i in closed} | {7: Lifecycle.MERGED, 5: Lifecycle.OPEN}
    types = {6: FIRE, 1: FIRE, 2: FIRE, 3: MEDICAL, 4: COLLAPSE, 7: FIRE, 5: MEDICAL}
    incidents = [IncidentRow(i, types[i], created[i], lifecycle[i], closed.get(i)) for i in created]
    acks = {  # (incident, agency) → (delay, on behalf)
        (6, DAMKAR): (created[6] + timedelta(hours=2, minutes=10), False),
        (1, DAMKAR): (created[1] + minutes(1), False),
        (2, DAMKAR): (created[2] + minutes(3), False),
        (3, DINKES): (created[3] + minutes(2), False),
        (4, DAMKAR): (created[4] + minutes(5), False),
        (4, DINKES): (created[4] + minutes(4), True),
    }
    routed = [(6, DAMKAR), (1, DAMKAR), (2, DAMKAR), (3, DINKES), (4, DAMKAR), (4, DINKES)]
    routed += [(7, DAMKAR), (5, DINKES)]
    responses = [
        ResponseRow(i, a, acks[(i, a)][0], acks[(i, a)][1])
        if (i, a) in acks
        else ResponseRow(i, a, None, False)
        for i, a in routed
    ]
    events = [
        EventRow(i, ON_BEHALF if behalf else ACK, a, at) for (i, a), (at, behalf) in acks.items()
    ]
    events += [
        EventRow(1, SCENE, DAMKAR, created[1] + minutes(10)),
        EventRow(2, SCENE, DAMKAR, created[2] + minutes(15)),
        EventRow(3, SCENE, DINKES, created[3] + minutes(20)),
        EventRow(4, SCENE, DAMKAR, created[4] + minutes(25)),
        # A second crew of the same agency arriving later does not change the first arrival.
        EventRow(4, SCENE, DAMKAR, created[4] + minutes(40)),
        EventRow(6, ESCALATED, DAMKAR, wib(22, 5, day=10)),
        EventRow(6, ESCALATED, DAMKAR, wib(0, 5)),
        EventRow(4, ESCALATED, DINKES, wib(14, 3)),
        EventRow(5, ESCALATED, DINKES, wib(23, 40)),
        EventRow(7, MERGED, None, closed[7]),
    ]
    events += [EventRow(i, RESOLVED, None, closed[i]) for i in (6, 1, 2, 3, 4)]
    agencies = [
        AgencyRow(DAMKAR, "damkar", "Damkar Palangka Raya"),
        AgencyRow(DINKES, "dinkes", "PSC 119 Dinkes"),
    ]
    return PeriodRows(incidents, responses, events, agencies)


# --- percentiles ---


def test_percentile_interpolates_between_closest_ranks() -> None:
    # 4 values: rank h = 3·q/100. q=90 → h=2.7 → 30 + 0.7·(40 - 30) = 37.
    assert percentile([40, 10, 30, 20], 90) == pytest.approx(37)
    assert percentile([40, 10, 30, 20], 50) == 25  # h=1.5: halfway between 20 and 30
    assert percentile([7], 90) == 7
    assert percentile([], 50) is None
    assert median([]) is None
    assert median([3, 1, 2]) == 2


@pytest.mark.parametrize("q", [-1, 100.5])
def test_percentile_outside_0_to_100_is_refused(q: float) -> None:
    with pytest.raises(ValueError, match="percentile"):
        percentile([1, 2], q)


samples = st.lists(st.floats(min_value=0, max_value=1e6, allow_nan=False), min_size=1, max_size=50)
quantiles = st.floats(min_value=0, max_value=100)


@given(samples, quantiles)
def test_percentile_lies_within_the_values_and_matches_numpy(values: list[float], q: float) -> None:
    result = percentile(values, q)
    assert result is not None
    assert min(values) - 1e-6 <= result <= max(values) + 1e-6
    assert result == pytest.approx(float(numpy.percentile(values, q)), rel=1e-9, abs=1e-6)


@given(samples, quantiles, quantiles)
def test_percentile_grows_with_q(values: list[float], q1: float, q2: float) -> None:
    low, high = (percentile(values, q) for q in sorted((q1, q2)))
    assert low is not None and high is not None
    assert low <= high + 1e-6


@given(samples)
def test_the_ends_and_the_middle(values: list[float]) -> None:
    assert percentile(values, 0) == min(values)
    assert percentile(values, 100) == max(values)
    assert median(values) == pytest.approx(statistics.median(values))
    assert percentile(list(reversed(values)), 90) == percentile(values, 90)


# --- the hand-computed day ---


def expected_agencies() -> tuple[AgencyFigures, ...]:
    return (
        AgencyFigures(
            agency_id=DAMKAR,
            code="damkar",
            name="Damkar Palangka Raya",
            routed=3,  # #1, #2, #4 (#6 is from the day before, #7 a duplicate)
            acknowledged=3,
            acknowledged_on_behalf=0,
            on_scene=3,
            # acknowledged after 60, 180, 300 s: median 180; p90 rank 2·0.9 = 1.8 →
            # 180 + 0.8·(300 - 180) = 276
            acknowledge_median=180,
            acknowledge_p90=276,
            # on scene after 600, 900, 1500 s: median 900; p90 900 + 0.8·(1500 - 900) = 1380
            on_scene_median=900,
            on_scene_p90=1380,
        ),
        AgencyFigures(
            agency_id=DINKES,
            code="dinkes",
            name="PSC 119 Dinkes",
            routed=3,  # #3, #4, #5
            acknowledged=2,  # #5 never
            acknowledged_on_behalf=1,  # #4, by a coordinator
            on_scene=1,
            # acknowledged after 120, 240 s: median (120 + 240)/2 = 180; p90 rank 1·0.9 →
            # 120 + 0.9·120 = 228
            acknowledge_median=180,
            acknowledge_p90=228,
            on_scene_median=1200,  # #3 only: 20 min
            on_scene_p90=1200,
        ),
    )


def test_the_days_figures_match_the_hand_computed_ones() -> None:
    digest = compute_digest(fixture_rows(), START, END, as_of=MORNING)
    assert digest.total == 5  # #1–#5; #6 before, #8 after, #7 a duplicate
    assert digest.duplicates == 1
    assert digest.unrouted == 0
    assert digest.by_type == ((FIRE, 2), (MEDICAL, 2), (COLLAPSE, 1))
    assert digest.agencies == expected_agencies()
    assert digest.agencies[1].unacknowledged == 1
    # #6's escalation at 00:05 falls in the period although #6 was reported the day before.
    assert digest.escalated == (4, 5, 6)
    # Open at midnight: #4 (resolved at 03:00 since) and #5; oldest first.
    assert digest.still_open == (
        OpenIncident(4, COLLAPSE, wib(14), closed_since=True),
        OpenIncident(5, MEDICAL, wib(23, 30), closed_since=False),
    )
    assert digest.created == (wib(8), wib(10), wib(12), wib(14), wib(23, 30))
    assert digest.as_of == MORNING


def test_a_day_without_incidents() -> None:
    digest = compute_digest(PeriodRows([], [], [], []), START, END)
    assert digest.total == 0
    assert digest.agencies == ()
    assert digest.by_type == ()
    assert digest.is_empty
    assert digest.as_of == END


def test_an_agency_that_never_acknowledged_has_no_times() -> None:
    rows = PeriodRows(
        [IncidentRow(1, FIRE, wib(8), Lifecycle.OPEN, None)],
        [ResponseRow(1, DAMKAR, None, False)],
        [],
        [AgencyRow(DAMKAR, "damkar", "Damkar")],
    )
    (figures,) = compute_digest(rows, START, END).agencies
    assert (figures.routed, figures.acknowledged, figures.unacknowledged) == (1, 0, 1)
    assert figures.acknowledge_median is None and figures.acknowledge_p90 is None
    assert figures.on_scene_median is None


def test_an_incident_from_before_the_period_adds_no_times_to_it() -> None:
    """Times belong to the day the call came in: acknowledged today, reported yesterday → not
    today's figure (yesterday's digest counted it as unacknowledged)."""
    rows = PeriodRows(
        [IncidentRow(6, FIRE, wib(22, day=10), Lifecycle.OPEN, None)],
        [ResponseRow(6, DAMKAR, wib(0, 10), False)],
        [EventRow(6, ACK, DAMKAR, wib(0, 10))],
        [AgencyRow(DAMKAR, "damkar", "Damkar")],
    )
    digest = compute_digest(rows, START, END)
    assert digest.total == 0 and digest.agencies == ()
    assert [item.id for item in digest.still_open] == [6]


def test_acknowledgement_from_the_timeline_when_the_response_lacks_it() -> None:
    rows = PeriodRows(
        [IncidentRow(1, FIRE, wib(8), Lifecycle.OPEN, None)],
        [ResponseRow(1, DAMKAR, None, False)],
        # A clock step makes the event look earlier than the report: counted as 0, not negative.
        [EventRow(1, ACK, DAMKAR, wib(7, 59)), EventRow(1, SCENE, DAMKAR, wib(8, 30))],
        [],
    )
    (figures,) = compute_digest(rows, START, END).agencies
    assert figures.acknowledge_median == 0
    assert figures.on_scene_median == 1800
    assert figures.name == "#1"  # an agency the rows do not name is shown by its id


def test_open_at_the_end_follows_the_timeline_not_todays_state() -> None:
    rows = PeriodRows(
        [
            # resolved at 10:00, reopened the next morning: was closed at midnight
            IncidentRow(1, FIRE, wib(8), Lifecycle.OPEN, None),
            # resolved at 10:00, reopened 12:00, resolved again after midnight: was open
            IncidentRow(2, FIRE, wib(9), Lifecycle.RESOLVED, wib(1, day=12)),
            # closed without a timeline entry (rows from elsewhere): closed_at decides
            IncidentRow(3, FLOOD, wib(9), Lifecycle.CANCELLED, wib(11)),
            # an agency reopening its own line does not reopen the incident
            IncidentRow(4, FIRE, wib(9), Lifecycle.RESOLVED, wib(11)),
        ],
        [],
        [
            EventRow(1, RESOLVED, None, wib(10)),
            EventRow(1, EventKind.REOPENED.value, None, wib(6, day=12)),
            EventRow(2, RESOLVED, None, wib(10)),
            EventRow(2, EventKind.REOPENED.value, None, wib(12)),
            EventRow(2, RESOLVED, None, wib(1, day=12)),
            EventRow(4, RESOLVED, None, wib(11)),
            EventRow(4, EventKind.REOPENED.value, DAMKAR, wib(12)),
        ],
        [],
    )
    digest = compute_digest(rows, START, END)
    assert [(item.id, item.closed_since) for item in digest.still_open] == [(2, True)]
    assert digest.unrouted == 4


FLOOD = IncidentType.FLOOD


# --- the store ---


class StatsTx(Tx, StatsQueries):
    """`Tx` with the statistics queries, until the store's `Tx` mixes them in itself."""


@pytest.fixture
async def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Store]:
    monkeypatch.setattr(bot.store, "Tx", StatsTx)
    async with Store(tmp_path / "digest.db", ManualClock(MORNING)) as opened:
        yield opened


async def write_fixture(store: Store) -> None:
    """The fixture day, written through the store's own queries with explicit times."""
    rows = fixture_rows()
    async with store.transaction() as tx:
        for code, name in (("damkar", "Damkar Palangka Raya"), ("dinkes", "PSC 119 Dinkes")):
            await tx.save_agency(
                code=code,
                name=name,
                kind=AgencyKind.AGENCY,
                chat_id=-100 - len(code) - ord(code[1]),
                thread_id=None,
                by_user=1,
                now=wib(7, day=1),
            )
        ids = {a.code: a.id for a in await tx.active_agencies()}
        agency = {DAMKAR: ids["damkar"], DINKES: ids["dinkes"]}
        for incident in sorted(
            [*rows.incidents, IncidentRow(8, FIRE, wib(1, day=12), Lifecycle.OPEN, None)],
            key=lambda i: i.id,
        ):
            number = await tx.create_incident(
                kind=incident.type,
                severity=Severity.HIGH,
                source=Source.CALL,
                reporter_id=None,
                reporter_phone=None,
                location=Location(None, None, "Jl. Tjilik Riwut km 5"),
                description="uji",
                hurt=Hurt.UNKNOWN,
                hurt_count=None,
                photos=[],
                now=incident.created_at,
            )
            assert number == incident.id
            await tx.add_event(number, EventKind.REPORTED, incident.created_at)
        for response in rows.responses:
            created = next(i.created_at for i in rows.incidents if i.id == response.incident_id)
            await tx.add_response(response.incident_id, agency[response.agency_id], created)
            if response.acknowledged_at is not None:
                await tx.acknowledge(
                    response.incident_id,
                    agency[response.agency_id],
                    99,
                    response.on_behalf,
                    response.acknowledged_at,
                    ACKNOWLEDGING,
                )
        for event in rows.events:
            if event.kind in (RESOLVED, MERGED):
                target = Lifecycle.RESOLVED if event.kind == RESOLVED else Lifecycle.MERGED
                merged_into = 1 if target is Lifecycle.MERGED else None
                assert await tx.set_lifecycle(
                    event.incident_id, Lifecycle.OPEN, target, event.at, merged_into=merged_into
                )
            await tx.add_event(
                event.incident_id,
                event.kind,
                event.at,
                agency_id=None if event.agency_id is None else agency[event.agency_id],
            )


async def test_the_store_gives_the_rows_of_the_hand_computed_day(store: Store) -> None:
    await write_fixture(store)
    async with store.read() as tx:
        assert isinstance(tx, StatsQueries)
        rows = await tx.period_rows(START, END)
    # Active in the period: all but #8 (after it); #6 was closed at 02:00, inside it.
    assert [i.id for i in rows.incidents] == [6, 1, 2, 3, 4, 7, 5]
    assert {r.incident_id for r in rows.responses} == {1, 2, 3, 4, 5, 7}
    assert not {e.kind for e in rows.events} - {ACK, ON_BEHALF, SCENE, ESCALATED, RESOLVED, MERGED}
    assert [a.code for a in rows.agencies] == ["damkar", "dinkes"]
    digest = compute_digest(rows, START, END, as_of=MORNING)
    assert digest.total == 5
    assert digest.agencies == expected_agencies()
    assert digest.escalated == (4, 5, 6)
    assert [(o.id, o.closed_since) for o in digest.still_open] == [(4, True), (5, False)]


async def test_an_incident_closed_before_the_period_is_not_read(store: Store) -> None:
    await write_fixture(store)
    day_after = (END, END + timedelta(days=1))
    async with store.read() as tx:
        assert isinstance(tx, StatsQueries)
        rows = await tx.period_rows(*day_after)
    # 12 Mar: #4 (closed at 03:00), #5 (open) and #8 (reported at 01:00).
    assert [i.id for i in rows.incidents] == [4, 5, 8]
    digest = compute_digest(rows, *day_after)
    assert digest.total == 1 and digest.by_type == ((FIRE, 1),)


# --- the service ---


def settings_for(tmp_path: Path, **overrides: Any) -> Settings:
    return load_settings(_env_file=None, database_path=tmp_path / "digest.db", **overrides)


@pytest.mark.parametrize(
    ("now", "days", "start", "end"),
    [
        # 07:30 WIB on 12 Mar is still 11 Mar in UTC: "yesterday" is 11 Mar WIB all the same.
        (wib(7, 30, day=12), 1, START, END),
        (wib(7, 30, day=12), 7, wib(0, day=5), END),
        (wib(7, 30, day=12), 0, END, wib(7, 30, day=12)),
        (wib(23, 59, day=11), 1, wib(0, day=10), START),
    ],
)
def test_periods_are_whole_days_in_wib(
    tmp_path: Path, now: datetime, days: int, start: datetime, end: datetime
) -> None:
    service = DigestService(Store(":memory:"), ManualClock(now), settings_for(tmp_path))
    assert service.period(days) == (start, end)


@pytest.mark.parametrize("days", [-1, 32])
def test_a_period_beyond_a_month_is_refused(tmp_path: Path, days: int) -> None:
    service = DigestService(Store(":memory:"), ManualClock(MORNING), settings_for(tmp_path))
    with pytest.raises(ValueError, match="days"):
        service.period(days)


async def test_the_morning_digest_goes_to_coordinators_once(store: Store, tmp_path: Path) -> None:
    await write_fixture(store)
    async with store.transaction() as tx:
        await tx.save_agency(
            code="koordinator",
            name="Koordinator 112",
            kind=AgencyKind.COORDINATORS,
            chat_id=-500,
            thread_id=7,
            by_user=1,
            now=MORNING,
        )
        for user_id, language, started in ((11, "en", True), (12, "id", True), (13, "id", False)):
            await tx.record_person(
                user_id,
                first_name="K",
                last_name=None,
                username=None,
                language_code=language,
                now=MORNING,
                started=started,
            )
            await tx.grant_role(user_id, Role.COORDINATOR, 1, MORNING)
    service = DigestService(store, ManualClock(MORNING), settings_for(tmp_path))

    assert await service.send_daily() == 3  # the group, and the two who started the bot
    assert await service.send_daily() == 0  # a second run the same morning sends nothing

    async with store.read() as tx:
        items = await tx.outbox_items((OutboxStatus.PENDING,))
    assert [(i.chat_id, i.method) for i in items] == [
        (chat, method)
        for chat in (-500, 11, 12)
        for method in (SendMethod.SEND_MESSAGE, SendMethod.SEND_PHOTO)
    ]
    assert all(i.priority == Priority.DIGEST for i in items)
    text, photo = items[0], items[1]
    assert text.ref == "digest:2026-03-11:-500"
    assert text.payload["message_thread_id"] == photo.payload["message_thread_id"] == 7
    assert "Ringkasan 112" in text.payload["text"]  # the group hears the default language
    assert "112 digest" in items[2].payload["text"]  # coordinator 11 speaks English
    png = base64.b64decode(photo.payload["photo"]["base64"])
    assert png.startswith(PNG_SIGNATURE)
    assert photo.payload["photo"]["filename"] == "digest.png"
    assert len(photo.payload["caption"]) <= CAPTION_LIMIT


async def test_without_coordinators_the_admins_get_it(store: Store, tmp_path: Path) -> None:
    async with store.transaction() as tx:
        await tx.record_person(
            5,
            first_name="A",
            last_name=None,
            username=None,
            language_code="id",
            now=MORNING,
            started=True,
        )
    settings = settings_for(tmp_path, admin_user_ids=(5,))
    service = DigestService(store, ManualClock(MORNING), settings)
    assert await service.send_daily() == 1


async def test_stats_on_demand_renders_for_the_asker(store: Store, tmp_path: Path) -> None:
    await write_fixture(store)
    service = DigestService(store, ManualClock(MORNING), settings_for(tmp_path))
    report = await service.report(1, "en")
    assert "Damkar Palangka Raya" in report.text
    assert "3 min / 4 min 36 s" in report.text  # damkar: median 180 s, p90 276 s
    assert report.chart.startswith(PNG_SIGNATURE)
    today = await service.figures(0)
    assert (today.start, today.end) == (END, MORNING)
    assert today.total == 1  # #8, at 01:00


# --- rendering ---


def fixture_digest() -> Digest:
    return compute_digest(fixture_rows(), START, END, as_of=MORNING)


@pytest.mark.parametrize(
    ("language", "seconds", "expected"),
    [
        ("id", None, "–"),
        ("id", 45.4, "45 dtk"),
        ("id", 200, "3 mnt 20 dtk"),
        ("en", 200, "3 min 20 s"),
        ("en", 3900, "1 h 5 min"),
        ("id", 59.6, "1 mnt"),
        ("en", 600, "10 min"),
    ],
)
def test_durations_read_as_people_say_them(
    language: Language, seconds: float | None, expected: str
) -> None:
    assert duration_text(language, seconds) == expected


def test_the_indonesian_digest_reads_well() -> None:
    plain, _ = parse_html(digest_text("id", fixture_digest(), WIB))
    assert plain.startswith("📊 Ringkasan 112 · Rab 11 Mar 2026")
    assert "Kejadian: 5 · laporan ganda digabung: 1" in plain
    assert "Damkar Palangka Raya: 3 kejadian, 3 diterima" in plain
    assert "✅ 3 mnt / 4 mnt 36 dtk · 📍 15 mnt / 23 mnt (3× di lokasi)" in plain
    assert "PSC 119 Dinkes: 3 kejadian, 2 diterima (1 oleh koordinator) · ⚠️ belum diterima: 1" in (
        plain
    )
    assert "Dieskalasi ke koordinator (3): #4, #5, #6" in plain
    # #4 was open at midnight and is closed now; #5 has been open 7 h 30 min at 07:00.
    assert "(2): #4 ✓, #5 (7 j 30 mnt)" in plain


def test_periods_longer_than_a_day_and_today_so_far() -> None:
    week = compute_digest(PeriodRows([], [], [], []), wib(0, day=5), END)
    assert "5 Mar – 11 Mar 2026 (7 days)" in digest_text("en", week, WIB)
    today = compute_digest(PeriodRows([], [], [], []), END, MORNING)
    assert "today, Thu 12 Mar 2026, until 07:00 WIB" in digest_text("en", today, WIB)
    assert "No incidents in this period." in digest_text("en", today, WIB)


def crowded_digest() -> Digest:
    """Far more than a city has: 40 agencies with hostile names, 300 escalations, 200 open."""
    hostile = "<script>&x</b> $\\frac{1}{0}$ " * 3
    agencies = tuple(
        AgencyFigures(n, f"a{n}", f"{hostile}{n}", 90, 80, 5, 70, 99999, 123456, 1e6, 2e6)
        for n in range(40)
    )
    created = tuple(START + timedelta(minutes=7 * n) for n in range(200))
    return Digest(
        start=START,
        end=END,
        as_of=MORNING,
        total=200,
        duplicates=3,
        unrouted=2,
        by_type=tuple((kind, 20) for kind in IncidentType),
        agencies=agencies,
        escalated=tuple(range(100000, 100300)),
        still_open=tuple(OpenIncident(n, FIRE, created[n % 200], n % 2 == 0) for n in range(200)),
        created=created,
    )


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("digest", [fixture_digest(), crowded_digest()], ids=["day", "crowded"])
def test_the_message_is_valid_html_within_the_limit(language: Language, digest: Digest) -> None:
    text = digest_text(language, digest, WIB)
    plain, _ = parse_html(text)
    assert utf16_len(plain) <= MESSAGE_LIMIT
    caption, _ = parse_html(digest_caption(language, digest, WIB))
    assert utf16_len(caption) <= CAPTION_LIMIT
    if digest.total == 200:
        assert "<script>&x</b>" in plain  # names stay text, escaped, never markup


def png_size(png: bytes) -> tuple[int, int]:
    width, height = struct.unpack(">II", png[16:24])  # IHDR follows the signature
    return width, height


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_chart_is_a_bounded_png(language: Language) -> None:
    for digest in (fixture_digest(), crowded_digest()):
        png = digest_chart(digest, language, WIB)
        assert png.startswith(PNG_SIGNATURE)
        assert png_size(png) == (1000, 600)
        assert len(png) < 500_000


def test_a_chart_of_nothing_and_of_a_week() -> None:
    empty = compute_digest(PeriodRows([], [], [], []), START, END)
    assert digest_chart(empty, "id", WIB).startswith(PNG_SIGNATURE)
    week = compute_digest(fixture_rows(), wib(0, day=5), END)
    assert png_size(digest_chart(week, "en", WIB)) == (1000, 600)


# --- the command's argument ---


DAYS_ARGUMENTS: list[tuple[list[str], int | None]] = [
    ([], 1),
    (["7"], 7),
    (["0"], 0),
    (["31"], 31),
    (["32"], None),
    (["-1"], None),
    (["x"], None),
    (["1", "2"], None),
    (["007"], None),
    (["1.5"], None),
]


@pytest.mark.parametrize(("args", "days"), DAYS_ARGUMENTS)
def test_days_argument(args: list[str], days: int | None) -> None:
    assert parse_days(args) == days


# --- through the simulator ---

WIRED = "digest" in getattr(Services, "__dataclass_fields__", {})


@pytest.mark.skipif(not WIRED, reason="the digest service is not wired into the app yet")
async def test_a_coordinator_asks_for_todays_figures(
    sim: TelegramSimulator, harness: BotHarness
) -> None:
    """A fire is reported and acknowledged; the coordinator asks /statistik 0 and gets the
    figures and the chart; a responder is refused and a bad argument gets the usage."""
    city = await build_city(sim, harness)
    warga = sim.add_user("Ani", language_code="id")
    await harness.says(warga, "/start")
    number = await report(city, warga)
    rudi = city.crews["damkar"][0]
    press = await sim.press_button(rudi, city.card("damkar", number), text="✅ Terima")
    await sim.wait_for(lambda: press.answered, what="the acknowledgement answered")
    await harness.settle()

    inbox = sim.private_chat(city.coordinator)
    await harness.says(city.coordinator, "/statistik 0")
    await sim.wait_for(
        lambda: any(m.photo for m in sim.bot_messages(inbox)), what="the chart as a photo"
    )
    text = next(m.text for m in sim.bot_messages(inbox) if m.text and "Ringkasan 112" in m.text)
    assert "Kejadian: 1" in text
    assert "Damkar Palangka Raya: 1 kejadian, 1 diterima" in text
    assert f"#{number}" in text  # still open
    chart = sim.bot_messages(inbox)[-1]
    assert chart.caption is not None and chart.caption.startswith("📊")

    answer = await harness.says(rudi, "/statistik")
    assert "Ringkasan" not in (answer.text or "")
    answer = await harness.says(city.coordinator, "/statistik 99")
    assert answer.text is not None and "/statistik 7" in answer.text
