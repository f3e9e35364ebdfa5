"""What each message of the bot shows: read for every press, written after direct calls.

The outbox records its own sends and edits with the rows it marks sent. Handlers also talk to
Telegram directly (a report's next question, the assign picker, a management card); the bot's
gate (`bot.runtime.gate.ApiGate`) hands each such call that succeeded to `after_call`, which
records it here. A handler therefore never has to remember to record anything, and a message the
bot has no record of carries nothing that may be pressed.
"""

from __future__ import annotations

import logging
import sqlite3
from typing import Any

from bot.store import Store
from models.clock import Clock
from models.shown import DELETE_METHOD, EDIT_METHODS, SEND_METHODS, Shown, showing

log = logging.getLogger(__name__)


class MessageRecords:
    def __init__(self, store: Store, clock: Clock) -> None:
        self.store = store
        self.clock = clock

    async def shown(self, chat_id: int, message_id: int) -> Shown | None:
        """What the bot's message shows; None when the bot has no record of it."""
        async with self.store.lookup() as tx:
            return await tx.shown(chat_id, message_id)

    async def after_call(self, method: str, params: dict[str, Any], result: Any) -> None:
        """Record what a direct call that Telegram accepted left on screen."""
        if method not in SEND_METHODS and method not in EDIT_METHODS and method != DELETE_METHOD:
            return
        if self.store.held_here():
            # A call to Telegram from inside a transaction would hold every other writer up for
            # a network round trip; recording it now would wait for ourselves.
            raise RuntimeError(f"{method} was called inside a database transaction")
        try:
            await self._record(method, params, result)
        except sqlite3.Error:
            # The message went out; without its record its buttons answer "no longer valid",
            # which is safe. Say so loudly.
            log.exception("could not record what %s showed", method)

    async def _record(self, method: str, params: dict[str, Any], result: Any) -> None:
        now = self.clock.now()
        if method == DELETE_METHOD:
            chat_id, message_id = _int(params.get("chat_id")), _int(params.get("message_id"))
            if chat_id is not None and message_id is not None:
                async with self.store.single_write() as tx:
                    await tx.forget_shown(chat_id, message_id)
            return
        showing_now = showing(method, params)
        if showing_now is None:
            return
        if method in SEND_METHODS:
            if not showing_now.buttons or not isinstance(result, dict):
                return  # nothing on it can be pressed, and nobody edits a direct answer by name
            chat = result.get("chat")
            chat_id = _int(chat.get("id")) if isinstance(chat, dict) else None
            message_id = _int(result.get("message_id"))
            thread_id = _int(result.get("message_thread_id"))
            shown = Shown(
                showing_now.buttons,
                showing_now.text_digest,
                showing_now.markup_digest,
                thread_id,
            )
        else:
            chat_id, message_id = _int(params.get("chat_id")), _int(params.get("message_id"))
            # The text digest stays as it was when only the keyboard changed (None).
            shown = Shown(showing_now.buttons, showing_now.text_digest, showing_now.markup_digest)
        if chat_id is None or message_id is None:
            return
        async with self.store.single_write() as tx:
            await tx.record_shown(chat_id, message_id, shown, now)


def _int(value: object) -> int | None:
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.lstrip("-").isdigit():
        return int(value)
    return None
