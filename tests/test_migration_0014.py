"""Migration 0014: the tables lose their CHECK lists of kinds and keep everything else.

A database at 0013 with live rows in every rebuilt table (an open incident with responses, an
assignment and posts, pending reminders, an outbox row waiting and one sent, a broadcast with its
deliveries and receipts, a conversation, agency members, roles) is migrated the way the bot does
it at start-up (`Store.open`, foreign keys on), then compared with what it was.
"""

from __future__ import annotations

import json
import re
import sqlite3
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

import aiosqlite
import pytest

from bot.store import MigrationError, Store
from bot.store.migrator import bundled_migrations, migrate
from models.agencies import AgencyKind, Role
from models.broadcast import BroadcastStatus, TargetKind, Urgency
from models.incidents import AssignmentStatus, Hurt, Lifecycle, ResponseStatus, Severity, Source
from models.outbox import OutboxStatus
from models.reminders import ReminderKind, ReminderState

NOW = datetime(2026, 11, 27, 3, 0, tzinfo=UTC)
AT = "2026-11-27T03:00:00.000000Z"
LATER = "2026-11-27T03:05:00.000000Z"
MIGRATION = "0014_kinds_without_check_lists.sql"

REBUILT = (
    "outbox",
    "agencies",
    "user_roles",
    "incidents",
    "responses",
    "assignments",
    "broadcasts",
    "reminders",
)

# The enum each removed CHECK list stood for: the store writes these values and reads every row
# back through the enum, so a value none of them knows fails loudly on read.
ENUM_OF_COLUMN: dict[tuple[str, str], type[StrEnum]] = {
    ("outbox", "status"): OutboxStatus,
    ("agencies", "kind"): AgencyKind,
    ("user_roles", "role"): Role,
    ("incidents", "severity"): Severity,
    ("incidents", "lifecycle"): Lifecycle,
    ("incidents", "source"): Source,
    ("incidents", "hurt"): Hurt,
    ("responses", "status"): ResponseStatus,
    ("assignments", "status"): AssignmentStatus,
    ("broadcasts", "status"): BroadcastStatus,
    ("broadcasts", "urgency"): Urgency,
    ("broadcasts", "target_kind"): TargetKind,
    ("reminders", "kind"): ReminderKind,
    ("reminders", "state"): ReminderState,
}

# The statement `OutboxQueries.mark_sent` runs: the outbox's triggers answer to it.
MARK_SENT = """
    UPDATE outbox SET status = 'sent', sent_at = ?, message_id = ?, shows = ?,
                      attempts = attempts + 1, last_error = NULL, attempted_at = NULL
    WHERE id = ? AND status = 'pending'
"""

CARD = {
    "text": "#1 Kebakaran",
    "message_thread_id": 5,
    "reply_markup": {"inline_keyboard": [[{"text": "Terima", "callback_data": "1|ack|1|2"}]]},
}


def _shows(text: str, *buttons: str) -> str:
    return json.dumps({"text": text, "markup": f"m-{text}", "buttons": list(buttons)})


async def _database_at_0013(path: Path) -> None:
    """Every migration before 0014, then the rows a running bot would have, foreign keys on."""
    async with aiosqlite.connect(path, isolation_level=None) as db:
        await db.execute("PRAGMA foreign_keys = ON")
        await migrate(db, NOW, [m for m in bundled_migrations() if m.name < "0014"])
    seed = sqlite3.connect(path, isolation_level=None)
    try:
        seed.execute("PRAGMA foreign_keys = ON")
        seed.execute("BEGIN")
        _live_rows(seed)
        seed.execute("COMMIT")
        assert seed.execute("PRAGMA foreign_key_check").fetchall() == []
    finally:
        seed.close()


