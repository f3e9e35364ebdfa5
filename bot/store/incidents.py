"""SQL about incidents: the incident, each agency's response, assignments, the timeline, posts."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

import aiosqlite

from bot.store.codec import from_db_time, from_json, maybe_time, to_db_time, to_json
from bot.store.duplicates import SIMILAR, SIMILAR_TO
from bot.store.info import INFO_FROM, INFO_JSON, info_of
from bot.store.messages import SHOWN_COLUMNS, shown_from_row
from bot.store.outbox import PENDING as OUTBOX_PENDING
from bot.store.rows import NamedRow, fetch_all, fetch_one, json_object_of, select_list
from models.duplicates import Basis, Hint
from models.incident_types import IncidentType
from models.incidents import (
    Assignment,
    AssignmentStatus,
    Hurt,
    Incident,
    IncidentView,
    Lifecycle,
    Location,
    PhoneSource,
    Response,
    ResponseStatus,
    Severity,
    Source,
    TimelineEvent,
)
from models.outbox import RESHAPING
from models.refs import PostKind
from models.shown import Shown
from models.users import display_name

# `lifecycle = 'terbuka'` as the partial index incidents_open spells it, written into the queries
# that list open incidents so that they are planned with that index: SQLite uses a partial index
# only when the statement's text implies its condition.
_OPEN = f"'{Lifecycle.OPEN.value}'"
# The outbox calls that change what a sent message shows, written into the SQL text.
_RESHAPING = ", ".join(f"'{method.value}'" for method in sorted(RESHAPING))

_INCIDENT_COLUMNS = """
    i.id, i.type, i.severity, i.lifecycle, i.source, i.reporter_id, i.reporter_phone,
    i.reporter_phone_source, i.latitude, i.longitude, i.address, i.description, i.hurt,
    i.hurt_count, i.photos, i.merged_into, i.cancel_reason, i.created_at, i.updated_at,
    i.closed_at, i.caller_name, i.owner_id, i.owner_name, i.owned_at, i.drill_id,
    u.first_name, u.last_name, u.username
"""
# The columns display_name() needs, from a joined `users u` (first_name, last_name, username).
_USER_NAME = {"first_name": "u.first_name", "last_name": "u.last_name", "username": "u.username"}


def _name(row: NamedRow, user_id: int | None) -> str | None:
    """The name of `user_id`, from the `_USER_NAME` columns of its joined users row."""
    if user_id is None:
        return None
    return display_name(user_id, row["first_name"], row["last_name"], row["username"])


def _incident(row: NamedRow) -> Incident:
    """An incident from the columns `_INCIDENT_COLUMNS` names."""
    phone_source = row["reporter_phone_source"]
    return Incident(
        id=row["id"],
        type=IncidentType(row["type"]),
        severity=Severity(row["severity"]),
        lifecycle=Lifecycle(row["lifecycle"]),
        source=Source(row["source"]),
        reporter_id=row["reporter_id"],
        # A 112 caller has no account the bot knows: the name they gave stands for it.
        reporter_name=_name(row, row["reporter_id"]) or row["caller_name"],
        reporter_phone=row["reporter_phone"],
        location=Location(row["latitude"], row["longitude"], row["address"]),
        description=row["description"],
        hurt=Hurt(row["hurt"]),
        hurt_count=row["hurt_count"],
        photos=tuple(from_json(row["photos"])),
        merged_into=row["merged_into"],
        cancel_reason=row["cancel_reason"],
        created_at=from_db_time(row["created_at"]),
        updated_at=from_db_time(row["updated_at"]),
        closed_at=maybe_time(row["closed_at"]),
        reporter_phone_source=None if phone_source is None else PhoneSource(phone_source),
        owner_id=row["owner_id"],
        owner_name=row["owner_name"],
        owned_at=maybe_time(row["owned_at"]),
        drill_id=row["drill_id"],
    )


# {name: expression}: selected as they are (`responses()`), or as one JSON object per row
# (`incident_view()`), read by `_response` either way.
_RESPONSE_COLUMNS = {
    "incident_id": "r.incident_id",
    "agency_id": "r.agency_id",
    "agency_code": "a.code",
    "agency_name": "a.name",
    "status": "r.status",
    "acknowledged_by": "r.acknowledged_by",
    "acknowledged_at": "r.acknowledged_at",
    "on_behalf": "r.on_behalf",
    "updated_at": "r.updated_at",
    **_USER_NAME,
}
_RESPONSES_FROM = """
    FROM responses r JOIN agencies a ON a.id = r.agency_id
    LEFT JOIN users u ON u.id = r.acknowledged_by
