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
        self._app: App | None = None
        self._low: int | None = None  # every update before it is handled or withheld

    def attach(self, app: App) -> None:
        """Watch `app`: its update processor reports each update it is done with."""
        self._app = app
        app.bot_data.services.store.hooks.update_done.append(self._mark)

    def _mark(self, update_id: int) -> None:
        self._handled.add(update_id)
        self.sim.notify_changed()  # wakes `sim.wait_for` below

    async def settle(self, within: float = 10.0) -> None:
        assert self._app is not None, "attach() the application first"
        async with asyncio.timeout(within):
            await self._all_handled(within)
            await self._app.bot_data.services.outbox.idle.wait()

    async def handled(self, within: float = 10.0) -> None:
        """Every update issued so far is handled (whatever the outbox is doing)."""
        async with asyncio.timeout(within):
            await self._all_handled(within)

    async def _all_handled(self, within: float) -> None:
        """Each update issued so far is handled, or withheld by Telegram because the bot did
        not ask for its kind."""
        last = self.sim.last_update_id
        if last is None:
            return
        await self.sim.wait_for(
            lambda: self._settled_through(last),
            timeout=within,
            what="every update handled",
        )

    def _settled_through(self, last: int) -> bool:
        """Whether every update up to `last` is handled or withheld; looked at from the first
        one not known to be, so that waiting stays linear in the updates."""
        low = self.sim.first_update_id if self._low is None else self._low
        done, withheld = self._handled, self.sim.withheld_update_ids
        while low <= last and (low in done or low in withheld):
            low += 1
        self._low = low
        return low > last
