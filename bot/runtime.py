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
from bot.updates import Poller, UpdateProcessor
from bot.webhook import ensure_polling

log = logging.getLogger(__name__)


@asynccontextmanager
async def running(app: App, *, poll_timeout: int = 10) -> AsyncIterator[App]:
    """The bot polling for updates and delivering its outbox until the block ends.

    PTB's own Updater is not used: `bot.updates.Poller` confirms updates to Telegram only after
    they were handled (see that module)."""
    await app.initialize()
    try:
        if app.post_init is not None:
            await app.post_init(app)
        await app.start()
        await ensure_polling(app.bot)  # a webhook left from webhook mode would block getUpdates
        poller = Poller(app, UpdateProcessor(app), timeout=poll_timeout)
        poller.start()
        try:
            yield app
        finally:
            await poller.stop()
            if app.running:
                await app.stop()
            if app.post_stop is not None:
                await app.post_stop(app)
    finally:
        await app.shutdown()
        if app.post_shutdown is not None:
            await app.post_shutdown(app)


async def serve(app: App) -> None:
    """Run until SIGINT or SIGTERM."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    async with running(app):
        log.info("running; press Ctrl+C to stop")
        await stop.wait()
        log.info("stopping")
