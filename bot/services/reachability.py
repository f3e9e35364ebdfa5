"""When a chat refuses the bot (403): say so, once, to the people who can fix it."""

from __future__ import annotations

import logging

from bot.i18n import N_, t
from bot.services.messages import text_message
from bot.settings import Settings
from bot.store import Store
from models.clock import Clock
from models.outbox import Priority

log = logging.getLogger(__name__)


async def chat_refused(store: Store, clock: Clock, settings: Settings, chat_id: int) -> bool:
    """Tell admins and coordinators that a chat that matters refuses the bot; True if told.

    An agency's group matters (its agency is marked unreachable too). A private chat matters
    when the person blocked the bot and holds a role or an agency membership; someone who
    merely never pressed Start is handled where it happens (the agency is asked to tell them).
    """
    now = clock.now()
    async with store.transaction() as tx:
        refusals = [c for c in await tx.unreachable_chats() if c.chat_id == chat_id]
        if not refusals or refusals[0].notified_at is not None:
            return False
        reason = refusals[0].reason
        if chat_id < 0:
            agencies = await tx.set_chat_reachable(chat_id, False, now)
            if not agencies:
                return False
            subject = ", ".join(f"{a.name} ({a.code})" for a in agencies)
            key = N_("reach.group_refuses")
        else:
            if "blocked" not in reason.lower():
                return False
            roles = await tx.roles_of(chat_id)
            memberships = await tx.agency_ids_of(chat_id)
            if not roles and not memberships:
                return False
            person = await tx.person(chat_id)
            subject = person.display_name if person else str(chat_id)
            key = N_("reach.person_blocked")
        people = await tx.user_ids_with_roles(("koordinator",), settings.admin_user_ids)
        for user_id in people:
            if user_id == chat_id:
                continue
            language = await tx.language_of(user_id, settings.default_language)
            text = t(language, key, subject=subject, reason=reason)
            await tx.enqueue(text_message(user_id, text, priority=Priority.URGENT), now)
        await tx.mark_unreachable_notified(chat_id, now)
    log.warning("chat %s refuses the bot (%s); admins and coordinators told", chat_id, reason)
    return True
