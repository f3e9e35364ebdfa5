"""The scheduler mirrors the reminders table onto PTB's JobQueue (APScheduler).

One named job per pending reminder, replaced rather than duplicated when a reminder is moved;
a periodic sweep that fires anything due that no job covered; and a self-check that alerts when
reminders run late (a stuck event loop, a dead job). Jobs never fire anything by themselves:
they ask `ReminderService.fire`, which re-checks the database, so a job for a reminder that was
cancelled in the meantime does nothing.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from telegram.ext import JobQueue

from bot.context import AppContext
from bot.reminders import ReminderService
from bot.store import Store
from models.clock import Clock

log = logging.getLogger(__name__)

SELF_CHECK_EVERY = timedelta(seconds=60)
OVERDUE_AFTER = timedelta(seconds=60)
ALERT_AT_MOST_EVERY = timedelta(minutes=10)


class ReminderScheduler:
    def __init__(
        self,
        job_queue: JobQueue[AppContext],
        reminders: ReminderService,
        store: Store,
        clock: Clock,
        sweep_every: timedelta,
    ) -> None:
        self.job_queue = job_queue
        self.reminders = reminders
        self.store = store
        self.clock = clock
        self.sweep_every = sweep_every
        self._last_alert: datetime | None = None
        self.rebuilt = 0  # jobs recreated from the database at the last start
        store.on_reminders_scheduled(self._scheduled)

    async def start(self) -> int:
        """Rebuild the jobs from the database and start the sweep and the self-check."""
        async with self.store.read() as tx:
            pending = await tx.pending_schedule()
        for reminder_id, due in pending:
            self.schedule(reminder_id, due)
        self.job_queue.run_repeating(
            self._sweep,
            interval=self.sweep_every,
            first=timedelta(seconds=1),
            name="reminder-sweep",
        )
        self.job_queue.run_repeating(
            self._self_check,
            interval=SELF_CHECK_EVERY,
            first=SELF_CHECK_EVERY,
            name="reminder-self-check",
        )
        self.rebuilt = len(pending)
        log.info("scheduler rebuilt with %d pending reminders", len(pending))
        return len(pending)

    def schedule(self, reminder_id: int, due: datetime) -> None:
        """One job per reminder, named after it; scheduling again replaces the old job."""
        name = job_name(reminder_id)
        self.job_queue.run_once(
            self._fire,
            when=due,
            data=reminder_id,
            name=name,
            # A reminder that fell due while the bot was down fires once, however late:
            # APScheduler would otherwise drop it after its default grace time.
            job_kwargs={"id": name, "replace_existing": True, "misfire_grace_time": None},
        )

    def _scheduled(self, reminders: list[tuple[int, datetime]]) -> None:
        for reminder_id, due in reminders:
            self.schedule(reminder_id, due)

    async def _fire(self, context: AppContext) -> None:
        assert context.job is not None
        reminder_id = context.job.data
        assert isinstance(reminder_id, int)
        await self.reminders.fire(reminder_id)

    async def _sweep(self, context: AppContext) -> None:
        sent = await self.reminders.sweep()
        if sent:
            log.info("sweep fired %d reminders no job had fired", sent)

    async def _self_check(self, context: AppContext) -> None:
        await self.check_health()

    async def check_health(self) -> bool:
        """False (and coordinators told, at most every 10 minutes) when reminders run late."""
        count, oldest = await self.reminders.overdue(OVERDUE_AFTER)
        if not count or oldest is None:
            return True
        log.error(
            "%d reminders are more than %s overdue (oldest due %s)", count, OVERDUE_AFTER, oldest
        )
        now = self.clock.now()
        if self._last_alert is None or now - self._last_alert >= ALERT_AT_MOST_EVERY:
            self._last_alert = now
            await self.reminders.alert_stuck(count, oldest)
        return False


def job_name(reminder_id: int) -> str:
    return f"reminder:{reminder_id}"
