"""Applies `migrations/NNNN_name.sql` in order, each in one transaction, and records them.

A recorded migration whose file has changed or vanished stops start-up: the schema grows only by
new files, never by editing landed ones.
"""

from __future__ import annotations

import hashlib
import re
import sqlite3
from dataclasses import dataclass
from datetime import datetime
from importlib import resources

import aiosqlite

from bot.store.codec import to_db_time

MIGRATION_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")

BOOKKEEPING = """
CREATE TABLE IF NOT EXISTS schema_migrations (
    name       TEXT PRIMARY KEY,
    checksum   TEXT NOT NULL,
    applied_at TEXT NOT NULL
)
"""


class MigrationError(Exception):
    """The database and the migration files disagree; the message says how."""


@dataclass(frozen=True, slots=True)
class Migration:
    name: str
    sql: str

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.sql.encode("utf-8")).hexdigest()

    def statements(self) -> list[str]:
        """Split into complete statements (triggers with inner `;` stay whole)."""
        statements: list[str] = []
        buffer = ""
        for line in self.sql.splitlines(keepends=True):
            buffer += line
            if sqlite3.complete_statement(buffer):
                if _has_code(buffer):
                    statements.append(buffer.strip())
                buffer = ""
        if _has_code(buffer):
            raise MigrationError(f"{self.name}: the last statement is not terminated with ';'")
        return statements


def _has_code(sql: str) -> bool:
    lines = (line.split("--", 1)[0].strip() for line in sql.splitlines())
    return any(line and line != ";" for line in lines)


def bundled_migrations() -> list[Migration]:
    """The migration files shipped with the package, in order."""
    found: list[Migration] = []
    numbers: set[str] = set()
    for entry in resources.files("migrations").iterdir():
        match = MIGRATION_NAME.match(entry.name)
        if not match:
            continue
        if match.group(1) in numbers:
            raise MigrationError(f"two migrations share the number {match.group(1)}")
        numbers.add(match.group(1))
        found.append(Migration(entry.name, entry.read_text(encoding="utf-8")))
    return sorted(found, key=lambda migration: migration.name)


async def applied_migrations(db: aiosqlite.Connection) -> dict[str, str]:
    await db.execute(BOOKKEEPING)
    async with db.execute("SELECT name, checksum FROM schema_migrations") as cursor:
        cursor.row_factory = sqlite3.Row  # `db` may come without the store's row factory
        return {row["name"]: row["checksum"] async for row in cursor}


def verify(applied: dict[str, str], available: list[Migration]) -> list[Migration]:
    """Check recorded migrations against the files; return the ones still to apply."""
    by_name = {migration.name: migration for migration in available}
    for name, checksum in sorted(applied.items()):
        migration = by_name.get(name)
        if migration is None:
            raise MigrationError(
                f"The database records migration {name}, but that file is missing from this "
                "version of siaga112. The database is newer than the program or the file was "
                "deleted: run the matching version, or restore the file."
            )
        if migration.checksum != checksum:
            raise MigrationError(
                f"Migration {name} was changed after it was applied to this database. Landed "
                "migrations must never be edited: restore the original file and put the change "
                "in a new numbered migration."
            )
    return [migration for migration in available if migration.name not in applied]


async def pending_migrations(db: aiosqlite.Connection) -> list[Migration]:
    return verify(await applied_migrations(db), bundled_migrations())


async def migrate(
    db: aiosqlite.Connection, now: datetime, available: list[Migration] | None = None
) -> list[str]:
    """Apply every pending migration; return the names applied (empty when up to date)."""
    migrations = bundled_migrations() if available is None else available
    pending = verify(await applied_migrations(db), migrations)
    done: list[str] = []
    for migration in pending:
        await db.execute("BEGIN IMMEDIATE")
        try:
            for statement in migration.statements():
                await db.execute(statement)
            await db.execute(
                "INSERT INTO schema_migrations (name, checksum, applied_at) VALUES (?, ?, ?)",
                (migration.name, migration.checksum, to_db_time(now)),
            )
        except sqlite3.Error as exc:
            await db.execute("ROLLBACK")
            raise MigrationError(
                f"Migration {migration.name} failed and was rolled back: {exc}"
            ) from exc
        except BaseException:
            await db.execute("ROLLBACK")
            raise
        await db.execute("COMMIT")
        done.append(migration.name)
    return done
