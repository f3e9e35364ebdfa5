"""Running the application: start, serve until told to stop, shut down cleanly.

The CLI, the demo and the tests all run the bot through `started`, so they exercise one path.
Start-up brings up the local parts first — the store, the scheduler, the subscriptions sender
and the web server — and only then waits for Telegram, which may take long on a host whose
network is not up yet: meanwhile reminders fire into the outbox, /healthz answers (saying that
updates do not arrive yet), and systemd has been told the bot is ready (`bot.runtime.systemd`).
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
from collections.abc import AsyncIterator, Sequence
from contextlib import AsyncExitStack, asynccontextmanager, suppress

from telegram import Bot
from telegram.error import NetworkError

from bot.context import App
from bot.runtime.systemd import Notifier
from bot.runtime.updates import Poller, UpdateProcessor, ensure_polling
from bot.web.server import Route, WebServer

log = logging.getLogger(__name__)

FIRST_RETRY_SECONDS = 1.0
MAX_RETRY_SECONDS = 60.0


class StoppedBeforeStart(Exception):
    """Told to stop while still waiting for Telegram to answer: nothing that talks to Telegram
    was started, and the local parts are stopped again."""


async def connect(
    bot: Bot, stop: asyncio.Event | None = None, *, notifier: Notifier | None = None
) -> None:
    """Reach Telegram (getMe), waiting out a network that is down: one log line per attempt,
    the wait doubling up to a minute, and "connected" once it answers. A rejected token is not
    waited out (`InvalidToken` goes to the caller); `stop` ends the wait. `notifier` shows the
    wait in systemd's status of the service."""
    notifier = notifier or Notifier()
    try:
        await _reach(bot, stop, notifier)
    except BaseException:
        # Leaving without Telegram (stopped, a rejected token): the connections the attempts
        # opened close now, not whenever they are collected.
        with suppress(Exception):
            await bot.shutdown()
        raise


async def _reach(bot: Bot, stop: asyncio.Event | None, notifier: Notifier) -> None:
    attempt = 0
    while True:
        attempt += 1
        try:
            await bot.initialize()
        except NetworkError as exc:  # TimedOut too; InvalidToken is not a NetworkError
            wait = min(MAX_RETRY_SECONDS, FIRST_RETRY_SECONDS * 2 ** min(attempt - 1, 10))
            log.warning(
                "cannot reach Telegram at %s (attempt %d: %s); trying again in %.0f s",
                bot.base_url.rsplit("/bot", 1)[0],
                attempt,
                exc,
                wait,
            )
            notifier.status(f"waiting for Telegram (attempt {attempt})")
            if stop is None:
                await asyncio.sleep(wait)
            else:
                with suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), timeout=wait)
                if stop.is_set():
                    raise StoppedBeforeStart from None
            continue
        log.info("connected to Telegram as @%s", bot.username)
        return


@asynccontextmanager
async def started(
    app: App,
    stop: asyncio.Event | None = None,
    *,
    routes: Sequence[Route] = (),
    notifier: Notifier | None = None,
) -> AsyncIterator[App]:
    """The application started: its local parts first (`local_parts`), then, once Telegram
    answers (`connect`; `stop` ends that wait), initialized, its Telegram-facing parts up
    (`post_init`) and started. Everything is stopped in reverse when the block ends. How
    updates arrive is the caller's business.

    `notifier` tells systemd: ready once the local parts are up, then the watchdog's pings."""
    notifier = notifier or Notifier()
    async with local_parts(app, routes):
        notifier.ready("waiting for Telegram")
        async with notifier.watchdog():
            try:
                await connect(app.bot, stop, notifier=notifier)
                await app.initialize()
                try:
                    if app.post_init is not None:
                        await app.post_init(app)
                    await app.start()
                    notifier.status(f"running as @{app.bot.username}")
                    try:
                        yield app
                    finally:
                        notifier.stopping()
                        if app.running:
                            await app.stop()
                        if app.post_stop is not None:
                            await app.post_stop(app)
                finally:
                    await app.shutdown()
                    if app.post_shutdown is not None:
                        await app.post_shutdown(app)
            finally:
                notifier.stopping()  # told to stop while waiting, or the start failed half-way


@asynccontextmanager
async def local_parts(app: App, routes: Sequence[Route] = ()) -> AsyncIterator[WebServer | None]:
    """What works without Telegram, closed in reverse when the block ends: the store, the
    scheduler with its jobs rebuilt and running (they write to the store and the outbox only),
    the sender of other systems' subscriptions, and the web server (see `start_web`)."""
    services = app.bot_data.services
    jobs = app.job_queue
    assert jobs is not None
    async with AsyncExitStack() as opened:
        await services.store.open()
        opened.push_async_callback(services.store.close)
        await services.scheduler.start()
        await jobs.start()  # `Application.start` finds it running; `Application.stop` stops it
        opened.push_async_callback(jobs.stop)  # and then this does nothing
        services.subscriptions.start()
        opened.push_async_callback(services.subscriptions.stop)
        web = await start_web(app, routes)
        if web is not None:
            opened.push_async_callback(web.stop)
        yield web


@asynccontextmanager
async def running(
    app: App,
    *,
    poll_timeout: int = 10,
    stop: asyncio.Event | None = None,
    notifier: Notifier | None = None,
) -> AsyncIterator[App]:
    """The bot polling for updates and delivering its outbox until the block ends.

    PTB's own Updater is not used: `bot.runtime.updates.Poller` confirms updates to Telegram only
    after they were handled (see that module)."""
    async with started(app, stop, notifier=notifier):
        await ensure_polling(app.bot)  # a webhook left from webhook mode would block getUpdates
        poller = Poller(app, UpdateProcessor(app), timeout=poll_timeout)
        poller.start()
        app.bot_data.updates_alive = lambda: poller.alive
        try:
            yield app
        finally:
            await poller.stop()


async def start_web(app: App, routes: Sequence[Route] = ()) -> WebServer | None:
    """The web server, when `WEB_ENABLED` (None when off, or when it could not listen), with
    `routes` beside its own (webhook mode's)."""
    settings = app.bot_data.services.settings
    if not settings.web_enabled:
        return None
    web = WebServer(app, host=settings.web_host, port=settings.web_port, routes=routes)
    if not await web.start():
        return None
    app.bot_data.web_address = f"http://{settings.web_host}:{web.port}"
    app.bot_data.web_port = web.port
    if not settings.web_public_url:
        app.bot_data.services.web.base_url = app.bot_data.web_address
    return web


def stop_on_signals() -> asyncio.Event:
    """An event set on SIGINT or SIGTERM."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    return stop


async def serve(app: App, *, stop: asyncio.Event | None = None) -> None:
    """Run until SIGINT or SIGTERM, or until `stop` is set when given (also while still waiting
    for Telegram at start-up), telling systemd how it goes when it runs the bot."""
    stop = stop or stop_on_signals()
    try:
        async with running(app, stop=stop, notifier=Notifier.from_environ(os.environ)):
            log.info("running; press Ctrl+C to stop")
            await stop.wait()
            log.info("stopping")
    except StoppedBeforeStart:
        log.info("stopped before Telegram could be reached")
