"""Migrations: from a blank database, applied twice, and refused when a landed one changed."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import aiosqlite
import pytest

from bot.store import MigrationError, Store
from bot.store.migrator import Migration, bundled_migrations, migrate

NOW = datetime(2026, 11, 27, 3, 0, tzinfo=UTC)


def test_bundled_migrations_are_numbered_and_ordered() -> None:
    names = [migration.name for migration in bundled_migrations()]
    assert names, "no migrations found in the package"
    assert names[0] == "0001_initial.sql"
    assert names == sorted(names)
    numbers = [int(name[:4]) for name in names]
    assert numbers == list(range(1, len(numbers) + 1)), "migration numbers must have no gaps"


async def test_blank_database_gets_every_migration_then_nothing_more(tmp_path: Path) -> None:
    path = tmp_path / "fresh.db"
    store = Store(path)
    applied = await store.open()
    assert applied == [migration.name for migration in bundled_migrations()]
    assert await store.pending_migrations() == []
    await store.close()

    again = Store(path)
    assert await again.open() == []
    async with again.read() as tx, tx.db.execute("SELECT COUNT(*) FROM schema_migrations") as cur:
        row = await cur.fetchone()
    assert row is not None
    assert row[0] == len(applied)
    await again.close()


async def test_store_pragmas(tmp_path: Path) -> None:
    async with Store(tmp_path / "p.db") as store:
        assert await store.pragma("journal_mode") == "wal"
        assert await store.pragma("synchronous") == 2  # FULL
        assert await store.pragma("foreign_keys") == 1
        assert int(str(await store.pragma("busy_timeout"))) >= 1000


async def test_changed_migration_is_refused(tmp_path: Path) -> None:
    original = [Migration("0001_a.sql", "CREATE TABLE a (x INTEGER);\n")]
    changed = [Migration("0001_a.sql", "CREATE TABLE a (x INTEGER, y TEXT);\n")]
    async with aiosqlite.connect(tmp_path / "m.db", isolation_level=None) as db:
        assert await migrate(db, NOW, original) == ["0001_a.sql"]
        with pytest.raises(MigrationError, match="changed after it was applied"):
            await migrate(db, NOW, changed)


async def test_vanished_migration_is_refused(tmp_path: Path) -> None:
    first = [Migration("0001_a.sql", "CREATE TABLE a (x INTEGER);\n")]
    async with aiosqlite.connect(tmp_path / "m.db", isolation_level=None) as db:
        await migrate(db, NOW, first)
        with pytest.raises(MigrationError, match="missing"):
            await migrate(db, NOW, [])


async def test_failing_migration_is_rolled_back_whole(tmp_path: Path) -> None:
    good = Migration("0001_a.sql", "CREATE TABLE a (x INTEGER);\n")
    bad = Migration("0002_b.sql", "CREATE TABLE b (y INTEGER);\nINSERT INTO nowhere VALUES (1);\n")
    async with aiosqlite.connect(tmp_path / "m.db", isolation_level=None) as db:
        with pytest.raises(MigrationError, match=r"0002_b\.sql"):
            await migrate(db, NOW, [good, bad])
        async with db.execute("SELECT name FROM sqlite_master WHERE name = 'b'") as cursor:
            assert await cursor.fetchone() is None, "half a migration was left behind"
        async with db.execute("SELECT name FROM schema_migrations") as cursor:
            assert [row[0] async for row in cursor] == ["0001_a.sql"]


def test_statements_keep_triggers_whole() -> None:
    sql = (
        "-- header\nCREATE TABLE t (x INTEGER);\n"
        "CREATE TRIGGER t_ins AFTER INSERT ON t BEGIN\n  SELECT 1;\n  SELECT 2;\nEND;\n"
    )
    statements = Migration("0001_t.sql", sql).statements()
    assert len(statements) == 2
    assert statements[1].startswith("CREATE TRIGGER") and statements[1].endswith("END;")


def test_unterminated_statement_is_an_error() -> None:
    with pytest.raises(MigrationError, match="not terminated"):
        Migration("0001_t.sql", "CREATE TABLE t (x INTEGER)").statements()


async def test_unwritable_database_path_is_a_clear_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    from bot.store import DatabaseError

    with pytest.raises(DatabaseError, match="DATABASE_PATH"):
        await Store(blocker / "sub" / "x.db").open()


async def test_not_a_database_is_a_clear_error(tmp_path: Path) -> None:
    from bot.store import DatabaseError

    junk = tmp_path / "junk.db"
    junk.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(DatabaseError, match="SQLite database"):
        await Store(junk).open()


async def test_0009_keeps_every_reminder_while_rebuilding_their_table(tmp_path: Path) -> None:
    migrations = bundled_migrations()
    before = [m for m in migrations if m.name < "0009"]
    async with aiosqlite.connect(tmp_path / "r.db", isolation_level=None) as db:
        await migrate(db, NOW, before)
        await db.execute(
            """
            INSERT INTO reminders (id, kind, incident_id, agency_id, due_at, attempt, state,
                                   created_at, fired_at)
            VALUES (7, 'ack', 3, 2, '2026-11-27T03:05:00.000000Z', 1, 'pending',
                    '2026-11-27T03:00:00.000000Z', '2026-11-27T03:02:00.000000Z')
            """
        )
        await migrate(db, NOW, migrations)
        async with db.execute(
            "SELECT id, kind, incident_id, agency_id, due_at, attempt, state, fired_at, "
            "broadcast_id, chat_id FROM reminders"
        ) as cursor:
            rows = [tuple(row) async for row in cursor]
        assert rows == [
            (
                7,
                "ack",
                3,
                2,
                "2026-11-27T03:05:00.000000Z",
                1,
                "pending",
                "2026-11-27T03:02:00.000000Z",
                None,
                None,
            )
        ]
        for bad in (
            "INSERT INTO reminders (kind, due_at, created_at) VALUES ('broadcast', 'x', 'x')",
            "INSERT INTO reminders (kind, due_at, created_at) VALUES ('ack', 'x', 'x')",
            "INSERT INTO reminders (kind, incident_id, broadcast_id, chat_id, due_at, created_at) "
            "VALUES ('broadcast', 1, 1, 1, 'x', 'x')",
        ):
            with pytest.raises(aiosqlite.IntegrityError):
                await db.execute(bad)
        async with db.execute(
            "SELECT name FROM sqlite_master WHERE tbl_name = 'reminders' AND type = 'index'"
        ) as cursor:
            indexes = {row[0] async for row in cursor}
        assert {"reminders_one_pending", "reminders_due", "reminders_pending_incident"} <= indexes


async def test_0011_keeps_the_buttons_of_messages_sent_before_it(tmp_path: Path) -> None:
    """Cards, task cards and escalations sent before the press pipeline keep working: what they
    show is read back from the outbox, the newest sent text of each."""
    migrations = bundled_migrations()
    before = [m for m in migrations if m.name < "0011"]
    card = '{"inline_keyboard":[[{"text":"Terima","callback_data":"1|ack|3|2"},' + (
        '{"text":"Tugaskan","callback_data":"1|asg|3|2"}],[{"text":"Kelola","callback_data":'
        '"1|mg|3"}]]}'
    )
    edited = '{"inline_keyboard":[[{"text":"Tugaskan","callback_data":"1|asg|3|2"}]]}'
    escalation = '{"inline_keyboard":[[{"text":"Atas nama","callback_data":"1|ack.for|3|2"}]]}'
    at = "2026-11-27T03:00:00.000000Z"
    async with aiosqlite.connect(tmp_path / "b.db", isolation_level=None) as db:
        await migrate(db, NOW, before)
        rows = [
            (1, -100, "sendMessage", f'{{"text":"#3","message_thread_id":9,"reply_markup":{card}}}',
             "card:3:2", None, "sent", 41),
            (2, -100, "editMessageText", f'{{"text":"#3 diterima","reply_markup":{edited}}}',
             None, "card:3:2", "sent", None),
            (3, -100, "editMessageText", '{"text":"#3 later","reply_markup":{}}',
             None, "card:3:2", "pending", None),
            (4, -200, "sendMessage", f'{{"text":"Eskalasi","reply_markup":{escalation}}}',
             None, None, "sent", 7),
            (5, -200, "sendMessage", '{"text":"plain"}', None, None, "sent", 8),
        ]  # fmt: skip
        for row in rows:
            await db.execute(
                "INSERT INTO outbox (id, chat_id, method, payload, priority, ref, target_ref, "
                "status, message_id, not_before, created_at) VALUES (?, ?, ?, ?, 10, ?, ?, ?, ?, "
                "?, ?)",
                (*row, at, at),
            )
        await db.execute(
            "INSERT INTO message_refs (ref, chat_id, message_id, updated_at) "
            "VALUES ('card:3:2', -100, 41, ?)",
            (at,),
        )
        await migrate(db, NOW, migrations)
        async with db.execute(
            "SELECT chat_id, message_id, ref, thread_id, buttons, text_digest, markup_digest "
            "FROM bot_messages ORDER BY chat_id"
        ) as cursor:
            found = [tuple(row) async for row in cursor]
    assert found == [
        (-200, 7, None, None, '["1|ack.for|3|2"]', None, None),
        # The newest sent text (the pending edit is not shown yet), in the card's first topic.
        (-100, 41, "card:3:2", 9, '["1|asg|3|2"]', None, None),
    ]
