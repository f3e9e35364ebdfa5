"""The coordinators' digest: the figures of a period, on demand and every morning.

`figures(days)` reads one period in a consistent snapshot and computes it with
`models.digest.compute_digest`. Periods are whole days in the configured zone: `days=1` is
yesterday 00:00–24:00 WIB, `days=7` the seven full days before today, and `days=0` today from
midnight until now.

`send_daily()` writes yesterday's digest — the text and the chart — to the outbox for the
coordinators' group and every coordinator who started the bot, in one transaction. Each
recipient's copy carries the ref `digest:<date>:<chat>`, so running it twice (a restart around
the scheduled time, a catch-up at start-up) sends nobody the same day twice. The scheduler
(`bot.runtime.scheduler`) runs it every morning, and soon after start-up when the morning's time has
passed.

Charts are drawn by `draw_chart` in a short-lived process of their own, so matplotlib never
loads into the bot (it would keep ~50 MB, and more with every chart, for a picture drawn once or
twice a day). When that fails the digest's text still goes out, without its chart.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import logging
import os
import sys
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from bot.render.digest import chart_request, digest_caption, digest_text
from bot.services.messages import text_message
from bot.settings import LANGUAGES, Language, Settings
from bot.store import Store, Tx
from models.agencies import Role
from models.clock import Clock
from models.digest import Digest, compute_digest
from models.outbox import OutgoingMessage, Priority, SendMethod
from models.refs import digest_ref

log = logging.getLogger(__name__)

MAX_DAYS = 31
CHART_FILENAME = "digest.png"
# `-P`: the worker imports the bot's code from where the bot got it (below), not from the cwd.
CHART_WORKER = ("-P", "-m", "bot.render.digest")
CHART_TIMEOUT = 60.0  # seconds; a chart takes about two (a fresh interpreter loads matplotlib)
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
PACKAGE_ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True, slots=True)
class RenderedDigest:
    """One language's digest, ready to send: the message, the chart (None when it could not be
    drawn) and its caption."""

    text: str
    caption: str
    chart: bytes | None


class ChartError(Exception):
    """The chart worker could not be started, failed, answered no PNG or took too long."""


async def draw_chart(digest: Digest, language: Language, zone: ZoneInfo) -> bytes:
    """The digest's chart (see `run_chart_worker`)."""
    return await run_chart_worker(chart_request(digest, language, zone))


async def run_chart_worker(request: bytes) -> bytes:
    """A chart, drawn by `python -m bot.render.digest` in a process of its own that has exited,
    and been reaped, by the time this returns — also when it fails or is cancelled. The event
    loop waits on the process's pipes; no thread of the bot draws."""
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(
            filter(None, (str(PACKAGE_ROOT), os.environ.get("PYTHONPATH")))
        ),
    }
    try:
        worker = await asyncio.create_subprocess_exec(
            sys.executable,
            *CHART_WORKER,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env=env,
        )
    except OSError as exc:  # no memory or processes left to start it
        raise ChartError(f"could not start the chart worker: {exc}") from exc
    try:
        async with asyncio.timeout(CHART_TIMEOUT):
            png, errors = await worker.communicate(request)
    except TimeoutError as exc:
        raise ChartError(f"the chart worker took more than {CHART_TIMEOUT:.0f} s") from exc
    finally:
        if worker.returncode is None:  # timed out, or the bot is stopping: no orphan
            with contextlib.suppress(ProcessLookupError):
                worker.kill()
            await worker.wait()
    if worker.returncode != 0 or not png.startswith(PNG_SIGNATURE):
        said = errors.decode(errors="replace").strip().splitlines() or ["nothing on stderr"]
        raise ChartError(f"the chart worker exited with {worker.returncode} and no PNG: {said[-1]}")
    if errors:
        log.debug("chart worker: %s", errors.decode(errors="replace").strip())
    return png


