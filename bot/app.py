"""The composition root: builds the whole application from `Settings`.

Nothing is created at import time. `build_application` wires the PTB `Application` to the
configured Bot API server and attaches the services. `bot.runtime.running.started` opens the
local parts (store, scheduler, web server) before Telegram is reached; `post_init` then
publishes the command lists and starts the outbox sender; all stop in reverse.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import warnings
from collections.abc import Coroutine
from typing import Any

from telegram import BotCommand, BotCommandScopeAllGroupChats, BotCommandScopeAllPrivateChats
from telegram.constants import ParseMode
from telegram.error import TelegramError
from telegram.ext import ApplicationBuilder, ContextTypes, Defaults
from telegram.warnings import PTBDeprecationWarning, PTBUserWarning

import bot.flows  # noqa: F401 - registers the conversations the bot has
from bot.commands import telegram_command_list
from bot.context import App, AppContext, BotData, Services
from bot.hooks import Hooks
from bot.i18n import t
from bot.runtime.gate import ApiGate
from bot.runtime.http import AiohttpRequest
from bot.runtime.message_records import MessageRecords
from bot.runtime.outbox import OutboxSender
from bot.runtime.pacing import Pacer, PacingLimits
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
from bot.services.drills import SCENARIOS, DrillService
from bot.services.erasure import Erasure
from bot.services.exports import ExportService
from bot.services.incidents import IncidentService
from bot.services.info import InfoService
from bot.services.membership import Membership
from bot.services.people import PeopleService
from bot.services.publisher import Publisher
from bot.services.reachability import chat_refused
from bot.services.reminders import ReminderService
from bot.services.retention import RetentionService
from bot.services.routing import RoutingService
from bot.services.web import WebAccess
from bot.settings import LANGUAGES, Language, Settings
from bot.store import DrillMarker, Store
from handlers import (
    agencies,
    conversations,
    errors,
    fallback,
    membership,
    people,
    presses,
    privacy,
    roles,
    routing,
    start,
    stats,
)
from handlers import alerts as alert_handlers
from handlers import board as board_handlers
from handlers import (
    broadcasts as broadcast_handlers,
)
from handlers import drills as drill_handlers
from handlers import exports as export_handlers
from handlers import (
    incidents as incident_handlers,
)
from handlers import (
    info as info_handlers,
)
from models.clock import Clock, SystemClock
from models.drills import load_scenarios

log = logging.getLogger(__name__)


def build_application(settings: Settings, *, clock: Clock | None = None) -> App:
    """The bot, ready for `bot.runtime.running.serve`; resources open when it starts
    (`bot.runtime.running.started`)."""
    # The outbox calls Bot API methods by name (its rows name them); PTB would rather we used
    # its typed methods and warns about every such call.
    warnings.filterwarnings("ignore", message="Please use 'Bot.", category=PTBUserWarning)
    # PTB 22 announces that RetryAfter.retry_after becomes a timedelta; the outbox takes both.
    warnings.filterwarnings(
        "ignore", message=".*attribute `retry_after`", category=PTBDeprecationWarning
    )
    clock = clock or SystemClock()
    store = Store(settings.database_path, clock)
    messages = MessageRecords(store, clock)
    context_types = ContextTypes(context=AppContext, bot_data=BotData)
    pacer = _pacer(settings)
    app: App = (
        ApplicationBuilder()
        # Every Bot API call passes the gate: paced, and what it shows recorded for presses.
        .rate_limiter(ApiGate(pacer, messages.after_call))
        # PTB's requests, carried by aiohttp rather than httpx (bot.runtime.http: the cost).
        .request(AiohttpRequest())
        .get_updates_request(AiohttpRequest(connection_pool_size=1))
        .token(settings.require_token())  # type: ignore[assignment]  # PTB's builder types its JobQueue loosely
        .base_url(settings.bot_api_url)
        .base_file_url(settings.bot_file_url)
        .defaults(Defaults(tzinfo=settings.zone, parse_mode=ParseMode.HTML))
        .context_types(context_types)
        .concurrent_updates(False)
        .updater(None)  # bot.runtime.updates.Poller confirms updates only after handling them
        .post_init(_post_init)
        .post_shutdown(_post_shutdown)
        .build()
    )
    outbox = OutboxSender(
        store,
        app.bot,
        max_backoff=settings.outbox_max_backoff_seconds,
        poll_interval=settings.outbox_poll_seconds,
        pacer=pacer,
        concurrency=settings.outbox_concurrency,
        language=settings.default_language,
    )
    publisher = Publisher(store, clock, settings)
    incidents = IncidentService(store, clock, settings, publisher)
    broadcasts = BroadcastService(store, clock, settings)
    reminders = ReminderService(store, clock, settings, broadcasts)
    digest = DigestService(store, clock, settings)
    access = AccessService(store, settings)
    changes = ChangeFeed()  # the web board's live stream (bot.web)
    store.hooks.incidents_changed.append(changes.changed)
    store.hooks.broadcasts_changed.append(changes.broadcasts_changed)
    subscriptions = SubscriptionSender(store, clock)  # other systems' event subscriptions
    store.hooks.deliveries_written.append(subscriptions.wake)
    scenarios = load_scenarios(SCENARIOS)
    info = InfoService(store, clock, settings, publisher, incidents, scenarios)
    drills = DrillService(store, clock, settings, incidents, scenarios)
    store.drill_marker = DrillMarker(
        {language: t(language, "drill.marker") for language in LANGUAGES},
        settings.default_language,
    )
    conversations = Conversations(store, clock, settings)  # every flow registered (bot.flows)
    retention = RetentionService(store, clock, settings)
    assert app.job_queue is not None
    services = Services(
        settings=settings,
        store=store,
        outbox=outbox,
        clock=clock,
        incidents=incidents,
        info=info,
        drills=drills,
        publisher=publisher,
        reminders=reminders,
        digest=digest,
        people=PeopleService(store, clock, settings),
        broadcasts=broadcasts,
        messages=messages,
        membership=Membership(store, clock, app.bot),
        erasure=Erasure(store, clock, incidents, conversations),
        agencies=AgencyService(store, clock, settings, publisher),
        routing=RoutingService(store),
        access=access,
        conversations=conversations,
        scheduler=Scheduler(
            app.job_queue,
            store,
            clock,
            settings,
            reminders=reminders,
            conversations=conversations,
            broadcasts=broadcasts,
            digest=digest,
            info=info,
            drills=drills,
            retention=retention,
        ),
        web=WebAccess(store, clock, settings, access),
        board=BoardService(store, clock, settings, incidents),
        api=ApiService(store, clock, settings, incidents, info),
        exports=ExportService(store, clock, settings),
        retention=retention,
        subscriptions=subscriptions,
        changes=changes,
    )
    conversations.give(services)
    app.bot_data.attach(services)
    connect(store.hooks, services)
    register_handlers(app)
    return app


def connect(hooks: Hooks, services: Services) -> None:
    """Who listens to what (the lists are declared in `bot.hooks`). The outbox sender and the
    scheduler subscribe themselves: to written outbox rows and to scheduled reminders."""
    background: set[asyncio.Task[object]] = set()

    def beside(work: Coroutine[Any, Any, object]) -> None:
        task = asyncio.create_task(work)
        background.add(task)
        task.add_done_callback(background.discard)

    def refused(chat_id: int) -> None:
        # Told from inside the sender; each is its own transaction, so run them beside it.
        beside(chat_refused(services.store, services.clock, services.settings, chat_id))
        beside(services.info.reporter_refused(chat_id))

    hooks.chat_refused.append(refused)
    hooks.update_done.append(hooks.counters.update_done)
    hooks.row_settled.append(services.broadcasts.after_send)


def register_handlers(app: App) -> None:
    """Every handler of the bot, in the order PTB tries them."""
    people.register(app)  # group -10: remember whoever sent the update
    # Every button press: decoded, bound to its message, routed to the handler its family names
    # (the modules below add the routes). First, so a press is not checked against the ~50
    # command and message handlers, none of which takes one.
    presses.register(app)
    start.register(app)  # /start, /bantuan (/help)
    agencies.register(app)  # /daftar, /nonaktifkan, the bot added/removed, group migrations
    routing.register(app)  # /rute
    roles.register(app)  # /peran
    membership.register(app)  # /gabung, /keluar, /keluarkan, /siaga, /lepassiaga, /piket
    privacy.register(app)  # /saya, /lupakan
    stats.register(app)  # /statistik (/stats)
    incident_handlers.register(app)  # card, picker, task and manage buttons; /kejadian, /terbuka…
    broadcast_handlers.register(app)  # /riwayatsiaran, /cap and the sent broadcasts' buttons
    info_handlers.register(app)  # ❓ on cards, one-tap answers, /catatan and replies made notes
    alert_handlers.register(app)  # the buttons of on-duty members' private alerts
    drill_handlers.register(app)  # /latihan (/drill) and its buttons
    board_handlers.register(app)  # /papan (/board): a sign-in link to the web board
    export_handlers.register(app)  # /ekspor (/export): the evaluation meeting's workbook
    conversations.register(app)  # /lapor, /baru, /siaran…, /batal, every other private message
    fallback.register(app)  # unknown commands
    errors.register(app)  # the one error handler


async def _post_init(app: App) -> None:
    """The parts that talk to Telegram, once it answered. The store, the scheduler and the web
    server are up before Telegram is reached (`bot.runtime.running.local_parts`)."""
    services = app.bot_data.services
    await publish_commands(app)
    # What exists now (the modules, the application, the services: ~140,000 objects) lives as
    # long as the bot: the collector's full passes, each of which traversed all of it and held
    # the event loop ~80 ms, look only at what came since (`docs/benchmarks.md`, figure 1).
    gc.collect()
    gc.freeze()
    services.outbox.start()
    if services.settings.membership_check_at_start:
        services.membership.start_reconciling()
    log.info("siaga112 is up as @%s", app.bot.username)


async def _post_shutdown(app: App) -> None:
    gc.unfreeze()  # collectable again (a process that starts the bot anew, as the tests do)
    services = app.bot_data.services
    await services.membership.stop()
    await services.outbox.stop()


async def publish_commands(app: App) -> None:
    """Tell Telegram the command lists: Indonesian by default, English for English users."""
    default = app.bot_data.services.settings.default_language
    try:
        languages: tuple[Language, ...] = LANGUAGES
        for language in languages:
            for scope, private in (
                (BotCommandScopeAllPrivateChats(), True),
                (BotCommandScopeAllGroupChats(), False),
            ):
                commands = [
                    BotCommand(name, description)
                    for name, description in telegram_command_list(language, private=private)
                ]
                code = None if language == default else language
                await app.bot.set_my_commands(commands, scope=scope, language_code=code)
                if language == default:
                    await app.bot.set_my_commands(commands, scope=scope, language_code=language)
            code = None if language == default else language
            await app.bot.set_my_short_description(
                t(language, "bot.short_description"), language_code=code
            )
            await app.bot.set_my_description(t(language, "bot.description"), language_code=code)
    except TelegramError as exc:
        # The lists are a convenience; the bot works without them and retries at next start.
        log.warning("could not publish the command lists: %s", exc)


def _pacer(settings: Settings) -> Pacer | None:
    """The pacer under Telegram's limits, as configured; None when pacing is off."""
    if not settings.outbox_pacing:
        return None
    return Pacer(
        PacingLimits(
            chat_per_second=settings.outbox_chat_per_second,
            chat_burst=settings.outbox_chat_burst,
            group_per_minute=settings.outbox_group_per_minute,
            global_per_second=settings.outbox_global_per_second,
        )
    )