"""
_ASSIGNMENT_COLUMNS = {
    "id": "s.id",
    "incident_id": "s.incident_id",
    "agency_id": "s.agency_id",
    "user_id": "s.user_id",
    "status": "s.status",
    "assigned_by": "s.assigned_by",
    "created_at": "s.created_at",
    "updated_at": "s.updated_at",
    **_USER_NAME,
}
_ASSIGNMENTS_FROM = "FROM assignments s JOIN users u ON u.id = s.user_id"


def _response(row: NamedRow) -> Response:
    """A response from the columns of `_RESPONSE_COLUMNS` (a row, or a JSON object of them)."""
    return Response(
        incident_id=row["incident_id"],
        agency_id=row["agency_id"],
        agency_code=row["agency_code"],
        agency_name=row["agency_name"],
        status=ResponseStatus(row["status"]),
        acknowledged_by=row["acknowledged_by"],
        acknowledged_by_name=_name(row, row["acknowledged_by"]),
        acknowledged_at=maybe_time(row["acknowledged_at"]),
        on_behalf=bool(row["on_behalf"]),
        updated_at=from_db_time(row["updated_at"]),
    )


def _assignment(row: NamedRow) -> Assignment:
    """An assignment from the columns of `_ASSIGNMENT_COLUMNS` (a row, or a JSON object)."""
    return Assignment(
        id=row["id"],
        incident_id=row["incident_id"],
        agency_id=row["agency_id"],
        user_id=row["user_id"],
        user_name=_name(row, row["user_id"]) or "?",
        status=AssignmentStatus(row["status"]),
        assigned_by=row["assigned_by"],
        created_at=from_db_time(row["created_at"]),
        updated_at=from_db_time(row["updated_at"]),
    )


@dataclass(frozen=True, slots=True)
class Post:
    incident_id: int
    ref: str
    kind: str  # card (an agency's chat), ops (dispatchers/coordinators), task (an assignee)
    chat_id: int
    agency_id: int | None
    assignment_id: int | None
    # What the posted message shows, once sent (None: not sent yet, or not known), and whether
    # a send, an edit or a deletion of it is still on its way: only then is `shown` what people
    # see. (A reply under it or a pin waiting changes nothing it shows.)
    shown: Shown | None = None
    settled: bool = False
    pinned: bool = False  # the feed's copy of a critical incident, while open


# An incident as a view, in one query (made once: it is read on every press).
_INCIDENT_VIEW = f"""
    SELECT {_INCIDENT_COLUMNS},
           (SELECT json_group_array(m.id) FROM incidents m WHERE m.merged_into = i.id)
               AS merged_ids,
           (SELECT json_group_array({json_object_of(_RESPONSE_COLUMNS)})
            {_RESPONSES_FROM} WHERE r.incident_id = i.id) AS responses,
           (SELECT json_group_array({json_object_of(_ASSIGNMENT_COLUMNS)})
            {_ASSIGNMENTS_FROM} WHERE s.incident_id = i.id) AS assignments,
           (SELECT json_group_array({INFO_JSON}) {INFO_FROM}
            WHERE f.incident_id = i.id) AS infos,
           {SIMILAR_TO} AS similar_to, {SIMILAR} AS similar
    FROM incidents i LEFT JOIN users u ON u.id = i.reporter_id WHERE i.id = ?
