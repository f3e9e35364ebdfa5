"""SQL of the HTTP API's keys and idempotency ids, and of event subscriptions and their
deliveries (written in the transaction of the change they tell about)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

import aiosqlite

from bot.store.codec import from_db_time, from_json, maybe_time, to_db_time, to_json
from bot.store.rows import NamedRow, fetch_all, fetch_one
from models.api import DeliveryStatus, EventName, Scope
from models.incidents import Lifecycle
from models.users import display_name

_PENDING = f"'{DeliveryStatus.PENDING.value}'"  # as the partial index spells it
_OPEN = f"'{Lifecycle.OPEN.value}'"


@dataclass(frozen=True, slots=True)
class ApiKey:
    id: int
    name: str
    scope: Scope
    created_at: datetime
    revoked_at: datetime | None
    last_used_at: datetime | None


@dataclass(frozen=True, slots=True)
class Subscription:
    id: int
    url: str
    events: tuple[EventName, ...]
    secret: str
    created_at: datetime
    removed_at: datetime | None


@dataclass(frozen=True, slots=True)
class Delivery:
    id: int
    subscription_id: int
    url: str
    secret: str
    incident_id: int
    event: EventName
    body: str
    status: DeliveryStatus
    attempts: int
    next_at: datetime
    failing_since: datetime | None
    created_at: datetime
    sent_at: datetime | None
    last_error: str | None


def _key(row: NamedRow) -> ApiKey:
    return ApiKey(
        id=row["id"],
        name=row["name"],
        scope=Scope(row["scope"]),
        created_at=from_db_time(row["created_at"]),
        revoked_at=maybe_time(row["revoked_at"]),
        last_used_at=maybe_time(row["last_used_at"]),
    )


def _subscription(row: NamedRow) -> Subscription:
    return Subscription(
        id=row["id"],
        url=row["url"],
        events=tuple(EventName(e) for e in from_json(row["events"])),
        secret=row["secret"],
        created_at=from_db_time(row["created_at"]),
        removed_at=maybe_time(row["removed_at"]),
    )


_DELIVERY_COLUMNS = """
    d.id, d.subscription_id, s.url, s.secret, d.incident_id, d.event, d.body, d.status,
    d.attempts, d.next_at, d.failing_since, d.created_at, d.sent_at, d.last_error
