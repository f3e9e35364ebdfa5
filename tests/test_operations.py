"""Operating the bot: online backup and restore, inspecting the outbox, and `siaga112 check`.

The commands run in-process through `bot.cli.main` with settings in the environment, against a
real database file that other connections (standing in for the running bot) write to.
"""

from __future__ import annotations

import asyncio
import logging
import random
import shutil
import sqlite3
import sys
import threading
import types
from collections.abc import Iterator
from contextlib import closing
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.cli import main
from bot.settings import Settings
from bot.simulator import TelegramSimulator
from bot.store import Store
from bot.store.maintenance import backup_database
from models.clock import ManualClock
from models.incident_types import IncidentType
from models.incidents import Hurt, Location, Severity, Source
from models.outbox import OutboxStatus, OutgoingMessage, SendMethod

SETTING_NAMES = (
    "TELEGRAM_BOT_TOKEN",
    "TELEGRAM_API_BASE_URL",
    "DATABASE_PATH",
    "TIMEZONE",
    "DEFAULT_LANGUAGE",
    "ADMIN_USER_IDS",
    "LOG_LEVEL",
)
GROUP = -1001234567890
FAKE_TOKEN = "123456789:AAE" + "x" * 32


@pytest.fixture
def db(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Path]:
    """DATABASE_PATH of a migrated database, in a working directory without a .env."""
    monkeypatch.chdir(tmp_path)
    for name in SETTING_NAMES:
        monkeypatch.delenv(name, raising=False)
    path = tmp_path / "data" / "siaga112.db"
    monkeypatch.setenv("DATABASE_PATH", str(path))
    asyncio.run(_migrate(path))
    # `main` installs its own log handler on the root logger, bound to this test's captured
    # stderr; put pytest's back so later tests do not log into a closed stream.
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield path
    root.handlers[:] = handlers
    root.setLevel(level)


async def _migrate(path: Path) -> None:
    async with Store(path):
        pass


def _message(text: str, chat_id: int = GROUP) -> OutgoingMessage:
    return OutgoingMessage(chat_id, SendMethod.SEND_MESSAGE, {"text": text})


async def _seed(path: Path, *, incidents: int = 0, messages: int = 0, size: int = 0) -> None:
    """Incidents and pending messages, as the bot would have written them."""
    async with Store(path) as store, store.transaction() as tx:
        now = store.clock.now()
        for number in range(incidents):
            await tx.create_incident(
                kind=IncidentType.FIRE,
                severity=Severity.HIGH,
                source=Source.CALL,
                reporter_id=None,
                reporter_phone=None,
                location=Location(None, None, f"Jalan Tjilik Riwut km {number}"),
                description="Rumah terbakar",
                hurt=Hurt.UNKNOWN,
                hurt_count=None,
                photos=[],
                now=now,
            )
        for number in range(messages):
            await tx.enqueue(_message(f"seed {number} " + "x" * size), now)


