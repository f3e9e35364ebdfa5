"""The playground: the real bot, the Telegram simulator and the demo city in one process, and a
small web page on 127.0.0.1 that shows the city's chats the way Telegram does and lets a person
act as anyone — type, share a place, a contact or a photo, press any button, add or remove a
member, make the bot an admin, block it, and move the clock on to see reminders fire.

Nothing leaves the machine: no token, no network. Everything the page does goes through the
simulator exactly as a Telegram client would, so the bot cannot tell the difference; every
action waits until the bot has handled it and sent what it had to (`bot.settle`)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import shutil
import sys
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from http import HTTPStatus
from importlib.resources import files
from pathlib import Path
from typing import Any

from aiohttp import web

from bot.app import build_application
from bot.demo import Script, scene_agencies, scene_first_contact
from bot.i18n import N_, t
from bot.runtime.logs import configure_logging
from bot.runtime.running import running
from bot.settings import LANGUAGES, Language, load_settings
from bot.simulator import SimMessage, SimUser, TelegramSimulator
from models.clock import ManualClock

log = logging.getLogger(__name__)

STATIC = Path(str(files("bot.playground") / "static"))
BOARD_STATIC = Path(str(files("bot.web") / "static"))
PLAY_PORT = 8113
STEPS_MINUTES = (1, 5, 15)
SAMPLE_PHOTO = "sample.png"

WORDS = (
    N_("play.title"),
    N_("play.offline"),
    N_("play.you_are"),
    N_("play.chats"),
    N_("play.clock"),
    N_("play.advance"),
    N_("play.send"),
    N_("play.placeholder"),
    N_("play.location"),
    N_("play.contact"),
    N_("play.photo"),
    N_("play.photo_caption"),
    N_("play.latitude"),
    N_("play.longitude"),
    N_("play.map_hint"),
    N_("play.send_location"),
    N_("play.members"),
    N_("play.add_member"),
    N_("play.remove_member"),
    N_("play.bot_admin"),
    N_("play.bot_not_admin"),
    N_("play.block"),
    N_("play.unblock"),
    N_("play.edited"),
    N_("play.pinned"),
    N_("play.private_with"),
    N_("play.bot_name"),
    N_("play.empty_chat"),
    N_("play.busy"),
    N_("play.language_name"),
)


async def build_city(script: Script) -> None:
    """The demo's city: agencies with their groups and members, the coordinators' group, the
    112 room, a dispatcher and a resident — made through the real bot, as the demo does."""
    await scene_first_contact(script)
    await scene_agencies(script)
    admin = script.person("Yusuf")
    dita = script.person("Dita", language_code="id")
    await script.says(dita, "/start")
    await script.says(admin, "/peran beri dispatcher @" + script.username_of("Dita"))
    room = script.groups["operator"]
    script.sim.add_member(room, dita, by=admin)
    ani = script.person("Ani", last_name="Warga", language_code="id")
    await script.says(ani, "/start")
    await script.settler.settle()


class Playground:
    """The page and its small JSON API over one simulator."""

    def __init__(self, script: Script, clock: ManualClock, language: Language) -> None:
        self.script = script  # the city: its people and groups, acting through the simulator
        self.sim = script.sim
        self.clock = clock
        self.language = language
        self._lock = asyncio.Lock()  # one action at a time, each settled before the next

    def application(self) -> web.Application:
        server = web.Application(client_max_size=64 * 1024)
        server.router.add_get("/", self.page)
        server.router.add_static("/static", STATIC, follow_symlinks=False)
        server.router.add_static(
            "/vendor/leaflet", BOARD_STATIC / "vendor" / "leaflet", follow_symlinks=False
        )
        server.router.add_get("/shared/dom.js", self.shared)
        server.router.add_get("/api/world", self.world)
        server.router.add_get("/api/chat/{chat:-?[0-9]+}", self.chat)
        server.router.add_post("/api/act", self.act)
        return server

    # --- the page ---

    async def page(self, request: web.Request) -> web.Response:
        asked = request.query.get("lang")
        language: Language = next((c for c in LANGUAGES if c == asked), self.language)
        other = next(code for code in LANGUAGES if code != language)
        labels = {key.removeprefix("play."): t(language, key) for key in WORDS}
        config = {
            "lang": language,
            "other_lang": other,
            "other_language_label": t(other, "play.language_name"),
            "labels": labels,
            "steps": list(STEPS_MINUTES),
            "center": [-2.2136, 113.9108],
        }
        page = (STATIC / "play.html").read_text(encoding="utf-8")
        text = json.dumps(config, ensure_ascii=False).replace("<", "\\u003c")
        page = page.replace("__CONFIG__", text).replace("__LANG__", language)
        page = page.replace("__TITLE__", labels["title"])
        return web.Response(
            text=page,
            content_type="text/html",
            headers={
                "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; "
                "style-src 'self' 'unsafe-inline'; script-src 'self'; base-uri 'none'",
                "Cache-Control": "no-store",
            },
        )

    async def shared(self, request: web.Request) -> web.FileResponse:
        """The DOM helpers the board's page uses too."""
        return web.FileResponse(BOARD_STATIC / "dom.js")

    # --- what the page reads ---

    def _person(self, user: SimUser) -> dict[str, Any]:
        sim = self.sim
        chats = [sim.private_chat(user)] + [
            c for c in sim.chats() if c.is_group and user.id in c.member_ids
        ]
        return {
            "id": user.id,
            "name": user.display_name,
            "username": user.username,
            "language": user.language_code,
            "blocked": user.blocked,
            "chats": [c.id for c in chats],
        }

    async def world(self, request: web.Request) -> web.Response:
        sim = self.sim
        people = [self._person(u) for u in sim.users()]
        chats = [
            {
                "id": c.id,
                "title": c.title if c.is_group else None,
                "type": c.type,
                "members": [m for m in c.member_ids],
                "bot_admin": c.bot_status == "administrator" if c.is_group else None,
                "private_of": c.user_id,
            }
            for c in sim.chats()
        ]
        return web.json_response(
            {
                "version": len(sim.events),
                "clock": self.clock.now().isoformat(),
                "people": people,
                "chats": chats,
            }
        )

    async def chat(self, request: web.Request) -> web.Response:
        sim = self.sim
        try:
            chat = sim.chat(int(request.match_info["chat"]))
        except (KeyError, ValueError):
            return _bad("no such chat")
        pinned = set(chat.pinned_ids)
        messages = [self._message(m, pinned) for m in sim.messages(chat) if not m.deleted]
        return web.json_response(
            {
                "version": len(sim.events),
                "chat": chat.id,
                "reply_keyboard": _reply_keyboard(chat.reply_keyboard),
                "messages": messages,
            }
        )

    def _message(self, message: SimMessage, pinned: set[int]) -> dict[str, Any]:
        sender = None if message.from_bot or message.sender is None else message.sender
        inline = (message.reply_markup or {}).get("inline_keyboard") or []
        location = message.location or (message.venue or {}).get("location")
        return {
            "id": message.message_id,
            "from_bot": message.from_bot,
            "sender": sender.display_name if sender is not None else None,
            "html": message.html or message.caption_html,
            "text": message.text or message.caption,
            "photo": message.photo is not None,
            "document": (message.document or {}).get("file_name"),
            "location": location,
            "venue": (message.venue or {}).get("title"),
            "contact": (message.contact or {}).get("phone_number"),
            "service": _service_text(message),
            "edited": message.edit_date is not None,
            "pinned": message.message_id in pinned,
            "buttons": [
                [
                    {
                        "text": b.get("text", ""),
                        "press": "callback_data" in b,
                        "url": b.get("url") or (b.get("web_app") or {}).get("url"),
                    }
                    for b in row
                ]
                for row in inline
            ],
        }

    # --- what the page does ---

    async def act(self, request: web.Request) -> web.Response:
        try:
            body = await request.json()
        except ValueError:
            return _bad("the body is not JSON")
        if not isinstance(body, dict):
            return _bad("expected an object")
        async with self._lock:
            try:
                await self._do(body)
            except (KeyError, ValueError, TypeError) as exc:
                return _bad(str(exc) or type(exc).__name__)
            await self.script.settler.settle()
        return web.json_response({"ok": True, "version": len(self.sim.events)})

    async def _do(self, body: dict[str, Any]) -> None:
        sim, script = self.sim, self.script
        action = str(body.get("action"))
        if action == "clock":
            minutes = int(body["minutes"])
            if minutes not in STEPS_MINUTES:
                raise ValueError(f"the clock moves by {STEPS_MINUTES} minutes")
            for _ in range(minutes):  # minute by minute: each reminder fires when it is due
                await script.pass_time(timedelta(minutes=1))
            return
        user = sim.user(int(body["user"]))
        chat = sim.chat(int(body["chat"])) if "chat" in body else sim.private_chat(user)
        where = None if chat.type == "private" else chat
        if action == "text":
            text = str(body["text"])
            if not text.strip() or len(text) > 4096:
                raise ValueError("1 to 4096 characters")
            await sim.send_message(user, text, chat=where)
        elif action == "location":
            await sim.send_location(user, float(body["lat"]), float(body["lon"]), chat=where)
        elif action == "contact":
            await sim.send_contact(user, _phone_of(user), chat=where)
        elif action == "photo":
            data = (STATIC / SAMPLE_PHOTO).read_bytes()
            caption = str(body.get("caption") or "") or None
            await sim.send_photo(user, caption=caption, chat=where, data=data)
        elif action == "press":
            message = sim.find_message(chat.id, int(body["message"]))
            if message is None:
                raise ValueError("that message is gone")
            row, column = int(body["row"]), int(body["column"])
            button = (message.reply_markup or {})["inline_keyboard"][row][column]
            await sim.press_button(user, message, callback_data=button["callback_data"])
        elif action == "member":
            person = sim.user(int(body["person"]))
            if body.get("add"):
                sim.add_member(chat, person, by=user)
            else:
                sim.remove_member(chat, person, by=user)
        elif action == "bot_admin":
            sim.set_bot_admin(chat, bool(body.get("admin")), by=user)
        elif action == "block":
            if body.get("blocked"):
                sim.block_bot(user)
            else:
                sim.unblock_bot(user)
        else:
            raise ValueError(f"unknown action {action!r}")


