"""Pacing sends under Telegram's limits: per chat, per group, overall.

Telegram allows about one message per second in a chat (short bursts are tolerated), at most
20 per minute in a group, and about 30 per second in all. Edits count like messages. The pacer
keeps the sender a little under each limit. A send counts from when it starts until it is
answered, and then from when it was answered: Telegram saw it somewhere in between, so counting
that way can only err on the safe side, even when network delays bunch sends together.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

MARGIN = 1.05  # windows 5 % longer than Telegram's own
RECHECK = 0.02  # how soon to look again when a send still in flight holds the window


@dataclass(frozen=True, slots=True)
class PacingLimits:
    chat_per_second: float = 1.0
    chat_burst: int = 3
    group_per_minute: int = 20
    global_per_second: int = 30


@dataclass(slots=True)
class Send:
    """One send as the pacer counts it."""

    chat_id: int
    at: float
    done: bool = False


@dataclass(slots=True)
class _Bucket:
    tokens: float
    updated: float


@dataclass
class Pacer:
    limits: PacingLimits = field(default_factory=PacingLimits)
    clock: Callable[[], float] = time.monotonic
    _buckets: dict[int, _Bucket] = field(default_factory=dict)
    _group_sends: dict[int, deque[Send]] = field(default_factory=dict)
    _global_sends: deque[Send] = field(default_factory=deque)

    def wait(self, chat_id: int) -> float:
        """Seconds until a message to `chat_id` may go (0.0: now)."""
        now = self.clock()
        waits = [
            self._chat_wait(chat_id, now),
            _window_wait(self._global_sends, self.limits.global_per_second, 1.0 * MARGIN, now),
        ]
        if chat_id < 0:
            sends = self._group_sends.get(chat_id)
            if sends is not None:
                waits.append(_window_wait(sends, self.limits.group_per_minute, 60.0 * MARGIN, now))
        return max(waits)

    def record(self, chat_id: int) -> Send:
        """A message to `chat_id` starts now; call `done` with the result when answered."""
        now = self.clock()
        self._refilled(chat_id, now).tokens -= 1.0
        send = Send(chat_id, now)
        self._global_sends.append(send)
        if chat_id < 0:
            self._group_sends.setdefault(chat_id, deque()).append(send)
        return send

    def done(self, send: Send) -> None:
        """The send was answered: from now on it counts from this moment."""
        send.at = self.clock()
        send.done = True
        bucket = self._buckets.get(send.chat_id)
        if bucket is not None:
            # The chat's spacing also runs from the answer, for the same reason.
            bucket.updated = max(bucket.updated, send.at)

    def forget_idle(self) -> None:
        """Drop the state of chats that are quiet again (keeps memory flat)."""
        now = self.clock()
        for chat_id in list(self._buckets):
            bucket = self._refilled(chat_id, now)
            if bucket.tokens >= self.limits.chat_burst:
                del self._buckets[chat_id]
        for chat_id, sends in list(self._group_sends.items()):
            _prune(sends, 60.0 * MARGIN, now)
            if not sends:
                del self._group_sends[chat_id]

    def _refilled(self, chat_id: int, now: float) -> _Bucket:
        bucket = self._buckets.get(chat_id)
        capacity = float(self.limits.chat_burst)
        if bucket is None:
            bucket = self._buckets[chat_id] = _Bucket(capacity, now)
        rate = self.limits.chat_per_second / MARGIN
        if now > bucket.updated:
            bucket.tokens = min(capacity, bucket.tokens + (now - bucket.updated) * rate)
            bucket.updated = now
        return bucket

    def _chat_wait(self, chat_id: int, now: float) -> float:
        bucket = self._refilled(chat_id, now)
        if bucket.tokens >= 1.0 - 1e-9:  # float rounding must not cost a whole wait
            return 0.0
        return (1.0 - bucket.tokens) * MARGIN / self.limits.chat_per_second


def _prune(sends: deque[Send], window: float, now: float) -> None:
    while sends and sends[0].done and now - sends[0].at >= window:
        sends.popleft()


def _window_wait(sends: deque[Send], limit: int, window: float, now: float) -> float:
    _prune(sends, window, now)
    if len(sends) < limit:
        return 0.0
    oldest = sends[0]
    if not oldest.done:
        return RECHECK
    return max(RECHECK, oldest.at + window - now)


# Bot API methods that put a message in a chat (or change one): Telegram's limits count these.
PACED_METHODS = frozenset(
    {
        "sendMessage",
        "sendPhoto",
        "sendDocument",
        "sendMediaGroup",
        "sendLocation",
        "sendVenue",
        "sendContact",
        "sendAnimation",
        "sendVideo",
        "sendVoice",
        "copyMessage",
        "forwardMessage",
        "editMessageText",
        "editMessageCaption",
        "editMessageReplyMarkup",
        "editMessageMedia",
    }
)
