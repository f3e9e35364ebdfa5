"""Every observer list of the bot, declared in one place.

Components announce what happened by calling the listeners of one of these lists; the
composition root (`bot.app.build_application`) decides who listens. Nothing here imports the
components, so any module may take a `Hooks` without an import cycle.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass(slots=True)
class Counters:
    """What this process has done since it started, for `/metrics` (Prometheus counters)."""

    updates: int = 0  # updates handled
    sends: Counter[str] = field(default_factory=Counter)  # Bot API sends by result

    def update_done(self, update_id: int) -> None:
        del update_id
        self.updates += 1

    def sent(self, result: str) -> None:
        """One send's result: ok, 429, 4xx, or 5xx (a server error or no answer at all)."""
        self.sends[result] += 1


@dataclass(slots=True)
class Hooks:
    # A commit wrote to the outbox, for these chats (None: chats it did not name): the sender
    # looks now rather than at its next poll.
    outbox_written: list[Callable[[frozenset[int] | None], None]] = field(default_factory=list)
    # A commit scheduled reminders (id, due): the scheduler arms their jobs.
    reminders_scheduled: list[Callable[[list[tuple[int, datetime]]], None]] = field(
        default_factory=list
    )
    # The sender found a chat that refuses the bot (once per chat): admins and coordinators
    # are told.
    chat_refused: list[Callable[[int], None]] = field(default_factory=list)
    # The sender settled a row (sent, parked or postponed), before it may go idle: a
    # broadcast's status follows.
    row_settled: list[Callable[[Any], Awaitable[None]]] = field(default_factory=list)
    # A commit changed incidents (their numbers): the web board's live stream tells its pages.
    incidents_changed: list[Callable[[list[int]], None]] = field(default_factory=list)
    # A commit changed broadcasts (their numbers: sent, confirmed, finished): the same stream.
    broadcasts_changed: list[Callable[[list[int]], None]] = field(default_factory=list)
    # A commit queued deliveries to event subscriptions: their sender looks now.
    deliveries_written: list[Callable[[], None]] = field(default_factory=list)
    # An update was handled, or found handled before (the tests' and the demo's settler).
    update_done: list[Callable[[int], None]] = field(default_factory=list)
    # Counts since start (not listeners): the outbox and the update loop add to them.
    counters: Counters = field(default_factory=Counters)
