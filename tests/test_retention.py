"""Retention: a week after an incident closed, the outbox keeps only references to what was
sent about it; a year after, its reporter is no longer named anywhere in the file; open
incidents keep everything their cards need; the space is given back."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest

from bench.common import add_agencies, add_incidents
from bot.services.retention import RetentionService
from bot.settings import load_settings
from bot.simulator import SimUser, TelegramSimulator
from bot.store import Store
from models.clock import ManualClock
from tests.harness import BotHarness
from tests.scenario import City, build_city, report
from tests.test_erasure import PHONE_FORMS, in_files

ANI_WORDS = ("Lestari", "ani_pky", *PHONE_FORMS)


async def _city_with_a_closed_fire(
    sim: TelegramSimulator, harness: BotHarness
) -> tuple[City, ManualClock, SimUser, int, int, SimUser]:
    """Ani (with her number) reports a fire that is resolved; Budi reports one that stays open."""
    clock = ManualClock()
    city = await build_city(sim, harness, clock=clock)
    ani = sim.add_user("Ani", last_name="Lestari", username="ani_pky", language_code="id")
    budi = sim.add_user("Budi", last_name="Santoso", username="budi_s", language_code="id")
    for person in (ani, budi):
        await harness.says(person, "/start")
    fire = await report(city, ani)  # her contact: +62 812-5555-0101
    still_open = await report(city, budi, share_phone=False, description="Gudang terbakar")
    await harness.settle()
    await harness.services.incidents.resolve(fire, city.dispatcher.id)
    await harness.settle()
    return city, clock, ani, fire, still_open, budi


def _outbox_payloads(database: Path) -> list[str]:
    with sqlite3.connect(database) as db:
        return [str(row[0]) for row in db.execute("SELECT payload FROM outbox")]


def _incident(database: Path, number: int) -> dict[str, object]:
    with sqlite3.connect(database) as db:
        db.row_factory = sqlite3.Row
        row = db.execute("SELECT * FROM incidents WHERE id = ?", (number,)).fetchone()
        return dict(row)


async def test_a_week_after_closing_the_outbox_keeps_only_references(
    sim: TelegramSimulator, harness: BotHarness
) -> None:
    city, clock, _ani, fire, still_open, _budi = await _city_with_a_closed_fire(sim, harness)
    database = harness.database_path
    retention = harness.services.retention
    card_before = city.card("damkar", fire).text

    done = await retention.run()
    assert done.outbox_reduced == 0, "nothing is a week old yet"
    assert any("ani_pky" in p or "Lestari" in p for p in _outbox_payloads(database))

    clock.advance(timedelta(days=8))
    done = await retention.run()
    assert done.outbox_reduced > 0
    assert done.incidents_erased == 0, "the reporter's data is kept for a year"
    payloads = _outbox_payloads(database)
    assert not [p for p in payloads if any(word in p for word in ANI_WORDS)]
    # The open incident keeps its rows whole: its cards are still edited and pressed.
    assert any("Gudang terbakar" in p for p in payloads)
    # The incident itself still names its reporter and number until the year is over.
    assert _incident(database, fire)["reporter_phone"] is not None
    # Nothing in the chats was touched: the card in the group is as it was.
    assert city.card("damkar", fire).text == card_before

    # The closed call's settled reminders went; the open call's pending ones stay.
    with sqlite3.connect(database) as db:
        left = dict(
            db.execute(
                "SELECT incident_id, COUNT(*) FROM reminders WHERE incident_id IN (?, ?) "
                "GROUP BY incident_id",
                (fire, still_open),
            ).fetchall()
        )
    assert done.reminders_dropped > 0
    assert fire not in left and left.get(still_open, 0) > 0

    # A second run finds nothing new.
    again = await retention.run()
    assert again.outbox_reduced == 0

    # The bot goes on as before: Damkar acknowledges the open call and its card is edited.
    rudi = city.crews["damkar"][0]
    query = await sim.press_button(rudi, city.card("damkar", still_open), text="✅ Terima")
    await harness.settle()
    assert query.answered
    assert "Rudi" in (city.card("damkar", still_open).text or "")


async def test_a_year_after_closing_the_reporter_is_named_nowhere(
    sim: TelegramSimulator, harness: BotHarness
) -> None:
    city, clock, ani, fire, still_open, budi = await _city_with_a_closed_fire(sim, harness)
    database = harness.database_path
    assert in_files(database, *ANI_WORDS), "the search below can find her"

    clock.advance(timedelta(days=366))
    done = await harness.services.retention.run()
    assert done.incidents_erased == 1
    assert done.people_forgotten >= 1  # Ani: she only ever reported
    assert in_files(database, *ANI_WORDS) == []
    row = _incident(database, fire)
    assert (row["reporter_id"], row["reporter_phone"], row["caller_name"]) == (None, None, None)
    # What happened stays, for the statistics.
    assert row["type"] and row["description"] and row["closed_at"]
    # The open incident's reporter keeps his name; so do the responders and the dispatcher.
    assert _incident(database, still_open)["reporter_id"] == budi.id
    with sqlite3.connect(database) as db:
        kept = {
            str(r[0]) for r in db.execute("SELECT username FROM users WHERE username IS NOT NULL")
        }
    assert {"budi_s", "rudi", "dita"} <= kept
    assert "ani_pky" not in kept

    # The incident can still be looked up, without her.
    view = await harness.says(city.dispatcher, f"/kejadian {fire}")
    await harness.settle()
    assert f"#{fire}" in (view.text or "")
    assert not any(word in (view.text or "") for word in ANI_WORDS)
    # If she comes back she is simply known again.
    await harness.says(ani, "/start")
    with sqlite3.connect(database) as db:
        assert db.execute("SELECT username FROM users WHERE id = ?", (ani.id,)).fetchone() == (
            "ani_pky",
        )


async def test_the_space_is_given_back(tmp_path: Path) -> None:
    """300 closed incidents with their cards' copies: reduced, the pages freed go back to the
    file system and the write-ahead log is emptied."""
    clock = ManualClock()
    path = tmp_path / "siaga112.db"
    settings = load_settings(_env_file=None, database_path=path)
    async with Store(path, clock) as store:
        assert await store.pragma("auto_vacuum") == 2  # incremental: a new file takes it at once
        agencies = await add_agencies(store, {"damkar": -1001, "relawan": -1002})
        await add_incidents(store, 300, agencies, open_count=0, spread=timedelta(days=1))
        await store.purge_wal()
        size = path.stat().st_size
        clock.advance(timedelta(days=400))
        done = await RetentionService(store, clock, settings).run()
        assert done.outbox_reduced == 300 * 2 * 2  # a card and its last edit, per agency
        with sqlite3.connect(path) as db:
            refs = db.execute("SELECT COUNT(*) FROM message_refs").fetchone()
        assert refs == (300 * 2,), "each card's reference stays"
        assert done.pages_freed > 0
        assert await store.pragma("freelist_count") == 0
        assert path.stat().st_size < size
        wal = Path(str(path) + "-wal")
        assert not wal.exists() or wal.stat().st_size == 0


async def test_admins_of_the_settings_are_not_forgotten(
    sim: TelegramSimulator, harness: BotHarness
) -> None:
    city, clock, _ani, _fire, _open, _budi = await _city_with_a_closed_fire(sim, harness)
    clock.advance(timedelta(days=366))
    await harness.services.retention.run()
    with sqlite3.connect(harness.database_path) as db:
        found = db.execute("SELECT username FROM users WHERE id = ?", (city.admin.id,)).fetchone()
    assert found == ("yusuf",)


async def test_the_nightly_jobs_are_scheduled(sim: TelegramSimulator, harness: BotHarness) -> None:
    await build_city(sim, harness)
    assert harness.app is not None and harness.app.job_queue is not None
    names = {job.name for job in harness.app.job_queue.jobs()}
    assert {"maintenance", "maintenance-start"} <= names


async def test_an_older_file_is_converted_once(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    async with Store(path):
        pass
    with sqlite3.connect(path) as db:  # as files were before retention
        db.execute("PRAGMA auto_vacuum = NONE")
        db.execute("VACUUM")
        assert db.execute("PRAGMA auto_vacuum").fetchone() == (0,)
    async with Store(path) as store:
        assert await store.pragma("auto_vacuum") == 2
        assert await store.pending_migrations() == []
    # `siaga112 check` only reads: it never converts (nor creates) anything.
    with sqlite3.connect(path) as db:
        db.execute("PRAGMA auto_vacuum = NONE")
        db.execute("VACUUM")
    store = Store(path)
    await store.open(apply_migrations=False)
    try:
        assert await store.pragma("auto_vacuum") == 0
    finally:
        await store.close()


async def test_a_new_file_needs_no_conversion(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("INFO", logger="bot.store")
    async with Store(tmp_path / "new.db") as store:
        assert await store.pragma("auto_vacuum") == 2
        assert await store.pragma("journal_mode") == "wal"
    assert "converting" not in caplog.text


async def test_a_conversion_held_up_does_not_stop_the_start(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "old.db"
    async with Store(path):
        pass
    with sqlite3.connect(path) as db:
        db.execute("PRAGMA auto_vacuum = NONE")
        db.execute("VACUUM")
    writer = sqlite3.connect(path, isolation_level=None)
    try:
        writer.execute("BEGIN IMMEDIATE")  # another process in the middle of a write
        store = Store(path)
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr("bot.store.BUSY_TIMEOUT_MS", 100)
            await store.open()
        try:
            assert await store.pragma("auto_vacuum") == 0  # not converted, and running
            assert "could not convert" in caplog.text
        finally:
            await store.close()
    finally:
        writer.execute("ROLLBACK")
        writer.close()
    async with Store(path) as store:  # the next start converts it
        assert await store.pragma("auto_vacuum") == 2


@pytest.mark.parametrize(
    ("setting", "value"), [("OUTBOX_RETENTION_DAYS", "0"), ("PERSONAL_DATA_RETENTION_DAYS", "7")]
)
def test_a_retention_too_short_is_refused(tmp_path: Path, setting: str, value: str) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "bot", "maintenance"],
        capture_output=True,
        text=True,
        env={"DATABASE_PATH": str(tmp_path / "x.db"), setting: value, "PATH": "/usr/bin:/bin"},
        cwd=tmp_path,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2, done.stderr
    assert setting in done.stderr


def test_maintenance_from_the_command_line(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "bot", "maintenance"],
        capture_output=True,
        text=True,
        env={"DATABASE_PATH": str(tmp_path / "x.db"), "PATH": "/usr/bin:/bin"},
        cwd=tmp_path,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "0 sent messages reduced" in done.stdout
    assert "MB" in done.stdout
