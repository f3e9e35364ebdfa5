"""The outbox sender: delivers what services wrote to the outbox, in order per chat.

It runs as one background task owned by the application's lifecycle. Each pass takes the oldest
pending message of every chat that is due, most urgent first, and sends it. Results are recorded
in the store: the Telegram message id under the message's `ref`, a postponement after a 429 or a
network fault (capped exponential backoff), or a parked row for an answer retrying cannot fix.
Nothing is deleted, so a message still pending when the bot stops is sent after the next start.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import logging
import random
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Literal

from telegram import (
    InputFile,
    InputMediaDocument,
    InputMediaPhoto,
    Message,
    MessageId,
)
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
    TimedOut,
)
from telegram.ext import ExtBot

from bot.i18n import t
from bot.runtime.gate import GateArgs
from bot.runtime.http import NOT_CONNECTED
from bot.runtime.pacing import Pacer
from bot.services.messages import text_message
from bot.settings import Language
from bot.store import Store
from models.outbox import (
    COPY_SOURCE,
    LINK,
    PIN_RIGHTS_NOTICE,
    OutboxItem,
    OutgoingMessage,
    Priority,
    SendMethod,
    message_link,
)
from models.shown import Showing, showing

log = logging.getLogger(__name__)

BATCH = 200
LINK_WAIT = 0.05  # seconds before a message that links to one still in flight looks again
MARK_LINGER = 0.02  # seconds a sent mark may wait for the other sends in flight to commit with
# Passed with the outbox's own calls to the bot's gate (`bot.runtime.gate.ApiGate`): what they show
# is recorded with the row (`mark_sent`), in the same transaction, not by the gate.
FROM_OUTBOX = {"outbox": True}
NOT_MODIFIED = "message is not modified"
EDIT_NOT_FOUND = "message to edit not found"
PIN_REFUSED = "not enough rights"  # "…to manage pinned messages in the chat"


def backoff(attempts: int, cap: float, rng: random.Random) -> float:
    """Seconds to wait after `attempts` failures: 0.5, 1, 2, 4 … up to `cap`, with jitter."""
    base: float = min(cap, 0.5 * 2 ** min(attempts, 20))
    return base * (0.8 + 0.4 * rng.random())


class OutboxSender:
    """Delivers the outbox: several chats at once, one message at a time per chat, paced."""

    def __init__(
        self,
        store: Store,
        bot: ExtBot[GateArgs],
        *,
        max_backoff: float = 60.0,
        poll_interval: float = 1.0,
        pacer: Pacer | None = None,
        concurrency: int = 8,
        language: Language = "id",
        rng: random.Random | None = None,
    ) -> None:
        self.store = store
        self.bot = bot
        self.max_backoff = max_backoff
        self.poll_interval = poll_interval
        self.pacer = pacer  # None: no pacing (benchmarks of the bot's own cost)
        self.concurrency = concurrency
        self.language = language  # of the few notices the sender writes itself
        self._rng = rng or random.Random()  # noqa: S311 - jitter, not security
        self._wake = asyncio.Event()
        # Set while nothing is due or in flight; lets tests and the demo wait for quiet.
        self.idle = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._inflight: dict[int, asyncio.Task[None]] = {}  # chat id → the send in flight
        self._inflight_refs: dict[int, str] = {}  # chat id → the ref of the send in flight
        # Sends Telegram took whose marks wait for the next commit of marks (`_commit_marks`).
        self._marks: list[_Mark] = []
        self._marking: asyncio.Task[None] | None = None
        self._handed_in = asyncio.Event()  # a mark came, or a send ended
        self.mark_commits = 0  # transactions that committed marks (figures for the benchmarks)
        self.passes = 0  # times it read the due rows (the same)
        self._stopping = False
        self.sent_count = 0
        # Its listeners (bot.hooks): `row_settled` is awaited after each row is settled, before
        # the sender can go idle, so what they write (a broadcast's status) is part of the same
        # quiet; `chat_refused` once per chat that refuses the bot.
        self.hooks = store.hooks
        self.hooks.outbox_written.append(self.wake)

    def wake(self, chats: Collection[int] | None = None) -> None:
        """Something was written to the outbox (for `chats`, when known): look now instead of
        at the next poll. Not when each of those chats has a send in flight: the end of each
        send looks again, and a chat's next message cannot go before then (during a flood of
        presses, every other pass found nothing to start)."""
        self.idle.clear()
        if chats and all(chat in self._inflight for chat in chats):
            return
        self._wake.set()

    def start(self) -> None:
        if self._task is None:
            self._stopping = False
            self._task = asyncio.create_task(self._run(), name="outbox-sender")

    async def stop(self) -> None:
        """Finish the sends in flight, then stop; pending rows stay for the next start."""
        self._stopping = True
        self._wake.set()
        if self._task is not None:
            task, self._task = self._task, None
            try:
                await asyncio.wait_for(asyncio.shield(task), timeout=10)
            except TimeoutError:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    async def _run(self) -> None:
        try:
            while not self._stopping:
                try:
                    started, soonest = await self._start_due()
                except asyncio.CancelledError:
                    raise
                except Exception:
                    # The sender must outlive any single bad row or database hiccup.
                    log.exception("outbox pass failed; retrying")
                    started, soonest = 0, self.poll_interval
                if not started and not self._inflight and soonest is None:
                    if self.pacer is not None and not self.idle.is_set():
                        self.pacer.forget_idle()  # quiet now: let go of chats' spent windows
                    self.idle.set()
                if not self._stopping:
                    try:
                        await self._wait(soonest)
                    except asyncio.CancelledError:
                        raise
                    except Exception:
                        log.exception("outbox wait failed; looking again shortly")
                        await asyncio.sleep(self.poll_interval)
        finally:
            if self._inflight:
                await asyncio.gather(*self._inflight.values(), return_exceptions=True)

    async def _start_due(self) -> tuple[int, float | None]:
        """Start a send for every due chat the pacing allows; return how many started and the
        seconds until a held-back one may go (None when nothing is held back)."""
        free = self.concurrency - len(self._inflight)
        if free <= 0:
            return 0, None
        self.passes += 1
        async with self.store.lookup() as tx:
            items = await tx.due_outbox(self.store.clock.now(), BATCH, self._inflight.keys())
        started = 0
        starting: list[OutboxItem] = []  # marked as attempted together, then started
        chats: set[int] = set()
        soonest: float | None = None
        # Refs of messages not sent yet: in flight, or ahead in this pass.
        coming = set(self._inflight_refs.values())
        for item in items:
            if self._stopping or started >= free:
                break
            # A message that links to another (an alert to its card) goes after it: after one
            # in flight or ahead in this pass, or one still waiting in its own chat's queue.
            linked_first = LINK in item.payload and (
                item.target_ref in coming or item.target_pending
            )
            if item.ref is not None:
                coming.add(item.ref)
            if linked_first:
                continue  # the message it links to goes first (an alert after its card)
            if item.chat_id in self._inflight or item.chat_id in chats:
                continue  # one message at a time per chat keeps its order
            if self.pacer is not None:
                # Only chats the pacer would let through now take a slot; the bot's rate
                # gate (bot.runtime.gate.ApiGate) does the counting for every send.
                wait = self.pacer.wait(item.chat_id)
                if wait > 0:
                    soonest = wait if soonest is None else min(soonest, wait)
                    continue
            self.idle.clear()
            if item.ref is not None:
                self._inflight_refs[item.chat_id] = item.ref
            starting.append(item)
            chats.add(item.chat_id)
            started += 1
        await self._mark_attempted(starting)
        for item in starting:
            self._inflight[item.chat_id] = asyncio.create_task(self._send(item))
        if items and not started and not self._inflight and soonest is None:
            soonest = self.poll_interval  # everything due is waiting on something else
        return started, soonest

    async def _send(self, item: OutboxItem) -> None:
        try:
            await self.deliver(item)
            for listener in self.hooks.row_settled:
                await listener(item)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("delivering outbox %s failed", item.id)
        finally:
            self._inflight.pop(item.chat_id, None)
            self._inflight_refs.pop(item.chat_id, None)
            self._handed_in.set()
            self._wake.set()

    async def _wait(self, soonest: float | None) -> None:
        """Until a send finishes, something is written, a held-back chat may go, or the poll."""
        timeout = self.poll_interval if soonest is None else min(soonest, self.poll_interval)
        if not self._inflight and soonest is None:
            async with self.store.lookup() as tx:
                next_due = await tx.next_outbox_time()
            if next_due is not None:
                until = (next_due - self.store.clock.now()).total_seconds()
                timeout = max(0.0, min(timeout, until))
        self._wake.clear()
        # asyncio.timeout, unlike wait_for, needs no task of its own for each wait.
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(max(timeout, 0.001)):
                await self._wake.wait()

    async def deliver(self, item: OutboxItem) -> None:
        params = dict(item.payload)
        params["chat_id"] = item.chat_id
        for field in ("photo", "document"):
            if isinstance(params.get(field), dict):
                # A file made by the bot (a chart) travels in the row as base64; upload it.
                params[field] = _upload(params[field])
        if isinstance(params.get("media"), list):
            # PTB expects its own InputMedia objects in a media group (it fills in defaults).
            params["media"] = [_input_media(entry) for entry in params["media"]]
        link = params.pop(LINK, None)
        if item.method is SendMethod.COPY_MESSAGE:
            # The message copied (`message_id` in a payload is reserved to the outbox).
            params["message_id"] = params.pop(COPY_SOURCE)
        shows = showing(item.method.value, item.payload)
        if item.target_ref is not None and item.method.targets_existing_message:
            target = await self._resolve(item)
            if not target:
                return
            params["chat_id"], params["message_id"] = target
            if shows is not None and not await self._changes(shows, item, target):
                # The message shows this already; Telegram would refuse the edit.
                log.debug("outbox %s would not change %s; not sent", item.id, item.target_ref)
                await self._mark_sent(item, None, shows)
                return
        elif item.target_ref is not None:
            # A new message that replies to an earlier one (a reminder under its card).
            replied = await self._resolve(item, required=False)
            if replied is False:
                return
            if replied is not None and replied[0] == item.chat_id:
                params["reply_parameters"] = {
                    "message_id": replied[1],
                    "allow_sending_without_reply": True,
                }
        if isinstance(link, dict):
            await self._add_link(params, link, item.link_target)
        try:
            result = await self.bot.do_api_request(
                item.method.value, api_kwargs=params, rate_limit_args=FROM_OUTBOX
            )
        except RetryAfter as exc:
            self.hooks.counters.sent("429")
            wait = _seconds(exc.retry_after)
            log.warning("429 for chat %s: waiting %.0f s", item.chat_id, wait)
            await self._postpone(item, wait, f"retry after {wait:.0f} s", delivered=False)
        except ChatMigrated as exc:
            log.info("chat %s became %s; pending messages follow it", item.chat_id, exc.new_chat_id)
            async with self.store.transaction() as tx:
                await tx.retarget_chat(item.chat_id, exc.new_chat_id)
        except (TimedOut, InvalidToken) as exc:
            self.hooks.counters.sent("5xx")
            await self._postpone(item, self._backoff(item), type(exc).__name__ + ": " + str(exc))
        except BadRequest as exc:
            self.hooks.counters.sent("4xx")
            reason = exc.message.lower()
            if NOT_MODIFIED in reason:
                # Compared before sending, so the record of what the message shows was wrong
                # (a message sent before records were kept, or changed behind the bot's back).
                log.warning(
                    "outbox %s: Telegram says %s (chat %s) is not modified",
                    item.id,
                    item.target_ref,
                    item.chat_id,
                )
                await self._mark_sent(item, None, shows)
            elif EDIT_NOT_FOUND in reason and item.method is SendMethod.EDIT_MESSAGE_TEXT:
                await self._repost(item, exc.message)
            elif PIN_REFUSED in reason and item.method.pins:
                await self._may_not_pin(item, exc.message)
            else:
                # Ids only: the payload is a card with people's names, phones and words
                # (`siaga112 outbox` shows the row to whoever may read the database).
                log.error(
                    "Telegram refused outbox %s (%s to chat %s, ref %s): %s",
                    item.id,
                    item.method,
                    item.chat_id,
                    item.ref or item.target_ref,
                    exc,
                )
                await self._park(item, f"BadRequest: {exc.message}")
        except Forbidden as exc:
            self.hooks.counters.sent("4xx")
            log.warning("Telegram forbids outbox %s to chat %s: %s", item.id, item.chat_id, exc)
            await self._refused(item, exc.message)
        except NetworkError as exc:
            self.hooks.counters.sent("5xx")  # PTB's name for a 5xx answer, or none at all
            # No connection at all: the request never left, so no copy exists. Any other
            # network fault may have cut the answer off after Telegram took the message.
            await self._postpone(
                item,
                self._backoff(item),
                f"NetworkError: {exc.message}",
                delivered=False if NOT_CONNECTED in exc.message else None,
            )
        except TelegramError as exc:
            self.hooks.counters.sent("4xx")
            await self._postpone(item, self._backoff(item), f"{type(exc).__name__}: {exc.message}")
        else:
            self.hooks.counters.sent("ok")
            await self._mark_sent(item, _message_id(result), shows)

    async def _mark_attempted(self, items: list[OutboxItem]) -> None:
        """Sends about to start of messages others will edit: if we die before their ids are
        recorded, the next start must know a copy may already be in the chat. All of one pass
        in one statement (it commits on its own); a send that then does not go clears it."""
        ids = [
            item.id
            for item in items
            if item.ref is not None and not item.method.targets_existing_message
        ]
        if ids:
            async with self.store.single_write() as tx:
                await tx.mark_attempted(ids, self.store.clock.now())

    async def _add_link(
        self, params: dict[str, Any], link: dict[str, Any], target: tuple[int, int] | None
    ) -> None:
        """The button to the message `link` names, under the others, once it has been sent
        (`target`: where that message is, when it was read along with the row). What the
        message shows is recorded without it (the same link is added to each edit)."""
        ref, text = link.get("ref"), link.get("text")
        if not isinstance(ref, str) or not isinstance(text, str):
            return
        if target is None:
            async with self.store.lookup() as tx:
                target = await tx.message_ref(ref)
        url = message_link(*target) if target is not None else None
        if url is None:
            return
        markup = params.get("reply_markup")
        rows = list(markup.get("inline_keyboard", [])) if isinstance(markup, dict) else []
        params["reply_markup"] = {"inline_keyboard": [*rows, [{"text": text, "url": url}]]}

    async def _changes(self, shows: Showing, item: OutboxItem, target: tuple[int, int]) -> bool:
        """Whether an edit changes what its message shows."""
        shown = item.shown
        if shown is None and item.target is None:
            # The target was looked up after the row was read: so is what it shows.
            async with self.store.lookup() as tx:
                shown = await tx.shown(*target)
        return shows.changes(shown)

    async def _resolve(
        self, item: OutboxItem, *, required: bool = True
    ) -> tuple[int, int] | Literal[False] | None:
        """(chat_id, message_id) of the message `item` edits or replies to.

        False when the item must wait (the target is still queued) or was parked; None when a
        reply's target is unknown, so it goes out as a plain message.
        """
        assert item.target_ref is not None
        if item.target is not None:
            return item.target  # read along with the row
        async with self.store.lookup() as tx:
            target = await tx.message_ref(item.target_ref)
        if target is not None:
            return target
        async with self.store.read() as tx:
            target = await tx.message_ref(item.target_ref)
            still_coming = target is None and await tx.ref_is_pending(item.target_ref)
        if target is not None:
            return target
        if still_coming:
            # The message it needs waits in another chat's queue; try again shortly.
            # A link to a message in another chat (an alert to its card) looks again soon:
            # that message is usually in flight right now.
            wait = LINK_WAIT if LINK in item.payload else 1.0
            await self._postpone(
                item,
                min(wait, self.max_backoff),
                "target not sent yet",
                count=False,
                delivered=False,  # not tried: no copy of it exists
            )
            return False
        if not required:
            return None
        await self._park(item, f"no sent message is known as {item.target_ref!r}")
        return False

    async def _repost(self, item: OutboxItem, error: str) -> None:
        """The message to edit is gone (someone deleted the card): post it again, and the new
        message takes over the old one's name so later edits find it."""
        assert item.target_ref is not None
        log.warning(
            "message %s was deleted; posting it again in chat %s", item.target_ref, item.chat_id
        )
        async with self.store.transaction() as tx:
            payload = dict(item.payload)
            thread = await tx.thread_of_ref(item.target_ref)
            if thread is not None:
                payload["message_thread_id"] = thread  # back into its forum topic, not General
            repost = OutgoingMessage(
                item.chat_id, SendMethod.SEND_MESSAGE, payload, Priority.URGENT, ref=item.target_ref
            )
            await tx.park(item, f"BadRequest: {error} (posted again)")
            await tx.enqueue(repost, self.store.clock.now())

    async def _may_not_pin(self, item: OutboxItem, error: str) -> None:
        """The bot may not pin in this chat: the pin waits, parked (it is sent again when the
        bot is promoted there), and the chat is told why, once (the item's fallback)."""
        log.info("may not pin in chat %s: %s", item.chat_id, error)
        now = self.store.clock.now()
        async with self.store.transaction() as tx:
            await tx.park(item, f"BadRequest: {error}")
            if item.fallback is not None and await tx.first_notice(
                item.chat_id, PIN_RIGHTS_NOTICE, now
            ):
                await tx.enqueue(item.fallback, now)

    async def _refused(self, item: OutboxItem, error: str) -> None:
        """403: the chat blocked, removed or never started the bot. Stop retrying there, send
        the item's fallback (e.g. ask an agency to tell its member to press Start), and let the
        listeners tell admins and coordinators — once per chat."""
        now = self.store.clock.now()
        async with self.store.transaction() as tx:
            await tx.park(item, f"Forbidden: {error}")
            parked = await tx.park_chat(item.chat_id, f"Forbidden: {error}")
            newly = await tx.mark_unreachable(item.chat_id, error, now)
            if item.fallback is not None and not item.method.pins:
                # (A pin's fallback says it needs rights: only when refused for them, once.)
                await tx.enqueue(item.fallback, now)
        if parked:
            log.warning("chat %s refuses the bot: %d more messages parked", item.chat_id, parked)
        if newly:
            for listener in self.hooks.chat_refused:
                listener(item.chat_id)

    def _backoff(self, item: OutboxItem) -> float:
        return backoff(item.attempts, self.max_backoff, self._rng)

    async def _postpone(
        self,
        item: OutboxItem,
        seconds: float,
        error: str,
        *,
        count: bool = True,
        delivered: bool | None = None,
    ) -> None:
        """Try again later. `delivered=False`: Telegram said it did not take the message (a 429),
        so no copy exists; None: unknown (a timeout or a network fault)."""
        until = self.store.clock.now() + timedelta(seconds=seconds)
        async with self.store.transaction() as tx:
            await tx.postpone(item, until, error, count=count)
            if delivered is False:
                await tx.clear_attempted(item)

    async def _park(self, item: OutboxItem, error: str) -> None:
        async with self.store.transaction() as tx:
            await tx.park(item, error)

    async def _mark_sent(
        self, item: OutboxItem, message_id: int | None, shows: Showing | None = None
    ) -> None:
        """Record that Telegram took the row (or that it was not needed), with what it put on
        its message; returns once that is committed.

        Marks of sends that finish together share one commit (`_commit_marks`): a commit costs
        a trip to the database thread and a sync, and the sends of one change (a card and the
        on-duty member's alert) finish within the same moment. The chat's next message still
        waits for this one's mark, as before."""
        if item.ref is not None and item.attempted_at is not None:
            await self._mark_alone(item, message_id, shows)  # it may need a notice as well
            self.sent_count += 1
            return
        mark = _Mark(item, message_id, shows, asyncio.get_running_loop().create_future())
        self._marks.append(mark)
        self._handed_in.set()
        if self._marking is None or self._marking.done():
            self._marking = asyncio.create_task(self._commit_marks(), name="outbox-marks")
        await mark.done
        self.sent_count += 1

    async def _commit_marks(self) -> None:
        """Commit every mark waiting, together, until none is left. The marks are taken once the
        store is this task's, so those that came while it waited for the store go along. Should
        the shared transaction fail, each mark is tried alone, so one bad mark fails only its
        own send."""
        taken: list[_Mark] = []
        try:
            while self._marks:
                await self._gather_marks()
                taken = []
                try:
                    async with self.store.transaction() as tx:
                        taken, self._marks = self._marks, []
                        now = self.store.clock.now()
                        for mark in taken:
                            await tx.mark_sent(mark.item, mark.message_id, now, mark.shows)
                except Exception as exc:
                    if not taken:  # the store refused the transaction itself (a full disk)
                        taken, self._marks = self._marks, []
                    await self._settle_alone(taken, exc)
                else:
                    self.mark_commits += 1
                    for mark in taken:
                        mark.settle()
                taken = []
        finally:
            # Stopped part way (the loop shutting down): no send waits for a mark forever.
            for mark in (*taken, *self._marks):
                mark.done.cancel()
            self._marks = []

    async def _settle_alone(self, marks: list[_Mark], failed: Exception) -> None:
        """The shared commit of `marks` failed: a mark that was alone fails with it; several are
        each tried alone, so one bad mark fails only its own send."""
        if len(marks) == 1:
            marks[0].settle(failed)
            return
        for mark in marks:
            try:
                await self._mark_alone(mark.item, mark.message_id, mark.shows)
            except Exception as alone:
                mark.settle(alone)
            else:
                mark.settle()

    async def _gather_marks(self) -> None:
        """Wait, at most `MARK_LINGER`, until every send in flight has handed in its mark (the
        sends of one pass get their answers within the same moment), so they commit together;
        a send that takes longer does not hold the others' marks up beyond that."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(MARK_LINGER):
                while len(self._marks) < len(self._inflight):
                    self._handed_in.clear()
                    await self._handed_in.wait()

    async def _mark_alone(
        self, item: OutboxItem, message_id: int | None, shows: Showing | None
    ) -> None:
        """A mark in a transaction of its own; with the notice that an earlier try may have
        got through, when that may be so."""
        now = self.store.clock.now()
        # One commit (the outbox's triggers record what the message shows in it).
        async with self.store.transaction() as tx:
            await tx.mark_sent(item, message_id, now, shows)
            if item.ref is not None and item.attempted_at is not None:
                # An earlier try may have got through before the bot died or the line
                # dropped: say so, as a reply to this copy, in the chat's language.
                language = (
                    await tx.language_of(item.chat_id, self.language)
                    if item.chat_id > 0
                    else self.language
                )
                await tx.enqueue(maybe_twice_notice(item, language), now)
        self.mark_commits += 1


@dataclass(frozen=True, slots=True)
class _Mark:
    """A send to record as done, and the future its sender waits on until it is committed."""

    item: OutboxItem
    message_id: int | None
    shows: Showing | None
    done: asyncio.Future[None]

    def settle(self, error: BaseException | None = None) -> None:
        """Tell the waiting send how its mark went (unless it stopped waiting)."""
        if self.done.done():
            return
        if error is None:
            self.done.set_result(None)
        else:
            self.done.set_exception(error)


def maybe_twice_notice(item: OutboxItem, language: Language) -> OutgoingMessage:
    thread = item.payload.get("message_thread_id")
    return text_message(
        item.chat_id,
        t(language, "outbox.maybe_twice"),
        priority=Priority.URGENT,
        thread_id=thread if isinstance(thread, int) else None,
        reply_to=item.ref,
    )


def _upload(spec: dict[str, Any]) -> InputFile:
    return InputFile(base64.b64decode(spec["base64"]), filename=str(spec.get("filename", "file")))


def _input_media(entry: dict[str, Any]) -> InputMediaPhoto | InputMediaDocument:
    kind = InputMediaDocument if entry.get("type") == "document" else InputMediaPhoto
    return kind(media=entry["media"], caption=entry.get("caption"))


def _seconds(value: int | timedelta) -> float:
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


def _message_id(result: Any) -> int | None:
    if isinstance(result, Message | MessageId):
        return result.message_id
    if isinstance(result, Sequence) and result and isinstance(result[0], Message | MessageId):
        return result[0].message_id
    if isinstance(result, dict) and isinstance(result.get("message_id"), int):
        return int(result["message_id"])
    if isinstance(result, list) and result and isinstance(result[0], dict):
        first = result[0].get("message_id")
        return first if isinstance(first, int) else None
    return None
