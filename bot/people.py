"""Remembering the people the bot meets."""

from __future__ import annotations

from telegram import User

from bot.store import Store
from models.clock import Clock


async def remember_person(store: Store, clock: Clock, user: User, *, started: bool = False) -> None:
    """Record or refresh a Telegram user; `started` when they pressed Start in private."""
    async with store.transaction() as tx:
        await tx.record_person(
            user.id,
            first_name=user.first_name,
            last_name=user.last_name,
            username=user.username,
            language_code=user.language_code,
            now=clock.now(),
            started=started,
        )
