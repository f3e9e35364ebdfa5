"""Running the real bot against the simulator in a test, and waiting for it to settle."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

from bot.app import build_application
from bot.context import App, Services
from bot.runtime.running import running
from bot.settings import Settings, load_settings
from bot.settle import Settler
from bot.simulator import SimChat, SimMessage, SimUser, TelegramSimulator
from models.clock import Clock

TIMEOUT = 10.0


class BotHarness:
    """The bot as the tests see it: started, restarted and stopped like a real process."""

    def __init__(self, sim: TelegramSimulator, workdir: Path) -> None:
        self.sim = sim
        self.workdir = workdir
        self.database_path = workdir / "siaga112.db"
        self.app: App | None = None
        self._stack: AsyncExitStack | None = None
        self.settler = Settler(sim)
        self.settings: Settings | None = None

    def make_settings(self, **overrides: Any) -> Settings:
        values: dict[str, Any] = {
            "_env_file": None,
            "telegram_bot_token": self.sim.token,
            "telegram_api_base_url": self.sim.base_url,
            "database_path": self.database_path,
            "outbox_poll_seconds": 0.2,
            "outbox_max_backoff_seconds": 0.5,
            "digest_enabled": False,  # tests that want the digest ask for it
            "outbox_pacing": False,  # delivery tests turn pacing on; the rest need not wait
            "membership_check_at_start": False,  # membership tests turn it on
            "web_port": 0,  # a free port: many bots run side by side in the tests
        }
        values.update(overrides)
        return load_settings(**values)

    async def start(
        self, *, admins: list[SimUser] | None = None, clock: Clock | None = None, **overrides: Any
    ) -> App:
        if admins is not None:
            overrides["admin_user_ids"] = tuple(user.id for user in admins)
        self.settings = self.make_settings(**overrides)
        self.app = build_application(self.settings, clock=clock)
        self.settler.attach(self.app)
        self._stack = AsyncExitStack()
        await self._stack.enter_async_context(running(self.app, poll_timeout=1))
        return self.app

    async def stop(self) -> None:
        if self._stack is not None:
            stack, self._stack = self._stack, None
            await stack.aclose()
        self.app = None

    async def restart(self, **overrides: Any) -> App:
        """Stop and start again; the web server comes back on the port it got (a page's
        address stays good across the restart, as on a real host)."""
        settings = self.settings
        port = self.app.bot_data.web_port if self.app is not None else None
        await self.stop()
        assert settings is not None
        self.settings = None
        kept = {"web_port": port} if settings.web_port == 0 and port else {}
        kwargs = {"admin_user_ids": settings.admin_user_ids, **kept, **overrides}
        return await self.start(**kwargs)

    @property
    def services(self) -> Services:
        assert self.app is not None, "the bot is not running"
        return self.app.bot_data.services

    async def settle(self, timeout: float = TIMEOUT) -> None:
        """Wait until every update issued so far is handled and nothing due is left to send."""
        await self.settler.settle(timeout)

    async def handled(self, timeout: float = TIMEOUT) -> None:
        """Wait until every update issued so far is handled, whatever the outbox is doing."""
        await self.settler.handled(timeout)

    async def says(self, user: SimUser, text: str, chat: SimChat | None = None) -> SimMessage:
        """Send text as `user` and return the bot's answer in that chat."""
        where = chat or self.sim.private_chat(user)
        before = len(self.sim.bot_messages(where))
        await self.sim.send_message(user, text, chat=chat)
        await self.sim.wait_for(
            lambda: len(self.sim.bot_messages(where)) > before,
            timeout=TIMEOUT,
            what=f"an answer to {text!r} in {where.title or where.id}",
        )
        return self.sim.bot_messages(where)[-1]

    async def handled_quietly(self, user: SimUser, text: str, chat: SimChat) -> None:
        """Send text and wait until it was handled (for messages that get no answer)."""
        await self.sim.send_message(user, text, chat=chat)
        await self.settle()


@contextlib.asynccontextmanager
async def harness_for(sim: TelegramSimulator, workdir: Path) -> AsyncIterator[BotHarness]:
    harness = BotHarness(sim, workdir)
    try:
        yield harness
    finally:
        await harness.stop()
