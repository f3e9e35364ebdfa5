"""Sends the events other systems subscribed to: each delivery row (written in the transaction
of its change) is POSTed as JSON, signed, in order per incident and subscription, retried with
backoff, and parked after a day of failure so the incident's later events go on.

Like the outbox sender it wakes when a commit wrote deliveries, and otherwise looks again when
the next retry is due; a restart loses nothing, because the rows are the queue."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import timedelta

import aiohttp

from bot.store import Delivery, Store
from models.api import signature
from models.clock import Clock

log = logging.getLogger(__name__)

PARK_AFTER = timedelta(hours=24)
BACKOFF_MAX = 600.0  # seconds between attempts, at most
TIMEOUT = 10.0  # seconds a receiver has to answer
BATCH = 50
IDLE = 30.0  # seconds between looks when nothing is due and nothing wakes it


def backoff(attempts: int) -> timedelta:
    """The wait after the `attempts`-th failure (1-based): 2, 4, 8 … seconds, at most 10 min."""
    return timedelta(seconds=min(BACKOFF_MAX, 2.0 ** max(1, attempts)))


class SubscriptionSender:
    def __init__(self, store: Store, clock: Clock, *, concurrency: int = 4) -> None:
        self.store = store
        self.clock = clock
        self.concurrency = concurrency
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._session: aiohttp.ClientSession | None = None
        self._passing = asyncio.Lock()  # one pass at a time: a delivery goes once

    def wake(self) -> None:
        self._wake.set()

    def start(self) -> None:
        self._session = aiohttp.ClientSession(
            timeout=aiohttp.ClientTimeout(total=TIMEOUT),
            headers={"User-Agent": "siaga112"},
        )
        self._task = asyncio.create_task(self._run(), name="subscription-sender")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def _run(self) -> None:
        while True:
            self._wake.clear()
            try:
                await self.deliver_due()
                async with self.store.lookup() as tx:
                    due = await tx.next_delivery_due()
            except Exception:  # a fault here must not end the sending for good
                log.exception("event subscriptions: a pass failed; trying again shortly")
                due = None
            wait = IDLE
            if due is not None:
                wait = min(IDLE, max(0.05, (due - self.clock.now()).total_seconds()))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=wait)

    async def deliver_due(self) -> int:
        """Send everything due now, each incident's events in order; returns the attempts."""
        async with self._passing:
            return await self._pass()

    async def _pass(self) -> int:
        attempts = 0
        limit = asyncio.Semaphore(self.concurrency)

        async def one(delivery: Delivery) -> bool:
            async with limit:
                return await self._send(delivery)

        while True:
            async with self.store.lookup() as tx:
                due = await tx.due_deliveries(self.clock.now(), BATCH)
            if not due:
                return attempts
            results = await asyncio.gather(*(one(d) for d in due))
            attempts += len(due)
            if not any(results):
                return attempts  # all failed: their retries are due later

    async def _send(self, delivery: Delivery) -> bool:
        session = self._session
        if session is None:  # not started (a one-off pass): a session for this send
            async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=TIMEOUT)) as own:
                return await self._post(own, delivery)
        return await self._post(session, delivery)

    async def _post(self, session: aiohttp.ClientSession, delivery: Delivery) -> bool:
        body = delivery.body.encode()
        timestamp = str(int(self.clock.now().timestamp()))
        headers = {
            "Content-Type": "application/json",
            "X-Siaga112-Event": delivery.event.value,
            "X-Siaga112-Delivery": str(delivery.id),
            "X-Siaga112-Timestamp": timestamp,
            "X-Siaga112-Signature": signature(delivery.secret, timestamp, body),
        }
        error: str | None = None
        try:
            async with session.post(delivery.url, data=body, headers=headers) as response:
                if not 200 <= response.status < 300:
                    error = f"HTTP {response.status}"
        except (aiohttp.ClientError, TimeoutError) as exc:
            error = f"{type(exc).__name__}: {exc}"[:300]
        now = self.clock.now()
        async with self.store.single_write() as tx:
            if error is None:
                await tx.delivery_sent(delivery.id, now)
                return True
            since = delivery.failing_since or now
            retry_at = None if now - since >= PARK_AFTER else now + backoff(delivery.attempts + 1)
            await tx.delivery_failed(delivery, error, now, retry_at)
        if retry_at is None:
            log.warning(
                "event %s of #%s to %s parked after a day of failures (%s)",
                delivery.id,
                delivery.incident_id,
                delivery.url,
                error,
            )
        return False
