"""The crash drill of "Nothing lost": the real bot as a subprocess, SIGKILLed and restarted while
people keep working, then checked for what they were promised.

A dispatcher enters 112 calls (`/baru …`, each line carrying a unique number), agency members
press ✅ Terima on the cards that reach their groups and take tasks (👤 Tugaskan, then
🙋 Saya sendiri). Between those actions the bot process is killed with SIGKILL — right after a
burst of actions (updates in flight), right after the dispatcher saw a confirmation (the handled
but not yet recorded window), right after a card or a reminder reached a group (the sent but not
yet recorded window) and after a random number of the bot's requests — and started again while
people go on acting. At the end the bot is started once more and left to catch up, and the drill
checks:

* every incident number the dispatcher saw confirmed exists, and no call line became two
  incidents;
* each routed agency chat shows one card per incident; a second copy is accepted only when
  the at-least-once window explains it (the first copy went out in a lifetime that was killed
  before the outbox recorded it, and the copy the outbox remembers came after the restart), and
  such duplicates are counted. The outbox row cannot tell: a send cut off by SIGKILL leaves no
  trace in it (`attempts` counts recorded outcomes), so the signature is read from the chat;
* each acknowledgement is recorded once, every press answered "✅ Tercatat" has its event, and
  each task taken with "Saya sendiri" exists once;
* every reminder firing is in the timeline exactly once, and no reminder pending before the
  final restart is left unfired or overdue.

`run_crash_drill` is shared by `tests/test_crash.py` (a short stream) and
`bench/crash_recovery.py` (the full stream). Traffic goes only to the simulator on 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import os
import random
import re
import signal
import sqlite3
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bot.simulator import SimCallbackQuery, SimChat, SimMessage, SimUser, TelegramSimulator

REPO_ROOT = Path(__file__).resolve().parent.parent
CARD_HEADER = re.compile(r"^\S+ #(\d+)\b")
CONFIRMATION = re.compile(r"Panggilan dicatat sebagai kejadian #(\d+)")
PICKER_HEADER = re.compile(r"Tugaskan #(\d+)\b")
CALL_NUMBER = re.compile(r"^rumah terbakar nomor (\d+)$")
ACKNOWLEDGE = "✅ Terima"
ASSIGN = "👤 Tugaskan"
MYSELF = "🙋 Saya sendiri"
RECORDED = "✅ Tercatat"
ANSWER_TIMEOUT = 15.0  # the bot is alive: an answer it owes comes well within this
REMINDER_EVENTS = ("reminded", "escalated", "follow_up")
ACK_EVENTS = ("acknowledged", "acknowledged_on_behalf")

# What kills the bot: after a burst of actions, right after a confirmation was seen, right after
# a card or a reminder reached a group, or after a random number of the bot's own requests.
KillKind = str
BURST, AFTER_CONFIRMATION, AFTER_CARD, AFTER_REMINDER, RANDOM = (
    "burst",
    "confirmation",
    "card",
    "reminder",
    "random",
)
ALL_KILLS = (BURST, AFTER_CONFIRMATION, AFTER_CARD, AFTER_REMINDER, RANDOM)
REMINDER_TEXT = "Pengingat:"


@dataclass(frozen=True)
class CrashPlan:
    """How big the drill is. The CI test runs a short stream; the bench runs the full one."""

    operations: int = 60
    kills: int = 6
    seed: int = 112
    ack_timeout_seconds: int = 10
    sweep_seconds: int = 1
    time_limit: float = 55.0  # the whole drill, start to verdict

    def __post_init__(self) -> None:
        if self.kills < 1 or self.operations < self.kills:
            raise ValueError("the drill needs at least one kill and an action per kill")

    def kill_kinds(self, rng: random.Random) -> list[KillKind]:
        """One of each kind (the confirmation window twice), the rest drawn, shuffled."""
        kinds = [BURST, AFTER_CONFIRMATION, AFTER_CARD, AFTER_REMINDER, RANDOM, AFTER_CONFIRMATION]
        kinds += [rng.choice(ALL_KILLS) for _ in range(len(kinds), self.kills)]
        kinds = kinds[: self.kills]
        rng.shuffle(kinds)
        return kinds


@dataclass
class CrashReport:
    """What the drill counted and what it found wrong, by check."""

    counts: dict[str, int] = field(default_factory=dict)
    problems: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    seconds: float = 0.0
    phases: dict[str, float] = field(default_factory=dict)  # seconds each phase took
    log_path: Path | None = None

    CHECKS = ("quiet", "calls", "replayed calls", "cards", "acknowledgements", "tasks", "reminders")

    def problem(self, check: str, text: str) -> None:
        assert check in self.CHECKS, check
        self.problems[check].append(text)

    def failed(self, *checks: str) -> list[str]:
        """The problems of the given checks (all when none are named)."""
        names = checks or self.CHECKS
        return [f"{name}: {text}" for name in names for text in self.problems.get(name, [])]

    def lines(self) -> list[str]:
        lines = [f"{name}: {value}" for name, value in self.counts.items()]
        lines.append(f"seconds: {self.seconds:.1f}")
        lines.extend(f"  {name}: {took:.1f} s" for name, took in self.phases.items())
        for check in self.CHECKS:
            found = self.problems.get(check, [])
            lines.append(f"check {check}: {'ok' if not found else f'{len(found)} problem(s)'}")
            lines.extend(f"  - {text}" for text in found[:10])
        return lines

    def log_tail(self, lines: int = 60) -> str:
        if self.log_path is None or not self.log_path.exists():
            return ""
        text = self.log_path.read_text(encoding="utf-8", errors="replace").splitlines()
        return "\n".join(text[-lines:])


# --- the bot process ---------------------------------------------------------------------------


class BotProcess:
    """`python -m bot run` against the simulator: started, SIGKILLed, started again."""

    def __init__(
        self, sim: TelegramSimulator, workdir: Path, admin: SimUser, plan: CrashPlan
    ) -> None:
        self.sim = sim
        self.database_path = workdir / "siaga112.db"
        self.log_path = workdir / "bot.log"
        self.workdir = workdir
        self.admin = admin
        self.plan = plan
        self.lifetimes = 0
        self.kills: list[datetime] = []  # wall-clock times of the SIGKILLs
        self._proc: asyncio.subprocess.Process | None = None

    @property
    def alive(self) -> bool:
        return self._proc is not None and self._proc.returncode is None

    def environment(self) -> dict[str, str]:
        timeout = str(self.plan.ack_timeout_seconds)
        env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("TELEGRAM_", "WEBHOOK_", "OUTBOX_", "ACK_", "DATABASE_"))
        }
        env.update(
            {
                "PYTHONPATH": os.pathsep.join(
                    p for p in (str(REPO_ROOT), os.environ.get("PYTHONPATH", "")) if p
                ),
                "PYTHONUNBUFFERED": "1",
                "TELEGRAM_BOT_TOKEN": self.sim.token,
                "TELEGRAM_API_BASE_URL": self.sim.base_url,
                "DATABASE_PATH": str(self.database_path),
                "ADMIN_USER_IDS": str(self.admin.id),
                "OUTBOX_PACING": "false",  # pacing has its own tests; here it only slows down
                "OUTBOX_POLL_SECONDS": "0.5",
                "OUTBOX_MAX_BACKOFF_SECONDS": "1",
                "LOG_LEVEL": "INFO",
                "DIGEST_ENABLED": "false",
                "WEB_PORT": "0",  # a free port: several bots may run at once
                "ACK_TIMEOUT_CRITICAL_SECONDS": timeout,
                "ACK_TIMEOUT_HIGH_SECONDS": timeout,
                "ACK_TIMEOUT_MEDIUM_SECONDS": timeout,
                "ACK_TIMEOUT_LOW_SECONDS": timeout,
                "GROUP_REMINDERS": "1",
                "ESCALATION_REPEAT_SECONDS": "30",
                "FOLLOWUP_NOT_ACCEPTED_SECONDS": "30",
                "FOLLOWUP_NOT_EN_ROUTE_SECONDS": "30",
                "OPEN_TOO_LONG_SECONDS": "86400",
                "REMINDER_SWEEP_SECONDS": str(self.plan.sweep_seconds),
            }
        )
        return env

    async def start(self) -> None:
        assert not self.alive
        self.lifetimes += 1
        with self.log_path.open("ab") as log:
            log.write(f"\n===== lifetime {self.lifetimes} =====\n".encode())
            # The working directory is the drill's own, so a developer's .env is not read.
            self._proc = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "bot",
                "run",
                cwd=self.workdir,
                env=self.environment(),
                stdin=asyncio.subprocess.DEVNULL,
                stdout=log,
                stderr=log,
            )

    async def kill(self) -> None:
        """SIGKILL: no shutdown code runs, exactly like a power cut."""
        assert self._proc is not None
        if self._proc.returncode is None:
            self._proc.kill()
        await self._proc.wait()
        self.kills.append(datetime.now(UTC))

    async def stop(self, within: float = 20.0) -> int | None:
        """SIGTERM and wait for the exit status; None when it had to be SIGKILLed after all."""
        proc = self._proc
        assert proc is not None
        if proc.returncode is not None:
            return proc.returncode
        proc.send_signal(signal.SIGTERM)
        try:
            async with asyncio.timeout(within):
                return await proc.wait()
        except TimeoutError:
            proc.kill()
            await proc.wait()
            return None

    async def wait_change_or_exit(self, sim: TelegramSimulator, seconds: float) -> None:
        """Until the simulator sees a change, the process ends, or `seconds` pass."""
        change = asyncio.ensure_future(sim.wait_change(seconds))
        waits: set[asyncio.Future[Any]] = {change}
        if self._proc is not None and self._proc.returncode is None:
            waits.add(asyncio.ensure_future(self._proc.wait()))
        try:
            await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiting in waits:
                waiting.cancel()

    def exited_by_itself(self) -> int | None:
        """The exit status when the bot died without being killed (a crash of its own)."""
        if self._proc is not None and self._proc.returncode not in (None, -signal.SIGKILL):
            return self._proc.returncode
        return None


class Database:
    """The bot's SQLite file, read-only, from outside the process."""

    def __init__(self, path: Path) -> None:
        self.path = path

    @contextlib.contextmanager
    def snapshot(self) -> Iterator[sqlite3.Connection]:
        """One read transaction: every query inside sees the same moment."""
        db = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, timeout=5.0)
        try:
            db.execute("BEGIN")
            yield db
        finally:
            db.close()

    def rows(self, sql: str, params: tuple[object, ...] = ()) -> list[tuple[Any, ...]]:
        with self.snapshot() as db:
            return list(db.execute(sql, params))

    def scalar(self, sql: str, params: tuple[object, ...] = ()) -> int:
        rows = self.rows(sql, params)
        return int(rows[0][0] or 0) if rows else 0


