"""Issue 29, chart memory: what the digest's chart costs the bot's resident memory.

The real bot runs as its own process (`python -m bot run`, production settings, pacing off)
against the simulator, over a month of incidents written through the store (a response per
agency, most acknowledged within a quarter of an hour and resolved within the hour). An admin
has started the bot and the daily digest is due (DIGEST_TIME 00:00: the start-up catch-up queues
it 10 s after start). Read from the bot's /proc/<pid>/status (VmRSS):

* **the daily digest**: resident memory when the bot is up and idle, against once the digest's
  chart has reached the admin — the first chart of the process's life, text and chart in both
  languages (it loaded matplotlib into the bot, about 50 MB, before charts had a worker).
  Informational: the first digest also warms up what its text needs;
* **50 `/statistik`** from the admin, each answered (text, then chart) before the next: resident
  memory before the first against after the last, target ≤ 5 MB more;
* the time from each `/statistik` to its chart reaching the simulator;
* at the end, matplotlib mapped into the bot's process (/proc/<pid>/maps) and chart workers left
  behind (children of the bot, zombies included): both must be none.
"""

from __future__ import annotations

import asyncio
import os
import random
import signal
import sys
from datetime import timedelta
from pathlib import Path

from bench.common import (
    REPO_ROOT,
    CallWatch,
    Row,
    add_agencies,
    chat_of,
    checked,
    main,
    percentile,
    row,
    scratch_dir,
)
from bot.simulator import SimUser, TelegramSimulator
from bot.store import Store
from models.incident_types import IncidentType
from models.incidents import ACKNOWLEDGING, EventKind, Hurt, Lifecycle, Location, Severity, Source

CALLS, SMOKE_CALLS = 50, 1
INCIDENTS, SMOKE_INCIDENTS = 600, 40
MONTH = timedelta(days=31)
CHART_WAIT = 60.0  # seconds for one chart to arrive; it takes about two
DIGEST_WAIT = 90.0  # the catch-up starts 10 s after start-up, then draws a chart per language


async def fill(path: Path, sim: TelegramSimulator, admin: SimUser, count: int) -> None:
    """Two agencies and `count` incidents over the last month, the admin known to the bot."""
    chats = {}
    for code in ("damkar", "dinkes"):
        group = sim.add_group(code.title(), members=[admin])
        group.bot_status, group.bot_ever_member = "member", True
        chats[code] = group.id
    rng = random.Random(29)
    async with Store(path) as store:
        agencies = await add_agencies(store, chats)
        now = store.clock.now()
        async with store.transaction() as tx:
            await tx.record_person(
                admin.id,
                first_name=admin.first_name,
                last_name=None,
                username=admin.username,
                language_code="id",
                now=now,
                started=True,
            )
            for _ in range(count):
                created = now - timedelta(seconds=rng.randint(60, int(MONTH.total_seconds())))
                number = await tx.create_incident(
                    kind=rng.choice(list(IncidentType)),
                    severity=rng.choice(list(Severity)),
                    source=Source.CALL,
                    reporter_id=None,
                    reporter_phone=None,
                    location=Location(None, None, f"Jl. Tjilik Riwut km {rng.randint(1, 40)}"),
                    description="Rumah kayu terbakar, api besar, asap hitam",
                    hurt=Hurt.UNKNOWN,
                    hurt_count=None,
                    photos=[],
                    now=created,
                )
                await tx.add_event(number, EventKind.REPORTED, created)
                for agency in agencies:
                    await tx.add_response(number, agency.id, created)
                    if rng.random() < 0.9:
                        at = created + timedelta(seconds=rng.randint(20, 900))
                        await tx.acknowledge(number, agency.id, admin.id, False, at, ACKNOWLEDGING)
                        await tx.add_event(number, EventKind.ACKNOWLEDGED, at, agency_id=agency.id)
                resolved = created + timedelta(minutes=rng.randint(30, 120))
                if resolved < now:
                    await tx.set_lifecycle(number, Lifecycle.OPEN, Lifecycle.RESOLVED, resolved)
                    await tx.add_event(number, EventKind.RESOLVED, resolved)


def environment(sim: TelegramSimulator, database: Path, admin: SimUser) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "OUTBOX_"))}
    env.update(
        {
            "PYTHONPATH": os.pathsep.join(
                p for p in (str(REPO_ROOT), os.environ.get("PYTHONPATH", "")) if p
            ),
            "TELEGRAM_BOT_TOKEN": sim.token,
            "TELEGRAM_API_BASE_URL": sim.base_url,
            "DATABASE_PATH": str(database),
            "ADMIN_USER_IDS": str(admin.id),
            "LOG_LEVEL": "WARNING",
            "DIGEST_ENABLED": "true",
            "WEB_PORT": "0",
            "DIGEST_TIME": "00:00",  # passed already: the catch-up sends it soon after start
            # One person's answers are paced at about one a second (Telegram's per-chat limit);
            # the bot's own cost needs that off, as in the other figures.
            "OUTBOX_PACING": "false",
        }
    )
    return env


