"""People: remembering who the bot meets, roles, membership and duty, and their own data."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from telegram import User

from bot.settings import Settings
from bot.store import Store
from models.agencies import Agency, Member, Role
from models.clock import Clock
from models.users import Person


async def remember_person(store: Store, clock: Clock, user: User, *, started: bool = False) -> None:
    """Record or refresh a Telegram user; `started` when they pressed Start in private."""
    async with store.transaction() as tx:
        await tx.record_person(
            user.id,
            first_name=user.first_name,
            last_name=user.last_name,
            username=user.username,
            language_code=user.language_code,
            now=clock.now(),
            started=started,
        )
        if started:
            # Whatever the bot could not deliver before they pressed Start (a task card) goes now.
            await tx.requeue_refused(user.id, clock.now())
            await tx.mark_reachable(user.id)


class PeopleRecorder:
    """Keeps people's details current without a write for every update they send.

    A person is written when first seen by this process, when their name, username or language
    changed, and otherwise at most every REFRESH (so `last_seen_at` stays roughly current)."""

    REFRESH = timedelta(minutes=10)
    REMEMBERED = 10_000  # people kept in memory; the oldest are forgotten first

    def __init__(self, store: Store, clock: Clock) -> None:
        self.store = store
        self.clock = clock
        self._seen: dict[int, tuple[tuple[str | None, ...], datetime]] = {}

    async def saw(self, user: User) -> None:
        details = (user.first_name, user.last_name, user.username, user.language_code)
        now = self.clock.now()
        known = self._seen.get(user.id)
        if known is not None and known[0] == details and now - known[1] < self.REFRESH:
            return
        await remember_person(self.store, self.clock, user)
        self._seen.pop(user.id, None)
        self._seen[user.id] = (details, now)
        if len(self._seen) > self.REMEMBERED:
            del self._seen[next(iter(self._seen))]

    def forget(self, user_id: int) -> None:
        """After /lupakan: the next update writes their details again, if they send one."""
        self._seen.pop(user_id, None)


class RoleChange(StrEnum):
    GRANTED = "granted"
    REVOKED = "revoked"
    ALREADY = "already"  # held it already / did not hold it
    CONFIGURED_ADMIN = "configured_admin"  # admin from ADMIN_USER_IDS: not changeable in chat


async def change_role(
    store: Store,
    clock: Clock,
    settings: Settings,
    *,
    user_id: int,
    role: Role,
    grant: bool,
    by_user: int,
) -> RoleChange:
    if not grant and role is Role.ADMIN and user_id in settings.admin_user_ids:
        return RoleChange.CONFIGURED_ADMIN
    async with store.transaction() as tx:
        if grant:
            changed = await tx.grant_role(user_id, role, by_user, clock.now())
        else:
            changed = await tx.revoke_role(user_id, role)
    if not changed:
        return RoleChange.ALREADY
    return RoleChange.GRANTED if grant else RoleChange.REVOKED


@dataclass(frozen=True, slots=True)
class RoleHolder:
    name: str
    role: Role
    configured: bool  # from ADMIN_USER_IDS


async def role_holders(store: Store, settings: Settings) -> list[RoleHolder]:
    holders: list[RoleHolder] = []
    async with store.read() as tx:
        for user_id in settings.admin_user_ids:
            person = await tx.person(user_id)
            name = person.display_name if person else f"#{user_id}"
            holders.append(RoleHolder(name, Role.ADMIN, configured=True))
        for person, role in await tx.role_holders():
            if role is Role.ADMIN and person.id in settings.admin_user_ids:
                continue
            holders.append(RoleHolder(person.display_name, role, configured=False))
    return holders


async def join_agency(store: Store, clock: Clock, agency: Agency, user_id: int) -> bool:
    async with store.transaction() as tx:
        return await tx.join(agency.id, user_id, clock.now())


async def leave_agency(store: Store, agency: Agency, user_id: int) -> bool:
    async with store.transaction() as tx:
        return await tx.leave(agency.id, user_id)


async def set_duty(
    store: Store,
    clock: Clock,
    *,
    user_id: int,
    agency: Agency | None,
    on_duty: bool,
    duration: timedelta | None,
) -> tuple[list[Agency], datetime | None]:
    """Set duty in one agency (from its chat) or in all of the person's agencies (from private).

    Returns the agencies changed and the automatic end of duty, if any.
    """
    now = clock.now()
    until = now + duration if on_duty and duration is not None else None
    async with store.transaction() as tx:
        agencies = [agency] if agency is not None else await tx.agencies_of(user_id)
        ids = frozenset(a.id for a in agencies)
        if ids:
            await tx.set_duty(ids, user_id, on_duty, until, now)
    return agencies, until


@dataclass(frozen=True, slots=True)
class Roster:
    agency: Agency
    members: list[Member]


async def rosters(store: Store, clock: Clock, agencies: list[Agency]) -> list[Roster]:
    async with store.read() as tx:
        return [Roster(agency, await tx.members(agency.id, clock.now())) for agency in agencies]


@dataclass(frozen=True, slots=True)
class SelfView:
    person: Person | None
    roles: frozenset[Role]
    rosters: list[Roster]


async def self_view(store: Store, clock: Clock, settings: Settings, user_id: int) -> SelfView:
    async with store.read() as tx:
        person = await tx.person(user_id)
        roles = set(await tx.roles_of(user_id))
        if user_id in settings.admin_user_ids:
            roles.add(Role.ADMIN)
        mine = []
        for agency in await tx.agencies_of(user_id):
            members = [m for m in await tx.members(agency.id, clock.now()) if m.user_id == user_id]
            mine.append(Roster(agency, members))
    return SelfView(person, frozenset(roles), mine)


async def find_person(store: Store, username: str) -> Person | None:
    async with store.read() as tx:
        return await tx.person_by_username(username)
