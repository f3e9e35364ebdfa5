"""Agency membership follows the Telegram group: whoever leaves the group leaves the agency.

Being in an agency's group is the trust the agency itself controls, so the bot lets nobody keep
an agency's view (reporters' phone numbers among it) after leaving the group. Three ways tell it:

* the `left_chat_member` service message, which Telegram delivers even in privacy mode, so the
  bot needs no admin rights for it (`left_chat`);
* with admin rights, `chat_member` updates, exact even where a large group hides its join and
  leave messages, and a check of every member at start-up for what happened while the bot was
  down (`reconcile`);
* for views that show a phone number, a question to Telegram at the moment of access
  (`still_in`), when Telegram answers it.

Leaving ends membership and duty at once; joining the group again does not restore it (the
person sends /gabung there). Roles granted with /peran are the admins' to revoke.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterable

from telegram import Bot
from telegram.constants import ChatMemberStatus
from telegram.error import TelegramError

from bot.store import Store
from models.agencies import Agency
from models.clock import Clock

log = logging.getLogger(__name__)

GONE = frozenset({ChatMemberStatus.LEFT, ChatMemberStatus.BANNED})
RECONCILE_PAUSE = 0.05  # seconds between questions to Telegram at start-up: 20 a second


def gone(status: str, is_member: bool | None = None) -> bool:
    """Whether a chat member status means the person is no longer in the group (a restricted
    member may be out of it too)."""
    if status in GONE:
        return True
    return status == ChatMemberStatus.RESTRICTED and is_member is False


class Membership:
    def __init__(self, store: Store, clock: Clock, bot: Bot) -> None:
        self.store = store
        self.clock = clock
        self.bot = bot
        self.reconciled = asyncio.Event()  # set once the start-up check has finished
        self._task: asyncio.Task[int] | None = None

    def start_reconciling(self) -> None:
        """Check every member in the background (at start-up); `stop` ends it early."""
        if self._task is None:
            self._task = asyncio.create_task(self.reconcile(), name="reconcile-memberships")

    async def stop(self) -> None:
        if self._task is not None:
            task, self._task = self._task, None
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def left_chat(self, chat_id: int, user_id: int) -> list[str]:
        """The person left (or was removed from) the group: end their membership in every
        agency there. Returns the codes of the agencies they left."""
        async with self.store.transaction() as tx:
            codes = await tx.leave_chat(chat_id, user_id)
        if codes:
            log.info("user %s left chat %s: no longer in %s", user_id, chat_id, ", ".join(codes))
        return codes

    async def still_in(self, user_id: int, agency_ids: Iterable[int]) -> bool:
        """Whether the person is still in the group of at least one of these agencies, asking
        Telegram; membership of the groups they left ends on the way. When Telegram cannot be
        asked, the bot's own record stands."""
        async with self.store.read() as tx:
            agencies = [a for a in await tx.active_agencies() if a.id in set(agency_ids)]
        kept = False
        for chat_id in dict.fromkeys(a.chat_id for a in agencies):
            if await self._present(chat_id, user_id) is False:
                await self.left_chat(chat_id, user_id)
            else:
                kept = True
        return kept

    async def join_from_group(self, user_id: int, agency: Agency) -> bool:
        """Someone acted in an agency's group (pressed a card button, sent /siaga) without
        having joined: the group is the trust the agency controls, so they join — unless
        Telegram says they are not in it. When Telegram cannot be asked, the update itself came
        from the group, which only its members can send to. True when they are a member now."""
        if await self._present(agency.chat_id, user_id) is False:
            return False
        async with self.store.transaction() as tx:
            joined = await tx.join(agency.id, user_id, self.clock.now())
        if joined:
            log.info("user %s joined %s by acting in its group", user_id, agency.code)
        return True

    async def reconcile(self) -> int:
        """Ask Telegram about every member of every agency (at start-up: who left while the bot
        was down); end the memberships of those who are gone. Returns how many ended."""
        async with self.store.read() as tx:
            pairs = await tx.memberships_to_check()
        ended = 0
        for chat_id, user_id in pairs:
            if await self._present(chat_id, user_id) is False:
                ended += bool(await self.left_chat(chat_id, user_id))
            await asyncio.sleep(RECONCILE_PAUSE)
        if pairs:
            log.info("checked %d memberships with Telegram: %d ended", len(pairs), ended)
        self.reconciled.set()
        return ended

    async def _present(self, chat_id: int, user_id: int) -> bool | None:
        """True or False as Telegram says; None when it could not be asked."""
        try:
            member = await self.bot.get_chat_member(chat_id, user_id)
        except TelegramError as exc:
            log.info("could not ask Telegram whether %s is in chat %s: %s", user_id, chat_id, exc)
            return None
        return not gone(member.status, getattr(member, "is_member", None))