# --- the bot's process, from outside ---


def status_field(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1])
    raise RuntimeError(f"no {field} in /proc/{pid}/status")


def rss_mb(pid: int) -> float:
    return status_field(pid, "VmRSS") / 1024


def children(pid: int) -> list[int]:
    """The processes the bot started that are still there, exited-but-unreaped ones included."""
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        with_children = task / "children"
        if with_children.exists():
            found += [int(child) for child in with_children.read_text().split()]
    return found


def maps_matplotlib(pid: int) -> bool:
    return "/matplotlib/" in Path(f"/proc/{pid}/maps").read_text()


async def chart_time(sim: TelegramSimulator, person: SimUser, text: str) -> float:
    """Seconds from `person` sending `text` to the bot's chart reaching the simulator."""
    photos = CallWatch(sim, frozenset({"sendPhoto"}))
    sent = sim.clock()
    await sim.send_message(person, text)
    await sim.wait_for(
        lambda: any(chat_of(c) == person.id for c in photos.scan()),
        timeout=CHART_WAIT,
        what=f"the chart answering {text}",
    )
    return next(c.at for c in photos.found if chat_of(c) == person.id) - sent


async def stop(proc: asyncio.subprocess.Process) -> None:
    if proc.returncode is None:
        proc.send_signal(signal.SIGTERM)
    try:
        await asyncio.wait_for(proc.wait(), 20)
    except TimeoutError:
        proc.kill()
        await proc.wait()


async def measure(smoke: bool) -> list[Row]:
    calls, count = (SMOKE_CALLS, SMOKE_INCIDENTS) if smoke else (CALLS, INCIDENTS)
    with scratch_dir() as workdir:
        async with TelegramSimulator() as sim:
            admin = sim.add_user("Kiki", username="kiki", language_code="id")
            database = workdir / "siaga112.db"
            await fill(database, sim, admin, count)
            digest = CallWatch(sim, frozenset({"sendPhoto"}))
            with (workdir / "bot.log").open("wb") as log:
                proc = await asyncio.create_subprocess_exec(
                    sys.executable,
                    "-m",
                    "bot",
                    "run",
                    cwd=workdir,  # not the repository: a developer's .env must not be read
                    env=environment(sim, database, admin),
                    stdin=asyncio.subprocess.DEVNULL,
                    stdout=asyncio.subprocess.DEVNULL,
                    stderr=log,
                )
            try:
                answers = CallWatch(sim, frozenset({"sendMessage"}))
                await sim.send_message(admin, "/start")
                await sim.wait_for(
                    lambda: any(chat_of(c) == admin.id for c in answers.scan()),
                    timeout=60,
                    what="the answer to /start",
                )
                assert not digest.scan(), "the digest came before the bot was measured idle"
                idle = rss_mb(proc.pid)
                threads_idle = status_field(proc.pid, "Threads")
                await sim.wait_for(
                    lambda: any(chat_of(c) == admin.id for c in digest.scan()),
                    timeout=DIGEST_WAIT,
                    what="the daily digest's chart",
                )
                before = rss_mb(proc.pid)
                times = [await chart_time(sim, admin, "/statistik") for _ in range(calls)]
                after = rss_mb(proc.pid)
                threads_after = status_field(proc.pid, "Threads")
                mapped = maps_matplotlib(proc.pid)
                left = children(proc.pid)
            finally:
                await stop(proc)
    ms = [s * 1000 for s in times]
    note = f"{calls} × /statistik"
    return [
        row("bot resident memory, up and idle, before the daily digest", idle, "MB"),
        # Informational: the first digest of a process also pays one-off costs of its text
        # (the month's rows read, Babel's data, the upload path); the chart's share is the row
        # "matplotlib mapped" below (docs/benchmarks.md).
        row(
            "daily digest, the process's first: resident memory added (text + chart, 2 languages)",
            before - idle,
            "MB",
        ),
        row(f"bot resident memory before {note}", before, "MB"),
        row(f"bot resident memory after {note}", after, "MB"),
        row(f"{note}: resident memory added", after - before, "MB", target="<= 5"),
        row(f"{note}: resident memory added per chart", (after - before) * 1024 / calls, "KB"),
        row(f"{note}: time to the chart p50", percentile(ms, 50), "ms"),
        row(f"{note}: time to the chart max", max(ms), "ms"),
        row(
            f"bot threads after {note} (baseline: idle, before the digest)",
            threads_after,
            "count",
            baseline=threads_idle,
        ),
        checked(
            "matplotlib mapped into the bot's process", int(mapped), "count", not mapped, "== 0"
        ),
        checked("chart workers left behind", len(left), "count", not left, "== 0"),
    ]


if __name__ == "__main__":
    main(__doc__ or "", measure)