# Rows a running bot would have, table by table (columns named, so they read as records).
LIVE_ROWS: dict[str, list[tuple[object, ...]]] = {
    "users (id, first_name, username, language_code, started_at, first_seen_at, last_seen_at, "
    "phone)": [
        (1, "Dewi", "dewi", "id", AT, AT, AT, None),  # dispatcher and admin
        (2, "Budi", "budi", "id", AT, AT, AT, None),  # responder of damkar
        (3, "Sari", None, "en", AT, AT, AT, "+62811000"),  # reporter
    ],
    "user_roles (user_id, role, granted_by, granted_at)": [
        (2, "dispatcher", 1, AT),  # revoked below
        (1, "admin", None, AT),
        (1, "dispatcher", 1, AT),
        (2, "petugas", 1, AT),
    ],
    "agencies (id, code, name, kind, chat_id, thread_id, active, reachable, registered_by, "
    "registered_at, updated_at)": [
        (1, "damkar", "Damkar", "agency", -100, None, 1, 1, 1, AT, AT),
        (2, "koordinator", "Koordinator", "coordinators", -200, 5, 1, 1, 1, AT, AT),
        (3, "bpbd", "BPBD", "agency", -300, None, 0, 0, 1, AT, LATER),
    ],
    "memberships (agency_id, user_id, joined_at, on_duty, duty_until)": [
        (1, 2, AT, 1, LATER),
        (2, 1, AT, 0, None),
    ],
    "incidents (id, type, severity, lifecycle, source, reporter_id, reporter_phone, "
    "reporter_phone_source, latitude, longitude, address, description, hurt, hurt_count, photos, "
    "merged_into, cancel_reason, created_at, updated_at, closed_at, origin_update_id)": [
        # An open fire, reported with a shared contact and photos.
        (1, "kebakaran", "kritis", "terbuka", "laporan", 3, "+62811000", "contact", -6.2, 106.8,
         "Jl. Merdeka 1", "Rumah terbakar", "ya", 2, '["photo-1"]', None, None, AT, LATER, None,
         9001),
        # Merged into a later incident (the reference, set below, points forward).
        (2, "kebakaran", "tinggi", "digabung", "laporan", 3, None, None, None, None, None, "Asap",
         "tidak_tahu", None, "[]", None, None, AT, LATER, LATER, None),
        (3, "banjir", "sedang", "selesai", "telepon", None, "+62812000", "call", None, None,
         "Kali Besar", "Air naik", "tidak", None, "[]", None, None, AT, LATER, LATER, None),
        (4, "lainnya", "rendah", "dibatalkan", "telepon", None, None, None, None, None, None,
         "Salah sambung", "tidak", None, "[]", None, "false_alarm", AT, LATER, LATER, None),
    ],
    "responses (incident_id, agency_id, status, acknowledged_by, acknowledged_at, on_behalf, "
    "updated_at)": [
        (4, 1, "menunggu", None, None, 0, AT),  # removed below
        (1, 2, "menunggu", None, None, 0, AT),
        (1, 1, "berangkat", 2, AT, 0, LATER),
        (3, 1, "selesai", 1, AT, 1, LATER),
    ],
    "assignments (id, incident_id, agency_id, user_id, status, assigned_by, created_at, "
    "updated_at)": [
        (7, 1, 1, 2, "berangkat", 1, AT, LATER),
        (8, 3, 1, 2, "selesai", 1, AT, LATER),
    ],
    "incident_events (incident_id, at, actor_id, kind, agency_id, detail)": [
        (1, AT, 3, "reported", None, "{}"),
        (1, LATER, 2, "acknowledged", 1, '{"on_behalf": false}'),
    ],
    "incident_posts (incident_id, ref, kind, chat_id, agency_id, assignment_id)": [
        (1, "card:1:1", "card", -100, 1, None),
        (1, "card:1:2", "card", -200, 2, None),
        (1, "task:7", "task", 2, 1, 7),
    ],
    "broadcasts (id, sender_id, sender_name, language, status, step, text, urgency, target_kind, "
    "agency_ids, shown_counts, created_at, updated_at, sent_at)": [
        (1, 1, "Dewi", "id", "mengirim", None, "Banjir di hulu", "darurat", "grup", "[]",
         '{"sent": 1}', AT, LATER, AT),
        (2, 1, "Dewi", "id", "draft", "urgency", "Uji coba", None, None, "[]", None, AT, AT, None),
    ],
    "broadcast_deliveries (broadcast_id, chat_id, thread_id, agency_id, user_id, label, "
    "language, outbox_id)": [
        (1, -100, None, 1, None, "Damkar", "id", 3),
        (1, -200, 5, 2, None, "Koordinator", "id", 4),
    ],
    "broadcast_receipts (broadcast_id, chat_id, user_id, confirmed_at)": [
        (1, -100, 2, LATER),
    ],
    "reminders (id, kind, incident_id, agency_id, assignment_id, broadcast_id, chat_id, due_at, "
    "attempt, state, created_at, fired_at)": [
        (1, "ack", 1, 2, None, None, None, LATER, 1, "pending", AT, AT),
        (2, "en_route", 1, None, 7, None, None, LATER, 0, "pending", AT, None),
        (3, "open_long", 3, None, None, None, None, AT, 2, "done", AT, LATER),
        (4, "broadcast", None, None, None, 1, -200, LATER, 0, "pending", AT, None),
        (5, "ack", 1, 1, None, None, None, AT, 0, "cancelled", AT, None),
    ],
    "conversations (user_id, kind, step, data, language, message_id, started_at, updated_at)": [
        (1, "broadcast", "compose", '{"broadcast_id": 2}', "id", 55, AT, AT),
    ],
    "outbox (id, chat_id, method, payload, priority, ref, target_ref, status, attempts, "
    "not_before, created_at, fallback)": [
        (1, -100, "sendMessage", json.dumps(CARD), 10, "card:1:1", None, "pending", 0, AT, AT,
         None),
        (2, -100, "editMessageText", '{"text": "#1 diterima"}', 10, None, "card:1:1", "pending",
         0, AT, AT, None),
        (3, -100, "sendMessage", '{"text": "Banjir"}', 5, "bc:1:-100", None, "pending", 0, AT, AT,
         '{"method": "sendMessage"}'),
        (4, -200, "sendMessage", '{"text": "Banjir"}', 5, "bc:1:-200", None, "parked", 3, AT, AT,
         None),
        (5, -200, "sendMessage", '{"text": "Gone"}', 5, None, None, "dropped", 0, AT, AT, None),
        (6, 2, "sendMessage", '{"text": "Tugas"}', 20, "task:7", None, "pending", 0, LATER, AT,
         None),
        (7, 2, "deleteMessage", "{}", 20, None, "task:7", "pending", 0, LATER, AT, None),
    ],
}  # fmt: skip


