"""The simulator's HTTP face: an aiohttp server answering like api.telegram.org.

`TelegramSimulator` is the class tests use: the world of `SimState` plus a real HTTP server on
127.0.0.1 (random port by default) at /bot<token>/<method> and /file/bot<token>/<file_path>,
faults, flood limits, and awaitable conditions for tests.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
import time
import traceback
from collections.abc import Callable
from http import HTTPStatus
from types import TracebackType
from typing import Any, TypeVar

from aiohttp import web
from multidict import MultiMapping

from bot.simulator.methods import BotApi, ConnectionDropped
from bot.simulator.models import ApiCall, ApiError, SimChat, SimMessage
from bot.simulator.params import Params, UploadedFile
from bot.simulator.state import DEFAULT_TOKEN, SimState

T = TypeVar("T")
log = logging.getLogger(__name__)

_METHOD_PATH = re.compile(r"/bot([^/]+)/([A-Za-z0-9_]+)/?")
_FILE_PATH = re.compile(r"/file/bot([^/]+)/(.+)")
_MAX_BODY = 60 * 1024 * 1024


class TelegramSimulator(SimState):
    """A local Telegram Bot API server plus the test API to act as people and observe chats."""

    def __init__(
        self,
        token: str = DEFAULT_TOKEN,
        bot_username: str = "siaga112_bot",
        bot_first_name: str = "Siaga 112",
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
        seed: int = 0,
    ) -> None:
        super().__init__(
            token, bot_username, bot_first_name, clock=clock, wall_clock=wall_clock, seed=seed
        )
        self.host = host
        self.port = port
        self.base_url = ""
        self._stopping = False
        self._stopped: asyncio.Event | None = None
        self._runner: web.AppRunner | None = None
        self._api = BotApi(self, stopping=lambda: self._stopping)

    # ---- lifecycle -------------------------------------------------------------------------------

    async def start(self) -> None:
        """Listen on host:port (0 = a free port) and set `base_url`."""
        if self._runner is not None:
            return
        self._stopping = False
        self._stopped = asyncio.Event()
        app = web.Application(client_max_size=_MAX_BODY)
        app.router.add_route("*", "/{tail:.*}", self._handle)
        runner = web.AppRunner(app, access_log=None, handle_signals=False, shutdown_timeout=1.0)
        await runner.setup()
        site = web.TCPSite(runner, self.host, self.port)
        await site.start()
        self._runner = runner
        self.port = int(runner.addresses[0][1])
        self.base_url = f"http://{self.host}:{self.port}"

    async def stop(self) -> None:
        """Release waiting long polls at once, then close the server."""
        self._stopping = True
        if self._stopped is not None:
            self._stopped.set()
        self.notify_changed()
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.cleanup()

    async def __aenter__(self) -> TelegramSimulator:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    @property
    def polls_waiting(self) -> int:
        """getUpdates requests currently held open by a long poll."""
        return self._api.polls_waiting

    @property
    def bot_base_url(self) -> str:
        """PTB's `base_url` for this simulator."""
        return f"{self.base_url}/bot"

    @property
    def bot_base_file_url(self) -> str:
        """PTB's `base_file_url` for this simulator."""
        return f"{self.base_url}/file/bot"

    # ---- waiting -------------------------------------------------------------------------------

    async def wait_for(
        self,
        predicate: Callable[[], T | None],
        timeout: float = 10.0,  # noqa: ASYNC109 - part of the test API; the loop enforces it
        what: str = "condition",
    ) -> T:
        """Await until predicate() is truthy (re-checked on every request and state change)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            result = predicate()
            if result:
                return result
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise AssertionError(f"timed out waiting for {what}")
            await self.wait_change(remaining)

    async def wait_for_bot_message(
        self,
        chat: SimChat,
        contains: str | None = None,
        timeout: float = 10.0,  # noqa: ASYNC109 - part of the test API
    ) -> SimMessage:
        """The oldest bot message in `chat` containing `contains` that this method has not yet
        returned for the chat, waiting for it if none exists yet. Successive calls therefore walk
        through the bot's messages in order."""
        returned = self._returned_bot_messages.setdefault(chat.id, set())

        def find() -> SimMessage | None:
            for msg in self.bot_messages(chat):
                if msg.message_id in returned:
                    continue
                if contains is None or contains in msg.visible_text:
                    return msg
            return None

        found = await self.wait_for(
            find,
            timeout,
            what=f"a bot message in {chat.title or chat.id} containing {contains!r}",
        )
        returned.add(found.message_id)
        return found

    # ---- HTTP ----------------------------------------------------------------------------------

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        self.stats.requests += 1
        file_match = _FILE_PATH.fullmatch(request.path)
        method_match = _METHOD_PATH.fullmatch(request.path)
        method = method_match.group(2) if method_match else request.path
        if self.faults.outage:
            return self._drop(request, method)
        if file_match is not None:
            return self._serve_file(file_match.group(1), file_match.group(2))
        if method_match is None:
            return self._answer(method, {}, ApiError(404, "Not Found"))
        if method_match.group(1) != self.token:
            return self._answer(method, {}, ApiError(401, "Unauthorized"))
        try:
            params = await _read_params(request)
        except (ValueError, UnicodeDecodeError):
            return self._answer(method, {}, ApiError(400, "Bad Request: can't parse request"))
        handler = self._api.handlers.get(method.lower())
        if handler is None:
            self.notes.append(f"unknown method {method}")
            return self._answer(method, params.decoded(), ApiError(404, "Not Found"))
        if self.faults.applies_to(method.lower()):
            if self.faults.latency > 0:
                await self._sleep_unless_stopping(self.faults.latency)
            if self.faults.outage:
                return self._drop(request, method)
            status = self.faults.pick_failure()
            if status is not None:
                return self._answer(method, params.decoded(), self._fault_error(status))
        try:
            result = await handler(params)
        except ApiError as err:
            return self._answer(method, params.decoded(), err)
        except ConnectionDropped:
            return self._drop(request, method)
        except Exception:
            # A simulator bug must not look like a network fault to the bot: answer 500, keep it.
            log.exception("simulator error in %s", method)
            self.stats.internal_errors += 1
            self.internal_errors.append(traceback.format_exc())
            return self._answer(method, params.decoded(), ApiError(500, "Internal Server Error"))
        return self._answer(method, params.decoded(), result=result)

    async def _sleep_unless_stopping(self, seconds: float) -> None:
        """Sleep like a slow server, but let stop() cut the sleep short."""
        if self._stopped is None:
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopped.wait(), seconds)

    def _answer(
        self,
        method: str,
        params: dict[str, Any],
        error: ApiError | None = None,
        *,
        result: Any = None,
    ) -> web.Response:
        if error is None:
            self.record_call(ApiCall(method, params, True, None, None, self.clock()))
            return web.json_response({"ok": True, "result": result})
        self.stats.errors_by_code[error.error_code] += 1
        if error.error_code == 429:
            self.stats.too_many_requests += 1
        self.record_call(
            ApiCall(method, params, False, error.error_code, error.description, self.clock())
        )
        return web.json_response(error.to_json(), status=error.error_code)

    def _drop(self, request: web.Request, method: str) -> web.Response:
        """Close the connection without an answer: the client sees a network error."""
        self.record_call(ApiCall(method, {}, False, None, "connection dropped", self.clock()))
        if request.transport is not None:
            request.transport.abort()
        return web.Response(status=503)

    def _fault_error(self, status: int) -> ApiError:
        if status == 429:
            retry_after = self.faults.retry_after
            return ApiError(
                429, f"Too Many Requests: retry after {retry_after}", {"retry_after": retry_after}
            )
        try:
            phrase = HTTPStatus(status).phrase
        except ValueError:
            phrase = "Error"
        return ApiError(status, phrase)

    def _serve_file(self, token: str, path: str) -> web.Response:
        if token != self.token:
            return web.json_response(ApiError(401, "Unauthorized").to_json(), status=401)
        stored = self.file_by_path(path)
        if stored is None:
            return web.json_response(ApiError(404, "Not Found").to_json(), status=404)
        return web.Response(body=stored.data, content_type="application/octet-stream")


async def _read_params(request: web.Request) -> Params:
    """Merge query-string and body parameters (form, multipart or JSON) into `Params`."""
    values: dict[str, Any] = dict(request.query)
    files: dict[str, UploadedFile] = {}
    if request.can_read_body:
        if request.content_type == "application/json":
            body = await request.json()
            if not isinstance(body, dict):
                raise ValueError("JSON body must be an object")
            values.update(body)
        elif request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
            form: MultiMapping[Any] = await request.post()
            for key, value in form.items():
                if isinstance(value, web.FileField):
                    files[key] = UploadedFile(
                        name=key,
                        filename=value.filename,
                        content_type=value.content_type,
                        data=value.file.read(),
                    )
                else:
                    values[key] = value if isinstance(value, str) else bytes(value).decode()
        else:
            text = await request.text()
            if text.strip().startswith("{"):
                values.update(json.loads(text))
    return Params(values, files)
