"""Who is acting and from where, read from the store, for the authorization policy."""

from __future__ import annotations

from dataclasses import dataclass

from bot.settings import Settings
from bot.store import Store
from models.access import Action, Actor, ChatKind, Decision, Place, Target, decide
from models.agencies import Agency, AgencyKind, Role


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


def _actor(
    settings: Settings, user_id: int, roles: frozenset[Role], agency_ids: frozenset[int]
) -> Actor:
    if user_id in settings.admin_user_ids:
        roles = roles | {Role.ADMIN}
    return Actor(user_id, roles, agency_ids)


_KINDS = {
    AgencyKind.AGENCY: ChatKind.AGENCY_GROUP,
    AgencyKind.COORDINATORS: ChatKind.COORDINATORS_GROUP,
    AgencyKind.OPERATORS: ChatKind.OPERATORS_GROUP,
}


def _place(agency: Agency | None) -> tuple[Place, Agency | None]:
    if agency is None:
        return Place(ChatKind.UNKNOWN_GROUP), None
    kind = _KINDS[agency.kind]
    return Place(kind, agency.id), agency


class AccessService:
    """Asks the policy (`models.access.decide`) with who and where as the store knows them."""

    def __init__(self, store: Store, settings: Settings) -> None:
        self.store = store
        self.settings = settings

    async def actor_and_place(
        self,
        *,
        user_id: int,
        chat_id: int,
        chat_type: str,
        thread_id: int | None,
    ) -> tuple[Actor, Place]:
        """Who is asking and from where, for showing them what they may do."""
        async with self.store.read() as tx:
            roles, agency_ids = await tx.roles_of(user_id), await tx.agency_ids_of(user_id)
            actor = _actor(self.settings, user_id, roles, agency_ids)
            if chat_type == "private":
                place = Place(ChatKind.PRIVATE)
            else:
                place, _agency = _place(await tx.agency_at(chat_id, thread_id))
        return actor, place

    async def check(
        self,
        *,
        user_id: int,
        chat_id: int,
        chat_type: str,
        thread_id: int | None,
        action: Action,
        target: Target | None = None,
    ) -> Checked:
        """The policy's answer for `user_id` doing `action` from this chat (and topic)."""
        private = chat_type == "private"
        # One query reads all the policy needs, so `lookup()` gives it a consistent view.
        async with self.store.lookup() as tx:
            standing = await tx.standing(user_id, None if private else chat_id, thread_id)
        actor = _actor(self.settings, user_id, standing.roles, standing.agency_ids)
        place, agency = (Place(ChatKind.PRIVATE), None) if private else _place(standing.agency_here)
        return Checked(decide(actor, action, place, target), actor, place, agency)