def _live_rows(db: sqlite3.Connection) -> None:
    for into, values in LIVE_ROWS.items():
        marks = ", ".join("?" for _ in values[0])
        db.executemany(f"INSERT INTO {into} VALUES ({marks})", values)
    db.execute("UPDATE incidents SET merged_into = 3 WHERE id = 2")
    # Gaps in the rowids of tables keyed otherwise: the rowids are kept too.
    db.execute("DELETE FROM user_roles WHERE user_id = 2 AND role = 'dispatcher'")
    db.execute("DELETE FROM responses WHERE incident_id = 4")
    # Sent the way the outbox sender records it: the row, its name, and (by trigger) what the
    # message shows. Then the edit of it, which the trigger records too.
    db.execute(MARK_SENT, (AT, 41, _shows("card", "1|ack|1|2"), 1))
    db.execute(
        "INSERT INTO message_refs (ref, chat_id, message_id, updated_at) VALUES (?, ?, ?, ?)",
        ("card:1:1", -100, 41, AT),
    )
    db.execute(MARK_SENT, (LATER, None, _shows("edited", "1|asg|1|1"), 2))
    # The newest outbox row was deleted (pruned): AUTOINCREMENT still never hands out its id.
    db.execute(
        "INSERT INTO outbox (id, chat_id, method, payload, priority, not_before, created_at) "
        "VALUES (9, 1, 'sendMessage', '{}', 10, ?, ?)",
        (AT, AT),
    )
    db.execute("DELETE FROM outbox WHERE id = 9")


def _tables(db: sqlite3.Connection) -> list[str]:
    return [
        row[0]
        for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
    ]


