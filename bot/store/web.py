"""SQL of signing in to the web pages: one-time links and sessions, kept as hashes."""

from __future__ import annotations

from datetime import datetime

import aiosqlite

from bot.store.codec import to_db_time
from bot.store.rows import fetch_all, fetch_one


class WebQueries:
    db: aiosqlite.Connection

    async def add_web_link(
        self, token_hash: str, user_id: int, now: datetime, expires: datetime
    ) -> None:
        await self.db.execute(
            "INSERT INTO web_links (token_hash, user_id, created_at, expires_at)"
            " VALUES (?, ?, ?, ?)",
            (token_hash, user_id, to_db_time(now), to_db_time(expires)),
        )

    async def use_web_link(self, token_hash: str, now: datetime) -> int | None:
        """The person a link signs in, once: None when unknown, used or expired."""
        rows = await fetch_all(
            self.db,
            """
            UPDATE web_links SET used_at = ?
            WHERE token_hash = ? AND used_at IS NULL AND expires_at > ?
            RETURNING user_id
            """,
            (to_db_time(now), token_hash, to_db_time(now)),
        )
        return int(rows[0]["user_id"]) if rows else None

    async def add_web_session(self, session_hash: str, user_id: int, now: datetime) -> None:
        await self.db.execute(
            "INSERT INTO web_sessions (session_hash, user_id, created_at) VALUES (?, ?, ?)",
            (session_hash, user_id, to_db_time(now)),
        )

    async def web_session_user(self, session_hash: str) -> int | None:
        row = await fetch_one(
            self.db,
            "SELECT user_id FROM web_sessions WHERE session_hash = ? AND ended_at IS NULL",
            (session_hash,),
        )
        return None if row is None else int(row["user_id"])

    async def end_web_session(self, session_hash: str, now: datetime) -> None:
        await self.db.execute(
            "UPDATE web_sessions SET ended_at = ? WHERE session_hash = ? AND ended_at IS NULL",
            (to_db_time(now), session_hash),
        )