"""


def _delivery(row: NamedRow) -> Delivery:
    return Delivery(
        id=row["id"],
        subscription_id=row["subscription_id"],
        url=row["url"],
        secret=row["secret"],
        incident_id=row["incident_id"],
        event=EventName(row["event"]),
        body=row["body"],
        status=DeliveryStatus(row["status"]),
        attempts=row["attempts"],
        next_at=from_db_time(row["next_at"]),
        failing_since=maybe_time(row["failing_since"]),
        created_at=from_db_time(row["created_at"]),
        sent_at=maybe_time(row["sent_at"]),
        last_error=row["last_error"],
    )


class ApiQueries:
    db: aiosqlite.Connection
    wrote_deliveries: bool

    # --- keys ---

    async def add_api_key(
        self, name: str, scope: Scope, key_hash: str, now: datetime
    ) -> int | None:
        """A new key; None when an active key already has this name."""
        rows = await fetch_all(
            self.db,
            """
            INSERT INTO api_keys (name, scope, key_hash, created_at) VALUES (?, ?, ?, ?)
            ON CONFLICT DO NOTHING RETURNING id
            """,
            (name, scope.value, key_hash, to_db_time(now)),
        )
        return int(rows[0]["id"]) if rows else None

    async def api_key_by_hash(self, key_hash: str) -> ApiKey | None:
        row = await fetch_one(
            self.db,
            "SELECT * FROM api_keys WHERE key_hash = ? AND revoked_at IS NULL",
            (key_hash,),
        )
        return None if row is None else _key(row)

    async def api_keys(self) -> list[ApiKey]:
        rows = await fetch_all(self.db, "SELECT * FROM api_keys ORDER BY id")
        return [_key(row) for row in rows]

    async def revoke_api_key(self, name: str, now: datetime) -> bool:
        cursor = await self.db.execute(
            "UPDATE api_keys SET revoked_at = ? WHERE name = ? AND revoked_at IS NULL",
            (to_db_time(now), name),
        )
        return cursor.rowcount == 1

    async def touch_api_key(self, key_id: int, now: datetime) -> None:
        await self.db.execute(
            "UPDATE api_keys SET last_used_at = ? WHERE id = ?", (to_db_time(now), key_id)
        )

    # --- the call centre's ids ---

    async def api_incident(self, key_id: int, external_id: str) -> int | None:
        row = await fetch_one(
            self.db,
            "SELECT incident_id FROM api_incidents WHERE key_id = ? AND external_id = ?",
            (key_id, external_id),
        )
        return None if row is None else int(row["incident_id"])

    async def add_api_incident(
        self, key_id: int, external_id: str, incident_id: int, now: datetime
    ) -> None:
        """Record the call centre's id; the events already queued about the incident (its
        creation, in this transaction) carry it too."""
        await self.db.execute(
            "INSERT INTO api_incidents (key_id, external_id, incident_id, created_at)"
            " VALUES (?, ?, ?, ?)",
            (key_id, external_id, incident_id, to_db_time(now)),
        )
        await self.db.execute(
            f"""
            UPDATE subscription_deliveries SET body = json_set(body, '$.incident.external_id', ?)
            WHERE incident_id = ? AND status = {_PENDING}
            """,
            (external_id, incident_id),
        )

    async def api_origin(self, incident_id: int) -> tuple[int, str] | None:
        """The key and external id an incident came in with over the API."""
        row = await fetch_one(
            self.db,
            "SELECT key_id, external_id FROM api_incidents WHERE incident_id = ?",
            (incident_id,),
        )
        return None if row is None else (int(row["key_id"]), str(row["external_id"]))

    async def incident_page(
        self, *, open_only: bool | None, since: datetime | None, after: int, limit: int
    ) -> list[int]:
        """Incident numbers above `after`, ascending: open (True), closed (False) or both,
        changed at or after `since`; drills left out."""
        where = ["i.id > ?", "i.drill_id IS NULL"]
        params: list[object] = [after]
        if open_only is True:
            where.append(f"i.lifecycle = {_OPEN}")
        elif open_only is False:
            where.append(f"i.lifecycle != {_OPEN}")
        if since is not None:
            # Changed: anything on its timeline since then (an acknowledgement changes no column
            # of the incident itself).
            where.append(
                "EXISTS (SELECT 1 FROM incident_events e WHERE e.incident_id = i.id AND e.at >= ?)"
            )
            params.append(to_db_time(since))
        rows = await fetch_all(
            self.db,
            f"SELECT i.id FROM incidents i WHERE {' AND '.join(where)} ORDER BY i.id LIMIT ?",
            (*params, limit),
        )
        return [int(row["id"]) for row in rows]

    # --- subscriptions ---

    async def add_subscription(
        self, url: str, events: list[EventName], secret: str, now: datetime
    ) -> int:
        cursor = await self.db.execute(
            "INSERT INTO subscriptions (url, events, secret, created_at) VALUES (?, ?, ?, ?)",
            (url, to_json([e.value for e in events]), secret, to_db_time(now)),
        )
        assert cursor.lastrowid is not None
        return cursor.lastrowid

    async def subscriptions(self, *, active: bool = True) -> list[Subscription]:
        where = "WHERE removed_at IS NULL " if active else ""
        rows = await fetch_all(self.db, f"SELECT * FROM subscriptions {where}ORDER BY id")
        return [_subscription(row) for row in rows]

    async def remove_subscription(self, subscription_id: int, now: datetime) -> bool:
        """Stop it; what it still had queued is dropped (listed by `subscription log`)."""
        cursor = await self.db.execute(
            "UPDATE subscriptions SET removed_at = ? WHERE id = ? AND removed_at IS NULL",
            (to_db_time(now), subscription_id),
        )
        if cursor.rowcount != 1:
            return False
        await self.db.execute(
            f"""
            UPDATE subscription_deliveries SET status = ?
            WHERE subscription_id = ? AND status IN ({_PENDING}, ?)
            """,
            (DeliveryStatus.DROPPED.value, subscription_id, DeliveryStatus.PARKED.value),
        )
        return True

    async def queue_subscribed(
        self,
        incident_id: int,
        event: EventName,
        now: datetime,
        *,
        actor_id: int | None,
        agency_id: int | None,
        via: str | None,
        other: int | None = None,
    ) -> int:
        """One delivery per active subscription asking for `event`, in this transaction, with
        the body it will carry; drills tell nobody outside. Returns how many were queued."""
        rows = await fetch_all(
            self.db, "SELECT id, events FROM subscriptions WHERE removed_at IS NULL"
        )
        wanted = [row["id"] for row in rows if event.value in json.loads(row["events"])]
        if not wanted:
            return 0
        row = await fetch_one(
            self.db,
            """
            SELECT i.id, i.type, i.severity, i.lifecycle, i.drill_id, i.reporter_id,
                   (SELECT code FROM agencies WHERE id = ?) AS agency,
                   u.first_name, u.last_name, u.username,
                   (SELECT external_id FROM api_incidents WHERE incident_id = i.id) AS external_id
            FROM incidents i LEFT JOIN users u ON u.id = ?
            WHERE i.id = ?
            """,
            (agency_id, actor_id, incident_id),
        )
        if row is None or row["drill_id"] is not None:
            return 0
        # Staff by name; a resident (who reported it, or cancelled their own report) never.
        actor = via
        if actor_id is not None and actor_id != row["reporter_id"]:
            actor = display_name(actor_id, row["first_name"], row["last_name"], row["username"])
        elif actor_id is not None:
            actor = None
        body = to_json(
            {
                "event": event.value,
                "at": now.isoformat(),
                "incident": {
                    "number": row["id"],
                    "type": row["type"],
                    "severity": row["severity"],
                    "lifecycle": row["lifecycle"],
                    "external_id": row["external_id"],
                },
                "agency": row["agency"],
                "actor": actor,
            }
            | ({"merged_into": other} if event is EventName.MERGED else {})
        )
        at = to_db_time(now)
        for subscription_id in wanted:
            await self.db.execute(
                """
                INSERT INTO subscription_deliveries
                    (subscription_id, incident_id, event, body, status, next_at, created_at)
                VALUES (?, ?, ?, ?, ?, ?, ?)
                """,
                (subscription_id, incident_id, event.value, body, DeliveryStatus.PENDING, at, at),
            )
        self.wrote_deliveries = True
        return len(wanted)

    async def due_deliveries(self, now: datetime, limit: int) -> list[Delivery]:
        """Deliveries to try now: for each subscription and incident only the oldest pending
        one (events of one incident go in order), of subscriptions still active."""
        rows = await fetch_all(
            self.db,
            f"""
            SELECT {_DELIVERY_COLUMNS}
            FROM subscription_deliveries d JOIN subscriptions s ON s.id = d.subscription_id
            WHERE d.status = {_PENDING} AND s.removed_at IS NULL AND d.next_at <= ?
              AND d.id = (SELECT MIN(x.id) FROM subscription_deliveries x
                          WHERE x.subscription_id = d.subscription_id
                            AND x.incident_id = d.incident_id AND x.status = {_PENDING})
            ORDER BY d.id LIMIT ?
            """,
            (to_db_time(now), limit),
        )
        return [_delivery(row) for row in rows]

    async def next_delivery_due(self) -> datetime | None:
        """When `due_deliveries` will next have something: the earliest retry among the
        deliveries it may pick (each incident's oldest pending one, of active subscriptions)."""
        row = await fetch_one(
            self.db,
            f"""
            SELECT MIN(d.next_at) AS due
            FROM subscription_deliveries d JOIN subscriptions s ON s.id = d.subscription_id
            WHERE d.status = {_PENDING} AND s.removed_at IS NULL
              AND d.id = (SELECT MIN(x.id) FROM subscription_deliveries x
                          WHERE x.subscription_id = d.subscription_id
                            AND x.incident_id = d.incident_id AND x.status = {_PENDING})
            """,
        )
        return None if row is None else maybe_time(row["due"])

    async def delivery_sent(self, delivery_id: int, now: datetime) -> None:
        await self.db.execute(
            "UPDATE subscription_deliveries SET status = ?, sent_at = ?, attempts = attempts + 1,"
            " last_error = NULL WHERE id = ?",
            (DeliveryStatus.SENT.value, to_db_time(now), delivery_id),
        )

    async def delivery_failed(
        self, delivery: Delivery, error: str, now: datetime, retry_at: datetime | None
    ) -> None:
        """A failed attempt: tried again at `retry_at`, or parked (None). A parked delivery
        hands its day of failure to the incident's next ones, so they are parked after one
        more failed attempt rather than another day each."""
        delivery_id = delivery.id
        status = DeliveryStatus.PENDING if retry_at is not None else DeliveryStatus.PARKED
        if retry_at is None:
            await self.db.execute(
                f"""
                UPDATE subscription_deliveries SET failing_since = COALESCE(failing_since, ?)
                WHERE subscription_id = ? AND incident_id = ? AND status = {_PENDING}
                  AND id != ?
                """,
                (
                    to_db_time(delivery.failing_since or now),
                    delivery.subscription_id,
                    delivery.incident_id,
                    delivery_id,
                ),
            )
        await self.db.execute(
            """
            UPDATE subscription_deliveries
            SET status = ?, attempts = attempts + 1, last_error = ?, next_at = ?,
                failing_since = COALESCE(failing_since, ?)
            WHERE id = ?
            """,
            (
                status.value,
                error[:500],
                to_db_time(retry_at or now),
                to_db_time(now),
                delivery_id,
            ),
        )

    async def resend_delivery(self, delivery_id: int, now: datetime) -> bool:
        """A parked delivery queued again (its day of retries starts over); not one of a
        removed subscription."""
        cursor = await self.db.execute(
            """
            UPDATE subscription_deliveries
            SET status = ?, next_at = ?, failing_since = NULL
            WHERE id = ? AND status = ?
              AND subscription_id IN (SELECT id FROM subscriptions WHERE removed_at IS NULL)
            """,
            (
                DeliveryStatus.PENDING.value,
                to_db_time(now),
                delivery_id,
                DeliveryStatus.PARKED.value,
            ),
        )
        if cursor.rowcount == 1:
            self.wrote_deliveries = True
        return cursor.rowcount == 1

    async def delivery_log(self, limit: int, *, parked_only: bool = False) -> list[Delivery]:
        where = "WHERE d.status = ?" if parked_only else ""
        params: tuple[object, ...] = (DeliveryStatus.PARKED.value,) if parked_only else ()
        rows = await fetch_all(
            self.db,
            f"""
            SELECT {_DELIVERY_COLUMNS}
            FROM subscription_deliveries d JOIN subscriptions s ON s.id = d.subscription_id
            {where} ORDER BY d.id DESC LIMIT ?
            """,
            (*params, limit),
        )
        return [_delivery(row) for row in rows]
