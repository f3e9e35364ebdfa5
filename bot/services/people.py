"""People: remembering who the bot meets, roles, membership and duty, and their own data.

Each `PeopleService` operation is one transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from telegram import User

from bot.settings import Settings
from bot.store import Store
from models.agencies import Agency, Member, Role
from models.clock import Clock
from models.reminders import EscalationReach
from models.users import Person


class RoleChange(StrEnum):
    GRANTED = "granted"
    REVOKED = "revoked"
    ALREADY = "already"  # held it already / did not hold it
    CONFIGURED_ADMIN = "configured_admin"  # admin from ADMIN_USER_IDS: not changeable in chat


@dataclass(frozen=True, slots=True)
class RoleHolder:
    name: str
    role: Role
    configured: bool  # from ADMIN_USER_IDS


@dataclass(frozen=True, slots=True)
class Roster:
    agency: Agency
    members: list[Member]


@dataclass(frozen=True, slots=True)
class SelfView:
    person: Person | None
    roles: frozenset[Role]
    rosters: list[Roster]


class PeopleService:
    """The people operations, bound to the store, the clock and the settings.

    It also keeps people's details current without a write for every update they send (`saw`):
    a person is written when first seen by this process, when their name, username or language
    changed, and otherwise at most every REFRESH (so `last_seen_at` stays roughly current)."""

    REFRESH = timedelta(minutes=10)
    REMEMBERED = 10_000  # people kept in memory; the oldest are forgotten first

    def __init__(self, store: Store, clock: Clock, settings: Settings) -> None:
        self.store = store
        self.clock = clock
        self.settings = settings
        # id → (details, when written, known to have opened a private chat with the bot)
        self._seen: dict[int, tuple[tuple[str | None, ...], datetime, bool]] = {}

    async def may_message(self, user_id: int) -> bool:
        """Whether the bot may write to the person (they pressed Start and did not block it)."""
        async with self.store.lookup() as tx:
            return await tx.may_message(user_id)

    async def remember(self, user: User, *, started: bool = False) -> None:
        """Record or refresh a Telegram user; `started` when they pressed Start in private."""
        async with self.store.transaction() as tx:
            await tx.record_person(
                user.id,
                first_name=user.first_name,
                last_name=user.last_name,
                username=user.username,
                language_code=user.language_code,
                now=self.clock.now(),
                started=started,
            )
            if started:
                # Whatever the bot could not deliver before they pressed Start (a task card)
                # goes now.
                await tx.requeue_refused(user.id, self.clock.now())
                await tx.mark_reachable(user.id)

    async def saw(self, user: User, *, in_private: bool = False) -> None:
        """Keep a person's details current, writing only when they changed or grew old.
        `in_private`: they wrote to the bot in private, so the bot may write to them (a chat
        with a bot exists only once its person opened it), as after Start."""
        details = (user.first_name, user.last_name, user.username, user.language_code)
        now = self.clock.now()
        known = self._seen.get(user.id)
        was_started = known is not None and known[2]
        started = in_private or was_started
        if (
            known is not None
            and known[0] == details
            and now - known[1] < self.REFRESH
            and started == was_started
        ):
            return
        await self.remember(user, started=started and not was_started)
        self._seen.pop(user.id, None)
        self._seen[user.id] = (details, now, started)
        if len(self._seen) > self.REMEMBERED:
            del self._seen[next(iter(self._seen))]

    def forget(self, user_id: int) -> None:
        """After /lupakan: the next update writes their details again, if they send one."""
        self._seen.pop(user_id, None)

    async def person(self, user_id: int) -> Person | None:
        """What the bot knows about a person; None for someone it never met."""
        async with self.store.read() as tx:
            return await tx.person(user_id)

    async def by_username(self, username: str) -> Person | None:
        """The person with this @username, if the bot has met them."""
        async with self.store.read() as tx:
            return await tx.person_by_username(username)

    async def change_role(
        self, *, user_id: int, role: Role, grant: bool, by_user: int
    ) -> RoleChange:
        """Grant or revoke a role; admins from ADMIN_USER_IDS stay admins."""
        if not grant and role is Role.ADMIN and user_id in self.settings.admin_user_ids:
            return RoleChange.CONFIGURED_ADMIN
        async with self.store.transaction() as tx:
            if grant:
                changed = await tx.grant_role(user_id, role, by_user, self.clock.now())
            else:
                changed = await tx.revoke_role(user_id, role)
        if not changed:
            return RoleChange.ALREADY
        return RoleChange.GRANTED if grant else RoleChange.REVOKED

    async def role_holders(self) -> list[RoleHolder]:
        """Who holds which role: the configured admins first, then the granted roles."""
        holders: list[RoleHolder] = []
        admin_ids = self.settings.admin_user_ids
        async with self.store.read() as tx:
            for user_id in admin_ids:
                person = await tx.person(user_id)
                name = person.display_name if person else f"#{user_id}"
                holders.append(RoleHolder(name, Role.ADMIN, configured=True))
            for person, role in await tx.role_holders():
                if role is Role.ADMIN and person.id in admin_ids:
                    continue
                holders.append(RoleHolder(person.display_name, role, configured=False))
        return holders

    async def escalation_reach(self, user_id: int) -> EscalationReach:
        """Where escalations reach this coordinator (both, unless they chose)."""
        async with self.store.read() as tx:
            chosen = await tx.escalation_reaches([user_id])
        return chosen.get(user_id, EscalationReach.BOTH)

    async def set_escalation_reach(self, user_id: int, reach: EscalationReach) -> None:
        async with self.store.transaction() as tx:
            await tx.set_escalation_reach(user_id, reach)

    async def join(self, agency: Agency, user_id: int) -> bool:
        """Make the person a member of the agency; False when they were one already."""
        async with self.store.transaction() as tx:
            return await tx.join(agency.id, user_id, self.clock.now())

    async def leave(self, agency: Agency, user_id: int) -> bool:
        """End the person's membership of the agency; False when they were no member."""
        async with self.store.transaction() as tx:
            return await tx.leave(agency.id, user_id)

    async def set_duty(
        self,
        *,
        user_id: int,
        agency: Agency | None,
        on_duty: bool,
        duration: timedelta | None,
    ) -> tuple[list[Agency], datetime | None]:
        """Set duty in one agency (from its chat) or in all of the person's agencies (from private).

        Returns the agencies changed and the automatic end of duty, if any.
        """
        now = self.clock.now()
        until = now + duration if on_duty and duration is not None else None
        async with self.store.transaction() as tx:
            agencies = [agency] if agency is not None else await tx.agencies_of(user_id)
            ids = frozenset(a.id for a in agencies)
            if ids:
                await tx.set_duty(ids, user_id, on_duty, until, now)
        return agencies, until

    async def rosters(self, agencies: list[Agency]) -> list[Roster]:
        """The members of each agency and their duty, as of now."""
        async with self.store.read() as tx:
            return [
                Roster(agency, await tx.members(agency.id, self.clock.now())) for agency in agencies
            ]

    async def self_view(self, user_id: int) -> SelfView:
        """What /saya shows a person: their data, roles, agencies and duty."""
        async with self.store.read() as tx:
            person = await tx.person(user_id)
            roles = set(await tx.roles_of(user_id))
            if user_id in self.settings.admin_user_ids:
                roles.add(Role.ADMIN)
            mine = []
            for agency in await tx.agencies_of(user_id):
                members = [
                    m for m in await tx.members(agency.id, self.clock.now()) if m.user_id == user_id
                ]
                mine.append(Roster(agency, members))
        return SelfView(person, frozenset(roles), mine)
