"""Telegram's flood limits and injectable faults, both driven by an injectable clock/seed."""

from __future__ import annotations

import math
import random
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

FaultMode = Literal["status", "retry_after"]


@dataclass
class RateLimits:
    """Telegram's published limits. A chat allows a short burst, then about one message a second."""

    chat_burst: int = 3
    chat_per_second: float = 1.0
    group_per_minute: int = 20
    global_per_second: int = 30


@dataclass
class _Bucket:
    tokens: float
    updated: float


@dataclass
class RateLimiter:
    """Tracks sends and edits per chat and overall; says how long until a send would be allowed."""

    clock: Callable[[], float]
    limits: RateLimits = field(default_factory=RateLimits)
    _buckets: dict[int, _Bucket] = field(default_factory=dict)
    _group_windows: dict[int, deque[float]] = field(default_factory=dict)
    _global_window: deque[float] = field(default_factory=deque)

    def _bucket(self, chat_id: int, now: float) -> _Bucket:
        bucket = self._buckets.get(chat_id)
        if bucket is None:
            bucket = self._buckets[chat_id] = _Bucket(float(self.limits.chat_burst), now)
        elapsed = max(0.0, now - bucket.updated)
        bucket.tokens = min(
            float(self.limits.chat_burst), bucket.tokens + elapsed * self.limits.chat_per_second
        )
        bucket.updated = now
        return bucket

    def _prune(self, now: float) -> None:
        while self._global_window and self._global_window[0] <= now - 1.0:
            self._global_window.popleft()
        for window in self._group_windows.values():
            while window and window[0] <= now - 60.0:
                window.popleft()

    def wait_needed(self, chat_id: int, is_group: bool) -> float:
        """Seconds until one more message to `chat_id` fits every limit (0 if it fits now)."""
        now = self.clock()
        self._prune(now)
        waits = [0.0]
        bucket = self._bucket(chat_id, now)
        if bucket.tokens < 1.0:
            waits.append((1.0 - bucket.tokens) / self.limits.chat_per_second)
        window = self._group_windows.get(chat_id)
        if is_group and window is not None and len(window) >= self.limits.group_per_minute:
            waits.append(window[len(window) - self.limits.group_per_minute] + 60.0 - now)
        if len(self._global_window) >= self.limits.global_per_second:
            waits.append(
                self._global_window[len(self._global_window) - self.limits.global_per_second]
                + 1.0
                - now
            )
        return max(waits)

    def record(self, chat_id: int, is_group: bool) -> None:
        """Count one message or edit to `chat_id` now."""
        now = self.clock()
        bucket = self._bucket(chat_id, now)
        # Clamp at zero so a burst with enforcement off is not charged twice later.
        bucket.tokens = max(0.0, bucket.tokens - 1.0)
        if is_group:
            self._group_windows.setdefault(chat_id, deque()).append(now)
        self._global_window.append(now)


def retry_after_seconds(wait: float) -> int:
    """Telegram's retry_after: whole seconds, at least 1."""
    return max(1, math.ceil(wait - 1e-9))


@dataclass
class Faults:
    """Switches for failure modes. Error faults and latency spare getUpdates unless included."""

    seed: int = 0
    error_rate: float = 0.0
    error_status: int = 500
    mode: FaultMode = "status"
    retry_after: int = 3
    latency: float = 0.0
    outage: bool = False
    include_get_updates: bool = False
    random: random.Random = field(init=False)
    _fail_next: deque[int] = field(default_factory=deque)

    def __post_init__(self) -> None:
        self.random = random.Random(self.seed)  # noqa: S311 - reproducible faults, not crypto

    def fail_next(self, n: int = 1, status: int = 500) -> None:
        """Answer the next `n` requests with HTTP `status` (429 answers carry retry_after)."""
        self._fail_next.extend([status] * n)

    def reset(self) -> None:
        """Turn every fault off."""
        self.error_rate = 0.0
        self.latency = 0.0
        self.outage = False
        self._fail_next.clear()

    def applies_to(self, method: str) -> bool:
        return self.include_get_updates or method != "getupdates"

    def pick_failure(self) -> int | None:
        """The status to fail this request with, or None to let it through."""
        if self._fail_next:
            return self._fail_next.popleft()
        if self.error_rate > 0 and self.random.random() < self.error_rate:
            return 429 if self.mode == "retry_after" else self.error_status
        return None