def _bad(message: str) -> web.Response:
    return web.json_response({"ok": False, "error": message}, status=HTTPStatus.BAD_REQUEST)


def _phone_of(user: SimUser) -> str:
    """A made-up Indonesian mobile number, the same for the same person."""
    return f"+62 812-5555-{user.id % 10000:04d}"


def _reply_keyboard(markup: dict[str, Any] | None) -> list[list[dict[str, Any]]]:
    rows = (markup or {}).get("keyboard") or []
    return [
        [
            {"text": b, "kind": "text"}
            if isinstance(b, str)
            else {
                "text": b.get("text", ""),
                "kind": "location"
                if b.get("request_location")
                else "contact"
                if b.get("request_contact")
                else "text",
            }
            for b in row
        ]
        for row in rows
    ]


def _service_text(message: SimMessage) -> str | None:
    service = message.service
    if not service:
        return None
    if "new_chat_members" in service:
        names = ", ".join(str(m.get("first_name", "?")) for m in service["new_chat_members"])
        return f"+ {names}"
    if "left_chat_member" in service:
        return f"− {service['left_chat_member'].get('first_name', '?')}"
    if "pinned_message" in service:
        return "📌"
    return next(iter(service))


@asynccontextmanager
async def playground(
    *, port: int = 0, keep: Path | None = None, language: Language = "id"
) -> AsyncIterator[tuple[str, Script]]:
    """The bot, the simulator and the city running, and the page's address (127.0.0.1)."""
    async with TelegramSimulator() as sim:
        workdir = Path(tempfile.mkdtemp(prefix="siaga112-play-"))
        try:
            script = Script(sim)
            admin = script.person("Yusuf", last_name="Admin112", language_code="id")
            database = (keep or workdir) / "siaga112-play.db"
            settings = load_settings(
                _env_file=None,
                admin_user_ids=(admin.id,),
                telegram_bot_token=sim.token,
                telegram_api_base_url=sim.base_url,
                database_path=database,
                log_level="WARNING",
                outbox_pacing=False,
                web_port=0,
                map_tile_url="",  # no network: the board draws its plain grid
            )
            clock = ManualClock(datetime.now(UTC))
            script.clock = clock
            app = build_application(settings, clock=clock)
            script.app = app
            script.settler.attach(app)
            async with running(app, poll_timeout=1):
                await build_city(script)
                page = Playground(script, clock, language)
                runner = web.AppRunner(page.application(), access_log=None)
                await runner.setup()
                site = web.TCPSite(runner, "127.0.0.1", port)
                await site.start()
                try:
                    address = f"http://127.0.0.1:{runner.addresses[0][1]}"
                    yield address, script
                finally:
                    await runner.cleanup()
        finally:
            if keep is None:
                shutil.rmtree(workdir, ignore_errors=True)


async def run_playground(*, port: int, keep: Path | None, open_browser: bool) -> int:
    configure_logging("WARNING", [])
    if keep is not None:
        await asyncio.to_thread(keep.mkdir, parents=True, exist_ok=True)
    print("siaga112 playground: building the demo city through the real bot…", flush=True)
    async with playground(port=port, keep=keep) as (address, script):
        board = script.app.bot_data.web_address if script.app else None
        print(
            f"\nOpen {address} in a browser and act as anyone in the city.\n"
            f"The bot's web board runs at {board}/board.\n"
            "Only this machine can reach it (127.0.0.1); no token and no network are used.\n"
            + (f"The database stays in {keep}.\n" if keep else "")
            + "Press Ctrl+C to stop.",
            flush=True,
        )
        if open_browser:
            import webbrowser

            with contextlib.suppress(Exception):
                webbrowser.open(address)
        await asyncio.Event().wait()
    return 0


if __name__ == "__main__":  # python -m bot.playground.server
    with contextlib.suppress(KeyboardInterrupt):
        sys.exit(asyncio.run(run_playground(port=PLAY_PORT, keep=None, open_browser=False)))
