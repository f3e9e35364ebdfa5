"""The store of information after a report: questions and their states, who reports an
incident (through merges and caller links), links spent once, and erasing a reporter's words
(issue 16)."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.store import NewInfo, Store, Tx
from models.clock import ManualClock
from models.incident_types import IncidentType
from models.incidents import Hurt, Lifecycle, Location, Severity, Source
from models.info import Gap, InfoKind, InfoState

NOW = datetime(2026, 12, 7, 3, 0, tzinfo=UTC)


async def incident(tx: Tx, reporter: int | None, source: Source = Source.REPORT) -> int:
    return await tx.create_incident(
        kind=IncidentType.FIRE,
        severity=Severity.HIGH,
        source=source,
        reporter_id=reporter,
        reporter_phone=None,
        phone_source=None,
        location=Location(None, None, "Jl. A. Yani"),
        description="Rumah terbakar",
        hurt=Hurt.UNKNOWN,
        hurt_count=None,
        photos=(),
        now=NOW,
    )


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    async with Store(tmp_path / "info.db", ManualClock(NOW)) as opened:
        async with opened.transaction() as tx:
            for user_id in (7, 9, 500, 501, 502, 503):
                await tx.record_person(
                    user_id,
                    first_name=f"U{user_id}",
                    last_name=None,
                    username=None,
                    language_code="id",
                    now=NOW,
                    started=True,
                )
        yield opened


async def test_questions_wait_until_answered_and_one_per_asker(store: Store) -> None:
    async with store.transaction() as tx:
        fire = await incident(tx, 500)
        asked = await tx.add_info(
            fire, InfoKind.QUESTION, InfoState.OPEN, NewInfo(author_id=7, question_key="floor"), NOW
        )
        assert (await tx.open_question_by(fire, 7)) is not None
        assert [q.id for q in await tx.questions_waiting_for(500)] == [asked]
        assert await tx.questions_since(fire, NOW - timedelta(minutes=1)) == 1
        assert await tx.move_info(asked, InfoState.OPEN, InfoState.ANSWERED, NOW)
        assert not await tx.move_info(asked, InfoState.OPEN, InfoState.ANSWERED, NOW)  # lost
        assert await tx.questions_waiting_for(500) == []
        view = await tx.incident_view(fire)
        assert view is not None
        assert [(i.id, i.state) for i in view.infos] == [(asked, InfoState.ANSWERED)]


async def test_a_second_open_question_by_the_same_asker_is_refused(store: Store) -> None:
    async with store.transaction() as tx:
        fire = await incident(tx, 500)
        await tx.add_info(fire, InfoKind.QUESTION, InfoState.OPEN, NewInfo(author_id=7), NOW)
        with pytest.raises(sqlite3.IntegrityError):
            await tx.add_info(fire, InfoKind.QUESTION, InfoState.OPEN, NewInfo(author_id=7), NOW)


async def test_reporters_follow_merges_and_links(store: Store) -> None:
    async with store.transaction() as tx:
        first = await incident(tx, 500)
        second = await incident(tx, 501)
        call = await incident(tx, 9, Source.CALL)  # a dispatcher's call: 9 is not a reporter
        assert await tx.set_lifecycle(
            second, Lifecycle.OPEN, Lifecycle.MERGED, NOW, merged_into=first
        )
        assert await tx.join_incident(call, 502, "link", NOW)
        assert not await tx.join_incident(call, 502, "link", NOW)
        assert await tx.reporters_of(first) == [500, 501]
        assert await tx.reporters_of(call) == [502]
        assert await tx.open_reports_of(501) == [first]  # the merged report follows its survivor
        assert await tx.open_reports_of(502) == [call]
        assert await tx.open_reports_of(9) == []


async def test_a_caller_link_is_spent_once(store: Store) -> None:
    async with store.transaction() as tx:
        call = await incident(tx, 9, Source.CALL)
        await tx.add_caller_link("tok", call, 9, NOW, NOW + timedelta(hours=24))
        assert await tx.use_caller_link("tok", 502, NOW)
        assert not await tx.use_caller_link("tok", 503, NOW)
        link = await tx.caller_link("tok")
        assert link is not None and link.used_by == 502
        assert await tx.caller_link("other") is None


async def test_erasing_a_reporter_scrubs_their_words_and_keeps_the_link_spent(
    store: Store,
) -> None:
    async with store.transaction() as tx:
        call = await incident(tx, 9, Source.CALL)
        await tx.add_caller_link("tok", call, 9, NOW, NOW + timedelta(hours=24))
        await tx.use_caller_link("tok", 502, NOW)
        await tx.join_incident(call, 502, "link", NOW)
        said = NewInfo(author_id=502, text="Api di lantai 2", latitude=-2.2, longitude=113.9)
        answer = await tx.add_info(call, InfoKind.ADDITION, InfoState.POSTED, said, NOW)
        note = await tx.add_info(
            call, InfoKind.NOTE, InfoState.POSTED, NewInfo(author_id=9, text="Tangki 2"), NOW
        )
        await tx.set_info_fills(note, Gap.ACCESS)
        assert await tx.scrub_info_of(502) == [call]
        scrubbed = await tx.info(answer)
        assert scrubbed is not None
        assert (scrubbed.author_id, scrubbed.text, scrubbed.latitude) == (None, "", None)
        kept = await tx.info(note)
        assert kept is not None and kept.text == "Tangki 2" and kept.fills is Gap.ACCESS
        assert await tx.reporters_of(call) == []
        assert not await tx.use_caller_link("tok", 503, NOW)  # still spent
