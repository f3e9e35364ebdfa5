"""Agencies and their chats: registration, moving, deactivation, and what happens to chats.

Each `AgencyService` operation is one transaction. Messages to other people (an admin told that
the bot was removed from a group, an unregistered group told once what it is) go through the
outbox.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from bot.i18n import t
from bot.render.organisation import unknown_group_text
from bot.services.messages import text_message
from bot.services.publisher import ADMINISTRATOR, Publisher
from bot.settings import Settings
from bot.store import Store, Tx
from models.agencies import (
    COORDINATORS_ALIASES,
    COORDINATORS_CODE,
    OPERATORS_ALIASES,
    OPERATORS_CODE,
    Agency,
    AgencyKind,
)
from models.clock import Clock
from models.outbox import Priority


class Registration(StrEnum):
    REGISTERED = "registered"
    RENAMED = "renamed"
    MOVE_NEEDS_CONFIRMATION = "move_needs_confirmation"
    PLACE_TAKEN = "place_taken"  # this chat or topic is already another agency's


@dataclass(frozen=True, slots=True)
class RegistrationResult:
    outcome: Registration
    agency: Agency  # the agency registered, or the one in the way


def normalize_code(code: str) -> tuple[str, AgencyKind]:
    """The stored code and kind for a code typed in /daftar."""
    lowered = code.strip().lower()
    if lowered in COORDINATORS_ALIASES:
        return COORDINATORS_CODE, AgencyKind.COORDINATORS
    if lowered in OPERATORS_ALIASES:
        return OPERATORS_CODE, AgencyKind.OPERATORS
    return lowered, AgencyKind.AGENCY


class AgencyService:
    """The agency operations, bound to the store, the clock and the settings."""

    def __init__(
        self, store: Store, clock: Clock, settings: Settings, publisher: Publisher
    ) -> None:
        self.store = store
        self.clock = clock
        self.settings = settings
        self.publisher = publisher  # fills a newly registered operators' feed

    async def by_code(self, code: str) -> Agency | None:
        """The agency with this code (active or not); None when there is none."""
        async with self.store.read() as tx:
            return await tx.agency_by_code(code)

    async def active(self) -> list[Agency]:
        """Every active agency (and the coordinators), as the store orders them."""
        async with self.store.read() as tx:
            return await tx.active_agencies()

    async def register(
        self,
        *,
        code: str,
        name: str,
        chat_id: int,
        thread_id: int | None,
        by_user: int,
    ) -> RegistrationResult:
        """Register (or rename) agency `code` in this chat or topic, unless it lives elsewhere."""
        stored_code, kind = normalize_code(code)
        async with self.store.transaction() as tx:
            here = await tx.agency_at(chat_id, thread_id, exact=True)
            if here is not None and here.code != stored_code:
                return RegistrationResult(Registration.PLACE_TAKEN, here)
            existing = await tx.agency_by_code(stored_code)
            if existing is not None and existing.active and here is None:
                return RegistrationResult(Registration.MOVE_NEEDS_CONFIRMATION, existing)
            agency = await tx.save_agency(
                code=stored_code,
                name=name,
                kind=kind,
                chat_id=chat_id,
                thread_id=thread_id,
                by_user=by_user,
                now=self.clock.now(),
            )
            if here is None:
                await self._fill_feed(tx, agency)
        outcome = Registration.RENAMED if here is not None else Registration.REGISTERED
        return RegistrationResult(outcome, agency)

    async def move(
        self,
        *,
        agency_id: int,
        chat_id: int,
        thread_id: int | None,
        by_user: int,
    ) -> RegistrationResult | None:
        """Move a registration to this chat after the admin confirmed; None if it vanished."""
        async with self.store.transaction() as tx:
            agency = await tx.agency(agency_id)
            if agency is None:
                return None
            here = await tx.agency_at(chat_id, thread_id, exact=True)
            if here is not None and here.id != agency.id:
                return RegistrationResult(Registration.PLACE_TAKEN, here)
            if agency.active and (agency.chat_id, agency.thread_id) != (chat_id, thread_id):
                language = self.settings.default_language
                await tx.enqueue(
                    text_message(
                        agency.chat_id,
                        t(language, "agency.moved_away", code=agency.code),
                        thread_id=agency.thread_id,
                    ),
                    self.clock.now(),
                )
            moved = await tx.save_agency(
                code=agency.code,
                name=agency.name,
                kind=agency.kind,
                chat_id=chat_id,
                thread_id=thread_id,
                by_user=by_user,
                now=self.clock.now(),
            )
            await self._fill_feed(tx, moved)
        return RegistrationResult(Registration.REGISTERED, moved)

    async def _fill_feed(self, tx: Tx, agency: Agency) -> None:
        """A feed registered while incidents are open gets their cards, oldest first (a feed
        moved elsewhere keeps its cards where they are: only those it never had are posted)."""
        if not agency.is_operators:
            return
        now = self.clock.now()
        for incident_id in await tx.open_without_feed_card():
            view = await tx.incident_view(incident_id)
            if view is not None:
                await self.publisher.post_to_feed(tx, view, now)

    async def unregister(self, *, chat_id: int, thread_id: int | None) -> Agency | None:
        """Deactivate the agency registered exactly here; None when there is none."""
        async with self.store.transaction() as tx:
            agency = await tx.agency_at(chat_id, thread_id, exact=True)
            if agency is None:
                return None
            await tx.deactivate_agency(agency.id, self.clock.now())
        return agency

    async def bot_joined_group(
        self,
        *,
        chat_id: int,
        chat_type: str,
        title: str | None,
        status: str,
    ) -> None:
        """The bot was added or promoted: greet an unknown group once; mark agencies reachable."""
        async with self.store.transaction() as tx:
            now = self.clock.now()
            await tx.record_chat(chat_id, chat_type, title, status, now)
            await tx.mark_reachable(chat_id)
            if await tx.agencies_in_chat(chat_id):
                await tx.set_chat_reachable(chat_id, True, now)
                # What the agency missed while the bot was out of the group goes now.
                await tx.requeue_refused(chat_id, now)
                if status == ADMINISTRATOR:
                    # Promoted: what it could not pin is pinned now, and if it loses the right
                    # again, the group is told again.
                    await tx.forget_notices(chat_id)
                    await tx.requeue_pins(chat_id, now)
                return
            if await tx.mark_greeted(chat_id, now):
                text = await unknown_group_greeting(tx, self.settings)
                await tx.enqueue(text_message(chat_id, text), now)

    async def bot_left_group(
        self,
        *,
        chat_id: int,
        chat_type: str,
        title: str | None,
        status: str,
    ) -> list[Agency]:
        """The bot was removed: its agencies there are unreachable; admins are told in private."""
        async with self.store.transaction() as tx:
            now = self.clock.now()
            await tx.record_chat(chat_id, chat_type, title, status, now)
            lost = await tx.set_chat_reachable(chat_id, False, now)
            if lost:
                for admin_id in await tx.admins_to_notify(self.settings.admin_user_ids):
                    language = await tx.language_of(admin_id, self.settings.default_language)
                    names = ", ".join(f"{agency.name} ({agency.code})" for agency in lost)
                    text = t(
                        language, "agency.unreachable", agencies=names, chat=title or str(chat_id)
                    )
                    await tx.enqueue(text_message(admin_id, text, priority=Priority.URGENT), now)
        return lost

    async def group_migrated(self, *, old_chat_id: int, new_chat_id: int) -> None:
        """A group became a supergroup with a new id: agencies, chats and pending sends follow."""
        async with self.store.transaction() as tx:
            await tx.move_chat(old_chat_id, new_chat_id, self.clock.now())
            await tx.retarget_chat(old_chat_id, new_chat_id)


async def unknown_group_greeting(tx: Tx, settings: Settings) -> str:
    """What the bot tells a group nobody registered: who the admins are to ask."""
    admins = []
    for user_id in sorted(set(settings.admin_user_ids)):
        person = await tx.person(user_id)
        if person is not None:
            admins.append(person.display_name)
    for person, role in await tx.role_holders():
        if role.value == "admin" and person.display_name not in admins:
            admins.append(person.display_name)
    return unknown_group_text(settings.default_language, admins)
