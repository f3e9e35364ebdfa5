"""Webhook mode: Telegram posts each update to our HTTP server instead of us polling for it.

The bot's own aiohttp server listens on `WEBHOOK_LISTEN:WEBHOOK_PORT` behind a reverse proxy
that terminates TLS. The no-loss rule of `bot.runtime.updates` carries over: Telegram counts an
update delivered only when it gets a 2xx answer, and `WebhookServer` answers 200 only after
`UpdateProcessor.handle` returned, that is after the update's effects and its "handled" record
were committed. A failure answers 500, so Telegram delivers the update again later; a delivery
of an update handled before is skipped by the processor.

The web server listens before Telegram is reached (`bot.runtime.running.started`), and Telegram
may still hold the webhook of the previous run, so a request can come before the application
can handle it: until `WebhookServer.open` (right before `setWebhook`) the answer is 503, which
Telegram also retries.

The webhook is deliberately left set when the bot stops: Telegram keeps queueing updates for it
while we restart. Going back to long polling therefore needs `deleteWebhook` first, which
`ensure_polling` does (Telegram answers 409 to getUpdates while a webhook is set).
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from http import HTTPStatus
from typing import Any

from aiohttp import web

from bot.context import App
from bot.runtime.logs import RedactSecrets
from bot.runtime.running import StoppedBeforeStart, started, stop_on_signals
from bot.runtime.systemd import Notifier
from bot.runtime.updates import ALLOWED_UPDATES, UpdateProcessor
from bot.settings import ConfigError, Settings

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"  # noqa: S105 - a header name, not a secret
MAX_BODY_BYTES = 1024 * 1024  # Telegram's updates are a few KB; anything near this is not one
# One connection: Telegram then sends the next update only after we answered the previous one,
# so updates arrive in order, as with polling (the lock below is the guard, this the intent).
MAX_CONNECTIONS = 1
SHUTDOWN_GRACE_SECONDS = 10.0  # the update in hand may finish; after that Telegram resends it
# The separate webhook server's address when WEBHOOK_LISTEN or WEBHOOK_PORT is left out beside
# the other (deprecated: webhook mode answers on the web server).
LEGACY_LISTEN, LEGACY_PORT = "127.0.0.1", 8443


class WebhookServer:
    """An aiohttp server that hands Telegram's webhook requests to the update processor."""

    def __init__(
        self,
        processor: UpdateProcessor,
        *,
        secret_token: str,
        listen: str,
        port: int,
        path: str,
    ) -> None:
        self.processor = processor
        self.listen = listen
        self.path = path
        self._secret = secret_token.encode()
        self._requested_port = port
        self._port: int | None = None
        self._runner: web.AppRunner | None = None
        self._shared = False  # answering on the web server rather than a server of its own
        self._open = False  # handing updates to the application (see `open`)
        # One update at a time, as the poller does: keeps the order and the store's
        # single-writer assumption, and makes "already handled?" and "record" one step.
        self._lock = asyncio.Lock()

    @property
    def port(self) -> int:
        """The port actually listened on (the one the OS chose when the setting was 0)."""
        if self._port is None:
            raise RuntimeError("the webhook server is not running")
        return self._port

    @property
    def local_url(self) -> str:
        """Where the server answers, as the reverse proxy should reach it."""
        return f"http://{self.listen}:{self.port}{self.path}"

    async def start(self) -> None:
        app = web.Application(client_max_size=MAX_BODY_BYTES)
        app.router.add_route("*", self.path, self.handle)
        runner = web.AppRunner(
            app, access_log=None, handle_signals=False, shutdown_timeout=SHUTDOWN_GRACE_SECONDS
        )
        await runner.setup()
        try:
            site = web.TCPSite(runner, self.listen, self._requested_port)
            await site.start()
        except OSError as exc:
            await runner.cleanup()
            raise ConfigError(
                f"The webhook server cannot listen on {self.listen}:{self._requested_port} "
                f"({exc.strerror or exc}). Choose a free WEBHOOK_PORT or another WEBHOOK_LISTEN "
                "address in the .env file (see .env.example), or stop what uses it."
            ) from None
        self._runner = runner
        self._port = int(runner.addresses[0][1])
        log.info("webhook server listening on %s", self.local_url)

    @property
    def listening(self) -> bool:
        return self._runner is not None or self._shared

    @property
    def accepting(self) -> bool:
        """Listening, and handing updates to the application."""
        return self.listening and self._open

    def open(self) -> None:
        """The application is started: hand it the updates (503 until then)."""
        self._open = True

    async def close(self) -> None:
        """503 from now on, once the update in hand is finished (within the grace period)."""
        self._open = False
        with suppress(TimeoutError):
            async with asyncio.timeout(SHUTDOWN_GRACE_SECONDS), self._lock:
                pass

    def served_on(self, host: str, port: int) -> None:
        """Its requests come through the web server (`bot.web.server`) at this address."""
        self.listen, self._port, self._shared = host, port, True

    async def stop(self) -> None:
        """Stop accepting requests; the one being handled may finish within the grace period."""
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.cleanup()

    async def handle(self, request: web.Request) -> web.Response:
        # The secret first: whoever does not know it learns nothing, not even the method.
        given = request.headers.get(SECRET_HEADER, "").encode()
        if not hmac.compare_digest(given, self._secret):
            log.warning(
                "refused a webhook request without the right secret from %s", request.remote
            )
            return web.Response(status=HTTPStatus.FORBIDDEN)
        if not self._open:
            return self._not_yet()
        if request.method != "POST":
            return web.Response(status=HTTPStatus.METHOD_NOT_ALLOWED, headers={"Allow": "POST"})
        if request.content_length is not None and request.content_length > MAX_BODY_BYTES:
            log.warning("refused a webhook body of %d bytes", request.content_length)
            return web.Response(status=HTTPStatus.REQUEST_ENTITY_TOO_LARGE)
        try:
            body = await request.read()
        except web.HTTPRequestEntityTooLarge:  # a chunked body that grew too big
            log.warning("refused a webhook body larger than %d bytes", MAX_BODY_BYTES)
            return web.Response(status=HTTPStatus.REQUEST_ENTITY_TOO_LARGE)
        data = _json_object(body)
        if data is None:
            # Not something Telegram sends; the body itself may hold personal data, so only
            # its size goes to the log.
            log.warning("refused a webhook body of %d bytes that is not a JSON object", len(body))
            return web.Response(status=HTTPStatus.BAD_REQUEST)
        async with self._lock:
            if not self._open:  # closed while this one waited for the one before
                return self._not_yet()
            try:
                await self.processor.handle(data)
            except Exception:
                # Handler errors never get here (PTB gives them to the error handler); this is
                # the store or the record failing. Not 2xx: Telegram delivers the update again.
                log.exception(
                    "update %s could not be handled; Telegram will retry", data.get("update_id")
                )
                return web.Response(status=HTTPStatus.INTERNAL_SERVER_ERROR)
        return web.Response(status=HTTPStatus.OK)

    def _not_yet(self) -> web.Response:
        # Not 2xx: Telegram keeps the update and delivers it again later.
        log.info("a webhook request came while the bot is not started; Telegram will retry")
        return web.Response(status=HTTPStatus.SERVICE_UNAVAILABLE)


