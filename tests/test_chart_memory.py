"""A chart costs the bot nothing once it is made (issue 29).

The chart is drawn by a worker process of its own (`bot.services.digest.draw_chart` runs
`python -m bot.render.digest`), so matplotlib never loads into the bot; the worker closes its
figure as soon as the PNG is saved. These tests check that the figure is closed and released,
that the worker draws exactly the in-process chart, that the bot's own process can do without
matplotlib altogether, and that a failed, hung or abandoned worker leaves neither a process behind
nor a digest unsent.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import signal
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

import bot.render.digest
import bot.services.digest
from bot.render.digest import chart_of_request, chart_request, digest_chart
from bot.services.digest import ChartError, DigestService, draw_chart
from bot.settings import Language
from bot.simulator import TelegramSimulator
from bot.store import Store
from models.clock import ManualClock
from models.outbox import OutboxStatus
from tests.harness import BotHarness
from tests.scenario import build_city
from tests.test_digest import (
    MORNING,
    PNG_SIGNATURE,
    WIB,
    crowded_digest,
    fixture_digest,
    settings_for,
    write_fixture,
)

CHART_WAIT = 60.0  # seconds; a chart takes a couple (a fresh interpreter loads matplotlib)


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    async with Store(tmp_path / "digest.db", ManualClock(MORNING)) as opened:
        yield opened


def live(kind: type) -> list[Any]:
    """Every object of `kind` still in memory, collected or not."""
    return [item for item in gc.get_objects() if isinstance(item, kind)]


@pytest.fixture
def collector_paused() -> Iterator[None]:
    """Only what reference counting frees is freed while the test runs."""
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def assert_closed_and_released(figures_before: list[Any]) -> None:
    from matplotlib._pylab_helpers import Gcf
    from matplotlib.backends.backend_agg import FigureCanvasAgg, RendererAgg
    from matplotlib.figure import Figure

    assert Gcf.get_num_fig_managers() == 0, "a figure was registered with pyplot"
    # Closed at once, before any collection: the figure's axes and artists are gone.
    new = [f for f in live(Figure) if not any(f is old for old in figures_before)]
    assert all(not figure.axes and not figure.texts for figure in new)
    del new
    # Nothing holds on to what is left: the collector's next pass frees the figure, its canvas
    # and the canvas's pixel buffer.
    gc.collect()
    assert not [f for f in live(Figure) if not any(f is old for old in figures_before)]
    assert not live(FigureCanvasAgg)
    assert not live(RendererAgg)


@pytest.mark.parametrize("language", ["id", "en"])
@pytest.mark.usefixtures("collector_paused")
def test_no_figure_stays_open_after_a_chart(language: Language) -> None:
    """Drawn in this process through the function the worker runs."""
    from matplotlib.figure import Figure

    before = live(Figure)
    for digest in (fixture_digest(), crowded_digest()):
        png = chart_of_request(chart_request(digest, language, WIB))
        assert png.startswith(PNG_SIGNATURE)
    assert_closed_and_released(before)


@pytest.mark.usefixtures("collector_paused")
def test_a_chart_that_fails_half_drawn_closes_its_figure(monkeypatch: pytest.MonkeyPatch) -> None:
    from matplotlib.figure import Figure

    def broken(*args: object) -> None:
        raise RuntimeError("no bars today")

    monkeypatch.setattr(bot.render.digest, "_hourly", broken)
    before = live(Figure)
    with pytest.raises(RuntimeError, match="no bars today"):
        digest_chart(fixture_digest(), "id", WIB)
    assert_closed_and_released(before)


async def test_the_worker_draws_exactly_the_chart_drawn_here() -> None:
    for digest in (fixture_digest(), crowded_digest()):
        assert await draw_chart(digest, "en", WIB) == digest_chart(digest, "en", WIB)


@pytest.fixture
def matplotlib_blocked(monkeypatch: pytest.MonkeyPatch) -> None:
    """This process cannot import matplotlib: a None in sys.modules stops every import of it.
    (Other tests draw charts in this process, so "not in sys.modules" cannot be checked here.)"""
    loaded = [name for name in sys.modules if name.split(".")[0] == "matplotlib"]
    for name in {"matplotlib", *loaded}:
        monkeypatch.setitem(sys.modules, name, None)


@pytest.mark.usefixtures("matplotlib_blocked")
async def test_a_coordinator_gets_the_chart_from_a_bot_without_matplotlib(
    sim: TelegramSimulator, harness: BotHarness
) -> None:
    """/statistik answers the figures and the chart, and the bot's process never needed
    matplotlib for it."""
    with pytest.raises(ImportError):
        import matplotlib.figure  # noqa: F401
    city = await build_city(sim, harness)
    inbox = sim.private_chat(city.coordinator)
    await harness.says(city.coordinator, "/statistik 0")
    await sim.wait_for(
        lambda: any(m.photo for m in sim.bot_messages(inbox)),
        timeout=CHART_WAIT,
        what="the chart as a photo",
    )
    assert any("Ringkasan 112" in (m.text or "") for m in sim.bot_messages(inbox))


# --- when the worker does not deliver ---


class Spawned:
    """The chart workers started while it is installed, and an event set by each start."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.processes: list[asyncio.subprocess.Process] = []
        self.started = asyncio.Event()
        spawn = asyncio.create_subprocess_exec

        async def recording(*args: Any, **kwargs: Any) -> asyncio.subprocess.Process:
            process = await spawn(*args, **kwargs)
            self.processes.append(process)
            self.started.set()
            return process

        monkeypatch.setattr(asyncio, "create_subprocess_exec", recording)

    def assert_all_gone(self) -> None:
        """Every worker has exited and been reaped: no process, not even a zombie, is left."""
        assert self.processes
        for process in self.processes:
            assert process.returncode is not None
            assert not Path(f"/proc/{process.pid}").exists()


