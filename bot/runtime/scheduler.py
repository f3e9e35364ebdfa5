"""The scheduler: every timed job of the bot on PTB's JobQueue (APScheduler), and the mirror of the
reminders table.

One named job per pending reminder that falls due within the next few sweeps (`ARMING_SWEEPS`),
replaced rather than duplicated when a reminder is moved; a periodic sweep that gives the
reminders coming near their jobs (a reminder minutes away, as most are, costs nothing until
then: making an APScheduler job was ~4 % of an acknowledgement's CPU) and fires anything due that
no job covered; and a self-check that alerts when reminders run late (a stuck event loop, a dead
job). Jobs never fire anything by themselves:
they ask `ReminderService.fire`, which re-checks the database, so a job for a reminder that was
cancelled in the meantime does nothing. Beside them, the housekeeping: conversations nobody
finished expire, broadcasts in progress are brought up to date, handled update ids are
forgotten after Telegram's retention, the coordinators' morning digest goes out, and every night
the maintenance keeps data no longer than its purpose needs (`bot.services.retention`).
"""

from __future__ import annotations

import logging
from datetime import datetime, time, timedelta
from typing import Any

from telegram.ext import JobQueue

from bot.services.broadcasts import BroadcastService
from bot.services.conversations import Conversations
from bot.services.digest import DigestService
from bot.services.drills import DrillService
from bot.services.info import InfoService
from bot.services.reminders import ReminderService
from bot.services.retention import RetentionService
from bot.settings import Settings
from bot.store import Store
from models.clock import Clock

log = logging.getLogger(__name__)

ARMING_SWEEPS = 3  # a reminder gets its job at least two sweeps before it is due
SELF_CHECK_EVERY = timedelta(seconds=60)
OVERDUE_AFTER = timedelta(seconds=60)
ALERT_AT_MOST_EVERY = timedelta(minutes=10)
CONVERSATION_SWEEP = timedelta(seconds=60)
QUESTION_SWEEP = timedelta(seconds=30)  # how soon an unanswered question is marked
BROADCAST_REFRESH = timedelta(seconds=5)
DRILL_SWEEP = timedelta(seconds=5)  # a drill's scripted reports are filed within this
UPDATE_RETENTION = timedelta(days=2)  # Telegram keeps an undelivered update for 24 hours
DAILY_DIGEST = "daily-digest"
DIGEST_CATCH_UP = "daily-digest-catch-up"
DIGEST_CATCH_UP_DELAY = timedelta(seconds=10)  # after start-up, once the outbox sender runs
MAINTENANCE = "maintenance"  # retention and reclaiming space, every night
MAINTENANCE_AT = time(3, 30)  # local time: the quietest hour
MAINTENANCE_AFTER_START = timedelta(minutes=15)  # also soon after a start (down at 03:30?)


