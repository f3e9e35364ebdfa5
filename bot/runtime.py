"""Running the application: start, serve until told to stop, shut down cleanly.

The CLI, the demo and the tests all run the bot through `serve`, so they exercise one path.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress

from bot.context import App
from bot.updates import Poller, UpdateProcessor, ensure_polling

log = logging.getLogger(__name__)


@asynccontextmanager
async def started(app: App) -> AsyncIterator[App]:
    """The application initialized, its resources open (`post_init`) and started; stopped and
    shut down in reverse when the block ends. How updates arrive is the caller's business."""
    await app.initialize()
    try:
        if app.post_init is not None:
            await app.post_init(app)
        await app.start()
        try:
            yield app
        finally:
            if app.running:
                await app.stop()
            if app.post_stop is not None:
                await app.post_stop(app)
    finally:
        await app.shutdown()
        if app.post_shutdown is not None:
            await app.post_shutdown(app)


@asynccontextmanager
async def running(app: App, *, poll_timeout: int = 10) -> AsyncIterator[App]:
    """The bot polling for updates and delivering its outbox until the block ends.

    PTB's own Updater is not used: `bot.updates.Poller` confirms updates to Telegram only after
    they were handled (see that module)."""
    async with started(app):
        await ensure_polling(app.bot)  # a webhook left from webhook mode would block getUpdates
        poller = Poller(app, UpdateProcessor(app), timeout=poll_timeout)
        poller.start()
        try:
            yield app
        finally:
            await poller.stop()


async def until_signalled() -> None:
    """Return on SIGINT or SIGTERM."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    await stop.wait()


async def serve(app: App) -> None:
    """Run until SIGINT or SIGTERM."""
    async with running(app):
        log.info("running; press Ctrl+C to stop")
        await until_signalled()
        log.info("stopping")
