"""The coordinators' digest: the figures of a period, on demand and every morning.

`figures(days)` reads one period in a consistent snapshot and computes it with
`models.digest.compute_digest`. Periods are whole days in the configured zone: `days=1` is
yesterday 00:00–24:00 WIB, `days=7` the seven full days before today, and `days=0` today from
midnight until now.

`send_daily()` writes yesterday's digest — the text and the chart — to the outbox for the
coordinators' group and every coordinator who started the bot, in one transaction. Each
recipient's copy carries the ref `digest:<date>:<chat>`, so running it twice (a restart around
the scheduled time, a catch-up at start-up) sends nobody the same day twice.
"""

from __future__ import annotations

import asyncio
import base64
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from bot.messages import text_message
from bot.render.digest import digest_caption, digest_chart, digest_text
from bot.settings import LANGUAGES, Language, Settings
from bot.store import Store, Tx
from models.agencies import Role
from models.clock import Clock
from models.digest import Digest, compute_digest
from models.outbox import OutgoingMessage, Priority, SendMethod

MAX_DAYS = 31
CHART_FILENAME = "digest.png"


@dataclass(frozen=True, slots=True)
class RenderedDigest:
    """One language's digest, ready to send: the message, the chart and its caption."""

    text: str
    caption: str
    chart: bytes


class DigestService:
    """The digest operations, bound to the store, the clock and the settings."""

    def __init__(self, store: Store, clock: Clock, settings: Settings) -> None:
        self.store = store
        self.clock = clock
        self.settings = settings
        # matplotlib is not made for drawing in several threads at once: one chart at a time.
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
        async with self.store.read() as tx:
            rows = await tx.period_rows(start, end)
        return compute_digest(rows, start, end, as_of=now)

    def render(self, digest: Digest, language: Language) -> RenderedDigest:
        zone = self.settings.zone
        return RenderedDigest(
            text=digest_text(language, digest, zone),
            caption=digest_caption(language, digest, zone),
            chart=digest_chart(digest, language, zone),
        )

    async def report(self, days: int, language: Language) -> RenderedDigest:
        """`/statistik`: the figures rendered for one person."""
        digest = await self.figures(days)
        return await self._render_off_loop(digest, language)

    async def _render_off_loop(self, digest: Digest, language: Language) -> RenderedDigest:
        # Drawing takes a few hundred milliseconds; the event loop keeps answering meanwhile.
        async with self._drawing:
            return await asyncio.to_thread(self.render, digest, language)

    async def send_daily(self) -> int:
        """Queue yesterday's digest for the coordinators; returns how many recipients got it."""
        digest = await self.figures(1)
        day = digest.start.astimezone(self.settings.zone).date().isoformat()
        # Rendered before the write transaction, which must not wait on matplotlib.
        rendered: dict[Language, RenderedDigest] = {}
        for language in LANGUAGES:
            rendered[language] = await self._render_off_loop(digest, language)
        now = self.clock.now()
        recipients = 0
        async with self.store.transaction() as tx:
            for chat_id, thread_id, language in await self._recipients(tx):
                ref = f"digest:{day}:{chat_id}"
                if await tx.message_ref(ref) is not None or await tx.ref_is_pending(ref):
                    continue
                copy = rendered[language]
                await tx.enqueue(
                    text_message(
                        chat_id, copy.text, priority=Priority.DIGEST, thread_id=thread_id, ref=ref
                    ),
                    now,
                )
                await tx.enqueue(chart_message(chat_id, copy, thread_id), now)
                recipients += 1
        return recipients

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


def chart_message(chat_id: int, copy: RenderedDigest, thread_id: int | None) -> OutgoingMessage:
    """The chart as a sendPhoto whose photo the outbox sender uploads from base64."""
    payload: dict[str, object] = {
        "photo": {
            "base64": base64.b64encode(copy.chart).decode("ascii"),
            "filename": CHART_FILENAME,
        },
        "caption": copy.caption,
        "parse_mode": "HTML",
    }
    if thread_id is not None:
        payload["message_thread_id"] = thread_id
    return OutgoingMessage(chat_id, SendMethod.SEND_PHOTO, payload, Priority.DIGEST)
