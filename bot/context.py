"""Typed shared state: what handlers reach through `context.services`."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeAlias

from telegram import User
from telegram.ext import Application, CallbackContext, ExtBot, JobQueue

from bot.i18n import pick_language
from bot.runtime.gate import GateArgs
from bot.runtime.message_records import MessageRecords
from bot.runtime.outbox import OutboxSender
from bot.runtime.scheduler import Scheduler
from bot.runtime.subscriptions import SubscriptionSender
from bot.services.access import AccessService
from bot.services.agencies import AgencyService
from bot.services.api import ApiService
from bot.services.board import BoardService
from bot.services.broadcasts import BroadcastService
from bot.services.changes import ChangeFeed
from bot.services.conversations import Conversations
from bot.services.digest import DigestService
from bot.services.drills import DrillService
from bot.services.erasure import Erasure
from bot.services.exports import ExportService
from bot.services.incidents import IncidentService
from bot.services.info import InfoService
from bot.services.membership import Membership
from bot.services.people import PeopleService
from bot.services.publisher import Publisher
from bot.services.reminders import ReminderService
from bot.services.retention import RetentionService
from bot.services.routing import RoutingService
from bot.services.web import WebAccess
from bot.settings import Language, Settings
from bot.store import Store
from models.clock import Clock


@dataclass(slots=True)
class Services:
    """Everything the handlers use, built once by the composition root."""

    settings: Settings
    store: Store
    outbox: OutboxSender
    clock: Clock
    incidents: IncidentService
    info: InfoService
    drills: DrillService
    publisher: Publisher
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
    conversations: Conversations
    scheduler: Scheduler
    web: WebAccess
    changes: ChangeFeed
    board: BoardService
    api: ApiService
    exports: ExportService
    retention: RetentionService
    subscriptions: SubscriptionSender

    def language_of(self, user: User | None) -> Language:
        code = user.language_code if user is not None else None
        return pick_language(code, self.settings.default_language)


# handlers.presses: (Press, payload) → None, and (Press, payload) → the answer to a stale press.
PressHandler: TypeAlias = Callable[[Any, Any], Awaitable[None]]
Explainer: TypeAlias = Callable[[Any, Any], Awaitable[str | None]]
ANSWERS_REMEMBERED = 1000


class BotData:
    """The application's `bot_data`: holds the services the composition root built (opened
    when the bot starts, `bot.runtime.running.started`)."""

    def __init__(self) -> None:
        self._services: Services | None = None
        # Whether updates still arrive (the poller's or the webhook server's task alive): set
        # by whichever runs (bot.runtime), read by the health check (bot.web).
        self.updates_alive: Callable[[], bool] = lambda: False
        self.web_address: str | None = None  # http://host:port the web server listens on
        self.web_port: int | None = None
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

    def attach(self, services: Services) -> None:
        self._services = services

    @property
    def services(self) -> Services:
        if self._services is None:
            raise RuntimeError("services are not attached yet (build_application attaches them)")
        return self._services


class AppContext(CallbackContext[ExtBot[GateArgs], dict[Any, Any], dict[Any, Any], BotData]):
    """The callback context of every handler and job."""

    @property
    def services(self) -> Services:
        return self.bot_data.services


App: TypeAlias = Application[
    ExtBot[GateArgs], AppContext, dict[Any, Any], dict[Any, Any], BotData, JobQueue[AppContext]
]
