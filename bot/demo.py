"""`siaga112 demo`: the real bot against the built-in Telegram simulator, with a script.

It needs no token and no network. People act through the simulator exactly as they would in
Telegram; the transcript shows what each chat saw. Each feature adds its scene here, so the
demo always shows everything the bot does.
"""

from __future__ import annotations

import asyncio
import logging
import sys
import tempfile
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path

from bot.app import build_application
from bot.context import App
from bot.runtime.logs import configure_logging
from bot.runtime.running import running
from bot.settings import load_settings
from bot.settle import Settler
from bot.simulator import SimChat, SimMessage, SimUser, TelegramSimulator
from models.clock import ManualClock

log = logging.getLogger(__name__)


class Script:
    """Acting as people, and waiting for the bot's answers instead of sleeping."""

    def __init__(self, sim: TelegramSimulator) -> None:
        self.sim = sim
        self.settler = Settler(sim)
        self.clock: ManualClock | None = None
        self.app: App | None = None
        self.groups: dict[str, SimChat] = {}
        self.people: dict[str, SimUser] = {}

    def person(self, first_name: str, **details: str) -> SimUser:
        """A person of the scenario; the same name is the same person across scenes."""
        if first_name not in self.people:
            details.setdefault("username", first_name.lower())
            self.people[first_name] = self.sim.add_user(first_name, **details)
        return self.people[first_name]

    def username_of(self, first_name: str) -> str:
        return self.people[first_name].username or first_name

    async def add_bot(self, group: SimChat, by: SimUser, admin: bool = False) -> None:
        self.sim.add_bot_to_group(group, by=by, admin=admin)

    async def expect_answer(self, chat: SimChat, action: Callable[[], Awaitable[object]]) -> None:
        before = len(self.sim.bot_messages(chat))
        await action()
        await self.sim.wait_for(
            lambda: len(self.sim.bot_messages(chat)) > before,
            what=f"the bot to answer in {chat.title}",
        )

    async def says(self, user: SimUser, text: str, chat: SimChat | None = None) -> None:
        where = chat or self.sim.private_chat(user)
        await self.expect_answer(where, lambda: self.sim.send_message(user, text, chat=chat))
        await self.settler.settle()

    async def does(self, action: Awaitable[object]) -> None:
        """Send a location, contact or photo, and wait for the bot to take it in."""
        await action
        await self.settler.settle()

    async def press(self, user: SimUser, message: SimMessage, label: str) -> None:
        """Press the button whose label contains `label`, and wait for everything it causes."""
        text = next(t for row in message.buttons for t in row if label in t)
        press = await self.sim.press_button(user, message, text=text)
        await self.sim.wait_for(lambda: press.answered, what=f"the press on {text!r} answered")
        await self.settler.settle()

    async def pass_time(self, delta: timedelta) -> None:
        """Move the demo's clock on and run what fell due, as the scheduler would."""
        assert self.clock is not None and self.app is not None
        self.clock.advance(delta)
        await self.app.bot_data.services.reminders.sweep()
        await self.app.bot_data.services.drills.inject_due()
        await self.settler.settle()

    def card(self, chat: SimChat, number: int) -> SimMessage:
        """The card of incident `number` in `chat` (its first line names the number)."""
        marker = f" #{number} "
        return next(
            m for m in self.sim.bot_messages(chat) if marker in (m.text or "").split("\n", 1)[0]
        )

    def with_button(self, chat: SimChat, label: str) -> SimMessage:
        """The newest bot message in `chat` with a button whose label contains `label`."""
        return next(
            m
            for m in reversed(self.sim.bot_messages(chat))
            if any(label in text for row in m.buttons for text in row)
        )

    def last(self, chat: SimChat, contains: str = "") -> SimMessage:
        """The newest bot message in `chat` containing `contains`."""
        return next(m for m in reversed(self.sim.bot_messages(chat)) if contains in (m.text or ""))


async def scene_first_contact(script: Script) -> None:
    """A volunteer and a visiting English-speaking medic meet the bot."""
    sari = script.person("Sari", last_name="Relawan", language_code="id")
    john = script.person("John", language_code="en")
    await script.says(sari, "/start")
    await script.says(sari, "/bantuan")
    await script.says(john, "/start")
    await script.says(john, "/help")
    await script.says(sari, "/tidakada")
    await script.says(sari, "halo, ada kebakaran?")


