"""The store: every SQL statement of the bot, behind one database class.

`Store` owns the SQLite connection (WAL, synchronous=FULL, foreign keys on). Every operation runs
inside `store.transaction()` (BEGIN IMMEDIATE: one writer, read-modify-write safe),
`store.read()` or, for a single statement, `store.lookup()` or `store.single_write()`, and gets a
`Tx` whose methods are the queries, grouped by concern in the modules of this package. A service
operation is one `async with store.transaction() as tx:` block, so a state change and the
messages it causes commit together. The store may import `models` and the shared modules at the
top of `bot` (settings, i18n, hooks); nothing that decides or renders.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import AsyncIterator, Iterator, Mapping
from contextlib import asynccontextmanager, contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any

import aiosqlite

from bot.hooks import Hooks
from bot.store.agencies import AgencyQueries
from bot.store.api import ApiKey, ApiQueries, Delivery, Subscription
from bot.store.broadcasts import BroadcastQueries, Recipient
from bot.store.connection import BUSY_TIMEOUT_MS, LoopConnection, begin_immediate, open_reader
from bot.store.conversations import ConversationQueries, Draft
from bot.store.delivery import DeliveryQueries, UnreachableChat
from bot.store.drills import DrillQueries
from bot.store.duplicates import DuplicateQueries
from bot.store.erasure import ErasureQueries, Trace
from bot.store.incidents import IncidentQueries, Post
from bot.store.info import CallerLink, InfoQueries, NewInfo
from bot.store.maintenance import MaintenanceQueries
from bot.store.messages import MessageQueries
from bot.store.metrics import MetricsQueries, MetricsSnapshot
from bot.store.migrator import MigrationError, migrate, pending_migrations
from bot.store.outbox import MARKED_WORDS, DrillMarker, OutboxQueries, head_with
from bot.store.reminders import ReminderQueries
from bot.store.retention import OutboxWindow, ReporterTrace, RetentionQueries
from bot.store.rows import fetch_one
from bot.store.stats import StatsQueries
from bot.store.users import UserQueries
from bot.store.web import WebQueries
from models.api import SUBSCRIBED
from models.clock import Clock, SystemClock
from models.outbox import OutgoingMessage, SendMethod

__all__ = [
    "ApiKey",
    "CallerLink",
    "DatabaseError",
    "Delivery",
    "Draft",
    "DrillMarker",
    "MetricsSnapshot",
    "MigrationError",
    "NewInfo",
    "OutboxWindow",
    "Post",
    "Recipient",
    "ReporterTrace",
    "Store",
    "Subscription",
    "Trace",
    "Tx",
    "UnreachableChat",
    "UpdateInHand",
]

log = logging.getLogger(__name__)

INCREMENTAL = 2  # PRAGMA auto_vacuum's value for INCREMENTAL


def _int(value: object) -> int | None:
    return value if isinstance(value, int) else None


class DatabaseError(Exception):
    """The database file cannot be opened or used; the message says what to do."""


# Sends that may carry a caption they were not given (a copy of a place may not).
CAPTIONED_SENDS = frozenset({SendMethod.SEND_PHOTO, SendMethod.SEND_DOCUMENT})


class Tx(
    UserQueries,
    AgencyQueries,
    IncidentQueries,
    ReminderQueries,
    OutboxQueries,
    DeliveryQueries,
    StatsQueries,
    MaintenanceQueries,
    BroadcastQueries,
    MessageQueries,
    ErasureQueries,
    ConversationQueries,
    InfoQueries,
    DuplicateQueries,
    DrillQueries,
    WebQueries,
    ApiQueries,
    MetricsQueries,
    RetentionQueries,
):
    """The queries available inside one transaction."""

    def __init__(self, db: aiosqlite.Connection, drill: DrillMarker | None = None) -> None:
        self.db = db
        self.outbox_chats: set[int] | None = set()  # see OutboxQueries
        self.scheduled_reminders: list[tuple[int, datetime]] = []
        self.language_codes = {}
        self.drill_marker = drill
        self.about_drill = False
        self.changed_incidents: set[int] = set()
        self.changed_broadcasts: set[int] = set()
        self.wrote_deliveries = False

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
        """A line in the timeline; an event other systems subscribed to (`models.api`) is
        queued for them in the same transaction."""
        await super().add_event(
            incident_id, kind, now, actor_id=actor_id, agency_id=agency_id, detail=detail
        )
        event = SUBSCRIBED.get(kind)
        if event is not None:
            via = (detail or {}).get("via")
            await self.queue_subscribed(
                incident_id,
                event,
                now,
                actor_id=actor_id,
                agency_id=agency_id,
                via=via if isinstance(via, str) else None,
                other=_int((detail or {}).get("other")),
            )

    async def enqueue(
        self, message: OutgoingMessage, now: datetime, *, supersede: bool = True
    ) -> int:
        return await super().enqueue(await self._marked(message), now, supersede=supersede)

    async def _marked(self, message: OutgoingMessage) -> OutgoingMessage:
        """A message written in a transaction about a drill incident (the incident it read last
        was one: `IncidentQueries._seen`), headed by the drill's marker in its chat's
        language: cards, alerts, reminders, escalations, notes, their edits and captions."""
        marker = self.drill_marker
        if marker is None or not self.about_drill:
            return message
        field = MARKED_WORDS.get(message.method)
        language = marker.group_language
        if message.chat_id > 0:
            language = await self.language_of(message.chat_id, marker.group_language)
        line = marker.lines.get(language) or marker.lines[marker.group_language]
        payload = dict(message.payload)
        if message.method is SendMethod.SEND_MEDIA_GROUP and payload.get("media"):
            media = [dict(item) for item in payload["media"]]
            media[0]["caption"] = head_with(line, str(media[0].get("caption") or ""), marker)
            payload["media"] = media
        elif field is not None and (field in payload or message.method in CAPTIONED_SENDS):
            payload[field] = head_with(line, str(payload.get(field) or ""), marker)
        else:
            return message
        return replace(message, payload=payload)


@dataclass(slots=True)
class UpdateInHand:
    """The Telegram update a task is handling (see `Store.handling_update`)."""

    update_id: int
    task: asyncio.Task[Any] | None
    completing: bool = False  # inside `Store.completes_update`
    recorded: bool = False  # a committed transaction recorded it as handled


_update_in_hand: ContextVar[UpdateInHand | None] = ContextVar("update_in_hand", default=None)


class _TaskLock:
    """A connection for one task at a time, until its block ends; knows which task holds it."""

    __slots__ = ("_lock", "holder")

    def __init__(self) -> None:
        self._lock = asyncio.Lock()
        self.holder: asyncio.Task[Any] | None = None

    async def __aenter__(self) -> None:
        await self._lock.acquire()
        self.holder = asyncio.current_task()

    async def __aexit__(self, *exc_info: object) -> None:
        self.holder = None
        self._lock.release()


async def _pragma_int(db: aiosqlite.Connection, name: str) -> int:
    found = await fetch_one(db, f"SELECT (SELECT * FROM pragma_{name}) AS value")
    return 0 if found is None else int(found["value"])


async def _incremental_vacuum(db: aiosqlite.Connection) -> None:
    """Free pages are given back by the bot's maintenance (`Store.reclaim`), which needs the
    file in incremental auto-vacuum mode. A new file took the mode when it was opened; a file
    made before is converted by one VACUUM, once (or at a later start, if something else was
    writing to it)."""
    if await _pragma_int(db, "auto_vacuum") == INCREMENTAL:
        return
    await db.execute_fetchall("PRAGMA auto_vacuum = INCREMENTAL")
    if await _pragma_int(db, "auto_vacuum") == INCREMENTAL:
        return
    log.info("converting the database to incremental vacuum (once; may take a while)")
    try:
        await db.execute_fetchall("VACUUM")
    except sqlite3.OperationalError as exc:
        # Another process writing (a backup, a command) holds it up: the bot starts anyway,
        # and the maintenance gives no space back until a later start converts the file.
        log.warning("could not convert the database to incremental vacuum now (%s)", exc)


class Store:
    def __init__(
        self, path: Path | str, clock: Clock | None = None, hooks: Hooks | None = None
    ) -> None:
        self.path = Path(path) if str(path) != ":memory:" else path
        self.clock: Clock = clock or SystemClock()
        self.hooks = hooks or Hooks()  # told what a commit wrote (outbox rows, reminders)
        # How a message about a drill incident is marked (set by the composition root).
        self.drill_marker: DrillMarker | None = None
        self._db: aiosqlite.Connection | None = None
        self._on_loop: LoopConnection | None = None  # the same connection, run in place
        self._held = _TaskLock()  # the writer's connection, to one task at a time
        # The reader: a second connection for reads on the loop (`bot.store.connection`).
        self._reader: sqlite3.Connection | None = None
        self._on_reader: LoopConnection | None = None
        # The reader, to one task at a time. Its statements run in place and never wait, so
        # it is contended only by a snapshot (`read`) whose block awaits something: a lookup
        # waits for it rather than read inside that older snapshot.
        self._reading = _TaskLock()

    async def open(self, *, apply_migrations: bool = True) -> list[str]:
        """Open the database and (by default) migrate it; return the migrations applied."""
        if isinstance(self.path, Path):
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise DatabaseError(self._cannot_open(exc)) from None
        try:
            # Used from the loop's thread too (`bot.store.connection`), never at the same time.
            db = await aiosqlite.connect(
                str(self.path), isolation_level=None, check_same_thread=False
            )
        except sqlite3.Error as exc:
            raise DatabaseError(self._cannot_open(exc)) from None
        db.row_factory = sqlite3.Row  # rows are read by column name (see `bot.store.rows`)
        try:
            if apply_migrations:
                # Before the journal mode, which writes the first page: a new file then takes
                # incremental vacuum at once (`_incremental_vacuum` converts an older one).
                await db.execute_fetchall("PRAGMA auto_vacuum = INCREMENTAL")
            # Read to the end (a pragma that answers with a row would otherwise stay a
            # statement in progress, and VACUUM refuses to run beside one).
            await db.execute_fetchall(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            await db.execute_fetchall("PRAGMA journal_mode = WAL")
            await db.execute("PRAGMA synchronous = FULL")
            await db.execute("PRAGMA foreign_keys = ON")
            # Deleted and overwritten content is zeroed, so what a person asked the bot to
            # forget does not linger in the file's free space.
            await db.execute("PRAGMA secure_delete = ON")
            if apply_migrations:
                await _incremental_vacuum(db)
            applied = await migrate(db, self.clock.now()) if apply_migrations else []
        except sqlite3.Error as exc:
            await db.close()
            raise DatabaseError(self._cannot_open(exc)) from None
        except BaseException:
            await db.close()
            raise
        if isinstance(self.path, Path):
            try:
                self._reader, self._on_reader = open_reader(str(self.path), db._iter_chunk_size)
            except sqlite3.Error as exc:
                await db.close()
                raise DatabaseError(self._cannot_open(exc)) from None
        self._db = db
        self._on_loop = LoopConnection(db._conn, db._iter_chunk_size)
        for name in applied:
            log.info("applied migration %s", name)
        return applied

    def _cannot_open(self, exc: BaseException) -> str:
        return (
            f"Cannot open the database at {self.path}: {exc}. Check that DATABASE_PATH points "
            "to a file in a directory this user may write to (the directory is created when "
            "missing), and that the file is a siaga112 SQLite database."
        )

    async def close(self) -> None:
        if self._reader is not None:
            self._on_reader = None
            self._reader.close()
            self._reader = None
        if self._db is not None:
            self._on_loop = None
            await self._db.close()
            self._db = None

    async def __aenter__(self) -> Store:
        await self.open()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    @property
    def db(self) -> aiosqlite.Connection:
        """The connection, its calls run on aiosqlite's database thread."""
        if self._db is None:
            raise RuntimeError("the store is not open")
        return self._db

    @property
    def on_loop(self) -> aiosqlite.Connection:
        """The same connection, its calls run in place on the event loop's thread: for the
        statements that cannot wait on anything outside the process (`bot.store.connection`)."""
        if self._on_loop is None:
            raise RuntimeError("the store is not open")
        return self._on_loop

    @property
    def on_reader(self) -> aiosqlite.Connection | None:
        """The reader, its calls run in place on the loop's thread (`lookup` and `read` use it);
        None for a database without a file, whose reads share the writer's connection."""
        return self._on_reader

    async def pending_migrations(self) -> list[str]:
        async with self._held:
            return [migration.name for migration in await pending_migrations(self.db)]

    async def purge_wal(self) -> None:
        """Copy the write-ahead log into the database and empty it, so earlier versions of
        pages (with what was just erased) are gone from it too. No read is under way meanwhile:
        a reader's snapshot would keep the log from being emptied."""
        async with self._held, self._reading:
            await self.db.execute_fetchall("PRAGMA wal_checkpoint(TRUNCATE)")

    async def reclaim(self, step_pages: int = 2000) -> int:
        """Give the file's free pages back (incremental vacuum), a step at a time so that the
        writer is never held for long, then empty the write-ahead log. The pages freed."""
        freed = 0
        while True:
            async with self._held:
                before = await _pragma_int(self.db, "freelist_count")
                if before == 0:
                    break
                # Each step of the statement frees one page: it is read to its end.
                await self.db.execute_fetchall(f"PRAGMA incremental_vacuum({int(step_pages)})")
                after = await _pragma_int(self.db, "freelist_count")
            freed += before - after
            if after >= before:  # nothing more it can give back
                break
        await self.purge_wal()
        return freed

    async def pragma(self, name: str) -> object:
        """The value of a pragma that reads a setting (`journal_mode`, `page_count`, ...)."""
        if not name.isidentifier():
            raise ValueError(name)
        # The pragma's table-valued function, so that its column has a name we give it (its own
        # is the pragma's name, mostly: busy_timeout's is "timeout").
        async with (
            self._held,
            self.db.execute(f"SELECT (SELECT * FROM pragma_{name}) AS value") as cursor,
        ):
            row = await cursor.fetchone()
        return None if row is None else row["value"]

    def held_here(self) -> bool:
        """Whether the running task is inside one of the store's blocks. Waiting for the store
        there (or for Telegram, holding everyone else up) would be a mistake of the caller."""
        task = asyncio.current_task()
        return task is not None and task in (self._held.holder, self._reading.holder)

    @contextmanager
    def handling_update(self, update_id: int) -> Iterator[UpdateInHand]:
        """While this task runs the handlers of an update: lets the handler's last transaction
        record the update as handled (`completes_update`); `recorded` tells whether it did."""
        hand = UpdateInHand(update_id, asyncio.current_task())
        token = _update_in_hand.set(hand)
        try:
            yield hand
        finally:
            _update_in_hand.reset(token)

    @contextmanager
    def completes_update(self) -> Iterator[None]:
        """The write transaction in this block is the last effect of the update being handled:
        it records the update as handled in the same commit, so the processor needs no
        transaction of its own for that. Only around one transaction that no other write of the
        update follows; outside `handling_update` (or in another task) it does nothing."""
        hand = _update_in_hand.get()
        if hand is None or hand.task is not asyncio.current_task():
            yield
            return
        hand.completing = True
        try:
            yield
        finally:
            hand.completing = False

    @asynccontextmanager
    async def transaction(self, *, on_thread: bool = False) -> AsyncIterator[Tx]:
        """One write transaction; commits on success, rolls back on any exception.

        Its statements run on the event loop's thread (the write lock is held, so they wait for
        nothing); the lock is taken, when another process holds it, and the COMMIT synced on
        the database thread. Long work (maintenance, retention, erasure's scans) passes
        `on_thread=True`, so that the loop is not held while it runs."""
        hand = _update_in_hand.get()
        if hand is not None and not (
            hand.completing and not hand.recorded and hand.task is asyncio.current_task()
        ):
            hand = None
        async with self._held:
            db = self.db if on_thread else self.on_loop
            tx = Tx(db, self.drill_marker)
            if on_thread:
                await self.db.execute("BEGIN IMMEDIATE")
            else:
                await begin_immediate(self.db)
            try:
                yield tx
                if hand is not None:
                    await tx.record_update(hand.update_id, self.clock.now())
            except BaseException:
                await db.execute("ROLLBACK")
                raise
            await self.db.execute("COMMIT")
        if hand is not None:
            hand.recorded = True
        self._committed(tx)

    async def writable(self) -> bool:
        """Whether the database takes a write now (the health check): the write lock is taken
        and let go, nothing written."""
        async with self._held:
            await self.db.execute("BEGIN IMMEDIATE")
            await self.db.execute("ROLLBACK")
        return True

    @asynccontextmanager
    async def single_write(self) -> AsyncIterator[Tx]:
        """For one write statement: SQLite runs a lone statement as a transaction of its own,
        committed as durably as any (synchronous=FULL), on the database thread (one trip there,
        as a transaction's COMMIT takes). It never records the update in hand; a write made of
        several statements belongs in `transaction()` (each statement here would sync on its
        own)."""
        async with self._held:
            tx = Tx(self.db, self.drill_marker)
            yield tx
        self._committed(tx)

    def _committed(self, tx: Tx) -> None:
        """Tell the listeners what a committed write did."""
        if tx.outbox_chats is None or tx.outbox_chats:  # it wrote to the outbox
            chats = None if tx.outbox_chats is None else frozenset(tx.outbox_chats)
            for listener in self.hooks.outbox_written:
                listener(chats)
        if tx.scheduled_reminders:
            for reminder_listener in self.hooks.reminders_scheduled:
                reminder_listener(tx.scheduled_reminders)
        if tx.changed_incidents:
            for change_listener in self.hooks.incidents_changed:
                change_listener(sorted(tx.changed_incidents))
        if tx.wrote_deliveries:
            for delivery_listener in self.hooks.deliveries_written:
                delivery_listener()
        if tx.changed_broadcasts:
            for broadcast_listener in self.hooks.broadcasts_changed:
                broadcast_listener(sorted(tx.changed_broadcasts))

    @asynccontextmanager
    async def lookup(self) -> AsyncIterator[Tx]:
        """For one read-only query: SQLite runs a lone statement as a snapshot of its own, so it
        needs no BEGIN and ROLLBACK around it. Queries whose answers must agree with each other
        belong in `read()`. On the loop's thread, on the reader: it sees every committed
        transaction and waits for none in progress (a WAL reader waits for no writer)."""
        reader = self._on_reader
        async with self._held if reader is None else self._reading:
            yield Tx(self.on_loop if reader is None else reader, self.drill_marker)

    @asynccontextmanager
    async def read(self, *, on_thread: bool = False) -> AsyncIterator[Tx]:
        """A consistent read-only snapshot, on the loop's thread; a long one (the metrics
        snapshot, the board, an export's batches, a period's statistics) passes
        `on_thread=True`. On the reader, like `lookup`, unless on the thread."""
        db: aiosqlite.Connection
        if not on_thread and self._on_reader is not None:
            lock, db = self._reading, self._on_reader
        else:
            lock, db = self._held, self.db if on_thread else self.on_loop
        async with lock:
            await db.execute("BEGIN")
            try:
                yield Tx(db, self.drill_marker)
            finally:
                await db.execute("ROLLBACK")
