"""Routing rules: which agencies each incident type goes to."""

from __future__ import annotations

from dataclasses import dataclass

from bot.i18n import N_
from bot.store import Store
from models.agencies import Agency, AgencyKind
from models.incident_types import IncidentType


@dataclass(frozen=True, slots=True)
class RoutingTable:
    routes: dict[IncidentType, list[str]]  # agency codes per type
    agencies: dict[str, Agency]  # registered, active agencies by code

    def registered(self, code: str) -> bool:
        return code in self.agencies


class RouteError(Exception):
    """A /rute argument is wrong; `valid` lists what would have been accepted."""

    def __init__(self, key: str, wrong: str, valid: list[str]) -> None:
        super().__init__(wrong)
        self.key = key
        self.wrong = wrong
        self.valid = valid


CLEAR_WORDS = frozenset({"-", "kosong", "none"})


class RoutingService:
    """The routing rules, read and changed in the store."""

    def __init__(self, store: Store) -> None:
        self.store = store

    async def table(self) -> RoutingTable:
        """Every incident type's agencies, with the registered agencies they may name."""
        async with self.store.read() as tx:
            routes = await tx.routes()
            agencies = await tx.active_agencies()
        return RoutingTable(routes, {a.code: a for a in agencies if a.kind is AgencyKind.AGENCY})

    async def set_route(self, kind_text: str, codes_text: str) -> tuple[IncidentType, list[str]]:
        """Replace the agencies of one incident type; raises RouteError naming the valid values."""
        kind = IncidentType.parse(kind_text)
        if kind is None:
            raise RouteError(N_("route.unknown_type"), kind_text, [k.value for k in IncidentType])
        async with self.store.transaction() as tx:
            registered = sorted(
                a.code for a in await tx.active_agencies() if a.kind is AgencyKind.AGENCY
            )
            if codes_text.strip().lower() in CLEAR_WORDS:
                codes: list[str] = []
            else:
                codes = []
                for part in codes_text.replace(" ", ",").split(","):
                    code = part.strip().lower()
                    if not code:
                        continue
                    if code not in registered:
                        raise RouteError(N_("route.unknown_code"), code, registered)
                    if code not in codes:
                        codes.append(code)
            await tx.set_route(kind, codes)
        return kind, codes
