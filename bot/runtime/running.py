"""Running the application: start, serve until told to stop, shut down cleanly.

The CLI, the demo and the tests all run the bot through `serve`, so they exercise one path.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager, suppress

from telegram import Bot
from telegram.error import NetworkError

from bot.context import App
from bot.runtime.updates import Poller, UpdateProcessor, ensure_polling
from bot.web.server import Route, WebServer

log = logging.getLogger(__name__)

FIRST_RETRY_SECONDS = 1.0
MAX_RETRY_SECONDS = 60.0


class StoppedBeforeStart(Exception):
    """Told to stop while still waiting for Telegram to answer: nothing was started."""


async def connect(bot: Bot, stop: asyncio.Event | None = None) -> None:
    """Reach Telegram (getMe), waiting out a network that is down: one log line per attempt,
    the wait doubling up to a minute, and "connected" once it answers. A rejected token is not
    waited out (`InvalidToken` goes to the caller); `stop` ends the wait."""
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
    app: App, stop: asyncio.Event | None = None, *, routes: Sequence[Route] = ()
) -> AsyncIterator[App]:
    """The application initialized, its resources open (`post_init`) and started; stopped and
    shut down in reverse when the block ends. How updates arrive is the caller's business.
    While Telegram cannot be reached it waits (`connect`); `stop` ends that wait."""
    await connect(app.bot, stop)
    await app.initialize()
    try:
        if app.post_init is not None:
            await app.post_init(app)
        await app.start()
        web = await start_web(app, routes)
        try:
            yield app
        finally:
            if web is not None:
                await web.stop()
            if app.running:
                await app.stop()
            if app.post_stop is not None:
                await app.post_stop(app)
    finally:
        await app.shutdown()
        if app.post_shutdown is not None:
            await app.post_shutdown(app)


@asynccontextmanager
async def running(
    app: App, *, poll_timeout: int = 10, stop: asyncio.Event | None = None
) -> AsyncIterator[App]:
    """The bot polling for updates and delivering its outbox until the block ends.

    PTB's own Updater is not used: `bot.runtime.updates.Poller` confirms updates to Telegram only
    after they were handled (see that module)."""
    async with started(app, stop):
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


async def serve(app: App) -> None:
    """Run until SIGINT or SIGTERM (also while still waiting for Telegram at start-up)."""
    stop = stop_on_signals()
    try:
        async with running(app, stop=stop):
            log.info("running; press Ctrl+C to stop")
            await stop.wait()
            log.info("stopping")
    except StoppedBeforeStart:
        log.info("stopped before Telegram could be reached")