class Scheduler:
    def __init__(
        self,
        job_queue: JobQueue[Any],
        store: Store,
        clock: Clock,
        settings: Settings,
        *,
        reminders: ReminderService,
        conversations: Conversations,
        broadcasts: BroadcastService,
        digest: DigestService,
        info: InfoService,
        drills: DrillService,
        retention: RetentionService,
    ) -> None:
        self.job_queue = job_queue
        self.store = store
        self.clock = clock
        self.settings = settings
        self.reminders = reminders
        self.conversations = conversations
        self.broadcasts = broadcasts
        self.digest = digest
        self.info = info
        self.drills = drills
        self.retention = retention
        self.sweep_every = timedelta(seconds=settings.reminder_sweep_seconds)
        self.horizon = self.sweep_every * ARMING_SWEEPS  # how far ahead reminders get jobs
        self._last_alert: datetime | None = None
        self.rebuilt = 0  # jobs recreated from the database at the last start
        store.hooks.reminders_scheduled.append(self._scheduled)

    async def start(self) -> int:
        """Rebuild the jobs of the reminders due soon (or overdue) from the database and start
        every periodic job; the sweep gives the later ones theirs as they come near."""
        rebuilt = await self.arm_due_soon()
        jobs = self.job_queue
        jobs.run_repeating(self._sweep, self.sweep_every, first=1.0, name="reminder-sweep")
        jobs.run_repeating(
            self._self_check, SELF_CHECK_EVERY, first=SELF_CHECK_EVERY, name="reminder-self-check"
        )
        jobs.run_repeating(
            self._expire_conversations,
            CONVERSATION_SWEEP,
            first=CONVERSATION_SWEEP,
            name="expire-conversations",
        )
        jobs.run_repeating(
            self._refresh_broadcasts, BROADCAST_REFRESH, first=0, name="broadcast-progress"
        )
        jobs.run_repeating(
            self._mark_unanswered, QUESTION_SWEEP, first=QUESTION_SWEEP, name="unanswered-questions"
        )
        jobs.run_repeating(
            self._forget_updates, timedelta(hours=6), first=timedelta(minutes=5), name="forget"
        )
        jobs.run_repeating(self._drills, DRILL_SWEEP, first=DRILL_SWEEP, name="drill-reports")
        if self.settings.digest_enabled:
            self._schedule_digest(self.settings.digest_time)
        jobs.run_daily(
            self._maintain, time=MAINTENANCE_AT.replace(tzinfo=self.settings.zone), name=MAINTENANCE
        )
        jobs.run_once(self._maintain, when=MAINTENANCE_AFTER_START, name=MAINTENANCE + "-start")
        self.rebuilt = rebuilt
        log.info("scheduler rebuilt with %d pending reminders due soon", rebuilt)
        return rebuilt

    # --- reminders ---

    def schedule(self, reminder_id: int, due: datetime) -> None:
        """One job per reminder, named after it; scheduling again replaces the old job. A
        reminder due beyond the horizon gets its job from a later sweep (`arm_due_soon`), and
        loses one it had (moved later)."""
        if due - self.clock.now() > self.horizon:
            name = job_name(reminder_id)
            if self.job_queue.scheduler.get_job(name) is not None:
                self.job_queue.scheduler.remove_job(name)
            return
        self._arm(reminder_id, due)

    async def arm_due_soon(self) -> int:
        """Give every pending reminder due within the horizon its job, unless it has one for that
        time already; return how many were made."""
        async with self.store.read() as tx:
            pending = await tx.pending_schedule(until=self.clock.now() + self.horizon)
        armed = 0
        for reminder_id, due in pending:
            job = self.job_queue.scheduler.get_job(job_name(reminder_id))
            if job is None or getattr(job, "next_run_time", None) != due:
                self._arm(reminder_id, due)
                armed += 1
        return armed

    def _arm(self, reminder_id: int, due: datetime) -> None:
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

    async def _fire(self, context: Any) -> None:
        assert context.job is not None
        reminder_id = context.job.data
        assert isinstance(reminder_id, int)
        await self.reminders.fire(reminder_id)

    async def _sweep(self, context: Any) -> None:
        await self.arm_due_soon()
        sent = await self.reminders.sweep()
        if sent:
            log.info("sweep fired %d reminders no job had fired", sent)

    async def _self_check(self, context: Any) -> None:
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

    # --- housekeeping ---

    async def _expire_conversations(self, context: Any) -> None:
        """Conversations nobody touched for too long end, and their owners are told."""
        expired = await self.conversations.expire_stale()
        if expired:
            log.info("expired %d abandoned conversations", expired)

    async def _mark_unanswered(self, context: Any) -> None:
        """Questions to reporters nobody answered in time are marked so on their cards."""
        marked = await self.info.mark_unanswered()
        if marked:
            log.info("%d questions to reporters went unanswered", marked)

    async def _refresh_broadcasts(self, context: Any) -> None:
        """Bring every broadcast in progress up to date: after a start, and in case a send's own
        refresh was skipped (a whole chat parked at once, a status edit held back)."""
        await self.broadcasts.refresh_all()

    async def _drills(self, context: Any) -> None:
        """A running drill's scripted reports whose time has come are filed; a drill whose
        every incident is closed ends, and its review goes out."""
        filed = await self.drills.inject_due()
        if filed:
            log.info("%d drill reports filed", filed)

    async def _forget_updates(self, context: Any) -> None:
        """Handled update ids older than Telegram keeps updates are no longer needed."""
        async with self.store.transaction() as tx:
            await tx.forget_old_updates(self.clock.now() - UPDATE_RETENTION)

    async def _maintain(self, context: Any) -> None:
        """Retention and the space it frees (`bot.services.retention`)."""
        await self.retention.run()

    def _schedule_digest(self, at: time) -> None:
        """Every day at `at` (local time of the configured zone); and soon, when today's time has
        passed already — a bot that was down at 07:00 still sends the morning's digest."""
        zone = self.settings.zone
        self.job_queue.run_daily(self._digest, time=at.replace(tzinfo=zone), name=DAILY_DIGEST)
        now = self.clock.now().astimezone(zone)
        if now.time() >= at.replace(tzinfo=None):
            self.job_queue.run_once(self._digest, when=DIGEST_CATCH_UP_DELAY, name=DIGEST_CATCH_UP)

    async def _digest(self, context: Any) -> None:
        """Queue yesterday's digest (a repeat the same day sends nobody anything)."""
        recipients = await self.digest.send_daily()
        log.info("daily digest queued for %d recipients", recipients)


def job_name(reminder_id: int) -> str:
    return f"reminder:{reminder_id}"
