"""Figure 5, scale: the bot with 100,000 incidents in its database (1,000 of them open).

The database is filled straight through the store (`bench.common.add_incidents`, rows shaped like
the service writes them: the incident, a response and a posted card per agency, the timeline,
the card's outbox rows and message reference, a reminder per open response). Then the real bot
is started as its own process (`python -m bot run`, production settings, pacing on) against the
simulator, with a dispatcher's /start already waiting, and measured:

* cold start: from spawning the process to the answer to that /start reaching the simulator;
* /terbuka and /kejadian N: from the dispatcher's message to the answer reaching the simulator;
* resident memory: the process's peak RSS (VmHWM) after all that;
* database size per 1,000 incidents.
"""

from __future__ import annotations

import asyncio
import os
import random
import signal
import sys
from pathlib import Path

from bench.common import (
    REPO_ROOT,
    CallWatch,
    Row,
    add_agencies,
    add_incidents,
    chat_of,
    main,
    percentile,
    row,
    scratch_dir,
)
from bot.simulator import SimUser, TelegramSimulator
from bot.store import Store
from models.agencies import Role

SENDS = frozenset({"sendMessage"})


async def fill(path: Path, sim: TelegramSimulator, dispatcher: SimUser, count: int) -> int:
    """The database with `count` incidents; returns its size in bytes."""
    chats = {}
    for code in ("damkar", "relawan"):
        group = sim.add_group(code.title(), members=[dispatcher])
        group.bot_status, group.bot_ever_member = "member", True
        chats[code] = group.id
    async with Store(path) as store:
        agencies = await add_agencies(store, chats)
        now = store.clock.now()
        async with store.transaction() as tx:
            await tx.record_person(
                dispatcher.id,
                first_name=dispatcher.first_name,
                last_name=None,
                username="dita",
                language_code="id",
                now=now,
                started=True,
            )
            await tx.grant_role(dispatcher.id, Role.DISPATCHER, dispatcher.id, now)
        await add_incidents(store, count, agencies, open_count=min(1000, count // 10))
        pages, size = await store.pragma("page_count"), await store.pragma("page_size")
    assert isinstance(pages, int) and isinstance(size, int)
    return pages * size


def environment(sim: TelegramSimulator, database: Path, admin: SimUser) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "OUTBOX_"))}
    env.update(
        {
            "PYTHONPATH": str(REPO_ROOT),
            "TELEGRAM_BOT_TOKEN": sim.token,
            "TELEGRAM_API_BASE_URL": sim.base_url,
            "DATABASE_PATH": str(database),
            "ADMIN_USER_IDS": str(admin.id),
            "LOG_LEVEL": "WARNING",
            "DIGEST_ENABLED": "false",
            "WEB_PORT": "0",
            # Answers to one person are paced at about one a second (Telegram's per-chat limit);
            # timing the bot's own cost needs that off, as in figures 1 and 2.
            "OUTBOX_PACING": "false",
        }
    )
    return env


async def answer_time(sim: TelegramSimulator, person: SimUser, text: str) -> float:
    """Seconds from `person` sending `text` to the bot's answer reaching the simulator."""
    answers = CallWatch(sim, SENDS)
    sent = sim.clock()
    await sim.send_message(person, text)
    await sim.wait_for(
        lambda: any(chat_of(c) == person.id for c in answers.scan()),
        timeout=30,
        what=f"the answer to {text}",
    )
    return next(c.at for c in answers.found if chat_of(c) == person.id) - sent


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM in /proc status")


async def measure(smoke: bool) -> list[Row]:
    count, asks = (2_000, 3) if smoke else (100_000, 20)
    rng = random.Random(5)
    with scratch_dir() as workdir:
        async with TelegramSimulator() as sim:
            dispatcher = sim.add_user("Dita", username="dita", language_code="id")
            database = workdir / "siaga112.db"
            size = await fill(database, sim, dispatcher, count)
            first_answer = CallWatch(sim, SENDS)
            await sim.send_message(dispatcher, "/start")
            spawned = sim.clock()
            proc = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "bot",
                "run",
                cwd=workdir,  # not the repository: a developer's .env must not be read
                env=environment(sim, database, dispatcher),
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.DEVNULL,
                stderr=(workdir / "bot.log").open("wb"),
            )
            try:
                await sim.wait_for(
                    lambda: any(chat_of(c) == dispatcher.id for c in first_answer.scan()),
                    timeout=60,
                    what="the answer to /start",
                )
                cold = next(c.at for c in first_answer.found if chat_of(c) == dispatcher.id)
                cold -= spawned
                open_list = [await answer_time(sim, dispatcher, "/terbuka") for _ in range(asks)]
                lookups = [
                    await answer_time(sim, dispatcher, f"/kejadian {rng.randint(1, count)}")
                    for _ in range(asks)
                ]
                rss = peak_rss_mb(proc.pid)
            finally:
                if proc.returncode is None:
                    proc.send_signal(signal.SIGTERM)
                try:
                    await asyncio.wait_for(proc.wait(), 20)
                except TimeoutError:
                    proc.kill()
                    await proc.wait()
    note = f"({count:,} incidents)"
    open_ms = [s * 1000 for s in open_list]
    lookup_ms = [s * 1000 for s in lookups]
    return [
        row(f"cold start to first answered update {note}", cold, "s", target="<= 3"),
        row(f"peak resident memory {note}", rss, "MB", target="<= 150"),
        row(f"/terbuka answer time p50 {note}", percentile(open_ms, 50), "ms", target="<= 50"),
        row(f"/terbuka answer time max {note}", max(open_ms), "ms"),
        row(f"/kejadian N answer time p50 {note}", percentile(lookup_ms, 50), "ms", target="<= 50"),
        row(f"/kejadian N answer time max {note}", max(lookup_ms), "ms"),
        row("database size per 1,000 incidents", size / count / 1000, "MB"),
    ]


if __name__ == "__main__":
    main(__doc__ or "", measure)
