"""The web board's live stream: every committed change to an incident or a broadcast, numbered
in order.

`ChangeFeed` listens to `Hooks.incidents_changed` and `Hooks.broadcasts_changed` (called after
each commit, like the outbox's listeners) and gives each change a sequence number. It keeps the
last `KEPT` changes, so a page that lost its connection and comes back with the last number it
saw (the `Last-Event-ID` header, or `?since=`) gets what it missed; one that was away longer, or
that saw numbers of an earlier run of the bot, is told to load everything afresh (`resync`).
"""

from __future__ import annotations

import asyncio
import secrets
from collections import deque
from dataclasses import dataclass
from enum import StrEnum

KEPT = 1000


class Subject(StrEnum):
    """What changed; the event's name on the stream."""

    INCIDENT = "incident"
    BROADCAST = "broadcast"


@dataclass(frozen=True, slots=True)
class Change:
    seq: int
    number: int  # the incident's or the broadcast's
    subject: Subject = Subject.INCIDENT


class ChangeFeed:
    def __init__(self) -> None:
        self.seq = 0
        self.broadcast_changes = 0
        # Names this run of the bot in event ids: a page that saw another run's numbers
        # (the bot restarted meanwhile) is told to resync, never given this run's changes as if
        # they followed its own.
        self.run = secrets.token_hex(4)
        self._kept: deque[Change] = deque(maxlen=KEPT)
        self._waiters: set[asyncio.Queue[Change]] = set()

    def changed(self, incidents: list[int]) -> None:
        self._add(incidents, Subject.INCIDENT)

    def broadcasts_changed(self, broadcasts: list[int]) -> None:
        self.broadcast_changes += 1  # what a cache of broadcasts (the CAP feed) is keyed by
        self._add(broadcasts, Subject.BROADCAST)

    def _add(self, numbers: list[int], subject: Subject) -> None:
        for number in numbers:
            self.seq += 1
            change = Change(self.seq, number, subject)
            self._kept.append(change)
            for queue in self._waiters:
                queue.put_nowait(change)

    def event_id(self, seq: int) -> str:
        return f"{self.run}.{seq}"

    def replay(self, event_id: str) -> list[Change] | None:
        """The changes after the one `event_id` names, or None when that cannot be told:
        another run's id, a malformed one, or changes no longer kept."""
        run, _, seq = event_id.partition(".")
        if run != self.run or not (seq.isascii() and seq.isdigit()) or len(seq) > 18:
            return None
        return self.since(int(seq))

    def since(self, seq: int) -> list[Change] | None:
        """The changes after `seq`, or None when some of them are no longer kept."""
        if seq >= self.seq:
            return [] if seq == self.seq else None
        if not self._kept or self._kept[0].seq > seq + 1:
            return None
        return [change for change in self._kept if change.seq > seq]

    def subscribe(self) -> asyncio.Queue[Change]:
        queue: asyncio.Queue[Change] = asyncio.Queue()
        self._waiters.add(queue)
        return queue

    def unsubscribe(self, queue: asyncio.Queue[Change]) -> None:
        self._waiters.discard(queue)
