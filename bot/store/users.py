"""SQL about the people the bot has met."""

from __future__ import annotations

from datetime import datetime

import aiosqlite

from bot.store.codec import from_db_time, maybe_time, to_db_time
from models.users import Person

_PERSON_COLUMNS = (
    "id, first_name, last_name, username, language_code, started_at, first_seen_at, last_seen_at"
)


def _person(row: aiosqlite.Row) -> Person:
    return Person(
        id=row[0],
        first_name=row[1],
        last_name=row[2],
        username=row[3],
        language_code=row[4],
        started_at=maybe_time(row[5]),
        first_seen_at=from_db_time(row[6]),
        last_seen_at=from_db_time(row[7]),
    )


class UserQueries:
    db: aiosqlite.Connection

    async def record_person(
        self,
        user_id: int,
        *,
        first_name: str | None,
        last_name: str | None,
        username: str | None,
        language_code: str | None,
        now: datetime,
        started: bool = False,
    ) -> None:
        """Insert or refresh a person from what Telegram tells about them."""
        at = to_db_time(now)
        await self.db.execute(
            """
            INSERT INTO users (id, first_name, last_name, username, language_code,
                               started_at, first_seen_at, last_seen_at)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT (id) DO UPDATE SET
                first_name = excluded.first_name,
                last_name = excluded.last_name,
                username = excluded.username,
                language_code = excluded.language_code,
                started_at = COALESCE(users.started_at, excluded.started_at),
                last_seen_at = excluded.last_seen_at
            """,
            (
                user_id,
                first_name,
                last_name,
                username,
                language_code,
                at if started else None,
                at,
                at,
            ),
        )

    async def person(self, user_id: int) -> Person | None:
        async with self.db.execute(
            f"SELECT {_PERSON_COLUMNS} FROM users WHERE id = ?", (user_id,)
        ) as cursor:
            row = await cursor.fetchone()
        return None if row is None else _person(row)
