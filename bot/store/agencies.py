"""SQL about agencies, their chats, routing rules, memberships and duty."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import aiosqlite

from bot.store.codec import from_db_time, maybe_time, to_db_time
from bot.store.rows import NamedRow, fetch_all, fetch_one
from bot.store.users import PERSON_COLUMNS, person_from_row
from models.agencies import Agency, AgencyKind, Member, Role
from models.incident_types import IncidentType

_AGENCY_NAMES = (
    "id",
    "code",
    "name",
    "kind",
    "chat_id",
    "thread_id",
    "active",
    "reachable",
    "registered_at",
)
_AGENCY_COLUMNS = ", ".join(_AGENCY_NAMES)

# Kinds written into the SQL text rather than bound. `kind = 'coordinators'` as the partial index
# agencies_one_coordinators spells it, so that the query that finds the coordinators is planned
# with that index: SQLite uses a partial index only when the statement's text implies its
# condition. Bound, a kind would also make SQLite re-prepare a statement that is not a lookup by
# id at every execution, to check the value against that condition; so `_AGENCY` too.
_COORDINATORS = f"'{AgencyKind.COORDINATORS.value}'"
_AGENCY = f"'{AgencyKind.AGENCY.value}'"
_OPERATORS = f"'{AgencyKind.OPERATORS.value}'"  # as agencies_one_operators spells it


def _agency(row: NamedRow) -> Agency:
    """An agency from the columns `_AGENCY_COLUMNS` names."""
    return Agency(
        id=row["id"],
        code=row["code"],
        name=row["name"],
        kind=AgencyKind(row["kind"]),
        chat_id=row["chat_id"],
        thread_id=row["thread_id"],
        active=bool(row["active"]),
        reachable=bool(row["reachable"]),
        registered_at=from_db_time(row["registered_at"]),
    )


@dataclass(frozen=True, slots=True)
class Standing:
    """What authorizing a request reads about the person and the place it came from."""

    roles: frozenset[Role]  # as roles_of
    agency_ids: frozenset[int]  # as agency_ids_of
    agency_here: Agency | None  # as agency_at; None in a private chat


# Duty with an automatic end counts only until then; no job is needed to end it.
_ON_DUTY = "(m.on_duty = 1 AND (m.duty_until IS NULL OR m.duty_until > ?))"


class AgencyQueries:
    db: aiosqlite.Connection

    async def _agencies(self, where: str, params: tuple[object, ...]) -> list[Agency]:
        rows = await fetch_all(
            self.db,
            f"SELECT {_AGENCY_COLUMNS} FROM agencies WHERE {where} ORDER BY kind DESC, code",
            params,
        )
        return [_agency(row) for row in rows]

    async def agency_by_code(self, code: str) -> Agency | None:
        found = await self._agencies("code = ?", (code,))
        return found[0] if found else None

    async def agency(self, agency_id: int) -> Agency | None:
        found = await self._agencies("id = ?", (agency_id,))
        return found[0] if found else None

    async def agency_at(
        self, chat_id: int, thread_id: int | None, *, exact: bool = False
    ) -> Agency | None:
        """The active agency living in this chat (or in this forum topic of it).

        A message in a topic of a group registered as a whole belongs to that agency, unless
        `exact` asks for the registration of exactly this place.
        """
        found = await self._agencies(
            "active = 1 AND chat_id = ? AND COALESCE(thread_id, 0) = ?",
            (chat_id, thread_id or 0),
        )
        if found:
            return found[0]
        if thread_id is not None and not exact:
            found = await self._agencies(
                "active = 1 AND chat_id = ? AND thread_id IS NULL", (chat_id,)
            )
        return found[0] if found else None

    async def standing(self, user_id: int, chat_id: int | None, thread_id: int | None) -> Standing:
        """roles_of(user_id), agency_ids_of(user_id) and agency_at(chat_id, thread_id) (skipped
        for a private chat: `chat_id` None) in one statement, which SQLite runs as one snapshot.

        The unique index agencies_place allows at most one active agency per chat and topic, so
        each agency part yields at most one row. Every part has the columns of the first: which
        part it is, the role or agency id of a 'role' or 'member' row, and an agency's columns."""
        blank = ", ".join(f"NULL AS {name}" for name in _AGENCY_NAMES)
        parts = [
            f"SELECT 'role' AS part, role AS value, {blank} FROM user_roles WHERE user_id = ?",
            f"""
            SELECT 'member', m.agency_id, {blank}
            FROM memberships m JOIN agencies a ON a.id = m.agency_id
            WHERE m.user_id = ? AND a.active = 1
            """,
        ]
        params: list[object] = [user_id, user_id]
        if chat_id is not None:
            # A press on a message in an upgraded group's old history counts as in the new chat.
            chat = "COALESCE((SELECT migrated_to FROM known_chats WHERE chat_id = ?), ?)"
            parts.append(
                f"SELECT 'here', NULL, {_AGENCY_COLUMNS} FROM agencies "
                f"WHERE active = 1 AND chat_id = {chat} AND COALESCE(thread_id, 0) = ?"
            )
            params += [chat_id, chat_id, thread_id or 0]
            if thread_id is not None:
                # A topic of a group registered as a whole belongs to that agency.
                parts.append(
                    f"SELECT 'group', NULL, {_AGENCY_COLUMNS} FROM agencies "
                    f"WHERE active = 1 AND chat_id = {chat} AND thread_id IS NULL"
                )
                params += [chat_id, chat_id]
        rows = await fetch_all(self.db, " UNION ALL ".join(parts), params)
        found = {row["part"]: _agency(row) for row in rows if row["part"] in ("here", "group")}
        return Standing(
            frozenset(Role(row["value"]) for row in rows if row["part"] == "role"),
            frozenset(row["value"] for row in rows if row["part"] == "member"),
            found.get("here") or found.get("group"),
        )

    async def agencies_in_chat(self, chat_id: int) -> list[Agency]:
        return await self._agencies("active = 1 AND chat_id = ?", (chat_id,))

    async def active_agencies(self) -> list[Agency]:
        return await self._agencies("active = 1", ())

    async def coordinators_agency(self) -> Agency | None:
        found = await self._agencies(f"active = 1 AND kind = {_COORDINATORS}", ())
        return found[0] if found else None

    async def operators_agency(self) -> Agency | None:
        """The 112 operators' feed, when one is registered."""
        found = await self._agencies(f"active = 1 AND kind = {_OPERATORS}", ())
        return found[0] if found else None

    async def save_agency(
        self,
        *,
        code: str,
        name: str,
        kind: AgencyKind,
        chat_id: int,
        thread_id: int | None,
        by_user: int,
        now: datetime,
    ) -> Agency:
        """Register `code` at this chat (or topic): new, renamed, moved or reactivated."""
        at = to_db_time(now)
        await self.db.execute(
            """
            INSERT INTO agencies (code, name, kind, chat_id, thread_id, active, reachable,
                                  registered_by, registered_at, updated_at)
            VALUES (?, ?, ?, ?, ?, 1, 1, ?, ?, ?)
            ON CONFLICT (code) DO UPDATE SET
                name = excluded.name, kind = excluded.kind, chat_id = excluded.chat_id,
                thread_id = excluded.thread_id, active = 1, reachable = 1,
                registered_by = excluded.registered_by, updated_at = excluded.updated_at
            """,
            (code, name, kind.value, chat_id, thread_id, by_user, at, at),
        )
        agency = await self.agency_by_code(code)
        assert agency is not None
        return agency

    async def deactivate_agency(self, agency_id: int, now: datetime) -> None:
        await self.db.execute(
            "UPDATE agencies SET active = 0, updated_at = ? WHERE id = ?",
            (to_db_time(now), agency_id),
        )

    async def set_chat_reachable(
        self, chat_id: int, reachable: bool, now: datetime
    ) -> list[Agency]:
        """Mark every active agency in this chat (un)reachable; return those that changed."""
        changed = await self._agencies(
            "active = 1 AND chat_id = ? AND reachable = ?", (chat_id, int(not reachable))
        )
        await self.db.execute(
            "UPDATE agencies SET reachable = ?, updated_at = ? WHERE chat_id = ? AND active = 1",
            (int(reachable), to_db_time(now), chat_id),
        )
        return changed

    async def move_chat(self, old_chat_id: int, new_chat_id: int, now: datetime) -> None:
        """A group became a supergroup: everything about it follows the new id."""
        at = to_db_time(now)
        await self.db.execute(
            "UPDATE agencies SET chat_id = ?, updated_at = ? WHERE chat_id = ?",
            (new_chat_id, at, old_chat_id),
        )
        await self.db.execute(
            """
            INSERT INTO known_chats (chat_id, type, title, bot_status, greeted_at, updated_at)
            SELECT ?, 'supergroup', title, bot_status, greeted_at, ? FROM known_chats
            WHERE chat_id = ?
            ON CONFLICT (chat_id) DO NOTHING
            """,
            (new_chat_id, at, old_chat_id),
        )
        await self.db.execute(
            "UPDATE known_chats SET migrated_to = ?, updated_at = ? WHERE chat_id = ?",
            (new_chat_id, at, old_chat_id),
        )

    async def current_chat_id(self, chat_id: int) -> int:
        """The chat's id now: a group upgraded to a supergroup lives on under a new id, while
        its old messages stay under the old one."""
        row = await fetch_one(
            self.db, "SELECT migrated_to FROM known_chats WHERE chat_id = ?", (chat_id,)
        )
        return chat_id if row is None or row["migrated_to"] is None else int(row["migrated_to"])

    # --- chats the bot is in ---

    async def record_chat(
        self, chat_id: int, chat_type: str, title: str | None, bot_status: str, now: datetime
    ) -> bool:
        """Remember a group and the bot's status there; True when the group was new to us."""
        row = await fetch_one(self.db, "SELECT 1 FROM known_chats WHERE chat_id = ?", (chat_id,))
        known = row is not None
        await self.db.execute(
            """
            INSERT INTO known_chats (chat_id, type, title, bot_status, updated_at)
            VALUES (?, ?, ?, ?, ?)
            ON CONFLICT (chat_id) DO UPDATE SET
                type = excluded.type, title = excluded.title,
                bot_status = excluded.bot_status, updated_at = excluded.updated_at
            """,
            (chat_id, chat_type, title, bot_status, to_db_time(now)),
        )
        return not known

    async def bot_status_in(self, chat_id: int) -> str | None:
        """The bot's status in a group as Telegram last told it (None: never told)."""
        row = await fetch_one(
            self.db, "SELECT bot_status FROM known_chats WHERE chat_id = ?", (chat_id,)
        )
        return None if row is None else str(row["bot_status"])

    async def first_notice(self, chat_id: int, notice: str, now: datetime) -> bool:
        """Record that `notice` was said in this chat; False when it was said already."""
        cursor = await self.db.execute(
            "INSERT INTO chat_notices (chat_id, notice, said_at) VALUES (?, ?, ?)"
            " ON CONFLICT (chat_id, notice) DO NOTHING",
            (chat_id, notice, to_db_time(now)),
        )
        return cursor.rowcount == 1

    async def forget_notices(self, chat_id: int) -> None:
        """The chat changed (the bot was promoted): what was said once there may be said again."""
        await self.db.execute("DELETE FROM chat_notices WHERE chat_id = ?", (chat_id,))

    async def mark_greeted(self, chat_id: int, now: datetime) -> bool:
        """Record that an unregistered group was told so; False when it already was."""
        cursor = await self.db.execute(
            "UPDATE known_chats SET greeted_at = ? WHERE chat_id = ? AND greeted_at IS NULL",
            (to_db_time(now), chat_id),
        )
        return cursor.rowcount == 1

    # --- routing ---

    async def routes(self) -> dict[IncidentType, list[str]]:
        table: dict[IncidentType, list[str]] = {kind: [] for kind in IncidentType}
        rows = await fetch_all(
            self.db,
            "SELECT incident_type, agency_code FROM routes ORDER BY incident_type, agency_code",
        )
        for row in rows:
            kind = IncidentType.parse(row["incident_type"])
            if kind is not None:
                table[kind].append(row["agency_code"])
        return table

    async def set_route(self, kind: IncidentType, codes: list[str]) -> None:
        await self.db.execute("DELETE FROM routes WHERE incident_type = ?", (kind.value,))
        await self.db.executemany(
            "INSERT INTO routes (incident_type, agency_code) VALUES (?, ?)",
            [(kind.value, code) for code in codes],
        )

    async def routed_agencies(self, kind: IncidentType) -> list[Agency]:
        """The active, registered agencies an incident of this type goes to."""
        return await self._agencies(
            f"active = 1 AND kind = {_AGENCY} AND code IN "
            "(SELECT agency_code FROM routes WHERE incident_type = ?)",
            (kind.value,),
        )

    # --- membership and duty ---

    async def join(self, agency_id: int, user_id: int, now: datetime) -> bool:
        """Add a member; False when they already were one."""
        cursor = await self.db.execute(
            """
            INSERT INTO memberships (agency_id, user_id, joined_at) VALUES (?, ?, ?)
            ON CONFLICT (agency_id, user_id) DO NOTHING
            """,
            (agency_id, user_id, to_db_time(now)),
        )
        return cursor.rowcount == 1

    async def leave(self, agency_id: int, user_id: int) -> bool:
        cursor = await self.db.execute(
            "DELETE FROM memberships WHERE agency_id = ? AND user_id = ?", (agency_id, user_id)
        )
        return cursor.rowcount == 1

    async def leave_chat(self, chat_id: int, user_id: int) -> list[str]:
        """The person left the Telegram group `chat_id`: their membership (and duty) in every
        agency that lives there ends, whichever topic. Returns those agencies' codes."""
        rows = await fetch_all(
            self.db,
            """
            DELETE FROM memberships
            WHERE user_id = ? AND agency_id IN (SELECT id FROM agencies WHERE chat_id = ?)
            RETURNING agency_id
            """,
            (user_id, chat_id),
        )
        if not rows:
            return []
        marks = ", ".join("?" for _ in rows)
        codes = await fetch_all(
            self.db,
            f"SELECT code FROM agencies WHERE id IN ({marks}) ORDER BY code",
            tuple(row["agency_id"] for row in rows),
        )
        return [row["code"] for row in codes]

    async def memberships_to_check(self) -> list[tuple[int, int]]:
        """(chat_id, user_id) of every member of an active agency, one per chat and person."""
        rows = await fetch_all(
            self.db,
            """
            SELECT DISTINCT a.chat_id, m.user_id
            FROM memberships m JOIN agencies a ON a.id = m.agency_id
            WHERE a.active = 1 ORDER BY a.chat_id, m.user_id
            """,
        )
        return [(int(row["chat_id"]), int(row["user_id"])) for row in rows]

    async def agency_ids_of(self, user_id: int) -> frozenset[int]:
        rows = await fetch_all(
            self.db,
            """
            SELECT m.agency_id FROM memberships m JOIN agencies a ON a.id = m.agency_id
            WHERE m.user_id = ? AND a.active = 1
            """,
            (user_id,),
        )
        return frozenset([row["agency_id"] for row in rows])

    async def agencies_of(self, user_id: int) -> list[Agency]:
        return await self._agencies(
            "active = 1 AND id IN (SELECT agency_id FROM memberships WHERE user_id = ?)",
            (user_id,),
        )

    async def set_duty(
        self,
        agency_ids: frozenset[int],
        user_id: int,
        on_duty: bool,
        until: datetime | None,
        now: datetime,
    ) -> int:
        marks = ", ".join("?" for _ in agency_ids)
        cursor = await self.db.execute(
            f"""
            UPDATE memberships SET on_duty = ?, duty_until = ?, duty_changed_at = ?
            WHERE user_id = ? AND agency_id IN ({marks})
            """,
            (
                int(on_duty),
                None if until is None else to_db_time(until),
                to_db_time(now),
                user_id,
                *agency_ids,
            ),
        )
        return cursor.rowcount

    async def members(self, agency_id: int, now: datetime) -> list[Member]:
        """The agency's members, on-duty first, then by name."""
        columns = ", ".join(f"u.{column}" for column in PERSON_COLUMNS)
        rows = await fetch_all(
            self.db,
            f"""
            SELECT {columns}, {_ON_DUTY} AS duty, m.duty_until, m.agency_id
            FROM memberships m JOIN users u ON u.id = m.user_id
            WHERE m.agency_id = ?
            ORDER BY duty DESC, u.first_name COLLATE NOCASE, u.id
            """,
            (to_db_time(now), agency_id),
        )
        members = []
        for row in rows:
            on_duty = bool(row["duty"])
            until = maybe_time(row["duty_until"]) if on_duty else None
            members.append(Member(row["agency_id"], person_from_row(row), on_duty, until))
        return members

    async def admins_to_notify(self, configured: tuple[int, ...]) -> list[int]:
        """Admins (configured or granted) who started the bot, so it may message them."""
        marks = ", ".join("?" for _ in configured) or "NULL"
        rows = await fetch_all(
            self.db,
            f"""
            SELECT id FROM users WHERE started_at IS NOT NULL AND (
                id IN ({marks}) OR id IN (SELECT user_id FROM user_roles WHERE role = ?))
            ORDER BY id
            """,
            (*configured, Role.ADMIN.value),
        )
        return [row["id"] for row in rows]
