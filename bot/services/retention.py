"""Retention: the bot keeps what it was given no longer than its purpose needs.

Indonesia's personal data protection law, UU No. 27 Tahun 2022 tentang Pelindungan Data
Pribadi, asks that personal data be kept only as long as the purpose it was collected for. A
report's purpose is the response to it; the evaluation after it needs what happened, where and
when, not who called. So, once a day (`bot.runtime.scheduler`) and on `siaga112 maintenance`:

* `OUTBOX_RETENTION_DAYS` (7) after it was written, a message the bot sent about anything but an
  open incident is reduced to its reference (`bot.store.retention`): the copies of cards, with
  the reporter's name and number on them, are the bulk of the file; a closed incident's
  fired and cancelled reminders go too (its timeline keeps each as an event);
* `PERSONAL_DATA_RETENTION_DAYS` (365) after an incident was closed, its reporter's identity and
  contact are erased from it; the outbox's copies about it are reduced by then at the latest;
  and a resident who only ever reported and was not seen for as long is no longer named (no
  role, no agency: responders' and dispatchers' records are the service's own);
* the freed pages are given back to the file system (`Store.reclaim`), after the database has
  zeroed them (`secure_delete`).

Each window of rows is its own short transaction, so reports and presses are never held up for
more than one window. The messages already in the chats are not edited: they are the agencies'
and the reporters' own Telegram history.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.settings import Settings
from bot.store import Store
from models.clock import Clock
from models.users import naming_words

log = logging.getLogger(__name__)

OUTBOX_WINDOW = 2000  # outbox ids per transaction
INCIDENT_WINDOW = 500  # incident ids per transaction
PEOPLE_BATCH = 500  # people forgotten per transaction
ERASED_WORD = "—"  # written where a reporter's name or number stood in a timeline detail
MIN_WORD = 3


@dataclass(frozen=True, slots=True)
class Maintained:
    """What one maintenance run did."""

    outbox_reduced: int  # sent messages reduced to their reference
    reminders_dropped: int  # settled reminders of closed incidents
    incidents_erased: int  # closed incidents whose reporters' data was erased
    people_forgotten: int  # residents not seen for as long, their name and number erased
    pages_freed: int  # pages given back to the file system

    def describe(self) -> str:
        return (
            f"{self.outbox_reduced} sent messages reduced to their reference, "
            f"{self.reminders_dropped} settled reminders dropped, "
            f"{self.incidents_erased} closed incidents without their reporters' data, "
            f"{self.people_forgotten} absent residents' names and numbers erased, "
            f"{self.pages_freed} pages given back"
        )


class RetentionService:
    def __init__(self, store: Store, clock: Clock, settings: Settings) -> None:
        self.store = store
        self.clock = clock
        self.settings = settings

    @property
    def outbox_days(self) -> int:
        # Personal data never outlives its days in a copy of a card either.
        return min(self.settings.outbox_retention_days, self.settings.personal_data_retention_days)

    async def run(self, now: datetime | None = None) -> Maintained:
        """One maintenance run: both sweeps, then the space given back."""
        now = now or self.clock.now()
        cut = now - timedelta(days=self.outbox_days)
        reduced = await self.reduce_outbox(cut)
        dropped = await self.drop_reminders(cut)
        personal = now - timedelta(days=self.settings.personal_data_retention_days)
        erased = await self.erase_reporters(personal)
        forgotten = await self.forget_absent(personal, now)
        freed = await self.store.reclaim()
        done = Maintained(reduced, dropped, erased, forgotten, freed)
        log.info("maintenance: %s", done.describe())
        return done

    async def reduce_outbox(self, before: datetime) -> int:
        async with self.store.read() as tx:
            first, last = await tx.outbox_id_range()
        reduced = 0
        start = first
        while start <= last:
            async with self.store.transaction(on_thread=True) as tx:
                window = await tx.drop_sent_outbox(start, start + OUTBOX_WINDOW - 1, before)
            reduced += window.dropped
            if window.last:
                break
            start += OUTBOX_WINDOW
        return reduced

    async def drop_reminders(self, before: datetime) -> int:
        dropped = 0
        for first, last in await self._incident_windows():
            async with self.store.transaction(on_thread=True) as tx:
                dropped += await tx.drop_settled_reminders(first, last, before)
        return dropped

    async def _incident_windows(self) -> list[tuple[int, int]]:
        """The incidents' ids, INCIDENT_WINDOW at a time: one transaction each."""
        async with self.store.read() as tx:
            low, high = await tx.incident_id_range()
        return [
            (start, start + INCIDENT_WINDOW - 1) for start in range(low, high + 1, INCIDENT_WINDOW)
        ]

    async def erase_reporters(self, before: datetime) -> int:
        erased = 0
        for first, last in await self._incident_windows():
            async with self.store.transaction(on_thread=True) as tx:
                for trace in await tx.reporters_due(first, last, before):
                    words = set(trace.contact)
                    for user_id in trace.people:
                        person = await tx.person(user_id)
                        if person is not None:
                            words |= naming_words(person)
                    # A shorter word could stand inside the detail's JSON itself.
                    kept = sorted(word for word in words if len(word) >= MIN_WORD)
                    await tx.scrub_event_details([trace.incident_id], kept, ERASED_WORD)
                    await tx.erase_reporters(trace)
                    erased += 1
        return erased

    async def forget_absent(self, before: datetime, now: datetime) -> int:
        forgotten = 0
        while True:
            async with self.store.transaction(on_thread=True) as tx:
                batch = await tx.forget_absent_people(
                    before, now, PEOPLE_BATCH, keep=self.settings.admin_user_ids
                )
            forgotten += batch
            if batch < PEOPLE_BATCH:
                return forgotten