def _indexes(db: sqlite3.Connection, table: str) -> list[tuple[Any, ...]]:
    """Each index of a table (those of its UNIQUE and PRIMARY KEY too): how it is made, and of
    which columns in which order."""
    return sorted(
        (name, unique, origin, partial, db.execute(f"PRAGMA index_xinfo({name})").fetchall())
        for _, name, unique, origin, partial in db.execute(f"PRAGMA index_list({table})")
    )


def _snapshot(path: Path) -> dict[str, Any]:
    """Everything the migration must keep: each table's rows (with rowid and storage class of
    every value), columns, foreign keys and indexes; every index, trigger and view."""
    db = sqlite3.connect(path)
    try:
        rows: dict[str, list[tuple[Any, ...]]] = {}
        shape: dict[str, Any] = {}
        for table in _tables(db):
            columns = [row[1] for row in db.execute(f"PRAGMA table_info({table})")]
            typed = ", ".join(f"{c}, typeof({c})" for c in columns)
            if table == "sqlite_sequence":  # its rows move; what they say must not
                rows[table] = db.execute(f"SELECT {typed} FROM {table} ORDER BY name").fetchall()
            else:
                rows[table] = db.execute(
                    f"SELECT rowid, {typed} FROM {table} ORDER BY rowid"
                ).fetchall()
            shape[table] = {
                "columns": db.execute(f"PRAGMA table_xinfo({table})").fetchall(),
                "foreign_keys": db.execute(f"PRAGMA foreign_key_list({table})").fetchall(),
                "indexes": _indexes(db, table),
            }
        objects = set(
            db.execute(
                "SELECT type, name, tbl_name, sql FROM sqlite_master "
                "WHERE type IN ('index', 'trigger', 'view')"
            ).fetchall()
        )
        table_sql = dict(db.execute("SELECT name, sql FROM sqlite_master WHERE type = 'table'"))
        return {"rows": rows, "shape": shape, "objects": objects, "table_sql": table_sql}
    finally:
        db.close()


def _checks(create_table: str) -> list[str]:
    """The CHECK constraints of a CREATE TABLE statement, comments left out."""
    sql = re.sub(r"--[^\n]*", "", create_table)
    found = []
    for match in re.finditer(r"\bCHECK\s*\(", sql):
        depth, end = 1, match.end()
        while depth:
            depth += {"(": 1, ")": -1}.get(sql[end], 0)
            end += 1
        found.append(" ".join(sql[match.start() : end].split()))
    return found


def _check_lists(table_sql: dict[str, str]) -> dict[tuple[str, str], list[str]]:
    """{(table, column): allowed values} of every `CHECK (column IN (...))`."""
    lists = {}
    for table, sql in table_sql.items():
        for check in _checks(sql):
            match = re.fullmatch(r"CHECK \((\w+) IN \(([^()]*)\)\)", check)
            if match:
                lists[table, match[1]] = re.findall(r"'([^']*)'", match[2])
    return lists


async def _migrated(tmp_path: Path) -> tuple[Path, dict[str, Any], dict[str, Any]]:
    path = tmp_path / "live.db"
    await _database_at_0013(path)
    before = _snapshot(path)
    store = Store(path)
    try:
        # The bot's own connection (foreign keys on), migrated up to this migration only.
        assert await store.open(apply_migrations=False) == []
        assert store._db is not None
        upto = [m for m in bundled_migrations() if m.name <= MIGRATION]
        assert await migrate(store._db, NOW, upto) == [MIGRATION]
        assert await store.pragma("foreign_keys") == 1
        assert await store.pragma("defer_foreign_keys") == 0, "deferral ends with the migration"
    finally:
        await store.close()
    return path, before, _snapshot(path)


async def test_every_row_survives_with_identical_values(tmp_path: Path) -> None:
    _, before, after = await _migrated(tmp_path)
    assert set(after["rows"]) == set(before["rows"]), "a table appeared or vanished"
    for table in REBUILT:
        assert before["rows"][table], f"the test left {table} empty"
    for table, rows in before["rows"].items():
        if table != "schema_migrations":
            assert after["rows"][table] == rows, f"rows of {table} changed"
    applied = [row[1] for row in after["rows"]["schema_migrations"]]
    assert applied == [row[1] for row in before["rows"]["schema_migrations"]] + [MIGRATION]


