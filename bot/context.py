"""Typed shared state: what handlers reach through `context.services`."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeAlias

from telegram import User
from telegram.ext import Application, CallbackContext, ExtBot, JobQueue

from bot.access import AccessService
from bot.agencies import AgencyService
from bot.broadcasts import BroadcastService
from bot.digest import DigestService
from bot.erasure import Erasure
from bot.gate import GateArgs
from bot.i18n import pick_language
from bot.incidents import IncidentService
from bot.membership import Membership
from bot.message_records import MessageRecords
from bot.outbox import OutboxSender
from bot.people import PeopleService
from bot.reminders import ReminderService
from bot.reporting import Reporting
from bot.routing import RoutingService
from bot.settings import Language, Settings
from bot.store import Store
from models.clock import Clock

if TYPE_CHECKING:
    from bot.scheduler import ReminderScheduler
    from handlers.presses import Press


@dataclass(slots=True)
class Services:
    """Everything the handlers use, built once by the composition root."""

    settings: Settings
    store: Store
    outbox: OutboxSender
    clock: Clock
    incidents: IncidentService
    reporting: Reporting
    reminders: ReminderService
    digest: DigestService
    people: PeopleService
    broadcasts: BroadcastService
    messages: MessageRecords
    membership: Membership
    erasure: Erasure
    agencies: AgencyService
    routing: RoutingService
    access: AccessService

    def language_of(self, user: User | None) -> Language:
        code = user.language_code if user is not None else None
        return pick_language(code, self.settings.default_language)


PressHandler: TypeAlias = "Callable[[Press, Any], Awaitable[None]]"
Explainer: TypeAlias = "Callable[[Press, Any], Awaitable[str | None]]"
ANSWERS_REMEMBERED = 1000


class BotData:
    """The application's `bot_data`: holds the services once `post_init` has opened them."""

    def __init__(self) -> None:
        self._services: Services | None = None
        self._scheduler: ReminderScheduler | None = None
        # Told the id of every update once it is handled (or found handled before).
        self.update_listeners: list[Callable[[int], None]] = []
        # Each family of buttons (bot.callbacks): the handler its presses go to, and what
        # explains a press of it on a message that no longer carries it (handlers.presses.route).
        self.press_routes: dict[type[Any], tuple[PressHandler, Explainer | None]] = {}
        # Callback queries answered already: Telegram refuses a second answer.
        self._answered: OrderedDict[str, None] = OrderedDict()

    def answered(self, query_id: str) -> None:
        self._answered[query_id] = None
        if len(self._answered) > ANSWERS_REMEMBERED:
            self._answered.popitem(last=False)

    def was_answered(self, query_id: str) -> bool:
        return query_id in self._answered

    def attach_scheduler(self, scheduler: ReminderScheduler) -> None:
        self._scheduler = scheduler

    @property
    def scheduler(self) -> ReminderScheduler:
        if self._scheduler is None:
            raise RuntimeError("the scheduler is not attached")
        return self._scheduler

    def attach(self, services: Services) -> None:
        self._services = services

    @property
    def services(self) -> Services:
        if self._services is None:
            raise RuntimeError("services are not attached yet (post_init has not run)")
        return self._services


class AppContext(CallbackContext[ExtBot[GateArgs], dict[Any, Any], dict[Any, Any], BotData]):
    """The callback context of every handler and job."""

    @property
    def services(self) -> Services:
        return self.bot_data.services


App: TypeAlias = Application[
    ExtBot[GateArgs], AppContext, dict[Any, Any], dict[Any, Any], BotData, JobQueue[AppContext]
]