class BotWriting:
    """A stand-in for the running bot: commits one outbox message at a time on its own
    connection, in its own thread, until stopped; `committed` counts what has committed."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.committed = 0
        self.started = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=lambda: asyncio.run(self._write()))

    async def _write(self) -> None:
        async with Store(self.path) as store:
            while not self._stop.is_set():
                async with store.transaction() as tx:
                    await tx.enqueue(_message(f"live {self.committed}"), store.clock.now())
                self.committed += 1
                if self.committed >= 20:
                    self.started.set()

    def __enter__(self) -> BotWriting:
        self._thread.start()
        assert self.started.wait(10), "the writer never got going"
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        self._thread.join(10)


# --- backup and restore ---


def test_a_backup_taken_while_the_bot_writes_is_one_consistent_moment(
    db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The copy opens, is intact, and holds exactly the messages committed before some moment
    during the backup: a prefix of what the bot wrote, never half a transaction."""
    asyncio.run(_seed(db, incidents=3, messages=1500, size=2000))  # a few MB to copy
    target = tmp_path / "backups" / "nightly" / "siaga112-2026-01-01.db"
    during: list[int] = []  # commits when the copy started and when it ended

    def copy_while_counting(source: Path, partial: Path) -> None:
        during.append(bot.committed)
        backup_database(source, partial)
        during.append(bot.committed)

    monkeypatch.setattr("bot.cli.backup_database", copy_while_counting)
    with BotWriting(db) as bot:
        assert main(["backup", str(target)]) == 0
    before, after = during
    assert after > before, "the bot did not write during the backup"

    with closing(sqlite3.connect(target)) as copy:
        assert copy.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        payloads = [row[0] for row in copy.execute("SELECT payload FROM outbox ORDER BY id")]
        incidents = copy.execute("SELECT COUNT(*) FROM incidents").fetchone()[0]
    live = [payload for payload in payloads if '"text":"live ' in payload]
    assert len(payloads) - len(live) == 1500
    assert before <= len(live) <= after
    assert live == [f'{{"text":"live {number}"}}' for number in range(len(live))]
    assert incidents == 3

    out = capsys.readouterr().out
    assert str(target) in out
    assert "integrity ok" in out
    assert f"3 incident(s), {len(payloads)} message(s) pending" in out
    assert "MB" in out
    assert sorted(p.name for p in target.parent.iterdir()) == [target.name]  # no temp left