async def scene_agencies(script: Script) -> None:
    """An admin registers the agencies' groups; members join and go on duty; routing is shown."""
    sim = script.sim
    admin = script.person("Yusuf")
    await script.says(admin, "/start")
    crews = {
        "damkar": ("Damkar Kota Palangka Raya", [script.person("Rudi", language_code="id")]),
        "dinkes": ("PSC 119 Dinkes", [script.person("Dewi", language_code="id")]),
        "bpbd": ("BPBD Kota Palangka Raya", [script.person("Bayu", language_code="id")]),
        "relawan": (
            "Relawan Damkar",
            [script.person("Sari", language_code="id"), script.person("Tom", language_code="en")],
        ),
        "koordinator": ("Koordinator 112", [script.person("Kiki", language_code="id")]),
    }
    for code, (title, members) in crews.items():
        group = sim.add_group(title, members=[admin, *members])
        script.groups[code] = group
        await script.expect_answer(group, partial(script.add_bot, group, admin))
        await script.says(admin, f"/daftar {code} {title}", chat=group)
        for member in members:
            command = "/join" if member.language_code == "en" else "/gabung"
            await script.says(member, command, chat=group)
        await script.says(members[0], "/siaga 8j", chat=group)
    # The 112 room's group sees every incident; the bot is an admin there, so it pins the
    # critical ones while they are open.
    room = sim.add_group("Ruang 112", members=[admin, script.person("Kiki")])
    script.groups["operator"] = room
    await script.expect_answer(room, partial(script.add_bot, room, admin, True))
    await script.says(admin, "/daftar operator", chat=room)
    await script.says(admin, "/peran beri koordinator @" + script.username_of("Kiki"))
    await script.says(admin, "/rute")
    await script.says(crews["relawan"][1][0], "/piket", chat=script.groups["relawan"])


async def scene_incident(script: Script) -> None:
    """A house fire from report to resolution, with a second report found to repeat it and
    merged by the dispatcher with one press, a question to the reporters and a note for every
    agency."""
    sim = script.sim
    admin, dita = script.person("Yusuf"), script.person("Dita", language_code="id")
    await script.says(dita, "/start")
    await script.says(admin, "/peran beri dispatcher @dita")
    await script.says(admin, "/peran beri petugas @rudi")
    rudi, tom, sari = script.person("Rudi"), script.person("Tom"), script.person("Sari")
    damkar, relawan = script.groups["damkar"], script.groups["relawan"]
    sim.add_member(damkar, tom)  # Tom volunteers with the fire service too
    await script.says(tom, "/join", chat=damkar)

    ani = script.person("Ani", language_code="id")
    inbox = sim.private_chat(ani)
    await script.says(ani, "/lapor")
    await script.press(ani, script.last(inbox), "Kebakaran")
    await script.does(sim.send_location(ani, -2.2096, 113.9139))
    await script.does(sim.send_photo(ani, caption="Rumah kayu terbakar di Jl. Rajawali, api besar"))
    await script.press(ani, script.last(inbox), "Lanjut")
    await script.press(ani, script.last(inbox), "Ada")
    await script.says(ani, "2 orang")
    await script.does(sim.send_contact(ani, "+62 812-5555-0101"))
    await script.press(ani, script.last(inbox), "Kirim laporan")

    bram = script.person("Bram", language_code="id")
    await script.says(bram, "/lapor")
    await script.press(bram, script.last(sim.private_chat(bram)), "Kebakaran")
    await script.does(sim.send_location(bram, -2.2101, 113.9144))  # 80 m from Ani's pin
    await script.says(bram, "Ada rumah terbakar, asapnya tinggi sekali")
    await script.press(bram, script.last(sim.private_chat(bram)), "Tidak tahu")
    await script.says(bram, "Lewati")
    await script.press(bram, script.last(sim.private_chat(bram)), "Kirim laporan")
    # Bram's report is found to repeat Ani's at once; Dita merges it with one press in the
    # 112 room's feed.
    room = script.groups["operator"]
    sim.add_member(room, dita)
    await script.press(dita, script.with_button(room, "Gabungkan ke #1"), "Gabungkan ke #1")

    await script.press(rudi, script.card(damkar, 1), "Terima")
    # Sari is on duty: the call reached her phone as a private alert, and she takes it there.
    await script.press(sari, script.last(sim.private_chat(sari), "#1 · "), "Terima untuk")
    # Damkar asks the reporters (Ani, and Bram of the merged duplicate) in its own name; Ani's
    # answer goes under the card in every routed chat, and to Rudi.
    await script.says(rudi, "/start")  # the question picker opens in his private chat
    await script.press(rudi, script.card(damkar, 1), "Tanya pelapor")
    await script.press(rudi, script.last(sim.private_chat(rudi), "Tanya pelapor"), "orang di dalam")
    await script.says(ani, "Ya, dua anak masih di lantai atas")
    await script.says(dita, "/catatan 1 Hidran terdekat di depan SDN 3 Rajawali")
    await script.press(rudi, script.card(damkar, 1), "Tugaskan")
    # Tom never opened a private chat with the bot: Telegram refuses the task card, and Damkar's
    # chat is asked to tell him.
    sim.expect_refusal("can't initiate conversation")
    await script.press(rudi, script.last(damkar, "Tugaskan #1"), "Tom")
    await script.says(tom, "/start")
    task = script.last(sim.private_chat(tom), "#1")
    for step in ("Accept", "En route", "On scene", "Done"):
        await script.press(tom, task, step)
    await script.press(sari, script.card(relawan, 1), "Selesai")
    await script.says(ani, "/kejadian 1")