def db_time(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def from_db_time(value: object) -> datetime:
    return datetime.strptime(str(value), "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)


# --- the people and what they saw --------------------------------------------------------------


@dataclass
class Agency:
    code: str
    chat: SimChat
    members: list[SimUser]
    agency_id: int = 0


@dataclass
class Press:
    """One press of an inline button and what it was for."""

    kind: str  # ack, assign, pick
    query: SimCallbackQuery
    incident: int
    agency: Agency
    user: SimUser


@dataclass
class Seen:
    calls: dict[int, SimMessage] = field(default_factory=dict)  # line number → the /baru
    presses: list[Press] = field(default_factory=list)
    pending_pickers: list[Press] = field(default_factory=list)  # 👤 presses awaiting a picker
    picked: set[int] = field(default_factory=set)  # ids of picker messages already used


class Drill:
    """The world, the scripted stream and the checks; one instance per run."""

    def __init__(self, sim: TelegramSimulator, workdir: Path, plan: CrashPlan) -> None:
        self.sim = sim
        self.plan = plan
        self.rng = random.Random(plan.seed)
        self.admin = sim.add_user("Yusuf", username="yusuf", language_code="id")
        self.dispatcher = sim.add_user("Dita", username="dita", language_code="id")
        self.bot = BotProcess(sim, workdir, self.admin, plan)
        self.db = Database(self.bot.database_path)
        self.agencies: list[Agency] = []
        self.seen = Seen()
        self.report = CrashReport(log_path=self.bot.log_path)
        self.lines = 0
        self.operations = 0
        self.kind_counts: Counter[str] = Counter()
        self.waiting_at_restarts = 0
        self.reminders_waited_for = 0
        # Per lifetime (1-based), the highest message id each chat had before it began.
        self.spawn_marks: dict[int, dict[int, int]] = {}

    # --- waiting --------------------------------------------------------------------------

    async def wait_until(
        self, predicate: Callable[[], object], timeout: float, what: str, *, db: bool = False
    ) -> bool:
        """Await predicate; with db=True it also reads the database, so it is re-checked at
        least every 0.2 s even when the simulator sees nothing change. False on timeout."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            if predicate():
                return True
            remaining = deadline - loop.time()
            if remaining <= 0:
                return False
            if self.bot.exited_by_itself() is not None:
                raise AssertionError(
                    f"the bot exited by itself ({self.bot.exited_by_itself()}) while waiting "
                    f"for {what}; its log:\n{self.report.log_tail()}"
                )
            await self.bot.wait_change_or_exit(self.sim, min(remaining, 0.2) if db else remaining)

    def outbox_pending(self) -> int:
        return self.db.scalar("SELECT COUNT(*) FROM outbox WHERE status = 'pending'")

    def caught_up(self) -> bool:
        return self.sim.updates_pending == 0 and self.outbox_pending() == 0

    async def settle(self, timeout: float = ANSWER_TIMEOUT) -> None:
        """Every update handled and the outbox empty (the bot is alive)."""
        if not await self.wait_until(self.caught_up, timeout, "the bot to catch up", db=True):
            raise AssertionError(
                f"the bot did not catch up within {timeout:.0f} s: "
                f"{self.sim.updates_pending} updates pending, "
                f"{self.outbox_pending()} outbox rows pending"
            )

    async def says(self, user: SimUser, text: str, chat: SimChat | None = None) -> SimMessage:
        """Send while the bot is alive and wait for its answer in that chat."""
        where = chat or self.sim.private_chat(user)
        before = len(self.sim.bot_messages(where))
        await self.sim.send_message(user, text, chat=chat)
        if not await self.wait_until(
            lambda: len(self.sim.bot_messages(where)) > before, ANSWER_TIMEOUT, text
        ):
            raise AssertionError(f"no answer to {text!r} in {where.title or where.id}")
        await self.settle()
        return self.sim.bot_messages(where)[-1]

    # --- the world ------------------------------------------------------------------------

    async def build_world(self) -> None:
        """Admin, dispatcher and two fire agencies, set up through the bot as people do."""
        await self.bot.start()
        for person in (self.admin, self.dispatcher):
            await self.says(person, "/start")
        await self.says(self.admin, "/peran beri dispatcher @dita")
        crews = {
            "damkar": ("Damkar Kota", [("Rudi", "rudi"), ("Budi", "budi")]),
            "relawan": ("Relawan Damkar", [("Sari", "sari"), ("Tomi", "tomi")]),
        }
        for code, (name, people) in crews.items():
            members = [self.sim.add_user(f, username=u, language_code="id") for f, u in people]
            group = self.sim.add_group(name, members=[self.admin, *members])
            self.sim.add_bot_to_group(group, by=self.admin)
            await self.settle()
            await self.says(self.admin, f"/daftar {code} {name}", chat=group)
            for member in members:
                await self.says(member, "/gabung", chat=group)
                await self.says(member, "/start")
            await self.says(members[0], "/siaga", chat=group)
            self.agencies.append(Agency(code, group, members))
        for agency in self.agencies:
            agency.agency_id = self.db.scalar(
                "SELECT id FROM agencies WHERE code = ? AND active = 1", (agency.code,)
            )
            assert agency.agency_id, f"agency {agency.code} was not registered"

    # --- the stream -----------------------------------------------------------------------

    def cards_in(self, agency: Agency) -> list[tuple[int, SimMessage]]:
        found = []
        for message in self.sim.bot_messages(agency.chat):
            match = CARD_HEADER.match(message.text or "")
            if match:
                found.append((int(match.group(1)), message))
        return found

    def card_count(self) -> int:
        return sum(len(self.cards_in(agency)) for agency in self.agencies)

    def reminder_messages(self) -> int:
        return sum(
            REMINDER_TEXT in (message.text or "")
            for agency in self.agencies
            for message in self.sim.bot_messages(agency.chat)
        )

    def confirmations(self) -> list[int]:
        chat = self.sim.private_chat(self.dispatcher)
        numbers = []
        for message in self.sim.bot_messages(chat):
            match = CONFIRMATION.search(message.text or "")
            if match:
                numbers.append(int(match.group(1)))
        return numbers

    async def call(self) -> None:
        """The dispatcher enters a 112 call; each line names a number no other line has."""
        self.lines += 1
        i = self.lines
        line = (
            f"/baru kebakaran | Jl. Contoh {i} dekat pasar | rumah terbakar nomor {i} | "
            f"0812-3456-{i:04d}"
        )
        self.seen.calls[i] = await self.sim.send_message(self.dispatcher, line)
        self.kind_counts["calls"] += 1

    async def acknowledge(self) -> bool:
        """A member presses ✅ Terima on a card in their group; mostly one not pressed yet."""
        pressed = {(p.incident, p.agency.code) for p in self.seen.presses if p.kind == "ack"}
        choices = [
            (agency, number, card)
            for agency in self.agencies
            for number, card in self.cards_in(agency)
            if ACKNOWLEDGE in [b for row in card.buttons for b in row]
        ]
        fresh = [c for c in choices if (c[1], c[0].code) not in pressed]
        pool = fresh if fresh and self.rng.random() > 0.15 else choices
        if not pool:
            return False
        agency, number, card = self.rng.choice(pool)
        user = self.rng.choice(agency.members)
        query = await self.sim.press_button(user, card, text=ACKNOWLEDGE)
        self.seen.presses.append(Press("ack", query, number, agency, user))
        self.kind_counts["acknowledge presses"] += 1
        return True

    async def assign(self) -> bool:
        """A member presses 👤 Tugaskan on a card not assigned by the drill before."""
        started = {(p.incident, p.agency.code) for p in self.seen.presses if p.kind == "assign"}
        choices = [
            (agency, number, card)
            for agency in self.agencies
            for number, card in self.cards_in(agency)
            if (number, agency.code) not in started
            and ASSIGN in [b for row in card.buttons for b in row]
        ]
        if not choices:
            return False
        agency, number, card = self.rng.choice(choices)
        user = self.rng.choice(agency.members)
        query = await self.sim.press_button(user, card, text=ASSIGN)
        press = Press("assign", query, number, agency, user)
        self.seen.presses.append(press)
        self.seen.pending_pickers.append(press)
        self.kind_counts["assign presses"] += 1
        return True

    def picker_for(self, press: Press) -> SimMessage | None:
        for message in self.sim.bot_messages(press.agency.chat):
            match = PICKER_HEADER.search(message.text or "")
            if (
                match
                and int(match.group(1)) == press.incident
                and message.message_id not in self.seen.picked
                and MYSELF in [b for row in message.buttons for b in row]
            ):
                return message
        return None

    async def pick_myself(self) -> bool:
        """Whoever opened a picker that has appeared takes the task: 🙋 Saya sendiri."""
        for press in list(self.seen.pending_pickers):
            picker = self.picker_for(press)
            if picker is None:
                continue
            self.seen.pending_pickers.remove(press)
            self.seen.picked.add(picker.message_id)
            query = await self.sim.press_button(press.user, picker, text=MYSELF)
            self.seen.presses.append(Press("pick", query, press.incident, press.agency, press.user))
            self.kind_counts["task picks"] += 1
            return True
        return False

    async def operate(self) -> None:
        """One action of the stream, chosen by the seeded script."""
        self.operations += 1
        roll = self.rng.random()
        if self.seen.pending_pickers and roll < 0.5 and await self.pick_myself():
            return
        if roll < 0.45 or self.lines < 3:
            await self.call()
        elif roll < 0.75:
            if not await self.acknowledge():
                await self.call()
        elif not await self.assign():
            await self.call()

    async def operate_and_follow(self) -> None:
        """An action at the bot's pace: when it is alive, let it handle what was sent."""
        await self.operate()
        if self.bot.alive:
            await self.wait_until(lambda: self.sim.updates_pending == 0, ANSWER_TIMEOUT, "pace")

    # --- the kills ------------------------------------------------------------------------

    async def kill(self, kind: KillKind) -> None:
        """Act towards the chosen moment, then SIGKILL the bot there."""
        if kind == BURST:
            # A burst of actions, then the kill lands while the bot works through the batch.
            burst = self.rng.randint(5, 8)
            for _ in range(burst):
                await self.operate()
            calls = len(self.sim.calls) + self.rng.randint(2, 2 * burst)
            await self.wait_until(lambda: len(self.sim.calls) >= calls, 5.0, "the batch")
        elif kind == AFTER_CONFIRMATION:
            # A confirmation of a number not seen before: a call just committed (a repeated
            # confirmation of a replayed call would not do).
            known = set(self.confirmations())
            await self.call()
            self.operations += 1
            await self.wait_until(
                lambda: set(self.confirmations()) - known, ANSWER_TIMEOUT, "a confirmation"
            )
        elif kind == AFTER_CARD:
            before = self.card_count()
            await self.call()
            self.operations += 1
            await self.wait_until(lambda: self.card_count() > before, ANSWER_TIMEOUT, "a card")
        elif kind == AFTER_REMINDER:
            # Nobody acts until a reminder reaches a group: its firing was just committed and
            # its message is in the outbox's hands.
            before = self.reminder_messages()
            await self.wait_until(
                lambda: self.reminder_messages() > before,
                2 * self.plan.ack_timeout_seconds + 5,
                "a reminder",
            )
        else:
            calls = len(self.sim.calls) + self.rng.randint(1, 25)
            await self.operate()
            await self.wait_until(lambda: len(self.sim.calls) >= calls, 3.0, "bot requests")
        await self.bot.kill()
        self.kind_counts[f"kills {kind}"] += 1
        if kind == AFTER_CONFIRMATION:
            for number in set(self.confirmations()) - known:
                if self.in_replay_window(number):
                    self.kind_counts["kills between a call's commit and its update's record"] += 1

    def in_replay_window(self, number: int) -> bool:
        """Whether incident `number`, a call, is committed but the update that made it is not
        recorded as handled, so Telegram delivers that /baru again after the restart."""
        description = self.db.rows("SELECT description FROM incidents WHERE id = ?", (number,))
        match = CALL_NUMBER.match(str(description[0][0])) if description else None
        if match is None:
            return False
        sent = self.seen.calls[int(match.group(1))]
        update_id = next(
            (
                u["update_id"]
                for u in self.sim.issued_updates
                if u.get("message", {}).get("message_id") == sent.message_id
                and u["message"].get("chat", {}).get("id") == sent.chat_id
            ),
            None,
        )
        recorded = self.db.scalar(
            "SELECT COUNT(*) FROM processed_updates WHERE update_id = ?", (update_id,)
        )
        return not recorded

    async def restart(self) -> None:
        self.waiting_at_restarts += self.sim.updates_pending
        self.spawn_marks[self.bot.lifetimes + 1] = {
            agency.chat.id: max((m.message_id for m in self.sim.messages(agency.chat)), default=0)
            for agency in self.agencies
        }
        await self.bot.start()

    def lifetime_of(self, chat: SimChat, message_id: int) -> int:
        """Which run of the bot sent this message (message ids grow within a chat)."""
        lifetime = 1
        for number, marks in sorted(self.spawn_marks.items()):
            if message_id > marks.get(chat.id, 0):
                lifetime = number
        return lifetime

    async def stream(self) -> None:
        kinds = self.plan.kill_kinds(self.rng)
        total = self.plan.operations
        # Kill points spread over the stream, a little jittered.
        step = total / (len(kinds) + 1)
        points = [
            max(1, round(step * (k + 1) + self.rng.uniform(-step / 4, step / 4)))
            for k in range(len(kinds))
        ]
        self.spawn_marks[1] = {agency.chat.id: 0 for agency in self.agencies}
        for kind, point in zip(kinds, points, strict=True):
            while self.operations < point:
                await self.operate_and_follow()
            await self.kill(kind)
            # People go on working while the bot is down; Telegram keeps their updates.
            for _ in range(self.rng.randint(2, 5)):
                await self.operate()
            await self.restart()
        while self.operations < total:
            await self.operate_and_follow()

    # --- the end ------------------------------------------------------------------------------

    async def finish(self) -> None:
        """Catch up after the last restart, let the pending reminders fire, then stop."""
        sweep = self.plan.sweep_seconds
        if not self.bot.alive:
            await self.restart()
        if not await self.wait_until(self.caught_up, 30.0, "catch-up", db=True):
            self.report.problem(
                "quiet",
                f"not caught up after the last restart: {self.sim.updates_pending} updates, "
                f"{self.outbox_pending()} outbox rows pending",
            )
        # Pickers that appeared late are still used; their presses must be handled too.
        while await self.pick_myself():
            pass
        await self.wait_until(self.caught_up, 15.0, "catch-up after the last picks", db=True)
        # Every reminder pending at the last kill fires once it is due (or is made moot by an
        # acknowledgement). Those due later than one timeout after the restart are only checked
        # for being on time, so the drill does not wait for escalation repeats.
        last_kill = self.bot.kills[-1]
        horizon = datetime.now(UTC) + timedelta(seconds=self.plan.ack_timeout_seconds)
        waiting = self.db.rows(
            "SELECT id, attempt, due_at FROM reminders "
            "WHERE state = 'pending' AND created_at < ? AND due_at <= ?",
            (db_time(last_kill), db_time(horizon)),
        )
        latest_due = max((from_db_time(row[2]) for row in waiting), default=datetime.now(UTC))
        budget = max(0.0, (latest_due - datetime.now(UTC)).total_seconds()) + 3 * sweep + 5

        def all_fired() -> bool:
            rows = self.db.rows(
                "SELECT id, attempt, state FROM reminders WHERE id IN "
                f"({','.join('?' for _ in waiting)})",
                tuple(row[0] for row in waiting),
            )
            before = {row[0]: row[1] for row in waiting}
            return all(state != "pending" or attempt > before[rid] for rid, attempt, state in rows)

        if waiting and not await self.wait_until(all_fired, budget, "reminders", db=True):
            self.report.problem("reminders", "reminders pending at the last kill did not fire")
        await self.wait_until(self.caught_up, 15.0, "catch-up after the reminders", db=True)
        now = datetime.now(UTC)
        overdue = self.db.rows(
            "SELECT id, kind, incident_id, due_at FROM reminders "
            "WHERE state = 'pending' AND due_at < ?",
            (db_time(now - timedelta(seconds=2 * sweep + 1)),),
        )
        for rid, kind, incident, due in overdue:
            self.report.problem(
                "reminders", f"reminder {rid} ({kind}, #{incident}) still pending, due {due}"
            )
        self.reminders_waited_for = len(waiting)
        status = await self.bot.stop()
        if status != 0:
            self.report.problem(
                "quiet",
                "the bot did not stop on SIGTERM"
                if status is None
                else f"the bot exited with {status} on SIGTERM",
            )

    # --- the checks ---------------------------------------------------------------------------

    def check(self) -> None:
        counts = self.report.counts
        counts["operations"] = self.operations
        counts["call lines sent"] = self.lines
        counts.update(sorted(self.kind_counts.items()))
        counts["kills"] = len(self.bot.kills)
        counts["bot lifetimes"] = self.bot.lifetimes
        counts["updates issued"] = len(self.sim.issued_updates)
        counts["updates waiting at restarts"] = self.waiting_at_restarts
        counts["replays skipped as handled before"] = self.replays_skipped()
        self.check_calls()
        self.check_cards()
        self.check_presses()
        self.check_reminders()
        parked = self.db.scalar("SELECT COUNT(*) FROM outbox WHERE status = 'parked'")
        pending = self.outbox_pending()
        counts["outbox rows parked"] = parked
        counts["reminder messages in agency chats"] = self.reminder_messages()
        if pending:
            self.report.problem("quiet", f"{pending} outbox rows still pending at the end")

    def replays_skipped(self) -> int:
        """Updates a restarted bot got again and skipped as handled before (from its log)."""
        log = self.bot.log_path.read_text(encoding="utf-8", errors="replace")
        return log.count("replay ignored")

    def check_calls(self) -> None:
        rows = self.db.rows("SELECT id, description, source FROM incidents")
        by_line: dict[int, list[int]] = defaultdict(list)
        for incident, description, source in rows:
            match = CALL_NUMBER.match(str(description))
            if source == "telepon" and match:
                by_line[int(match.group(1))].append(int(incident))
        existing = {int(row[0]) for row in rows}
        confirmed = self.confirmations()
        self.report.counts["confirmations seen"] = len(confirmed)
        self.report.counts["confirmations repeated by a replay"] = len(confirmed) - len(
            set(confirmed)
        )
        self.report.counts["incidents"] = len(existing)
        for number in confirmed:
            if number not in existing:
                self.report.problem("calls", f"#{number} was confirmed but does not exist")
        missing = [i for i in self.seen.calls if i not in by_line]
        # A line the bot never handled would be lost: after the catch-up every one exists.
        for i in missing:
            self.report.problem("calls", f"call line {i} was sent but became no incident")
        doubled = {i: ids for i, ids in by_line.items() if len(ids) > 1}
        self.report.counts["call lines that became two incidents"] = len(doubled)
        for i, ids in sorted(doubled.items()):
            self.report.problem(
                "replayed calls",
                f"call line {i} became {len(ids)} incidents: "
                + ", ".join(f"#{n}" for n in sorted(ids)),
            )

    def check_cards(self) -> None:
        routed = self.db.rows("SELECT incident_id, agency_id FROM responses")
        refs = {
            str(ref): int(message_id)
            for ref, message_id in self.db.rows("SELECT ref, message_id FROM message_refs")
        }
        single = duplicates = 0
        for agency in self.agencies:
            cards: dict[int, list[SimMessage]] = defaultdict(list)
            for number, message in self.cards_in(agency):
                cards[number].append(message)
            for incident, agency_id in routed:
                if agency_id != agency.agency_id:
                    continue
                number = int(incident)
                shown = cards.get(number, [])
                if len(shown) == 1:
                    single += 1
                    continue
                if not shown:
                    self.report.problem("cards", f"#{number} has no card in {agency.code}")
                    continue
                kept = refs.get(f"card:{number}:{agency.agency_id}")
                if self.explained_duplicates(agency, shown, kept):
                    duplicates += len(shown) - 1
                else:
                    self.report.problem(
                        "cards",
                        f"#{number} shows {len(shown)} cards in {agency.code} (message ids "
                        f"{[m.message_id for m in shown]}, the outbox remembers {kept}) and the "
                        "at-least-once window does not explain it",
                    )
        self.report.counts["cards checked (one per incident and chat)"] = single
        self.report.counts["duplicate cards explained by a kill mid-send"] = duplicates

    def explained_duplicates(
        self, agency: Agency, shown: list[SimMessage], kept: int | None
    ) -> bool:
        """Extra copies of a card are the at-least-once window when each went out in its own
        lifetime that was killed before the outbox recorded the send — nothing else went out
        to that chat through the outbox in that lifetime afterwards (its queue was stuck on the
        card) — and the copy the outbox remembers is the last one."""
        copies = sorted(shown, key=lambda m: m.message_id)
        if kept != copies[-1].message_id:
            return False
        lifetimes = [self.lifetime_of(agency.chat, m.message_id) for m in copies]
        if any(a >= b for a, b in itertools.pairwise(lifetimes)):
            return False
        for orphan, lifetime in zip(copies[:-1], lifetimes, strict=False):
            after = [
                m
                for m in self.sim.bot_messages(agency.chat)
                if m.message_id > orphan.message_id
                and self.lifetime_of(agency.chat, m.message_id) == lifetime
                and not PICKER_HEADER.search(m.text or "")  # pickers are answers, not outbox
            ]
            if after:
                return False
        return True

    def check_presses(self) -> None:
        counts = self.report.counts
        events: dict[tuple[int, int], list[int]] = defaultdict(list)
        for incident, agency_id, actor in self.db.rows(
            "SELECT incident_id, agency_id, actor_id FROM incident_events WHERE kind IN (?, ?)",
            ACK_EVENTS,
        ):
            events[(int(incident), int(agency_id))].append(int(actor))
        responses = self.db.rows("SELECT incident_id, agency_id, status FROM responses")
        acknowledged = 0
        for incident, agency_id, status in responses:
            recorded = events.get((int(incident), int(agency_id)), [])
            expected = 0 if status == "menunggu" else 1
            acknowledged += expected
            if len(recorded) != expected:
                self.report.problem(
                    "acknowledgements",
                    f"#{incident} agency {agency_id} is {status} with {len(recorded)} "
                    "acknowledgement events",
                )
        counts["responses acknowledged (one event each)"] = acknowledged
        unanswered = [p for p in self.seen.presses if not p.query.answered]
        counts["presses unanswered"] = len(unanswered)
        for press in unanswered:
            self.report.problem(
                "acknowledgements" if press.kind == "ack" else "tasks",
                f"{press.kind} press on #{press.incident} in {press.agency.code} never answered",
            )
        recorded_acks = [
            p
            for p in self.seen.presses
            if p.kind == "ack" and (p.query.answer_text or "").startswith(RECORDED)
        ]
        counts["acknowledge presses answered Tercatat"] = len(recorded_acks)
        for press in recorded_acks:
            actors = events.get((press.incident, press.agency.agency_id), [])
            if actors != [press.user.id]:
                self.report.problem(
                    "acknowledgements",
                    f"{press.user.first_name}'s acknowledgement of #{press.incident} was "
                    f"answered Tercatat but the timeline has acknowledgements by {actors}",
                )
        tasks = Counter(
            (int(i), int(a), int(u))
            for i, a, u in self.db.rows("SELECT incident_id, agency_id, user_id FROM assignments")
        )
        took = Counter(
            (int(i), int(a), int(u))
            for i, a, u in self.db.rows(
                "SELECT incident_id, agency_id, actor_id FROM incident_events "
                "WHERE kind = 'took_task'"
            )
        )
        picks = [
            p
            for p in self.seen.presses
            if p.kind == "pick" and (p.query.answer_text or "").startswith(RECORDED)
        ]
        counts["tasks taken (answered Tercatat)"] = len(picks)
        for press in picks:
            key = (press.incident, press.agency.agency_id, press.user.id)
            if tasks[key] != 1 or took[key] != 1:
                self.report.problem(
                    "tasks",
                    f"{press.user.first_name} took #{press.incident}: {tasks[key]} assignments, "
                    f"{took[key]} took_task events",
                )
        for key, count in took.items():
            if count > 1:
                self.report.problem("tasks", f"took_task recorded {count} times for {key}")

    def check_reminders(self) -> None:
        counts = self.report.counts
        attempts: Counter[tuple[int, int | None, str]] = Counter()
        reminders = self.db.rows(
            "SELECT id, kind, incident_id, agency_id, attempt, created_at, fired_at FROM reminders"
        )
        kills = [db_time(k) for k in self.bot.kills]
        survived = 0
        for _rid, kind, incident, agency_id, attempt, created, fired in reminders:
            group = "ack" if kind == "ack" else "follow_up"
            key = (int(incident), None if group != "ack" else int(agency_id), group)
            attempts[key] += int(attempt)
            if fired is not None and any(str(created) < k < str(fired) for k in kills):
                survived += 1
        events: Counter[tuple[int, int | None, str]] = Counter()
        for incident, agency_id, kind in self.db.rows(
            "SELECT incident_id, agency_id, kind FROM incident_events WHERE kind IN (?, ?, ?)",
            REMINDER_EVENTS,
        ):
            group = "follow_up" if kind == "follow_up" else "ack"
            agency = None if group != "ack" else int(agency_id)
            events[(int(incident), agency, group)] += 1
        counts["reminder rows"] = len(reminders)
        counts["reminders pending at the last kill, waited for"] = self.reminders_waited_for
        counts["reminder firings (one timeline event each)"] = sum(attempts.values())
        counts["reminders that fired after surviving a kill"] = survived
        for key in sorted(set(attempts) | set(events), key=str):
            if attempts[key] != events[key]:
                incident, agency_id, group = key
                self.report.problem(
                    "reminders",
                    f"#{incident} {group} reminders of agency {agency_id}: fired "
                    f"{attempts[key]} times, {events[key]} timeline events",
                )


async def run_crash_drill(plan: CrashPlan, workdir: Path) -> CrashReport:
    """Build the world, run the stream with the kills, catch up, and check. Bounded in time."""
    started = time.monotonic()
    # Each kill resets the dead bot's connections, which aiohttp logs as errors: expected here.
    server_log = logging.getLogger("aiohttp.server")
    level = server_log.level
    server_log.setLevel(logging.CRITICAL)
    try:
        return await _drill(plan, workdir, started)
    finally:
        server_log.setLevel(level)


async def _drill(plan: CrashPlan, workdir: Path, started: float) -> CrashReport:
    async with TelegramSimulator(seed=plan.seed) as sim:
        drill = Drill(sim, workdir, plan)
        try:
            async with asyncio.timeout(plan.time_limit):
                for phase in (drill.build_world, drill.stream, drill.finish):
                    began = time.monotonic()
                    await phase()
                    drill.report.phases[phase.__name__] = time.monotonic() - began
        except Exception as exc:
            exc.add_note(f"the drill stopped early; the bot's log ends:\n{drill.report.log_tail()}")
            raise
        finally:
            if drill.bot.alive:
                await drill.bot.stop(within=5.0)
        drill.check()
        drill.report.seconds = time.monotonic() - started
        return drill.report