"""


class IncidentQueries:
    db: aiosqlite.Connection
    about_drill: bool  # a drill incident was read in this transaction (see OutboxQueries)
    changed_incidents: set[int]  # incidents this transaction changed (Hooks.incidents_changed)

    # --- incidents ---

    async def create_incident(
        self,
        *,
        kind: IncidentType,
        severity: Severity,
        source: Source,
        reporter_id: int | None,
        reporter_phone: str | None,
        location: Location,
        description: str,
        hurt: Hurt,
        hurt_count: int | None,
        photos: list[str],
        now: datetime,
        origin_update_id: int | None = None,
        phone_source: PhoneSource | None = None,
        caller_name: str | None = None,
        drill_id: int | None = None,
    ) -> int:
        at = to_db_time(now)
        cursor = await self.db.execute(
            """
            INSERT INTO incidents (type, severity, source, reporter_id, reporter_phone,
                                   reporter_phone_source, latitude, longitude, address,
                                   description, hurt, hurt_count, photos, created_at, updated_at,
                                   origin_update_id, caller_name, drill_id)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """,
            (
                kind.value,
                severity.value,
                source.value,
                reporter_id,
                reporter_phone,
                None if reporter_phone is None or phone_source is None else phone_source.value,
                location.latitude,
                location.longitude,
                location.address,
                description,
                hurt.value,
                hurt_count,
                to_json(photos),
                at,
                at,
                origin_update_id,
                caller_name,
                drill_id,
            ),
        )
        assert cursor.lastrowid is not None
        return cursor.lastrowid

    async def incident_from_update(self, update_id: int) -> int | None:
        """The incident already created from this Telegram update, if any."""
        row = await fetch_one(
            self.db, "SELECT id FROM incidents WHERE origin_update_id = ?", (update_id,)
        )
        return None if row is None else int(row["id"])

    async def incident(self, incident_id: int) -> Incident | None:
        row = await fetch_one(
            self.db,
            f"SELECT {_INCIDENT_COLUMNS} FROM incidents i "
            "LEFT JOIN users u ON u.id = i.reporter_id WHERE i.id = ?",
            (incident_id,),
        )
        return None if row is None else self._seen(_incident(row))

    def _seen(self, incident: Incident) -> Incident:
        """The incident a transaction read last decides whether the messages it then writes
        are about a drill (and marked so): one that goes over several incidents (erasing a
        person's data re-renders each) marks only a drill's, never a real one's."""
        self.about_drill = incident.drill_id is not None
        return incident

    async def incident_types(self, incident_ids: list[int]) -> dict[int, IncidentType]:
        """The type of each incident (a list naming several of them: none is "the" incident a
        transaction is about, so this marks nothing as a drill's)."""
        marks = ", ".join("?" for _ in incident_ids) or "NULL"
        rows = await fetch_all(
            self.db, f"SELECT id, type FROM incidents WHERE id IN ({marks})", incident_ids
        )
        return {row["id"]: IncidentType(row["type"]) for row in rows}

    async def incident_view(self, incident_id: int) -> IncidentView | None:
        # One query: the incident comes with the ids merged into it, its responses and its
        # assignments as JSON arrays of objects, one per row `responses()` and `assignments()`
        # read.
        row = await fetch_one(self.db, _INCIDENT_VIEW, (incident_id,))
        if row is None:
            return None
        responses = [_response(r) for r in from_json(row["responses"])]
        assignments = [_assignment(a) for a in from_json(row["assignments"])]
        infos = [info_of(f) for f in from_json(row["infos"])]
        hint = None
        if row["similar_to"] is not None:
            found = from_json(row["similar_to"])
            hint = Hint(
                found["of_id"], Basis(found["basis"]), found["distance_m"], found["minutes"]
            )
        return IncidentView(
            self._seen(_incident(row)),
            sorted(responses, key=lambda r: r.agency_code),  # as responses() orders them
            sorted(assignments, key=lambda a: a.id),
            sorted(from_json(row["merged_ids"])),
            tuple(sorted(infos, key=lambda f: f.id)),
            similar_to=hint,
            similar=tuple(sorted(from_json(row["similar"]))),
        )

    async def take_ownership(
        self, incident_id: int, user_id: int, name: str, now: datetime
    ) -> bool:
        """The first to take over the incident owns it; False when somebody already does."""
        cursor = await self.db.execute(
            "UPDATE incidents SET owner_id = ?, owner_name = ?, owned_at = ?, updated_at = ? "
            "WHERE id = ? AND owner_id IS NULL",
            (user_id, name, to_db_time(now), to_db_time(now), incident_id),
        )
        return cursor.rowcount == 1

    async def touch(self, incident_id: int, now: datetime) -> None:
        await self.db.execute(
            "UPDATE incidents SET updated_at = ? WHERE id = ?", (to_db_time(now), incident_id)
        )

    async def set_lifecycle(
        self,
        incident_id: int,
        expected: Lifecycle,
        new: Lifecycle,
        now: datetime,
        *,
        reason: str | None = None,
        merged_into: int | None = None,
    ) -> bool:
        """Move the lifecycle only if it is still `expected`; the row count decides who won."""
        at = to_db_time(now)
        cursor = await self.db.execute(
            """
            UPDATE incidents SET lifecycle = ?, updated_at = ?, closed_at = ?,
                   cancel_reason = ?, merged_into = ?
            WHERE id = ? AND lifecycle = ?
            """,
            (
                new.value,
                at,
                None if new is Lifecycle.OPEN else at,
                reason,
                merged_into,
                incident_id,
                expected.value,
            ),
        )
        return cursor.rowcount == 1

    async def forget_reporter_phones(self, user_id: int) -> None:
        """The phone numbers on this person's reports go (`forget_person`)."""
        await self.db.execute(
            "UPDATE incidents SET reporter_phone = NULL WHERE reporter_id = ?", (user_id,)
        )

    async def set_severity(self, incident_id: int, severity: Severity, now: datetime) -> None:
        await self.db.execute(
            "UPDATE incidents SET severity = ?, updated_at = ? WHERE id = ?",
            (severity.value, to_db_time(now), incident_id),
        )

    async def open_incident_ids(
        self, agency_ids: frozenset[int] | None, *, drills: bool | None = None
    ) -> list[int]:
        """Open incidents, most severe first, then oldest; only these agencies' when given;
        only drills' (True) or none of them (False) when `drills` says so."""
        drill = {None: "", True: " AND i.drill_id IS NOT NULL", False: " AND i.drill_id IS NULL"}
        order = (
            f"CASE i.severity WHEN '{Severity.CRITICAL.value}' THEN 0 "
            f"WHEN '{Severity.HIGH.value}' THEN 1 "
            f"WHEN '{Severity.MEDIUM.value}' THEN 2 ELSE 3 END, i.created_at"
        )
        if agency_ids is None:
            sql = (
                f"SELECT i.id FROM incidents i WHERE i.lifecycle = {_OPEN}{drill[drills]} "
                f"ORDER BY {order}"
            )
            params: tuple[object, ...] = ()
        else:
            marks = ", ".join("?" for _ in agency_ids) or "NULL"
            sql = (
                f"SELECT i.id FROM incidents i WHERE i.lifecycle = {_OPEN}{drill[drills]} "
                f"AND i.id IN (SELECT incident_id FROM responses WHERE agency_id IN ({marks})) "
                f"ORDER BY {order}"
            )
            params = tuple(agency_ids)
        rows = await fetch_all(self.db, sql, params)
        return [row["id"] for row in rows]

    async def open_without_feed_card(self) -> list[int]:
        """Open incidents the operators' feed has no card of (it was registered after them),
        oldest first."""
        rows = await fetch_all(
            self.db,
            f"""
            SELECT i.id FROM incidents i
            WHERE i.lifecycle = {_OPEN}
              AND NOT EXISTS (SELECT 1 FROM incident_posts p
                              WHERE p.incident_id = i.id AND p.kind = '{PostKind.FEED.value}')
            ORDER BY i.id
            """,
            (),
        )
        return [row["id"] for row in rows]

    async def reports_since(self, reporter_id: int, since: datetime) -> list[datetime]:
        rows = await fetch_all(
            self.db,
            """
            SELECT created_at FROM incidents
            WHERE reporter_id = ? AND source = ? AND created_at >= ?
            ORDER BY created_at
            """,
            (reporter_id, Source.REPORT.value, to_db_time(since)),
        )
        return [from_db_time(row["created_at"]) for row in rows]

    # --- responses ---

    async def add_response(self, incident_id: int, agency_id: int, now: datetime) -> bool:
        cursor = await self.db.execute(
            """
            INSERT INTO responses (incident_id, agency_id, updated_at) VALUES (?, ?, ?)
            ON CONFLICT (incident_id, agency_id) DO NOTHING
            """,
            (incident_id, agency_id, to_db_time(now)),
        )
        return cursor.rowcount == 1

    async def responses(self, incident_id: int) -> list[Response]:
        rows = await fetch_all(
            self.db,
            f"""
            SELECT {select_list(_RESPONSE_COLUMNS)} {_RESPONSES_FROM}
            WHERE r.incident_id = ? ORDER BY a.code
            """,
            (incident_id,),
        )
        return [_response(row) for row in rows]

    async def acknowledge(
        self,
        incident_id: int,
        agency_id: int,
        user_id: int,
        on_behalf: bool,
        now: datetime,
        move: tuple[ResponseStatus, ResponseStatus],
    ) -> bool:
        """First press wins: only a response in `move[0]` of an open incident moves to
        `move[1]` (the transition table's acknowledgement), recording who and when."""
        at = to_db_time(now)
        expected, new = move
        cursor = await self.db.execute(
            """
            UPDATE responses SET status = ?, acknowledged_by = ?, acknowledged_at = ?,
                   on_behalf = ?, updated_at = ?
            WHERE incident_id = ? AND agency_id = ? AND status = ?
              AND EXISTS (SELECT 1 FROM incidents i
                          WHERE i.id = responses.incident_id AND i.lifecycle = ?)
            """,
            (
                new.value,
                user_id,
                at,
                int(on_behalf),
                at,
                incident_id,
                agency_id,
                expected.value,
                Lifecycle.OPEN.value,
            ),
        )
        return cursor.rowcount == 1

    async def move_response(
        self,
        incident_id: int,
        agency_id: int,
        expected: ResponseStatus,
        new: ResponseStatus,
        now: datetime,
        *,
        acknowledged_by: int | None = None,
    ) -> bool:
        """Change a response only if it is still `expected` (a progress press implies the
        acknowledgement; record who made it when it was still missing)."""
        at = to_db_time(now)
        cursor = await self.db.execute(
            """
            UPDATE responses SET status = ?, updated_at = ?,
                   acknowledged_by = COALESCE(acknowledged_by, ?),
                   acknowledged_at = COALESCE(acknowledged_at,
                                              CASE WHEN ? IS NULL THEN NULL ELSE ? END)
            WHERE incident_id = ? AND agency_id = ? AND status = ?
            """,
            (
                new.value,
                at,
                acknowledged_by,
                acknowledged_by,
                at,
                incident_id,
                agency_id,
                expected.value,
            ),
        )
        return cursor.rowcount == 1

    # --- assignments ---

    async def assignments(self, incident_id: int) -> list[Assignment]:
        return await self._assignments("s.incident_id = ?", (incident_id,))

    async def assignment(self, assignment_id: int) -> Assignment | None:
        found = await self._assignments("s.id = ?", (assignment_id,))
        return found[0] if found else None

    async def _assignments(self, where: str, params: tuple[object, ...]) -> list[Assignment]:
        rows = await fetch_all(
            self.db,
            f"SELECT {select_list(_ASSIGNMENT_COLUMNS)} {_ASSIGNMENTS_FROM} "
            f"WHERE {where} ORDER BY s.id",
            params,
        )
        return [_assignment(row) for row in rows]

    async def offer_assignment(
        self,
        incident_id: int,
        agency_id: int,
        user_id: int,
        status: AssignmentStatus,
        by_user: int,
        now: datetime,
    ) -> int | None:
        """Create (or renew a declined or withdrawn) assignment; None when one is active."""
        at = to_db_time(now)
        cursor = await self.db.execute(
            """
            INSERT INTO assignments (incident_id, agency_id, user_id, status, assigned_by,
                                     created_at, updated_at)
            VALUES (?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT (incident_id, agency_id, user_id) DO UPDATE SET
                status = excluded.status, assigned_by = excluded.assigned_by,
                updated_at = excluded.updated_at
            WHERE assignments.status IN (?, ?, ?)
            """,
            (
                incident_id,
                agency_id,
                user_id,
                status.value,
                by_user,
                at,
                at,
                AssignmentStatus.DECLINED.value,
                AssignmentStatus.WITHDRAWN.value,
                AssignmentStatus.DONE.value,
            ),
        )
        if cursor.rowcount != 1:
            return None
        row = await fetch_one(
            self.db,
            "SELECT id FROM assignments WHERE incident_id = ? AND agency_id = ? AND user_id = ?",
            (incident_id, agency_id, user_id),
        )
        return None if row is None else int(row["id"])

    async def move_assignment(
        self, assignment_id: int, expected: AssignmentStatus, new: AssignmentStatus, now: datetime
    ) -> bool:
        cursor = await self.db.execute(
            "UPDATE assignments SET status = ?, updated_at = ? WHERE id = ? AND status = ?",
            (new.value, to_db_time(now), assignment_id, expected.value),
        )
        return cursor.rowcount == 1

    # --- timeline ---

    async def add_event(
        self,
        incident_id: int,
        kind: str,
        now: datetime,
        *,
        actor_id: int | None = None,
        agency_id: int | None = None,
        detail: Mapping[str, object] | None = None,
    ) -> None:
        await self.db.execute(
            """
            INSERT INTO incident_events (incident_id, at, actor_id, kind, agency_id, detail)
            VALUES (?, ?, ?, ?, ?, ?)
            """,
            (incident_id, to_db_time(now), actor_id, kind, agency_id, to_json(dict(detail or {}))),
        )
        self.changed_incidents.add(incident_id)  # every change leaves a line in the timeline

    async def events(self, incident_id: int) -> list[TimelineEvent]:
        rows = await fetch_all(
            self.db,
            f"""
            SELECT e.id, e.incident_id, e.at, e.actor_id, e.kind, a.code AS agency_code,
                   e.detail, {select_list(_USER_NAME)}
            FROM incident_events e
            LEFT JOIN users u ON u.id = e.actor_id
            LEFT JOIN agencies a ON a.id = e.agency_id
            WHERE e.incident_id = ? ORDER BY e.id
            """,
            (incident_id,),
        )
        events = []
        for row in rows:
            detail = from_json(row["detail"])
            via = detail.get("via")  # another system, over the API: its key's name
            events.append(
                TimelineEvent(
                    id=row["id"],
                    incident_id=row["incident_id"],
                    at=from_db_time(row["at"]),
                    actor_id=row["actor_id"],
                    actor_name=_name(row, row["actor_id"])
                    or (via if isinstance(via, str) else None),
                    kind=row["kind"],
                    agency_code=row["agency_code"],
                    detail=detail,
                )
            )
        return events

    async def count_events(self, incident_id: int, kind: str) -> int:
        row = await fetch_one(
            self.db,
            "SELECT COUNT(*) AS n FROM incident_events WHERE incident_id = ? AND kind = ?",
            (incident_id, kind),
        )
        return 0 if row is None else int(row["n"])

    async def scrub_event_details(
        self, incident_ids: Sequence[int], words: Iterable[str], label: str
    ) -> None:
        """Names written into the timeline's details (an assignment "to Rudi", a follow-up
        "Rudi was asked") become the person's anonymous label."""
        words = [w for w in words if w]
        if not incident_ids or not words:
            return
        marks = ", ".join("?" for _ in incident_ids)
        rows = await fetch_all(
            self.db,
            f"SELECT id, detail FROM incident_events WHERE incident_id IN ({marks})",
            tuple(incident_ids),
        )
        for row in rows:
            scrubbed = detail = row["detail"]
            for word in words:
                scrubbed = scrubbed.replace(json.dumps(word, ensure_ascii=False)[1:-1], label)
            if scrubbed != detail:
                await self.db.execute(
                    "UPDATE incident_events SET detail = ? WHERE id = ?", (scrubbed, row["id"])
                )

    # --- where the incident was posted ---

    async def add_post(
        self,
        incident_id: int,
        ref: str,
        kind: PostKind,
        chat_id: int,
        *,
        agency_id: int | None = None,
        assignment_id: int | None = None,
    ) -> None:
        await self.db.execute(
            """
            INSERT INTO incident_posts (incident_id, ref, kind, chat_id, agency_id, assignment_id)
            VALUES (?, ?, ?, ?, ?, ?)
            ON CONFLICT (incident_id, ref) DO NOTHING
            """,
            (incident_id, ref, kind, chat_id, agency_id, assignment_id),
        )

    async def posts(self, incident_id: int) -> list[Post]:
        """Where the incident was posted, with what each message shows (one query)."""
        rows = await fetch_all(
            self.db,
            f"""
            SELECT p.incident_id, p.ref, p.kind, p.chat_id, p.agency_id, p.assignment_id,
                   p.pinned, {SHOWN_COLUMNS},
                   NOT EXISTS (SELECT 1 FROM outbox o
                                WHERE o.status = {OUTBOX_PENDING} AND o.ref IS NOT NULL
                                  AND o.ref = p.ref)
                   AND NOT EXISTS (SELECT 1 FROM outbox o
                                    WHERE o.status = {OUTBOX_PENDING} AND o.target_ref IS NOT NULL
                                      AND o.target_ref = p.ref
                                      AND o.method IN ({_RESHAPING})) AS settled
            FROM incident_posts p
                 LEFT JOIN message_refs r ON r.ref = p.ref
                 LEFT JOIN bot_messages b
                   ON b.chat_id = r.chat_id AND b.message_id = r.message_id
            WHERE p.incident_id = ? ORDER BY p.rowid
            """,
            (incident_id,),
        )
        return [
            Post(
                incident_id=row["incident_id"],
                ref=row["ref"],
                kind=row["kind"],
                chat_id=row["chat_id"],
                agency_id=row["agency_id"],
                assignment_id=row["assignment_id"],
                shown=None if row["shown_buttons"] is None else shown_from_row(row),
                settled=bool(row["settled"]),
                pinned=bool(row["pinned"]),
            )
            for row in rows
        ]

    async def set_pinned(self, incident_id: int, ref: str, pinned: bool) -> None:
        """Whether the post `ref` is to be pinned (as its pin or unpin is queued)."""
        await self.db.execute(
            "UPDATE incident_posts SET pinned = ? WHERE incident_id = ? AND ref = ?",
            (int(pinned), incident_id, ref),
        )

    # --- people to tell ---

    async def user_ids_with_roles(
        self, roles: tuple[str, ...], configured: tuple[int, ...] = ()
    ) -> list[int]:
        """People holding any of `roles` (plus `configured` ids) who started the bot."""
        role_marks = ", ".join("?" for _ in roles) or "NULL"
        id_marks = ", ".join("?" for _ in configured) or "NULL"
        rows = await fetch_all(
            self.db,
            f"""
            SELECT id FROM users WHERE started_at IS NOT NULL AND (
                id IN (SELECT user_id FROM user_roles WHERE role IN ({role_marks}))
                OR id IN ({id_marks}))
            ORDER BY id
            """,
            (*roles, *configured),
        )
        return [row["id"] for row in rows]