async def scene_unowned_call(script: Script) -> None:
    """A call no agency handles ("lainnya"): it goes to the dispatchers and coordinators and
    to the 112 room's feed, is reminded until one of them takes it over there, and the
    dispatcher then routes it."""
    sim = script.sim
    dita = script.person("Dita")
    inbox, room = sim.private_chat(dita), script.groups["operator"]
    await script.says(
        dita,
        "/baru lainnya | Jl. Kinibalu 3 dekat masjid | pohon tumbang menutup jalan | | Pak Anang",
    )
    await script.pass_time(timedelta(minutes=5))  # medium severity: nobody has taken it over
    await script.press(dita, script.with_button(room, "Ambil alih"), "Ambil alih")
    await script.press(dita, script.last(inbox, "Kelola kejadian"), "BPBD")


async def scene_escalation(script: Script) -> None:
    """Nobody answers a flood report: reminders in BPBD's group, then the coordinators are
    alerted, and a coordinator acknowledges on BPBD's behalf. The clock runs fast here."""
    sim = script.sim
    bayu, kiki = script.person("Bayu"), script.person("Kiki")
    await script.says(kiki, "/start")
    await script.says(bayu, "/lepassiaga", chat=script.groups["bpbd"])
    lina = script.person("Lina", language_code="id")
    inbox = sim.private_chat(lina)
    await script.says(lina, "/lapor")
    await script.press(lina, script.last(inbox), "Banjir")
    await script.says(lina, "Jl. Mahir Mahar gang Sepakat 3, dekat sekolah")
    await script.says(lina, "Air sungai meluap, setinggi lutut, masuk ke rumah warga")
    await script.press(lina, script.last(inbox), "Tidak ada")
    await script.says(lina, "Lewati")
    await script.press(lina, script.last(inbox), "Kirim laporan")
    for minutes in (5, 5, 5):  # a flood is of medium severity: 5 minutes per step
        await script.pass_time(timedelta(minutes=minutes))
    escalation = script.last(sim.private_chat(kiki), "Eskalasi")
    await script.press(kiki, escalation, "Terima atas nama")


async def scene_broadcast(script: Script) -> None:
    """The peat fire spreads: the dispatcher warns every group at once, some confirm, the
    emergency is sent again where nobody did, and the details show who has not confirmed."""
    sim = script.sim
    dita, rudi, sari = script.person("Dita"), script.person("Rudi"), script.person("Sari")
    inbox = sim.private_chat(dita)
    await script.says(dita, "/siaran")
    await script.says(
        dita,
        "Kebakaran lahan gambut di Jl. Tjilik Riwut km 12 meluas ke arah permukiman Kalampangan. "
        "Semua unit bersiap; warga di sekitar diminta menjauh dari asap.",
    )
    await script.press(dita, script.last(inbox), "Darurat")
    await script.press(dita, script.last(inbox), "Semua grup instansi")
    await script.press(dita, script.last(inbox), "Kirim sekarang")
    for person, code in ((rudi, "damkar"), (sari, "relawan")):
        alert = script.last(script.groups[code], "Siaran 112")
        await script.press(person, alert, "Diterima")
    await script.pass_time(timedelta(minutes=10))  # the others are sent it once more
    await script.press(dita, script.with_button(inbox, "Rincian"), "Rincian")
    await script.says(dita, "/riwayatsiaran")