def worker_running(monkeypatch: pytest.MonkeyPatch, code: str) -> None:
    monkeypatch.setattr(bot.services.digest, "CHART_WORKER", ("-c", code))


async def test_a_failed_worker_leaves_the_text_to_go_alone(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    await write_fixture(store)
    worker_running(monkeypatch, "raise SystemExit('the worker fell over')")
    spawned = Spawned(monkeypatch)
    service = DigestService(store, ManualClock(MORNING), settings_for(tmp_path))
    with caplog.at_level(logging.ERROR, logger="bot.services.digest"):
        report = await service.report(1, "en")
    assert report.chart is None
    assert "Damkar Palangka Raya" in report.text
    (failure,) = [r for r in caplog.records if r.name == "bot.services.digest"]
    assert failure.exc_info is not None and isinstance(failure.exc_info[1], ChartError)
    assert "the worker fell over" in str(failure.exc_info[1])
    spawned.assert_all_gone()


async def test_without_charts_the_morning_digest_still_goes_out(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    await write_fixture(store)
    worker_running(monkeypatch, "import sys; sys.stdout.write('not a png')")
    settings = settings_for(tmp_path, admin_user_ids=(5,))
    async with store.transaction() as tx:
        await tx.record_person(
            5,
            first_name="A",
            last_name=None,
            username=None,
            language_code="id",
            now=MORNING,
            started=True,
        )
    service = DigestService(store, ManualClock(MORNING), settings)
    assert await service.send_daily() == 1
    async with store.read() as tx:
        items = await tx.outbox_items((OutboxStatus.PENDING,))
    assert [item.method.value for item in items] == ["sendMessage"]


async def test_a_hung_worker_is_killed_and_reaped(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    worker_running(monkeypatch, "import sys, time; sys.stdin.read(); time.sleep(600)")
    monkeypatch.setattr(bot.services.digest, "CHART_TIMEOUT", 0.5)
    spawned = Spawned(monkeypatch)
    service = DigestService(store, ManualClock(MORNING), settings_for(tmp_path))
    report = await service.report(1, "id")
    assert report.chart is None
    assert spawned.processes[0].returncode == -signal.SIGKILL
    spawned.assert_all_gone()


async def test_a_chart_abandoned_midway_leaves_no_worker(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The bot stops (its task is cancelled) while a worker draws: the worker goes with it."""
    worker_running(monkeypatch, "import time; time.sleep(600)")
    spawned = Spawned(monkeypatch)
    service = DigestService(store, ManualClock(MORNING), settings_for(tmp_path))
    asking = asyncio.create_task(service.report(1, "id"))
    await spawned.started.wait()
    asking.cancel()
    with pytest.raises(asyncio.CancelledError):
        await asking
    assert spawned.processes[0].returncode == -signal.SIGKILL
    spawned.assert_all_gone()