def test_a_backup_never_overwrites_unless_forced(
    db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "siaga112.bak"
    target.write_text("last night's backup")
    assert main(["backup", str(target)]) == 2
    err = capsys.readouterr().err
    assert "already exists" in err
    assert "--force" in err
    assert "Traceback" not in err
    assert target.read_text() == "last night's backup"

    assert main(["backup", "--force", str(target)]) == 0
    with closing(sqlite3.connect(target)) as copy:
        assert copy.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data", "siaga112.bak"]


def test_a_backup_that_fails_halfway_leaves_nothing_under_the_name(
    db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def disk_full_halfway(source: Path, partial: Path) -> None:
        partial.write_bytes(b"SQLite format 3\x00" + b"\x00" * 1000)
        raise sqlite3.OperationalError("database or disk is full")

    monkeypatch.setattr("bot.cli.backup_database", disk_full_halfway)
    target = tmp_path / "backups" / "siaga112.db"
    assert main(["backup", str(target)]) == 2
    assert "database or disk is full" in capsys.readouterr().err
    assert list(target.parent.iterdir()) == []


def test_a_backup_of_a_missing_or_unmigrated_database_exits_2(
    db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "out" / "copy.db"
    monkeypatch.setenv("DATABASE_PATH", str(tmp_path / "nowhere.db"))
    assert main(["backup", str(target)]) == 2
    err = capsys.readouterr().err
    assert "no database at" in err
    assert not (tmp_path / "nowhere.db").exists()  # a backup never creates the source

    empty = tmp_path / "empty.db"
    sqlite3.connect(empty).close()
    monkeypatch.setenv("DATABASE_PATH", str(empty))
    assert main(["backup", str(target)]) == 2
    err = capsys.readouterr().err
    assert "siaga112 migrate" in err
    assert "Traceback" not in err
    assert list(target.parent.iterdir()) == []  # nothing half-made under any name


def test_a_backup_to_an_unwritable_path_exits_2(
    db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "blocker").write_text("a file, not a directory")
    assert main(["backup", str(tmp_path / "blocker" / "copy.db")]) == 2
    err = capsys.readouterr().err
    assert "Cannot write the backup" in err
    assert "Traceback" not in err


def test_the_restore_recipe_brings_back_the_backed_up_state(
    db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """README's restore: stop the bot, copy the backup over DATABASE_PATH, remove the stale
    -wal and -shm, `siaga112 check`'s database lines, start."""
    asyncio.run(_seed(db, incidents=2, messages=5))
    backup = tmp_path / "siaga112-backup.db"
    assert main(["backup", str(backup)]) == 0

    async def work_after_the_backup() -> None:
        async with Store(db) as store, store.transaction() as tx:
            await tx.enqueue(_message("after the backup"), store.clock.now())

    asyncio.run(work_after_the_backup())
    # What a stopped (or killed) bot may leave beside the database.
    Path(f"{db}-wal").write_bytes(b"stale write-ahead log")
    Path(f"{db}-shm").write_bytes(b"stale shared memory")

    shutil.copyfile(backup, db)
    Path(f"{db}-wal").unlink(missing_ok=True)
    Path(f"{db}-shm").unlink(missing_ok=True)

    async def what_the_bot_sees() -> tuple[int, int, list[str]]:
        async with Store(db) as store:
            assert await store.pending_migrations() == []
            async with store.read() as tx:
                problems = await tx.integrity_problems()
                pending = await tx.outbox_items((OutboxStatus.PENDING,))
                return await tx.count_incidents(), len(pending), problems

    incidents, pending, problems = asyncio.run(what_the_bot_sees())
    assert (incidents, pending, problems) == (2, 5, [])


# --- the outbox ---


async def _outbox_with_problems(path: Path) -> dict[str, int]:
    """A sent message, two pending (one waiting 10 minutes), two parked (one newer)."""
    earlier = ManualClock(datetime.now(UTC) - timedelta(minutes=10))
    ids: dict[str, int] = {}
    async with Store(path, earlier) as store, store.transaction() as tx:
        now = store.clock.now()
        ids["sent"] = await tx.enqueue(_message("delivered fine", chat_id=1), now)
        item = await tx.outbox_item(ids["sent"])
        assert item is not None
        await tx.mark_sent(item, 77, now)
        ids["old parked"] = await tx.enqueue(_message("<b>unclosed tag", chat_id=2), now)
        ids["stuck"] = await tx.enqueue(_message("waiting since long ago"), now)
    async with Store(path) as store, store.transaction() as tx:
        now = store.clock.now()
        ids["new parked"] = await tx.enqueue(_message("Laporan #7 " + "panjang " * 40, 3), now)
        ids["fresh"] = await tx.enqueue(_message("just written", chat_id=4), now)
        for name, error in (
            ("old parked", "BadRequest: can't parse entities: unclosed start tag"),
            ("new parked", f"NetworkError: POST https://api.telegram.org/bot{FAKE_TOKEN}/x"),
        ):
            item = await tx.outbox_item(ids[name])
            assert item is not None
            await tx.park(item, error)
    return ids


def test_outbox_lists_parked_then_pending_newest_first_without_tokens(
    db: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ids = asyncio.run(_outbox_with_problems(db))
    assert main(["outbox"]) == 0
    out = capsys.readouterr().out
    headers = [line for line in out.splitlines() if line.startswith("#")]
    order = [int(line.split()[0][1:]) for line in headers]
    assert order == [ids["new parked"], ids["old parked"], ids["fresh"], ids["stuck"]]
    assert out.splitlines()[0] == (
        "outbox: warning: 2 pending, the oldest waiting 10 min; 2 parked (see `siaga112 outbox`)"
    )
    old_parked = next(line for line in headers if line.startswith(f"#{ids['old parked']} "))
    assert "parked sendMessage to chat 2, 1 attempt, created 10 min ago" in old_parked
    assert "error: BadRequest: can't parse entities: unclosed start tag" in out
    assert 'payload: text="<b>unclosed tag"' in out
    assert "…" in out  # the long text is cut to a preview
    assert FAKE_TOKEN not in out
    assert "bot<token>/x" in out

    assert main(["outbox", "--limit", "1"]) == 0
    out = capsys.readouterr().out
    assert [line.split()[0] for line in out.splitlines() if line.startswith("#")] == [
        f"#{ids['new parked']}"
    ]
    assert "(1 of 4 shown; --limit N shows more)" in out

    assert main(["outbox", "--all"]) == 0
    out = capsys.readouterr().out
    assert f"#{ids['sent']} sent sendMessage to chat 1" in out


def test_requeue_puts_a_parked_item_back_in_line(
    db: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ids = asyncio.run(_outbox_with_problems(db))
    assert main(["outbox", "--requeue", str(ids["old parked"])]) == 0
    out = capsys.readouterr().out
    assert f"Outbox item {ids['old parked']} (sendMessage to chat 2) is pending again" in out
    assert "unclosed start tag" in out

    async def the_item() -> tuple[OutboxStatus, int, str | None]:
        async with Store(db) as store, store.read() as tx:
            item = await tx.outbox_item(ids["old parked"])
            assert item is not None
            return item.status, item.attempts, item.last_error

    assert asyncio.run(the_item()) == (OutboxStatus.PENDING, 0, None)

    assert main(["outbox", "--requeue", str(ids["sent"])]) == 1
    assert "is sent, not parked; nothing changed" in capsys.readouterr().out
    assert main(["outbox", "--requeue", "9999"]) == 1
    assert "There is no outbox item 9999" in capsys.readouterr().out


def test_outbox_on_a_missing_database_exits_2(
    db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DATABASE_PATH", str(tmp_path / "typo.db"))
    assert main(["outbox"]) == 2
    assert "There is no database at" in capsys.readouterr().err
    assert not (tmp_path / "typo.db").exists()


# --- check ---


async def test_check_warns_about_a_backlog_and_an_unreachable_chat(
    db: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    await _outbox_with_problems(db)
    async with Store(db) as store, store.transaction() as tx:
        await tx.mark_unreachable(555, "Forbidden: bot was blocked by the user", store.clock.now())
    async with TelegramSimulator() as sim:
        monkeypatch.setenv("TELEGRAM_BOT_TOKEN", sim.token)
        monkeypatch.setenv("TELEGRAM_API_BASE_URL", sim.base_url)
        status = await asyncio.to_thread(main, ["check"])
    out = capsys.readouterr().out
    assert status == 0, out  # warnings, not failures
    assert "integrity: ok" in out
    assert "outbox: warning: 2 pending, the oldest waiting 10 min; 2 parked" in out
    assert "unreachable chats: warning: 1 chat(s) refuse the bot" in out
    assert "chat 555 since " in out
    assert "Forbidden: bot was blocked by the user" in out
    assert f"telegram: ok (@{sim.bot_username}" in out


async def test_check_reports_a_healthy_database_plainly(
    db: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    async with TelegramSimulator() as sim:
        monkeypatch.setenv("TELEGRAM_BOT_TOKEN", sim.token)
        monkeypatch.setenv("TELEGRAM_API_BASE_URL", sim.base_url)
        assert await asyncio.to_thread(main, ["check"]) == 0
    out = capsys.readouterr().out
    assert "outbox: ok (nothing pending or parked)" in out
    assert "unreachable chats: none" in out


async def test_check_fails_on_a_damaged_database_file(
    db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    await _seed(db, messages=400, size=1000)
    damaged = tmp_path / "damaged.db"
    shutil.copyfile(db, damaged)  # the store closed cleanly: no -wal to carry along
    page = 4096
    middle = damaged.stat().st_size // 2 // page * page
    with damaged.open("r+b") as file:
        file.seek(middle)
        file.write(random.Random(112).randbytes(page))
    monkeypatch.setenv("DATABASE_PATH", str(damaged))
    async with TelegramSimulator() as sim:
        monkeypatch.setenv("TELEGRAM_BOT_TOKEN", sim.token)
        monkeypatch.setenv("TELEGRAM_API_BASE_URL", sim.base_url)
        status = await asyncio.to_thread(main, ["check"])
    out = capsys.readouterr().out
    assert status == 1
    assert f"integrity: FAILED for {damaged}" in out
    assert "restore the latest backup" in out


# --- run --webhook ---


def test_run_webhook_serves_through_bot_webhook(db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    served: list[Settings] = []

    async def serve_webhook(app: object, settings: Settings) -> None:
        served.append(settings)

    fake = types.ModuleType("bot.runtime.webhook")
    fake.serve_webhook = serve_webhook  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "bot.runtime.webhook", fake)
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", FAKE_TOKEN)
    assert main(["run", "--webhook"]) == 0
    assert [settings.database_path for settings in served] == [db]
