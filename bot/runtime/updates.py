"""Durable update handling: an update counts as handled only when its effects are committed.

PTB's built-in `Updater` confirms updates to Telegram as soon as it has fetched them, so a crash
loses the ones still queued. Instead the application runs without it:

* `Poller` long-polls `getUpdates` itself and asks for the next batch — which is what confirms
  the previous one to Telegram — only after every update of the batch was handled;
* `UpdateProcessor.handle` skips an update whose id is already recorded as handled (the poller
  looks that up for a whole batch at once), runs the handlers (`Application.process_update`),
  then records the id — unless the handler's last transaction already did, in the same commit
  as its effects (`Store.completes_update`).

A crash between a handler's commit and the record makes Telegram deliver that update again.
Handlers are written to be idempotent for that window: state moves with conditional updates
(a second acknowledgement changes nothing), drafts are consumed when submitted, registrations
and memberships are upserts. The worst a replay can do is repeat a direct answer to the person.
Webhook mode uses the same processor and answers Telegram only after `handle` returned.

A press's message is read without its formatting and buttons (`PRESSED_MESSAGE_UNREAD`): what a
press is checked against is the bot's own record of what that message shows.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from telegram import Bot, Update
from telegram.error import InvalidToken, NetworkError, TelegramError

from bot.context import App

log = logging.getLogger(__name__)

# What the bot asks Telegram for. chat_member is not in Telegram's default set; it reaches only a
# bot that is an administrator of the group (bot.services.membership).
ALLOWED_UPDATES = ["message", "callback_query", "my_chat_member", "chat_member"]


class UpdateProcessor:
    def __init__(self, app: App) -> None:
        self.app = app
        self.handled = 0
        self.skipped = 0

    async def handle(
        self, data: dict[str, Any] | Update, *, handled_before: bool | None = None
    ) -> bool:
        """Handle one update unless it was handled before; True when it ran now.

        `handled_before`: the caller has looked that up already (`handled_updates`)."""
        services = self.app.bot_data.services
        update_id = data.update_id if isinstance(data, Update) else data.get("update_id")
        if not isinstance(update_id, int):
            log.error("an update without an update_id was ignored: %r", data)
            return False
        if handled_before is None:
            async with services.store.lookup() as tx:
                handled_before = await tx.update_handled(update_id)
        if handled_before:
            self.skipped += 1
            log.info("update %s was handled before; replay ignored", update_id)
            for listener in self.app.bot_data.services.store.hooks.update_done:
                listener(update_id)
            return False
        update = data if isinstance(data, Update) else self._parse(data)
        with services.store.handling_update(update_id) as hand:
            if update is not None:
                # Handler errors go to the application's error handler; they do not stop us.
                await self.app.process_update(update)
        if not hand.recorded:
            # No handler recorded it with its last effect (`Store.completes_update`).
            async with services.store.transaction() as tx:
                await tx.record_update(update_id, services.clock.now())
        self.handled += 1
        for listener in self.app.bot_data.services.store.hooks.update_done:
            listener(update_id)
        return True

    async def handled_updates(self, batch: list[dict[str, Any]]) -> set[int]:
        """The ids of the updates in `batch` that were handled before, in one query."""
        ids = [data["update_id"] for data in batch if isinstance(data.get("update_id"), int)]
        async with self.app.bot_data.services.store.lookup() as tx:
            return await tx.handled_updates(ids)

    def _parse(self, data: dict[str, Any]) -> Update | None:
        try:
            return Update.de_json(_without_pressed_markup(data), self.app.bot)
        except (TypeError, ValueError, KeyError) as exc:
            # A shape this version of PTB cannot read: recorded as handled so it is not retried.
            log.error(
                "update %s could not be parsed and was skipped: %s", data.get("update_id"), exc
            )
            return None


# What a press's message carries that no handler reads: the press pipeline checks a press against
# the bot's own record of what the message shows (`bot.runtime.message_records`), never against the
# copy Telegram sends along, and reading the card's formatting and buttons into PTB's objects was
# about 40 % of parsing a press (~0.1 ms).
PRESSED_MESSAGE_UNREAD = ("entities", "caption_entities", "reply_markup")


def _without_pressed_markup(data: dict[str, Any]) -> dict[str, Any]:
    """The update, with the pressed message's formatting and buttons left out (a copy; the
    update as received is not changed)."""
    query = data.get("callback_query")
    if not isinstance(query, dict):
        return data
    message = query.get("message")
    if not isinstance(message, dict) or not any(k in message for k in PRESSED_MESSAGE_UNREAD):
        return data
    slim = {k: v for k, v in message.items() if k not in PRESSED_MESSAGE_UNREAD}
    return {**data, "callback_query": {**query, "message": slim}}


class Poller:
    """Long polling that confirms updates to Telegram only after they were handled."""

    def __init__(self, app: App, processor: UpdateProcessor, *, timeout: int = 10) -> None:
        self.app = app
        self.processor = processor
        self.timeout = timeout
        self._task: asyncio.Task[None] | None = None
        self._stopping = asyncio.Event()
        self._fetching = False

    def start(self) -> None:
        self._stopping.clear()
        self._task = asyncio.create_task(self._run(), name="poller")

    @property
    def alive(self) -> bool:
        return self._task is not None and not self._task.done()

    async def stop(self) -> None:
        """Finish the update in hand, then stop; unconfirmed updates come again next start."""
        self._stopping.set()
        if self._task is None:
            return
        task, self._task = self._task, None
        if self._fetching:
            task.cancel()  # a long poll in flight holds nothing that could be lost
        with contextlib.suppress(asyncio.CancelledError):
            await task

    async def _run(self) -> None:
        offset: int | None = None
        failures = 0
        while not self._stopping.is_set():
            try:
                self._fetching = True
                batch = await self._fetch(offset)
                failures = 0
            except InvalidToken:
                raise
            except (NetworkError, TelegramError) as exc:
                failures += 1
                wait = min(30.0, 0.5 * 2 ** min(failures, 6))
                log.warning("getUpdates failed (%s); again in %.1f s", exc, wait)
                await self._pause(wait)
                continue
            finally:
                self._fetching = False
            try:
                # Only this poller handles updates, so what was handled before the batch began
                # is all that can have been: one lookup serves the whole batch.
                handled = await self.processor.handled_updates(batch)
            except Exception:
                # The database is not answering: nothing of the batch is confirmed; try again.
                log.exception("looking up which updates were handled failed; they will come again")
                failures += 1
                await self._pause(min(30.0, 2.0 * failures))
                continue
            for data in batch:
                if self._stopping.is_set():
                    return  # the rest of the batch is not confirmed and comes again
                try:
                    await self.processor.handle(
                        data, handled_before=data.get("update_id") in handled
                    )
                except Exception:
                    # E.g. the database is locked or the disk full: keep polling, and do not
                    # confirm this update, so it is handled again once the cause is gone.
                    log.exception(
                        "handling update %s failed; it will come again", data.get("update_id")
                    )
                    failures += 1
                    await self._pause(min(30.0, 2.0 * failures))
                    break
                update_id = data.get("update_id")
                if isinstance(update_id, int):
                    offset = update_id + 1

    async def _pause(self, seconds: float) -> None:
        """Wait, unless asked to stop."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), timeout=seconds)

    async def _fetch(self, offset: int | None) -> list[dict[str, Any]]:
        params: dict[str, Any] = {"timeout": self.timeout, "allowed_updates": ALLOWED_UPDATES}
        if offset is not None:
            params["offset"] = offset
        # Raw JSON rather than Update objects: one update PTB cannot parse must not block all.
        result = await self.app.bot.do_api_request(
            "getUpdates", api_kwargs=params, read_timeout=self.timeout + 10
        )
        return (
            [item for item in result if isinstance(item, dict)] if isinstance(result, list) else []
        )


async def ensure_polling(bot: Bot) -> None:
    """Remove a webhook left by webhook mode, so that getUpdates works again.

    Pending updates are kept: the poller then fetches what queued up while no one listened."""
    await bot.delete_webhook(drop_pending_updates=False)
