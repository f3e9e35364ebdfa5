"""SQL of the information after a first report: questions, answers, additions, notes
(`incident_info`), the people who joined an incident as its reporters (`incident_reporters`) and
the one-time links 112 callers join by (`caller_links`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import aiosqlite

from bot.store.codec import from_db_time, maybe_time, to_db_time
from bot.store.rows import NamedRow, fetch_all, fetch_one, json_object_of, select_list
from models.incidents import Lifecycle, Source
from models.info import Gap, Info, InfoKind, InfoState

# The columns of one piece of information, by name (with the name of the agency that asks or
# notes); `_info` reads them from a row or from the JSON object an incident view nests.
INFO_COLUMNS = {
    "id": "f.id",
    "incident_id": "f.incident_id",
    "kind": "f.kind",
    "state": "f.state",
    "agency_id": "f.agency_id",
    "agency_name": "(SELECT a.name FROM agencies a WHERE a.id = f.agency_id)",
    "author_id": "f.author_id",
    "text": "f.text",
    "question_id": "f.question_id",
    "question_key": "f.question_key",
    "answer_key": "f.answer_key",
    "photo": "f.photo",
    "latitude": "f.latitude",
    "longitude": "f.longitude",
    "file_id": "f.file_id",
    "file_kind": "f.file_kind",
    "fills": "f.fills",
    "chat_id": "f.chat_id",
    "message_id": "f.message_id",
    "created_at": "f.created_at",
    "settled_at": "f.settled_at",
}
INFO_FROM = "FROM incident_info f"
INFO_JSON = json_object_of(INFO_COLUMNS)
_SELECT = f"SELECT {select_list(INFO_COLUMNS)} {INFO_FROM}"
_QUESTION = InfoKind.QUESTION.value
_OPEN = InfoState.OPEN.value
_WAITING = ", ".join(f"'{state.value}'" for state in (InfoState.OPEN, InfoState.UNANSWERED))
_OPEN_LIFECYCLE = Lifecycle.OPEN.value
_REPORTERS_OWN = ", ".join(f"'{kind.value}'" for kind in (InfoKind.ANSWER, InfoKind.ADDITION))


def info_of(row: NamedRow) -> Info:
    """One piece of information from the columns `INFO_COLUMNS` names."""
    fills = row["fills"]
    return Info(
        id=row["id"],
        incident_id=row["incident_id"],
        kind=InfoKind(row["kind"]),
        state=InfoState(row["state"]),
        agency_id=row["agency_id"],
        agency_name=row["agency_name"],
        author_id=row["author_id"],
        text=row["text"],
        question_id=row["question_id"],
        question_key=row["question_key"],
        answer_key=row["answer_key"],
        photo=row["photo"],
        latitude=row["latitude"],
        longitude=row["longitude"],
        file_id=row["file_id"],
        file_kind=row["file_kind"],
        fills=Gap(fills) if fills is not None else None,
        chat_id=row["chat_id"],
        message_id=row["message_id"],
        created_at=from_db_time(row["created_at"]),
        settled_at=maybe_time(row["settled_at"]),
    )


@dataclass(frozen=True, slots=True)
class NewInfo:
    """What a new row of information says (the kind, state and incident are arguments)."""

    agency_id: int | None = None
    author_id: int | None = None
    text: str = ""
    question_id: int | None = None
    question_key: str | None = None
    answer_key: str | None = None
    photo: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    file_id: str | None = None
    file_kind: str | None = None
    fills: Gap | None = None
    chat_id: int | None = None
    message_id: int | None = None


@dataclass(frozen=True, slots=True)
class CallerLink:
    token: str
    incident_id: int
    created_by: int
    created_at: datetime
    expires_at: datetime
    used_by: int | None
    used_at: datetime | None


# The incidents a person reports: their own reports, and those they joined by a caller's link;
# a report merged into another counts as the one it was merged into (followed to the end).
_REPORTED_BY = f"""
    WITH RECURSIVE mine(id) AS (
        SELECT id FROM incidents WHERE reporter_id = :user AND source = '{Source.REPORT.value}'
        UNION SELECT incident_id FROM incident_reporters WHERE user_id = :user
    ),
    followed(id, at) AS (
        SELECT id, id FROM mine
        UNION SELECT f.id, i.merged_into FROM followed f JOIN incidents i ON i.id = f.at
              WHERE i.merged_into IS NOT NULL
    )
