"""The web board's live stream: every committed change to an incident, numbered in order.

`ChangeFeed` listens to `Hooks.incidents_changed` (called after each commit, like the outbox's
listeners) and gives each changed incident a sequence number. It keeps the last `KEPT` changes,
so a page that lost its connection and comes back with the last number it saw (the
`Last-Event-ID` header, or `?since=`) gets what it missed; one that was away longer is told to
load the list afresh (`resync`).
"""

from __future__ import annotations

import asyncio
from collections import deque
from dataclasses import dataclass

KEPT = 1000


@dataclass(frozen=True, slots=True)
class Change:
    seq: int
    incident: int


class ChangeFeed:
    def __init__(self) -> None:
        self.seq = 0
        self._kept: deque[Change] = deque(maxlen=KEPT)
        self._waiters: set[asyncio.Queue[Change]] = set()

    def changed(self, incidents: list[int]) -> None:
        for incident in incidents:
            self.seq += 1
            change = Change(self.seq, incident)
            self._kept.append(change)
            for queue in self._waiters:
                queue.put_nowait(change)

    def since(self, seq: int) -> list[Change] | None:
        """The changes after `seq`, or None when some of them are no longer kept."""
        if seq >= self.seq:
            return []
        if not self._kept or self._kept[0].seq > seq + 1:
            return None
        return [change for change in self._kept if change.seq > seq]

    def subscribe(self) -> asyncio.Queue[Change]:
        queue: asyncio.Queue[Change] = asyncio.Queue()
        self._waiters.add(queue)
        return queue

    def unsubscribe(self, queue: asyncio.Queue[Change]) -> None:
        self._waiters.discard(queue)