async def scene_drill(script: Script) -> None:
    """A short drill: the dispatcher starts the house-fire scenario; every message of it is
    marked 🧪, Damkar acknowledges and asks the simulated reporter, and when the dispatcher
    stops it, the after-action review goes to her and the coordinators."""
    sim = script.sim
    dita, rudi = script.person("Dita"), script.person("Rudi")
    inbox, damkar = sim.private_chat(dita), script.groups["damkar"]
    await script.says(dita, "/latihan")
    await script.press(dita, script.last(inbox), "Kebakaran rumah kayu")
    await script.press(dita, script.last(inbox), "Mulai sekarang")
    await script.pass_time(timedelta(minutes=1))
    card = script.with_button(damkar, "Terima")
    await script.press(rudi, card, "Terima")
    await script.press(rudi, card, "Tanya pelapor")
    await script.press(rudi, script.last(sim.private_chat(rudi), "Tanya pelapor"), "orang di dalam")
    await script.pass_time(timedelta(minutes=2))  # the second report comes in
    await script.press(dita, script.with_button(inbox, "Hentikan latihan"), "Hentikan latihan")
    await script.says(dita, "/latihan riwayat")


SCENES = (
    scene_first_contact,
    scene_agencies,
    scene_incident,
    scene_unowned_call,
    scene_escalation,
    scene_drill,
    scene_broadcast,
)


def chat_name(sim: TelegramSimulator, chat: SimChat) -> str:
    if chat.type == "private" and chat.user_id is not None:
        return f"{sim.user(chat.user_id).display_name} · private"
    return chat.title or str(chat.id)


def transcript(sim: TelegramSimulator) -> list[str]:
    lines: list[str] = []
    for event in sim.events:
        actor = "🤖 Siaga 112" if event.actor == "bot" else event.actor
        head = f"[{chat_name(sim, event.chat)}] {actor}"
        label = {
            "bot_edit": " (edited)",
            "bot_delete": " (deleted a message)",
            "press": " pressed",
            "answer": " answered the press",
        }.get(event.kind, "")
        text = (event.text or "").strip()
        body = text.replace("\n", "\n    ")
        lines.append(f"{head}{label}: {body}" if body else f"{head}{label}")
        for row in event.buttons or []:
            lines.append("    " + "  ".join(f"[ {label} ]" for label in row))
    return lines


async def run_demo(*, quiet: bool = False, board: bool = False, port: int = 0) -> int:
    configure_logging("WARNING" if quiet else "INFO", [])
    async with TelegramSimulator() as sim:
        with tempfile.TemporaryDirectory(prefix="siaga112-demo-") as workdir:
            script = Script(sim)
            admin = script.person("Yusuf", last_name="Admin112", language_code="id")
            settings = load_settings(
                _env_file=None,
                admin_user_ids=(admin.id,),
                telegram_bot_token=sim.token,
                telegram_api_base_url=sim.base_url,
                database_path=Path(workdir) / "demo.db",
                log_level="WARNING",
                # The demo's people act faster than any group would; pacing would only make the
                # transcript wait. (The tests and `make bench` check pacing.)
                outbox_pacing=False,
                web_port=port,  # 0: a free port, so the demo may run beside a real bot
            )
            configure_logging("WARNING" if quiet else "INFO", [sim.token])
            # The demo's clock starts now and is moved on by scenes that need time to pass.
            script.clock = ManualClock(datetime.now(UTC))
            app = build_application(settings, clock=script.clock)
            script.app = app
            script.settler.attach(app)
            async with running(app, poll_timeout=1):
                for scene in SCENES:
                    log.info("scene: %s", (scene.__doc__ or scene.__name__).strip())
                    await scene(script)
                if board:
                    print_transcript(sim)
                    await show_board(script, admin)
                    return 0
    print_transcript(sim)
    refused = sim.unexpected_refusals()
    if refused:
        # Telegram would have refused these calls of the bot: the demo does not pass.
        for call in refused:
            print(f"refused: {call.method} {call.error_code} {call.description}", file=sys.stderr)
        return 1
    print(
        "\nThe demo ended by itself. Run `make test` for the checks, `make run` for the real bot."
    )
    return 0


def print_transcript(sim: TelegramSimulator) -> None:
    print(
        f"siaga112 demo — the real bot against the Telegram simulator ({len(sim.events)} events)\n"
    )
    print("\n".join(transcript(sim)))


async def show_board(script: Script, admin: SimUser) -> None:
    """`demo --board`: the city stays up, and the web board's address is printed with a
    sign-in link, until Ctrl+C."""
    assert script.app is not None
    address = script.app.bot_data.web_address
    if address is None:
        print("\nThe web server could not start (see the log above).", file=sys.stderr)
        return
    link = await script.app.bot_data.services.web.login_link(admin.id)
    print(
        "\nThe demo city keeps running. Open the board in a browser:\n"
        f"  sign in (once):  {link}\n"
        f"  the board:       {address}/board   (wall screen: {address}/board?wall=1)\n"
        "Press Ctrl+C to stop.",
        flush=True,
    )
    await asyncio.Event().wait()  # until Ctrl+C cancels the demo
