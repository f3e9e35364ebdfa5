"""SQL about the people the bot has met."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

import aiosqlite

from bot.i18n import pick_language
from bot.settings import Language
from bot.store.codec import from_db_time, maybe_time, to_db_time
from bot.store.rows import NamedRow, fetch_all, fetch_one
from models.agencies import Role
from models.reminders import EscalationReach
from models.users import Person

PERSON_COLUMNS = (
    "id",
    "first_name",
    "last_name",
    "username",
    "language_code",
    "started_at",
    "first_seen_at",
    "last_seen_at",
    "phone",
    "forgotten_at",
)
_PERSON_COLUMNS = ", ".join(PERSON_COLUMNS)


def person_from_row(row: NamedRow) -> Person:
    """A person from the columns `PERSON_COLUMNS` names."""
    return Person(
        id=row["id"],
        first_name=row["first_name"],
        last_name=row["last_name"],
        username=row["username"],
        language_code=row["language_code"],
        started_at=maybe_time(row["started_at"]),
        first_seen_at=from_db_time(row["first_seen_at"]),
        last_seen_at=from_db_time(row["last_seen_at"]),
        phone=row["phone"],
        forgotten_at=maybe_time(row["forgotten_at"]),
    )


class _ForgetsReports(Protocol):
    """What `forget_person` needs of `Tx` besides these queries."""

    db: aiosqlite.Connection

    async def forget_reporter_phones(self, user_id: int) -> None: ...


class UserQueries:
    db: aiosqlite.Connection
    # Each person's Telegram language as read in this transaction (None: they have none), so
    # a change told in many chats reads it once per person; `record_person` forgets it.
    language_codes: dict[int, str | None]

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
        self.language_codes.pop(user_id, None)
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
        row = await fetch_one(
            self.db, f"SELECT {_PERSON_COLUMNS} FROM users WHERE id = ?", (user_id,)
        )
        return None if row is None else person_from_row(row)

    async def language_of(self, user_id: int, default: Language) -> Language:
        """The language to write to this person in (their Telegram language, or `default`)."""
        if user_id not in self.language_codes:
            row = await fetch_one(
                self.db, "SELECT language_code FROM users WHERE id = ?", (user_id,)
            )
            self.language_codes[user_id] = None if row is None else row["language_code"]
        return pick_language(self.language_codes[user_id], default)

    async def person_by_username(self, username: str) -> Person | None:
        row = await fetch_one(
            self.db,
            f"SELECT {_PERSON_COLUMNS} FROM users WHERE username = ? COLLATE NOCASE "
            "ORDER BY last_seen_at DESC LIMIT 1",
            (username.removeprefix("@"),),
        )
        return None if row is None else person_from_row(row)

    async def escalation_reaches(self, user_ids: list[int]) -> dict[int, EscalationReach]:
        """The choices of `/eskalasi` these people made (those who made none are left out)."""
        if not user_ids:
            return {}
        marks = ", ".join("?" for _ in user_ids)
        rows = await fetch_all(
            self.db,
            f"SELECT id, escalate_to FROM users WHERE id IN ({marks}) AND escalate_to IS NOT NULL",
            tuple(user_ids),
        )
        return {row["id"]: EscalationReach(row["escalate_to"]) for row in rows}

    async def set_escalation_reach(self, user_id: int, reach: EscalationReach) -> None:
        await self.db.execute(
            "UPDATE users SET escalate_to = ? WHERE id = ?", (reach.value, user_id)
        )

    async def set_phone(self, user_id: int, phone: str | None) -> None:
        await self.db.execute("UPDATE users SET phone = ? WHERE id = ?", (phone, user_id))

    async def forget_person(self: _ForgetsReports, user_id: int, now: datetime) -> None:
        """Erase a person's name, username and phone — also the phone on their reports; their
        id stays for past records."""
        await self.forget_reporter_phones(user_id)
        await self.db.execute(
            """
            UPDATE users SET first_name = NULL, last_name = NULL, username = NULL, phone = NULL,
                             forgotten_at = ?
            WHERE id = ?
            """,
            (to_db_time(now), user_id),
        )

    async def may_message(self, user_id: int) -> bool:
        """Whether the person pressed Start (or wrote to the bot) and did not block it since."""
        row = await fetch_one(
            self.db,
            """
            SELECT 1 FROM users WHERE id = ? AND started_at IS NOT NULL
              AND NOT EXISTS (SELECT 1 FROM unreachable_chats WHERE chat_id = ?)
            """,
            (user_id, user_id),
        )
        return row is not None

    async def remember_personal_message(self, user_id: int, chat_id: int, message_id: int) -> None:
        """A message the person sent that carries their own data (a phone number)."""
        await self.db.execute(
            "INSERT OR IGNORE INTO personal_messages (chat_id, message_id, user_id) "
            "VALUES (?, ?, ?)",
            (chat_id, message_id, user_id),
        )

    async def forget_personal_messages(self, user_id: int) -> None:
        await self.db.execute("DELETE FROM personal_messages WHERE user_id = ?", (user_id,))

    # --- roles ---

    async def roles_of(self, user_id: int) -> frozenset[Role]:
        rows = await fetch_all(self.db, "SELECT role FROM user_roles WHERE user_id = ?", (user_id,))
        return frozenset([Role(row["role"]) for row in rows])

    async def grant_role(self, user_id: int, role: Role, by_user: int, now: datetime) -> bool:
        """Give a role; False when the person already held it."""
        cursor = await self.db.execute(
            """
            INSERT INTO user_roles (user_id, role, granted_by, granted_at) VALUES (?, ?, ?, ?)
            ON CONFLICT (user_id, role) DO NOTHING
            """,
            (user_id, role.value, by_user, to_db_time(now)),
        )
        return cursor.rowcount == 1

    async def revoke_role(self, user_id: int, role: Role) -> bool:
        cursor = await self.db.execute(
            "DELETE FROM user_roles WHERE user_id = ? AND role = ?", (user_id, role.value)
        )
        return cursor.rowcount == 1

    async def role_holders(self) -> list[tuple[Person, Role]]:
        rows = await fetch_all(
            self.db,
            f"""
            SELECT {", ".join(f"u.{column}" for column in PERSON_COLUMNS)}, r.role
            FROM user_roles r JOIN users u ON u.id = r.user_id
            ORDER BY r.role, u.first_name COLLATE NOCASE, u.id
            """,
        )
        return [(person_from_row(row), Role(row["role"])) for row in rows]
