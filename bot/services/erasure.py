"""Forgetting a person: /lupakan (Indonesia's personal data protection law, UU PDP).

One transaction finds every copy of the person's data and removes it: their name, username and
phone; the phone on their reports; their names written into timeline details; the text of the
outbox rows that carried any of it; their conversation in progress (a report's draft). Every
incident they took part in is shown again wherever it was posted — cards, task cards, the
dispatchers' copies, escalations, looked-up views — so the chats no longer show it either, and
the messages they sent that carried their number (a shared contact, a typed phone) are deleted
from their chat with the bot. After the commit the write-ahead log is emptied; the database
zeroes what it deletes (`secure_delete`), so nothing lingers in the file.

What stays: their Telegram id in the records (acknowledgements, assignments, timeline events),
shown as an anonymous label such as `anon-3fa2c1`; their roles and memberships; what they wrote
in a report's description or a broadcast; messages that merely mentioned them by name in passing
(a reminder in a group).
"""

from __future__ import annotations

import html
import logging
from dataclasses import dataclass

from bot.services.conversations import Conversations, Ending
from bot.services.incidents import IncidentService
from bot.store import Store
from models.clock import Clock
from models.outbox import OutgoingMessage, Priority, SendMethod
from models.refs import erased_ref
from models.users import anonymous_label, naming_words

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Erased:
    incidents: int  # incidents shown again without their data
    rows: int  # outbox rows whose text was scrubbed
    messages: int  # their own messages deleted from their chat


class Erasure:
    def __init__(
        self,
        store: Store,
        clock: Clock,
        incidents: IncidentService,
        conversations: Conversations,
    ) -> None:
        self.store = store
        self.clock = clock
        self.incidents = incidents
        self.conversations = conversations

    async def forget(self, user_id: int) -> Erased:
        """Erase what the bot keeps about the person, everywhere it keeps it."""
        now = self.clock.now()
        label = anonymous_label(user_id)
        # On the database thread: it reads and rewrites every message that named the person.
        async with self.store.transaction(on_thread=True) as tx:
            person = await tx.person(user_id)
            trace = await tx.trace_of(user_id)
            words = set(trace.phones)
            if person is not None:
                named = naming_words(person)
                words |= named | {html.escape(word, quote=False) for word in named}
            # What they said and sent as a reporter after their report goes too.
            touched = await tx.scrub_info_of(user_id)
            incident_ids = sorted(set(trace.incident_ids) | set(touched))
            await tx.forget_person(user_id, now)
            await self.conversations.end_in(tx, user_id, Ending.ERASED, now)
            await tx.anonymize_broadcasts(user_id, label)
            await tx.scrub_event_details(incident_ids, sorted(words), label)
            for incident_id in incident_ids:
                await self.incidents.refresh(tx, incident_id, now, erasing=True)
            refs = [post.ref for i in incident_ids for post in await tx.posts(i)]
            rows = await tx.scrub_outbox(user_id, refs, sorted(words))
            for chat_id, message_id in trace.personal_messages:
                ref = erased_ref(chat_id, message_id)
                await tx.name_message(ref, chat_id, message_id, now)
                await tx.enqueue(
                    OutgoingMessage(
                        chat_id, SendMethod.DELETE_MESSAGE, {}, Priority.NOTICE, target_ref=ref
                    ),
                    now,
                )
            await tx.forget_personal_messages(user_id)
        await self.store.purge_wal()
        log.info(
            "erased user %s: %d incidents shown again, %d outbox rows scrubbed",
            user_id,
            len(incident_ids),
            rows,
        )
        return Erased(len(incident_ids), rows, len(trace.personal_messages))
