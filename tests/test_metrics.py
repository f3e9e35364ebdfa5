"""`/metrics`: Prometheus's text format, names prefixed siaga112_, and values that follow a
scenario through the real bot."""

from __future__ import annotations

from datetime import timedelta

import aiohttp
from prometheus_client.parser import text_string_to_metric_families

from bot.simulator import TelegramSimulator
from models.clock import ManualClock
from tests.harness import BotHarness
from tests.scenario import city_with_a_fire
from tests.test_store_loop import traced


async def scrape(address: str, token: str | None = None) -> tuple[int, str]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with (
        aiohttp.ClientSession() as session,
        session.get(f"{address}/metrics", headers=headers) as response,
    ):
        return response.status, await response.text()


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


async def test_metrics_follow_a_call_from_report_to_acknowledgement(
    sim: TelegramSimulator, harness: BotHarness
) -> None:
    clock = ManualClock()
    city, fire = await city_with_a_fire(sim, harness, clock=clock)
    assert harness.app is not None
    address = harness.app.bot_data.web_address
    assert address is not None
    clock.advance(timedelta(minutes=4))  # the volunteers' first reminder falls due at 3
    await harness.services.reminders.sweep()
    await harness.settle()
    status, text = await scrape(address)
    assert status == 200
    before = samples(text)
    assert before[("siaga112_incidents", (("state", "terbuka"), ("type", "kebakaran")))] == 1
    assert before[("siaga112_oldest_unacknowledged_seconds", ())] == 240.0
    assert before[("siaga112_reminders_total", ())] == 2  # Damkar's chat and the volunteers'
    assert before[("siaga112_sends_total", (("result", "ok"),))] > 0
    assert before[("siaga112_updates_total", ())] > 0
    assert before[("siaga112_outbox_pending", ())] == 0
    # Damkar acknowledges after five minutes: its histogram holds one call of 300 s.
    clock.advance(timedelta(minutes=1))
    await sim.press_button(city.crews["damkar"][0], city.card("damkar", fire), text="✅ Terima")
    await harness.settle()
    after = samples((await scrape(address))[1])
    bucket = "siaga112_time_to_acknowledge_seconds_bucket"
    assert after[(bucket, (("agency", "damkar"), ("le", "300.0")))] == 1
    assert after[(bucket, (("agency", "damkar"), ("le", "120.0")))] == 0
    assert after[("siaga112_time_to_acknowledge_seconds_sum", (("agency", "damkar"),))] == 300.0
    assert after[("siaga112_time_to_acknowledge_seconds_count", (("agency", "damkar"),))] == 1
    # The volunteers still have not: the oldest unacknowledged call is five minutes old.
    assert after[("siaga112_oldest_unacknowledged_seconds", ())] == 300.0
    assert all(name.startswith("siaga112_") for name, _ in after)


async def test_metrics_can_ask_for_a_token(sim: TelegramSimulator, harness: BotHarness) -> None:
    app = await harness.start(metrics_token="scrape-secret-123")
    address = app.bot_data.web_address
    assert address is not None
    assert (await scrape(address))[0] == 401
    assert (await scrape(address, "wrong"))[0] == 401
    status, text = await scrape(address, "scrape-secret-123")
    assert status == 200 and "siaga112_incidents" in text


async def test_a_scrape_reads_on_the_database_thread(
    sim: TelegramSimulator, harness: BotHarness
) -> None:
    """The snapshot counts over every incident (~0.4 s at 100,000): it runs on aiosqlite's
    thread, not on the event loop that handles updates and sends (`bot.store.connection`)."""
    app = await harness.start()
    address = app.bot_data.web_address
    assert address is not None
    with traced(harness.services.store) as seen:
        status, _text = await scrape(address)
    assert status == 200
    snapshot = [loop for sql, loop in seen if "COUNT(*) AS n FROM incidents" in sql]
    assert snapshot == [False]
