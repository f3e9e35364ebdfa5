"""The HTTP API's operations, and its keys and event subscriptions as `siaga112 apikey` and
`siaga112 subscription` manage them.

A call the call centre sends goes through the same `IncidentService.submit_in` as `/baru`, so
cards, alerts, reminders and duplicate hints work unchanged; its `external_id` is recorded in
the same transaction, so the same id again (a retry, or two copies at once) files nothing new."""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from bot.services.incidents import IncidentService, NewIncident
from bot.services.info import Done, InfoService
from bot.settings import Settings
from bot.store import ApiKey, Delivery, Store, Subscription
from models.api import KEY_PREFIX, EventName, IncidentIn, Scope, hash_key
from models.clock import Clock
from models.incidents import IncidentView, Location, PhoneSource, Source, TimelineEvent
from models.info import InfoOutcome

log = logging.getLogger(__name__)

KEY_BYTES = 32
TOUCH_EVERY = timedelta(minutes=1)  # a key's "last used" is written at most this often
PAGE_MAX = 100


@dataclass(frozen=True, slots=True)
class Filed:
    number: int
    created: bool  # False: this key sent this external id before; nothing new was filed


@dataclass(frozen=True, slots=True)
class Detail:
    view: IncidentView
    events: list[TimelineEvent]
    external_id: str | None  # when the asking key filed it (then it sees the caller too)


class ApiService:
    def __init__(
        self,
        store: Store,
        clock: Clock,
        settings: Settings,
        incidents: IncidentService,
        info: InfoService,
    ) -> None:
        self.store = store
        self.clock = clock
        self.settings = settings
        self.incidents = incidents
        self.info = info
        self._touched: dict[int, datetime] = {}

    # --- requests ---

    async def key_for(self, key: str) -> ApiKey | None:
        """The active key `key` is, or None (unknown or revoked: asked every request)."""
        if not key.startswith(KEY_PREFIX):
            return None
        async with self.store.lookup() as tx:
            found = await tx.api_key_by_hash(hash_key(key))
        if found is not None:
            now = self.clock.now()
            last = self._touched.get(found.id)
            if last is None or now - last >= TOUCH_EVERY:
                self._touched[found.id] = now
                async with self.store.single_write() as tx:
                    await tx.touch_api_key(found.id, now)
        return found

    async def file(self, key: ApiKey, call: IncidentIn) -> Filed:
        location = call.location
        report = NewIncident(
            kind=call.type,
            location=Location(location.lat, location.lon, location.address),
            description=call.description,
            hurt=call.hurt.hurt,
            hurt_count=call.hurt_count,
            phone=call.caller.phone,
            phone_source=PhoneSource.CALL if call.caller.phone else None,
            source=Source.API,
            caller_name=call.caller.name,
            severity=call.severity.severity if call.severity is not None else None,
            via=key.name,
        )
        now = self.clock.now()
        async with self.store.transaction() as tx:
            earlier = await tx.api_incident(key.id, call.external_id)
            if earlier is not None:
                return Filed(earlier, created=False)
            submitted = await self.incidents.submit_in(tx, report)
            await tx.add_api_incident(key.id, call.external_id, submitted.incident_id, now)
        log.info("#%s filed over the API by %s", submitted.incident_id, key.name)
        return Filed(submitted.incident_id, created=True)

    async def detail(self, key: ApiKey, number: int) -> Detail | None:
        async with self.store.read() as tx:
            view = await tx.incident_view(number)
            if view is None or view.incident.drill_id is not None:
                return None
            events = await tx.events(number)
            origin = await tx.api_origin(number)
            residents = set(await tx.reporters_of(number))
        mine = origin is not None and origin[0] == key.id
        # Staff by name; the residents who reported it (or answered its questions) never: the
        # API shows personal data only of the calls the key itself filed.
        events = [replace(e, actor_name=None) if e.actor_id in residents else e for e in events]
        return Detail(view, events, origin[1] if mine and origin else None)

    async def page(
        self, *, open_only: bool | None, since: datetime | None, after: int, limit: int
    ) -> list[IncidentView]:
        async with self.store.read() as tx:
            numbers = await tx.incident_page(
                open_only=open_only, since=since, after=after, limit=min(limit, PAGE_MAX)
            )
            return [v for n in numbers if (v := await tx.incident_view(n)) is not None]

    async def note(self, key: ApiKey, number: int, text: str) -> Done:
        async with self.store.lookup() as tx:
            incident = await tx.incident(number)
        if incident is None or incident.drill_id is not None:
            return Done(InfoOutcome.NOT_FOUND)  # a drill's incident is not the API's
        return await self.info.note(number, None, None, text, via=key.name)


class ApiAdmin:
    """API keys and event subscriptions, as the `siaga112 apikey` and `siaga112 subscription`
    commands manage them (in their own process, against the bot's database)."""

    def __init__(self, store: Store, clock: Clock) -> None:
        self.store = store
        self.clock = clock

    # --- keys (`siaga112 apikey`) ---

    async def create_key(self, name: str, scope: Scope) -> str | None:
        """A new key, returned once (only its hash is kept); None when the name is taken."""
        key = KEY_PREFIX + secrets.token_urlsafe(KEY_BYTES)
        async with self.store.single_write() as tx:
            created = await tx.add_api_key(name, scope, hash_key(key), self.clock.now())
        return key if created is not None else None

    async def keys(self) -> list[ApiKey]:
        async with self.store.lookup() as tx:
            return await tx.api_keys()

    async def revoke(self, name: str) -> bool:
        async with self.store.single_write() as tx:
            return await tx.revoke_api_key(name, self.clock.now())

    # --- event subscriptions (`siaga112 subscription`) ---

    async def subscribe(self, url: str, events: list[EventName], secret: str) -> int:
        async with self.store.single_write() as tx:
            return await tx.add_subscription(url, events, secret, self.clock.now())

    async def subscriptions(self) -> list[Subscription]:
        async with self.store.lookup() as tx:
            return await tx.subscriptions()

    async def unsubscribe(self, subscription_id: int) -> bool:
        async with self.store.single_write() as tx:
            return await tx.remove_subscription(subscription_id, self.clock.now())

    async def delivery_log(self, limit: int, *, parked_only: bool = False) -> list[Delivery]:
        async with self.store.lookup() as tx:
            return await tx.delivery_log(limit, parked_only=parked_only)

    async def resend(self, delivery_id: int) -> bool:
        async with self.store.single_write() as tx:
            return await tx.resend_delivery(delivery_id, self.clock.now())
