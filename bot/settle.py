"""Waiting for the bot to go quiet, for the demo and the tests: every update issued by the
simulator handled, and nothing due left in the outbox. Awaits conditions; never sleeps."""

from __future__ import annotations

import asyncio

from bot.context import App
from bot.simulator import TelegramSimulator


class Settler:
    def __init__(self, sim: TelegramSimulator) -> None:
        self.sim = sim
        self._handled: set[int] = set()
        self._changed = asyncio.Condition()
        self._app: App | None = None

    def attach(self, app: App) -> None:
        """Watch `app`: its update processor reports each update it is done with."""
        self._app = app
        app.bot_data.update_listeners.append(self._mark)

    def _mark(self, update_id: int) -> None:
        self._handled.add(update_id)
        asyncio.get_running_loop().create_task(self._notify())

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    async def settle(self, within: float = 10.0) -> None:
        assert self._app is not None, "attach() the application first"
        async with asyncio.timeout(within):
            await self._all_handled()
            await self._app.bot_data.services.outbox.idle.wait()

    async def handled(self, within: float = 10.0) -> None:
        """Every update issued so far is handled (whatever the outbox is doing)."""
        async with asyncio.timeout(within):
            await self._all_handled()

    async def _all_handled(self) -> None:
        last = self.sim.last_update_id
        first = self.sim.first_update_id
        async with self._changed:
            await self._changed.wait_for(
                lambda: last is None or all(u in self._handled for u in range(first, last + 1))
            )
