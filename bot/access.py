"""Who is acting and from where, read from the store, for the authorization policy."""

from __future__ import annotations

from dataclasses import dataclass

from bot.settings import Settings
from bot.store import Store, Tx
from models.access import Action, Actor, ChatKind, Decision, Place, Target, decide
from models.agencies import Agency, Role


@dataclass(frozen=True, slots=True)
class Checked:
    """The answer of the policy together with what it was asked about."""

    decision: Decision
    actor: Actor
    place: Place
    agency: Agency | None  # the agency whose chat the request came from

    @property
    def allowed(self) -> bool:
        return self.decision.allowed


async def actor_of(tx: Tx, settings: Settings, user_id: int) -> Actor:
    return _actor(settings, user_id, await tx.roles_of(user_id), await tx.agency_ids_of(user_id))


def _actor(
    settings: Settings, user_id: int, roles: frozenset[Role], agency_ids: frozenset[int]
) -> Actor:
    if user_id in settings.admin_user_ids:
        roles = roles | {Role.ADMIN}
    return Actor(user_id, roles, agency_ids)


async def place_of(
    tx: Tx, chat_id: int, chat_type: str, thread_id: int | None
) -> tuple[Place, Agency | None]:
    if chat_type == "private":
        return Place(ChatKind.PRIVATE), None
    return _place(await tx.agency_at(chat_id, thread_id))


def _place(agency: Agency | None) -> tuple[Place, Agency | None]:
    if agency is None:
        return Place(ChatKind.UNKNOWN_GROUP), None
    kind = ChatKind.COORDINATORS_GROUP if agency.is_coordinators else ChatKind.AGENCY_GROUP
    return Place(kind, agency.id), agency


async def actor_and_place(
    store: Store,
    settings: Settings,
    *,
    user_id: int,
    chat_id: int,
    chat_type: str,
    thread_id: int | None,
) -> tuple[Actor, Place]:
    """Who is asking and from where, for showing them what they may do."""
    async with store.read() as tx:
        actor = await actor_of(tx, settings, user_id)
        place, _agency = await place_of(tx, chat_id, chat_type, thread_id)
    return actor, place


async def check(
    tx: Tx,
    settings: Settings,
    *,
    user_id: int,
    chat_id: int,
    chat_type: str,
    thread_id: int | None,
    action: Action,
    target: Target | None = None,
) -> Checked:
    """The policy's answer, from one query (so `store.lookup()` gives it a consistent view)."""
    private = chat_type == "private"
    standing = await tx.standing(user_id, None if private else chat_id, thread_id)
    actor = _actor(settings, user_id, standing.roles, standing.agency_ids)
    place, agency = (Place(ChatKind.PRIVATE), None) if private else _place(standing.agency_here)
    return Checked(decide(actor, action, place, target), actor, place, agency)
