"""One aiohttp server in the bot's process, on its event loop, started and stopped with the
application (`bot.runtime.running.started`).

`GET /healthz` is liveness only: the process answers, the database takes a write, the event
loop keeps time, the update loop (polling or webhook) and the outbox sender run. 200 with
`{"status": "ok", "checks": {…}}`; 503 with `"status": "fail"` and the failing checks. How far
behind the work is (the oldest unacknowledged call, the outbox backlog) is not health: it is
for metrics.

A server that cannot listen (its port taken) is logged as an error and the bot runs on
without it: reports, cards and reminders matter more than a health page.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from functools import partial
from http import HTTPStatus

from aiohttp import web

from bot.context import App
from bot.services.changes import Change, Subject
from bot.services.web import BOARD_PATH, LINK_PATH, SESSION_COOKIE, Viewer
from bot.settings import LANGUAGES, Language
from bot.web.api import Api
from bot.web.board import broadcasts_json, detail_json, open_json
from bot.web.cap_feed import CapFeed
from bot.web.metrics import metrics
from bot.web.page import STATIC, content_security_policy, page_html

log = logging.getLogger(__name__)

# (method, path, handler): a route another part adds (webhook mode's path).
Route = tuple[str, str, Callable[[web.Request], Awaitable[web.StreamResponse]]]

HEARTBEAT_SECONDS = 1.0
LOOP_LAG_LIMIT = 2.0  # seconds an event-loop tick may come late before the loop is unwell
DATABASE_CHECK_TIMEOUT = 2.0
INIT_DATA_MAX = 8192  # bytes of a Mini App's initData read (Telegram's are about 1 KB)
KEEP_ALIVE = 15.0  # seconds between comments on a quiet stream (proxies close idle ones)
BOARD_HOME = BOARD_PATH  # the board page, where a sign-in lands
RETRY_MS = 3000  # how soon a browser reconnects a dropped event stream
LINK_REFUSED = (
    "Tautan masuk ini tidak berlaku lagi (sudah dipakai atau lewat 10 menit). "
    "Minta yang baru dengan /papan di Telegram.\n"
    "This sign-in link is no longer valid (used, or older than 10 minutes). "
    "Ask for a new one with /board in Telegram."
)


class WebServer:
    def __init__(self, app: App, *, host: str, port: int, routes: Sequence[Route] = ()) -> None:
        self.app = app
        self.routes = routes
        self.host = host
        self.requested_port = port
        self.port: int | None = None  # as bound (a requested 0 becomes a free port)
        self._runner: web.AppRunner | None = None
        self._heartbeat: asyncio.Task[None] | None = None
        self._lag = 0.0
        self._beat = time.monotonic()
        self._closing = asyncio.Event()

    async def start(self) -> bool:
        """Listen; False (logged) when the address cannot be had."""
        server = web.Application(middlewares=[_headers])
        server.router.add_get("/healthz", self.healthz)
        server.router.add_get("/metrics", partial(metrics, self.app))
        server.router.add_get(LINK_PATH, self.sign_in)
        server.router.add_post(LINK_PATH + "/telegram", self.sign_in_telegram)
        server.router.add_get(BOARD_HOME, self.board)
        server.router.add_static("/board/static", STATIC, follow_symlinks=False)
        server.router.add_get("/board/data/open", self.open_incidents)
        server.router.add_get("/board/data/incidents/{number:[0-9]{1,9}}", self.incident)
        server.router.add_get("/board/data/broadcasts", self.broadcasts)
        server.router.add_get("/board/events", self.events)
        own = [*Api(self.app).routes(), *CapFeed(self.app).routes()]
        for method, path, handler in [*own, *self.routes]:
            server.router.add_route(method, path, handler)
        # Streams still open when the bot stops are ended by `stop`; nothing waits for them.
        runner = web.AppRunner(server, access_log=None, shutdown_timeout=1.0)
        await runner.setup()
        site = web.TCPSite(runner, self.host, self.requested_port)
        try:
            await site.start()
        except OSError as exc:
            log.error(
                "web server cannot listen on %s:%s (%s); the bot runs on without it",
                self.host,
                self.requested_port,
                exc,
            )
            await runner.cleanup()
            return False
        self._runner = runner
        self.port = int(runner.addresses[0][1])
        self._heartbeat = asyncio.create_task(self._keep_time(), name="web-heartbeat")
        log.info("web server on http://%s:%s", self.host, self.port)
        return True

    async def stop(self) -> None:
        self._closing.set()  # open event streams end
        if self._heartbeat is not None:
            self._heartbeat.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._heartbeat
            self._heartbeat = None
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def _keep_time(self) -> None:
        """How late the event loop runs a timer: a blocked or flooded loop shows here."""
        while True:
            expected = time.monotonic() + HEARTBEAT_SECONDS
            await asyncio.sleep(HEARTBEAT_SECONDS)
            self._beat = time.monotonic()
            self._lag = max(0.0, self._beat - expected)

    async def checks(self) -> dict[str, bool]:
        services = self.app.bot_data.services
        try:
            async with asyncio.timeout(DATABASE_CHECK_TIMEOUT):
                writable = await services.store.writable()
        except Exception:  # any failure, a timeout too, is "not writable"
            log.exception("health: the database takes no write")
            writable = False
        since_beat = time.monotonic() - self._beat
        return {
            "database": writable,
            "event_loop": self._lag <= LOOP_LAG_LIMIT
            and since_beat <= HEARTBEAT_SECONDS + LOOP_LAG_LIMIT,
            "updates": self.app.bot_data.updates_alive(),
            "outbox": services.outbox.running,
        }

    async def healthz(self, request: web.Request) -> web.Response:
        checks = await self.checks()
        if all(checks.values()):
            return web.json_response({"status": "ok", "checks": checks})
        failing = {name: ok for name, ok in checks.items() if not ok}
        return web.json_response(
            {"status": "fail", "checks": failing}, status=HTTPStatus.SERVICE_UNAVAILABLE
        )

    # --- signing in, and the board's data ---

    async def sign_in(self, request: web.Request) -> web.Response:
        """A one-time link from `/papan`: a session cookie, then the board."""
        services = self.app.bot_data.services
        session = await services.web.sign_in(request.query.get("t", ""))
        if session is None:
            return web.Response(
                status=HTTPStatus.FORBIDDEN, text=LINK_REFUSED, content_type="text/plain"
            )
        response = web.Response(status=HTTPStatus.SEE_OTHER, headers={"Location": BOARD_HOME})
        self._set_session(response, session)
        return response

    async def sign_in_telegram(self, request: web.Request) -> web.Response:
        """Inside Telegram (a Mini App): the page posts `initData` as the body; a session
        cookie when Telegram's signature holds."""
        services = self.app.bot_data.services
        raw = await request.content.read(INIT_DATA_MAX)
        body = raw.decode("utf-8", errors="replace")  # odd bytes fail the signature, not us
        session = await services.web.sign_in_telegram(body)
        if session is None:
            return web.json_response({"error": "refused"}, status=HTTPStatus.FORBIDDEN)
        response = web.json_response({"ok": True, "next": BOARD_HOME})
        self._set_session(response, session, framed=True)
        return response

    def _set_session(
        self, response: web.StreamResponse, session: str, *, framed: bool = False
    ) -> None:
        """The session cookie: HttpOnly, SameSite=Lax, Secure on https. Inside Telegram's web
        client a Mini App is a frame of another site, where a Lax cookie is never sent: a
        session opened there over https is a partitioned SameSite=None cookie (kept for that
        frame only)."""
        secure = self.app.bot_data.services.settings.web_url.startswith("https://")
        if framed and secure:  # (Python's cookie morsels know no Partitioned before 3.14)
            response.headers.add(
                "Set-Cookie",
                f"{SESSION_COOKIE}={session}; Path=/; HttpOnly; Secure; SameSite=None; Partitioned",
            )
            return
        response.set_cookie(
            SESSION_COOKIE, session, httponly=True, samesite="Lax", secure=secure, path="/"
        )

    async def board(self, request: web.Request) -> web.Response:
        """The board page. It carries no data: without a session it says how to sign in (or,
        inside Telegram, signs in with the Mini App's launch data)."""
        services = self.app.bot_data.services
        viewer = await services.web.viewer(request.cookies.get(SESSION_COOKIE))
        language = self._language(request, viewer)
        page = page_html(
            services.settings,
            language,
            wall=request.query.get("wall") == "1",
            drill=request.query.get("drill") == "1",
        )
        return web.Response(
            text=page,
            content_type="text/html",
            headers={
                "Content-Security-Policy": content_security_policy(services.settings),
                "Cache-Control": "no-store",
            },
        )

    async def open_incidents(self, request: web.Request) -> web.Response:
        services = self.app.bot_data.services
        viewer = await services.web.viewer(request.cookies.get(SESSION_COOKIE))
        if viewer is None:
            return _unauthorized()
        board = await services.board.open(viewer.scope, drills=request.query.get("drill") == "1")
        return web.json_response(open_json(self._language(request, viewer), board))

    async def incident(self, request: web.Request) -> web.Response:
        services = self.app.bot_data.services
        viewer = await services.web.viewer(request.cookies.get(SESSION_COOKIE))
        if viewer is None:
            return _unauthorized()
        found = await services.board.detail(viewer, int(request.match_info["number"]))
        if found is None:  # not there, or not theirs to see
            return web.json_response({"error": "not_found"}, status=HTTPStatus.NOT_FOUND)
        view, events = found
        language = self._language(request, viewer)
        return web.json_response(detail_json(language, view, events, services.settings.zone))

    async def broadcasts(self, request: web.Request) -> web.Response:
        services = self.app.bot_data.services
        viewer = await services.web.viewer(request.cookies.get(SESSION_COOKIE))
        if viewer is None:
            return _unauthorized()
        found = await services.board.broadcasts(viewer.scope)
        language = self._language(request, viewer)
        return web.json_response(broadcasts_json(language, found, services.clock.now()))

    async def events(self, request: web.Request) -> web.StreamResponse:
        """Server-sent events: `incident` with its number for each change the person may see,
        numbered (`id:`); reconnecting with `Last-Event-ID` (or `?since=`) replays what was
        missed, or says `resync` when that is no longer kept. The stream ends when the session
        does (a role lost, an agency left) or the bot stops."""
        services = self.app.bot_data.services
        session = request.cookies.get(SESSION_COOKIE)
        viewer = await services.web.viewer(session)
        if viewer is None:
            return _unauthorized()
        feed = services.changes
        response = web.StreamResponse(
            headers={
                "Content-Type": "text/event-stream",
                "Cache-Control": "no-cache",
                "X-Accel-Buffering": "no",  # a reverse proxy passes each event on at once
            }
        )
        await response.prepare(request)
        queue = feed.subscribe()
        try:
            last = request.headers.get("Last-Event-ID") or request.query.get("since", "")
            missed = feed.replay(last) if last else []
            if missed is None:
                await _event(response, feed.event_id(feed.seq), "resync", {}, retry=RETRY_MS)
            else:
                # A fresh page is told where the stream stands; a reconnecting one keeps its id
                # until a replayed change moves it on.
                hello_id = None if last else feed.event_id(feed.seq)
                await _event(response, hello_id, "hello", {}, retry=RETRY_MS)
                for change in missed:
                    await self._tell(response, viewer, change)
            while not self._closing.is_set():
                news = await self._next(queue)
                viewer = await services.web.viewer(session)
                if viewer is None:
                    break  # signed out by the policy: no more news
                if news is None:
                    # A named event, so the page can tell a live stream from a silent dead one.
                    await _event(response, None, "ping", {})
                else:
                    await self._tell(response, viewer, news)
        except ConnectionResetError:
            pass  # the page went away
        finally:
            feed.unsubscribe(queue)
        return response

    async def _next(self, queue: asyncio.Queue[Change]) -> Change | None:
        """The next change, or None after `KEEP_ALIVE` seconds (or when the bot stops)."""
        getting = asyncio.ensure_future(queue.get())
        closing = asyncio.ensure_future(self._closing.wait())
        done, pending = await asyncio.wait(
            {getting, closing}, timeout=KEEP_ALIVE, return_when=asyncio.FIRST_COMPLETED
        )
        for task in pending:
            task.cancel()
        return getting.result() if getting in done else None

    def _language(self, request: web.Request, viewer: Viewer | None) -> Language:
        """The page's language: asked for (`?lang=`), else the viewer's Telegram language,
        else the bot's default."""
        asked = request.query.get("lang")
        for code in LANGUAGES:
            if asked == code:
                return code
        if viewer is not None:
            return viewer.language
        return self.app.bot_data.services.settings.default_language

    async def _tell(self, response: web.StreamResponse, viewer: Viewer, change: Change) -> None:
        """One change, as an event, if the person may see what changed (broadcasts: the page
        asks for its list, which only holds what they may see)."""
        board = self.app.bot_data.services.board
        if change.subject is Subject.INCIDENT and not await board.visible(viewer, change.number):
            return
        event_id = self.app.bot_data.services.changes.event_id(change.seq)
        await _event(response, event_id, change.subject.value, {"number": change.number})


async def _event(
    response: web.StreamResponse,
    event_id: str | None,
    name: str,
    data: dict[str, object],
    *,
    retry: int | None = None,
) -> None:
    head = "" if event_id is None else f"id: {event_id}\n"
    if retry is not None:
        head += f"retry: {retry}\n"  # how soon the browser reconnects a dropped stream
    await response.write(f"{head}event: {name}\ndata: {json.dumps(data)}\n\n".encode())


def _unauthorized() -> web.Response:
    return web.json_response({"error": "sign_in"}, status=HTTPStatus.UNAUTHORIZED)


@web.middleware
async def _headers(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    """Every answer: no type sniffing, and no address (a sign-in link's token) passed on as a
    referrer."""
    response = await handler(request)
    if response.prepared:
        return response  # an event stream: its headers went out with its first bytes
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "no-referrer")
    return response