"""


class InfoQueries:
    db: aiosqlite.Connection

    async def add_info(
        self, incident_id: int, kind: InfoKind, state: InfoState, new: NewInfo, now: datetime
    ) -> int:
        cursor = await self.db.execute(
            """
            INSERT INTO incident_info (incident_id, kind, state, agency_id, author_id, text,
                                       question_id, question_key, answer_key, photo, latitude,
                                       longitude, file_id, file_kind, fills, chat_id,
                                       message_id, created_at, settled_at)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """,
            (
                incident_id,
                kind.value,
                state.value,
                new.agency_id,
                new.author_id,
                new.text,
                new.question_id,
                new.question_key,
                new.answer_key,
                new.photo,
                new.latitude,
                new.longitude,
                new.file_id,
                new.file_kind,
                new.fills.value if new.fills is not None else None,
                new.chat_id,
                new.message_id,
                to_db_time(now),
                to_db_time(now) if state is InfoState.POSTED else None,
            ),
        )
        assert cursor.lastrowid is not None
        return cursor.lastrowid

    async def info(self, info_id: int) -> Info | None:
        row = await fetch_one(self.db, f"{_SELECT} WHERE f.id = ?", (info_id,))
        return None if row is None else info_of(row)

    async def answer_from(self, incident_id: int, chat_id: int, message_id: int) -> Info | None:
        """The answer already made of this message of the reporter's (an update delivered
        again, a double tap on a one-tap answer), if any."""
        row = await fetch_one(
            self.db,
            f"{_SELECT} WHERE f.incident_id = ? AND f.kind = ? AND f.chat_id = ? "
            "AND f.message_id = ?",
            (incident_id, InfoKind.ANSWER.value, chat_id, message_id),
        )
        return None if row is None else info_of(row)

    async def infos(self, incident_id: int) -> list[Info]:
        rows = await fetch_all(
            self.db, f"{_SELECT} WHERE f.incident_id = ? ORDER BY f.id", (incident_id,)
        )
        return [info_of(row) for row in rows]

    async def move_info(
        self, info_id: int, expected: InfoState, new: InfoState, now: datetime
    ) -> bool:
        """Move a row's state only if it is still `expected`; the row count decides who won."""
        cursor = await self.db.execute(
            "UPDATE incident_info SET state = ?, settled_at = ? WHERE id = ? AND state = ?",
            (new.value, to_db_time(now), info_id, expected.value),
        )
        return cursor.rowcount == 1

    async def set_info_fills(self, info_id: int, gap: Gap) -> None:
        await self.db.execute(
            "UPDATE incident_info SET fills = ? WHERE id = ?", (gap.value, info_id)
        )

    async def open_question_by(self, incident_id: int, author_id: int) -> Info | None:
        row = await fetch_one(
            self.db,
            f"""{_SELECT} WHERE f.incident_id = ? AND f.author_id = ?
                AND f.kind = '{_QUESTION}' AND f.state = '{_OPEN}'""",
            (incident_id, author_id),
        )
        return None if row is None else info_of(row)

    async def questions_since(self, incident_id: int, since: datetime) -> int:
        row = await fetch_one(
            self.db,
            f"""SELECT COUNT(*) AS n FROM incident_info
                WHERE incident_id = ? AND kind = '{_QUESTION}' AND created_at >= ?""",
            (incident_id, to_db_time(since)),
        )
        return 0 if row is None else int(row["n"])

    async def stale_questions(self, before: datetime) -> list[Info]:
        """Open questions asked before `before` (the index of waiting questions answers it)."""
        rows = await fetch_all(
            self.db,
            f"""{_SELECT} WHERE f.kind = '{_QUESTION}' AND f.state = '{_OPEN}'
                AND f.created_at < ? ORDER BY f.id""",
            (to_db_time(before),),
        )
        return [info_of(row) for row in rows]

    async def waiting_questions(self, incident_id: int) -> list[Info]:
        rows = await fetch_all(
            self.db,
            f"""{_SELECT} WHERE f.incident_id = ? AND f.kind = '{_QUESTION}'
                AND f.state IN ({_WAITING}) ORDER BY f.id""",
            (incident_id,),
        )
        return [info_of(row) for row in rows]

    async def questions_waiting_for(self, user_id: int) -> list[Info]:
        """The questions a reporter may be answering now: waiting questions of the open
        incidents they report (through merges and joined links), newest first."""
        rows = await fetch_all(
            self.db,
            f"""{_REPORTED_BY}
            {_SELECT} JOIN incidents i ON i.id = f.incident_id
            WHERE f.incident_id IN (SELECT at FROM followed)
              AND f.kind = '{_QUESTION}' AND f.state IN ({_WAITING})
              AND i.lifecycle = '{_OPEN_LIFECYCLE}'
            ORDER BY f.id DESC
            """,
            {"user": user_id},
        )
        return [info_of(row) for row in rows]

    async def open_reports_of(self, user_id: int) -> list[int]:
        """The open incidents a person reports (their own, joined, or what theirs was merged
        into), newest first."""
        rows = await fetch_all(
            self.db,
            f"""{_REPORTED_BY}
            SELECT DISTINCT i.id AS id FROM followed f JOIN incidents i ON i.id = f.at
            WHERE i.lifecycle = '{_OPEN_LIFECYCLE}' ORDER BY i.id DESC
            """,
            {"user": user_id},
        )
        return [int(row["id"]) for row in rows]

    async def reporters_of(self, incident_id: int) -> list[int]:
        """Everyone who can be asked about an incident: the reporters of it and of every report
        merged into it, and the callers who joined any of them by link."""
        rows = await fetch_all(
            self.db,
            f"""
            WITH RECURSIVE merged(id) AS (
                SELECT ? UNION SELECT i.id FROM incidents i JOIN merged m ON i.merged_into = m.id
            )
            SELECT reporter_id AS user_id FROM incidents
             WHERE id IN merged AND source = '{Source.REPORT.value}' AND reporter_id IS NOT NULL
            UNION
            SELECT user_id FROM incident_reporters WHERE incident_id IN merged
            ORDER BY user_id
            """,
            (incident_id,),
        )
        return [int(row["user_id"]) for row in rows]

    async def join_incident(self, incident_id: int, user_id: int, via: str, now: datetime) -> bool:
        cursor = await self.db.execute(
            """
            INSERT OR IGNORE INTO incident_reporters (incident_id, user_id, via, joined_at)
            VALUES (?, ?, ?, ?)
            """,
            (incident_id, user_id, via, to_db_time(now)),
        )
        return cursor.rowcount == 1

    # --- links for 112 callers ---

    async def add_caller_link(
        self, token: str, incident_id: int, by: int, now: datetime, expires: datetime
    ) -> None:
        await self.db.execute(
            """
            INSERT INTO caller_links (token, incident_id, created_by, created_at, expires_at)
            VALUES (?, ?, ?, ?, ?)
            """,
            (token, incident_id, by, to_db_time(now), to_db_time(expires)),
        )

    async def caller_link(self, token: str) -> CallerLink | None:
        row = await fetch_one(
            self.db,
            """
            SELECT token, incident_id, created_by, created_at, expires_at, used_by, used_at
            FROM caller_links WHERE token = ?
            """,
            (token,),
        )
        if row is None:
            return None
        return CallerLink(
            token=row["token"],
            incident_id=row["incident_id"],
            created_by=row["created_by"],
            created_at=from_db_time(row["created_at"]),
            expires_at=from_db_time(row["expires_at"]),
            used_by=row["used_by"],
            used_at=maybe_time(row["used_at"]),
        )

    async def use_caller_link(self, token: str, user_id: int, now: datetime) -> bool:
        """Spend a link once; the row count decides who was first."""
        cursor = await self.db.execute(
            "UPDATE caller_links SET used_by = ?, used_at = ? WHERE token = ? AND used_by IS NULL",
            (user_id, to_db_time(now), token),
        )
        return cursor.rowcount == 1

    # --- erasing a person ---

    async def scrub_info_of(self, user_id: int) -> list[int]:
        """Forget what a person said and sent as a reporter (answers and additions: text,
        photo, location, file) and that they joined incidents; the incidents concerned."""
        rows = await fetch_all(
            self.db,
            f"""
            SELECT DISTINCT incident_id FROM incident_info
             WHERE author_id = ? AND kind IN ({_REPORTERS_OWN})
            UNION SELECT incident_id FROM incident_reporters WHERE user_id = ?
            """,
            (user_id, user_id),
        )
        await self.db.execute(
            f"""
            UPDATE incident_info
               SET author_id = NULL, text = '', photo = NULL, latitude = NULL, longitude = NULL,
                   file_id = NULL, file_kind = NULL, chat_id = NULL, message_id = NULL
             WHERE author_id = ? AND kind IN ({_REPORTERS_OWN})
            """,
            (user_id,),
        )
        await self.db.execute("DELETE FROM incident_reporters WHERE user_id = ?", (user_id,))
        # The link stays spent (0: somebody, forgotten), so it cannot be used again.
        await self.db.execute("UPDATE caller_links SET used_by = 0 WHERE used_by = ?", (user_id,))
        return [int(row["incident_id"]) for row in rows]