def _json_object(body: bytes) -> dict[str, Any] | None:
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return None
    return data if isinstance(data, dict) else None


@asynccontextmanager
async def running_webhook(
    app: App,
    settings: Settings,
    stop: asyncio.Event | None = None,
    *,
    notifier: Notifier | None = None,
) -> AsyncIterator[WebhookServer]:
    """The bot receiving updates by webhook and delivering its outbox until the block ends.

    Mirrors `bot.runtime.running.running`, with the webhook server in place of the poller."""
    url, secret = settings.require_webhook()  # a configuration mistake stops us before any I/O
    server = WebhookServer(
        UpdateProcessor(app),
        secret_token=secret,
        listen=settings.webhook_listen or LEGACY_LISTEN,
        port=LEGACY_PORT if settings.webhook_port is None else settings.webhook_port,
        path=settings.webhook_path,
    )
    shared = not settings.separate_webhook_server
    if not shared and settings.web_enabled:
        log.warning(
            "WEBHOOK_LISTEN and WEBHOOK_PORT are deprecated: webhook mode now answers on the web "
            "server (WEB_HOST:WEB_PORT, at WEBHOOK_PATH). They keep a separate server for this "
            "release; remove them and point the proxy at the web server."
        )
    routes = [("*", settings.webhook_path, server.handle)] if shared else []
    async with started(app, stop, routes=routes, notifier=notifier):
        try:
            # Listen before telling Telegram: it starts delivering as soon as the webhook is set.
            if shared:
                port = app.bot_data.web_port
                if port is None:
                    raise ConfigError(
                        f"Webhook mode answers on the web server, which cannot listen on "
                        f"{settings.web_host}:{settings.web_port}. Choose a free WEB_PORT in the "
                        ".env file (see .env.example), or stop what uses it."
                    )
                server.served_on(settings.web_host, port)
            else:
                await server.start()
            server.open()
            await app.bot.set_webhook(
                url,
                secret_token=secret,
                allowed_updates=ALLOWED_UPDATES,  # the same as the poller asks for
                drop_pending_updates=False,  # what queued up while we were down is ours
                max_connections=MAX_CONNECTIONS,
            )
            log.info("webhook set; Telegram posts updates to %s", url)
            app.bot_data.updates_alive = lambda: server.accepting
            yield server
        finally:
            # The webhook stays set on purpose: Telegram queues updates until we are back.
            await server.close()
            await server.stop()


async def serve_webhook(app: App, settings: Settings, *, stop: asyncio.Event | None = None) -> None:
    """Run in webhook mode until SIGINT or SIGTERM, or until `stop` is set when given, telling
    systemd how it goes when it runs the bot."""
    # PTB logs request parameters at DEBUG, setWebhook's secret_token among them.
    redact = _redact_everywhere(settings)
    stop = stop or stop_on_signals()
    try:
        async with running_webhook(app, settings, stop, notifier=Notifier.from_environ(os.environ)):
            log.info("running in webhook mode; press Ctrl+C to stop")
            await stop.wait()
            log.info("stopping")
    except StoppedBeforeStart:
        log.info("stopped before Telegram could be reached")
    finally:
        for handler in logging.getLogger().handlers:
            handler.removeFilter(redact)


def _redact_everywhere(settings: Settings) -> RedactSecrets:
    secret = settings.webhook_secret_token
    redact = RedactSecrets([secret.get_secret_value()] if secret is not None else [])
    for handler in logging.getLogger().handlers:
        handler.addFilter(redact)
    return redact