async def test_columns_foreign_keys_indexes_and_triggers_are_kept(tmp_path: Path) -> None:
    _, before, after = await _migrated(tmp_path)
    for table in before["shape"]:
        assert after["shape"][table] == before["shape"][table], f"{table} changed shape"
    assert after["objects"] == before["objects"]
    triggers = {name for kind, name, _, _ in after["objects"] if kind == "trigger"}
    assert triggers == {
        "outbox_sent_shows_message",
        "outbox_sent_shows_edit",
        "outbox_sent_forgets_message",
    }


async def test_no_check_list_remains_and_every_other_check_is_kept(tmp_path: Path) -> None:
    path, before, after = await _migrated(tmp_path)
    assert {table for table, _ in _check_lists(before["table_sql"])} == set(REBUILT)
    for table, sql in after["table_sql"].items():
        assert not [check for check in _checks(sql) if " IN (" in check], table
        kept = [check for check in _checks(before["table_sql"][table]) if " IN (" not in check]
        assert _checks(sql) == kept, table
    assert len(_checks(after["table_sql"]["reminders"])) == 2  # a broadcast's reminder names it
    db = sqlite3.connect(path)
    try:
        assert db.execute("PRAGMA foreign_key_check").fetchall() == []
        assert db.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        names = {row[0] for row in db.execute("SELECT name FROM sqlite_master")}
        assert not {name for name in names if name.endswith(("_new", "_kept"))}
        assert db.execute("SELECT name FROM sqlite_temp_master").fetchall() == []
    finally:
        db.close()


async def test_every_removed_check_list_is_an_enum_in_models(tmp_path: Path) -> None:
    """Every value a CHECK list allowed is one of its enum's: nothing was allowed that the
    store cannot read back. (Enums grow since: a reminder kind came after 0014, with no
    rebuild, which is what the migration was for.)"""
    _, before, _ = await _migrated(tmp_path)
    lists = _check_lists(before["table_sql"])
    assert set(lists) == set(ENUM_OF_COLUMN)
    for column, allowed in lists.items():
        assert set(allowed) <= {member.value for member in ENUM_OF_COLUMN[column]}, column


async def test_a_new_kind_is_written_without_a_rebuild(tmp_path: Path) -> None:
    path, _, _ = await _migrated(tmp_path)
    db = sqlite3.connect(path, isolation_level=None)
    try:
        db.execute("PRAGMA foreign_keys = ON")
        db.execute("BEGIN")
        for new_kind in (
            "INSERT INTO outbox (chat_id, method, payload, priority, status, not_before, "
            "created_at) VALUES (1, 'sendMessage', '{}', 10, 'scheduled', 'x', 'x')",
            "INSERT INTO agencies (code, name, kind, chat_id, registered_at, updated_at) "
            "VALUES ('pmi', 'PMI', 'observers', -400, 'x', 'x')",
            "INSERT INTO user_roles (user_id, role, granted_at) VALUES (3, 'auditor', 'x')",
            "INSERT INTO incidents (id, type, severity, lifecycle, source, description, hurt, "
            "created_at, updated_at) VALUES (5, 'kebakaran', 'ekstrem', 'dipantau', 'sensor', "
            "'x', 'banyak', 'x', 'x')",
            "INSERT INTO responses (incident_id, agency_id, status, updated_at) "
            "VALUES (5, 1, 'ditunda', 'x')",
            "INSERT INTO assignments (incident_id, agency_id, user_id, status, created_at, "
            "updated_at) VALUES (5, 1, 2, 'cadangan', 'x', 'x')",
            "INSERT INTO broadcasts (sender_id, sender_name, language, status, urgency, "
            "target_kind, created_at, updated_at) "
            "VALUES (1, 'Dewi', 'id', 'dijadwalkan', 'latihan', 'wilayah', 'x', 'x')",
            "INSERT INTO reminders (kind, incident_id, due_at, state, created_at) "
            "VALUES ('follow_up', 5, 'x', 'snoozed', 'x')",
        ):
            db.execute(new_kind)
        db.execute("COMMIT")
        # The checks that tie columns together still hold.
        with pytest.raises(sqlite3.IntegrityError, match="CHECK"):
            db.execute(
                "INSERT INTO reminders (kind, incident_id, due_at, created_at) "
                "VALUES ('broadcast', 1, 'x', 'x')"
            )
        with pytest.raises(sqlite3.IntegrityError, match="NOT NULL"):
            db.execute(
                "INSERT INTO incidents (type, source, description, hurt, created_at, "
                "updated_at) VALUES ('x', 'x', 'x', 'x', 'x', 'x')"
            )
        with pytest.raises(sqlite3.IntegrityError, match="FOREIGN KEY"):
            db.execute(
                "INSERT INTO responses (incident_id, agency_id, updated_at) VALUES (99, 1, 'x')"
            )
    finally:
        db.close()
    # Written, but not understood: the store reads it through its enum and says so.
    async with Store(path) as store, store.read() as tx:
        with pytest.raises(ValueError, match="ekstrem"):
            await tx.incident(5)