class DigestService:
    """The digest operations, bound to the store, the clock and the settings."""

    def __init__(self, store: Store, clock: Clock, settings: Settings) -> None:
        self.store = store
        self.clock = clock
        self.settings = settings
        # One chart at a time: each worker is a Python process of ~100 MB while it draws.
        self._drawing = asyncio.Lock()

    def period(self, days: int, now: datetime | None = None) -> tuple[datetime, datetime]:
        """[start, end) in UTC of the `days` full local days before today; 0: today so far."""
        if not 0 <= days <= MAX_DAYS:
            raise ValueError(f"days must be within 0..{MAX_DAYS}, not {days}")
        now = now or self.clock.now()
        zone = self.settings.zone
        today = now.astimezone(zone).date()

        def midnight(day: date) -> datetime:
            return datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC)

        if days == 0:
            return midnight(today), now
        return midnight(today - timedelta(days=days)), midnight(today)

    async def figures(self, days: int) -> Digest:
        """The digest of the `days` full days before today (0: today until now)."""
        now = self.clock.now()
        start, end = self.period(days, now)
        # On the database thread: a period's rows (up to a month of incidents for /statistik).
        async with self.store.read(on_thread=True) as tx:
            rows = await tx.period_rows(start, end)
        return compute_digest(rows, start, end, as_of=now)

    async def render(self, digest: Digest, language: Language) -> RenderedDigest:
        """The digest in one language: text and caption here, the chart in a worker process."""
        zone = self.settings.zone
        return RenderedDigest(
            text=digest_text(language, digest, zone),
            caption=digest_caption(language, digest, zone),
            chart=await self._chart(digest, language),
        )

    async def _chart(self, digest: Digest, language: Language) -> bytes | None:
        async with self._drawing:
            try:
                return await draw_chart(digest, language, self.settings.zone)
            except ChartError:
                log.exception("the digest's chart could not be drawn; its text goes alone")
                return None

    async def report(self, days: int, language: Language) -> RenderedDigest:
        """`/statistik`: the figures rendered for one person."""
        digest = await self.figures(days)
        return await self.render(digest, language)

    async def send_daily(self) -> int:
        """Queue yesterday's digest for the coordinators; returns how many recipients got it."""
        digest = await self.figures(1)
        day = digest.start.astimezone(self.settings.zone).date().isoformat()
        async with self.store.read() as tx:
            if not await self._waiting(tx, day):
                return 0  # a restart's catch-up after the morning's run: nothing to draw
        # Rendered before the write transaction, which must not wait on the chart workers.
        rendered: dict[Language, RenderedDigest] = {}
        for language in LANGUAGES:
            rendered[language] = await self.render(digest, language)
        now = self.clock.now()
        recipients = 0
        async with self.store.transaction() as tx:
            for chat_id, thread_id, language in await self._waiting(tx, day):
                copy = rendered[language]
                await tx.enqueue(
                    text_message(
                        chat_id,
                        copy.text,
                        priority=Priority.DIGEST,
                        thread_id=thread_id,
                        ref=digest_ref(day, chat_id),
                        quiet=True,
                    ),
                    now,
                )
                if copy.chart is not None:
                    await tx.enqueue(
                        chart_message(chat_id, copy.chart, copy.caption, thread_id), now
                    )
                recipients += 1
        return recipients

    async def _waiting(self, tx: Tx, day: str) -> list[tuple[int, int | None, Language]]:
        """The recipients who have neither had nor been queued the digest of `day`."""
        waiting = []
        for chat_id, thread_id, language in await self._recipients(tx):
            ref = digest_ref(day, chat_id)
            if await tx.message_ref(ref) is None and not await tx.ref_is_pending(ref):
                waiting.append((chat_id, thread_id, language))
        return waiting

    async def _recipients(self, tx: Tx) -> list[tuple[int, int | None, Language]]:
        """(chat, forum topic, language): the coordinators' group, then each coordinator who
        started the bot; admins when there is neither, as with escalations — never nobody."""
        targets: list[tuple[int, int | None, Language]] = []
        group = await tx.coordinators_agency()
        if group is not None:
            # Groups have no language of their own; the service's default speaks to them.
            targets.append((group.chat_id, group.thread_id, self.settings.default_language))
        people = await tx.user_ids_with_roles((Role.COORDINATOR.value,))
        if not people and group is None:
            people = await tx.admins_to_notify(self.settings.admin_user_ids)
        for user_id in people:
            language = await tx.language_of(user_id, self.settings.default_language)
            targets.append((user_id, None, language))
        return targets


def chart_message(
    chat_id: int, chart: bytes, caption: str, thread_id: int | None
) -> OutgoingMessage:
    """The chart as a sendPhoto whose photo the outbox sender uploads from base64."""
    payload: dict[str, object] = {
        "photo": {
            "base64": base64.b64encode(chart).decode("ascii"),
            "filename": CHART_FILENAME,
        },
        "caption": caption,
        "parse_mode": "HTML",
        "disable_notification": True,
    }
    if thread_id is not None:
        payload["message_thread_id"] = thread_id
    return OutgoingMessage(chat_id, SendMethod.SEND_PHOTO, payload, Priority.DIGEST)
