"""The gate every Bot API call of the bot passes: pacing, and a record of what it left on screen.

python-telegram-bot hands every request to its rate limiter (`BaseRateLimiter`), whoever makes
it — the outbox sender or a handler answering a person. The gate uses that one hook for two
things: messages and edits wait for the pacer (`bot.runtime.pacing`), so a direct answer cannot
push a chat over Telegram's limits behind the outbox's back; and after a handler's own send, edit or
deletion succeeds, what the message now shows (its buttons) is recorded, so the next press on it
is checked against it. The outbox records its sends itself, in the transaction that marks the
row sent, and says so with `rate_limit_args` (`bot.runtime.outbox.FROM_OUTBOX`).

429s are not handled here: the outbox reschedules its rows, and a direct answer's 429 reaches
the error handler.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, TypeAlias

from telegram.ext import BaseRateLimiter

from bot.runtime.pacing import PACED_METHODS, Pacer

GateArgs: TypeAlias = dict[str, bool]
Recorder = Callable[[str, dict[str, Any], Any], Awaitable[None]]


class ApiGate(BaseRateLimiter[GateArgs]):
    """Paces message calls (when a pacer is given) and tells `recorder` about each direct call
    that succeeded."""

    def __init__(self, pacer: Pacer | None, recorder: Recorder | None = None) -> None:
        self.pacer = pacer
        self.recorder = recorder

    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        return None

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, bool | dict[str, Any] | list[dict[str, Any]]]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: GateArgs | None,
    ) -> bool | dict[str, Any] | list[dict[str, Any]]:
        chat_id = _chat_of(data) if endpoint in PACED_METHODS else None
        if self.pacer is None or chat_id is None:
            result = await callback(*args, **kwargs)
        else:
            while (wait := self.pacer.wait(chat_id)) > 0:  # noqa: ASYNC110 - a rate window opens with time alone
                await asyncio.sleep(wait)
            send = self.pacer.record(chat_id)  # no await since the check: nobody slips in between
            try:
                result = await callback(*args, **kwargs)
            finally:
                self.pacer.done(send)
        if self.recorder is not None and not (rate_limit_args or {}).get("outbox"):
            await self.recorder(endpoint, data, result)
        return result


def _chat_of(data: dict[str, Any]) -> int | None:
    value = data.get("chat_id")
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.lstrip("-").isdigit():
        return int(value)
    return None