async def test_outbox_triggers_and_numbering_work_after_it(tmp_path: Path) -> None:
    path, _, _ = await _migrated(tmp_path)
    db = sqlite3.connect(path, isolation_level=None)
    try:
        db.execute("PRAGMA foreign_keys = ON")
        messages = (
            "SELECT chat_id, message_id, ref, thread_id, text_digest, buttons FROM bot_messages"
        )
        assert db.execute(messages).fetchall() == [
            (-100, 41, "card:1:1", 5, "edited", '["1|asg|1|1"]')
        ]
        # A new message with buttons: recorded, in the topic its payload names.
        db.execute(MARK_SENT, (LATER, 77, _shows("bc", "1|bc.ok|1"), 3))
        db.execute(MARK_SENT, (LATER, 80, _shows("task", "1|go|7"), 6))
        db.execute(
            "INSERT INTO message_refs (ref, chat_id, message_id, updated_at) VALUES (?, ?, ?, ?)",
            ("task:7", 2, 80, LATER),
        )
        assert sorted(db.execute(messages).fetchall()) == [
            (-100, 41, "card:1:1", 5, "edited", '["1|asg|1|1"]'),
            (-100, 77, "bc:1:-100", None, "bc", '["1|bc.ok|1"]'),
            (2, 80, "task:7", None, "task", '["1|go|7"]'),
        ]
        # A deletion forgets the message it names.
        db.execute(MARK_SENT, (LATER, None, None, 7))
        assert (2, 80) not in {row[:2] for row in db.execute(messages)}
        # An edit of a sent message: what it shows now.
        db.execute(
            "INSERT INTO outbox (chat_id, method, payload, priority, target_ref, not_before, "
            "created_at) VALUES (-100, 'editMessageText', '{}', 10, 'card:1:1', ?, ?)",
            (LATER, LATER),
        )
        new_id = db.execute("SELECT MAX(id) FROM outbox").fetchone()[0]
        assert new_id == 10, "an AUTOINCREMENT id was handed out twice"
        db.execute(MARK_SENT, (LATER, None, _shows("closed"), new_id))
        assert db.execute(
            "SELECT text_digest, buttons FROM bot_messages WHERE message_id = 41"
        ).fetchall() == [("closed", "[]")]
    finally:
        db.close()


async def test_a_broken_reference_stops_it_before_anything_changes(tmp_path: Path) -> None:
    """A row written by hand with foreign keys off, naming an agency that does not exist, could
    not be put back: the migration says so and leaves the database at 0013."""
    path = tmp_path / "broken.db"
    await _database_at_0013(path)
    db = sqlite3.connect(path, isolation_level=None)
    db.execute(
        "INSERT INTO responses (incident_id, agency_id, updated_at) VALUES (1, 99, ?)", (AT,)
    )
    db.close()
    before = _snapshot(path)
    with pytest.raises(MigrationError, match="foreign_key_check"):
        await Store(path).open()
    assert _snapshot(path) == before
