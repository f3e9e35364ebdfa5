"""The board page in a real headless Chromium, against the real bot on the simulator: signing
in by the link and inside Telegram, incidents and agency states appearing live, the wall screen's
banner while the server is away, who sees what, the map with and without tiles, drills apart,
and a phone's width. Screenshots land in build/screenshots/."""

from __future__ import annotations

import hashlib
import json
from collections.abc import AsyncIterator
from urllib.parse import quote

import pytest
from playwright.async_api import Browser, Page

from bot.simulator import SimUser, TelegramSimulator
from bot.web.page import STATIC
from tests.browser import WAIT_MS, chromium, screenshot
from tests.harness import BotHarness
from tests.scenario import City, build_city, city_with_a_fire, report
from tests.test_broadcasts import send
from tests.test_drills import drill_incidents, start_drill
from tests.test_web import init_data, link_for

pytestmark = pytest.mark.browser


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    async with chromium() as launched:
        yield launched


async def board_page(browser: Browser, url: str, **options: object) -> Page:
    """A fresh browser context (its own cookies) on `url`; a script error fails the test."""
    context = await browser.new_context(**options)  # type: ignore[arg-type]
    page = await context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on(
        "console",
        lambda message: errors.append(message.text) if message.text.startswith("board:") else None,
    )
    page.errors = errors  # type: ignore[attr-defined]
    await page.goto(url)
    return page


def no_script_errors(page: Page) -> None:
    assert page.errors == []  # type: ignore[attr-defined]


async def signed_in_page(
    browser: Browser, city: City, person: SimUser, query: str = "", **options: object
) -> Page:
    link = await link_for(city.sim, city.harness, person)
    page = await board_page(browser, link, **options)
    await page.wait_for_selector("#list[aria-busy=false]", timeout=WAIT_MS)
    if query:
        await page.goto(page.url.split("?")[0] + query)
        await page.wait_for_selector("#list[aria-busy=false]", timeout=WAIT_MS)
    return page


def item(number: int) -> str:
    return f'#list article[data-number="{number}"]'


async def test_signed_in_by_link_the_board_shows_incidents_and_states_as_they_happen(
    sim: TelegramSimulator, harness: BotHarness, browser: Browser
) -> None:
    city = await build_city(sim, harness, map_tile_url="")
    ani = sim.add_user("Ani", language_code="id")
    await harness.says(ani, "/start")
    first = await report(city, ani, location=None, address="Jl. Tjilik Riwut km 5")
    page = await signed_in_page(browser, city, city.dispatcher)
    assert page.url.endswith("/board")
    await page.wait_for_selector(item(first), timeout=WAIT_MS)
    await page.evaluate("window.__notReloaded = true")
    # A report filed through the simulator appears without a reload, with a chip per agency.
    budi = sim.add_user("Budi", language_code="id")
    second = await report(city, budi, location=(-2.2300, 113.8900))
    await page.wait_for_selector(item(second), timeout=WAIT_MS)
    waiting = f'{item(second)} .chip[data-agency="damkar"][data-state="menunggu"]'
    await page.wait_for_selector(waiting, timeout=WAIT_MS)
    # Damkar acknowledges in its group: its chip changes, live.
    rudi = city.crews["damkar"][0]
    await sim.press_button(rudi, city.card("damkar", second), text="✅ Terima")
    acknowledged = f'{item(second)} .chip[data-agency="damkar"][data-state="diterima"]'
    await page.wait_for_selector(acknowledged, timeout=WAIT_MS)
    assert await page.evaluate("window.__notReloaded") is True
    assert "Kejadian terbuka: 2" in (await page.text_content("#count") or "")
    assert "Jl. Tjilik Riwut km 5" in (await page.text_content(item(first)) or "")
    # The one pin is on the map (no tiles: the plain grid is there, and says so).
    assert await page.locator("#map path.leaflet-interactive").count() == 1
    assert await page.is_visible("#mapnote")
    await screenshot(page, "board-list")
    # The side panel: timeline, what was said, the pin.
    await page.click(item(second))
    await page.wait_for_selector("#panel:not([hidden]) #pinmap", timeout=WAIT_MS)
    panel = await page.text_content("#panel-body") or ""
    assert f"#{second}" in panel and "-2.2300, 113.8900" in panel and "Kronologi" in panel
    assert "Rumah kayu terbakar" in panel
    assert "Rudi" in panel  # who acknowledged, on the timeline
    # The open panel follows the incident: the volunteers acknowledge, it shows at once, and
    # its small map is replaced, not piled up (one for the board, one for the panel).
    sari = city.crews["relawan"][0]
    await sim.press_button(sari, city.card("relawan", second), text="✅ Terima")
    await page.wait_for_selector(
        '#panel-body .chip[data-agency="relawan"][data-state="diterima"]', timeout=WAIT_MS
    )
    assert await page.evaluate("document.querySelectorAll('.leaflet-container').length") == 2
    await screenshot(page, "board-panel")
    await page.click("#panel-close")
    # The same fire reported again nearby: folded under the first report, not a new line.
    cici = sim.add_user("Cici", language_code="id")
    again = await report(city, cici, location=(-2.2301, 113.8901))
    folded = f"{item(second)} details.folded {item(again).removeprefix('#list ')}"
    await page.wait_for_selector(folded, state="attached", timeout=WAIT_MS)
    assert "1 laporan mungkin sama" in (await page.text_content(f"{item(second)} summary") or "")
    no_script_errors(page)


async def test_the_wall_screen_says_when_the_connection_is_lost_and_recovers(
    sim: TelegramSimulator, harness: BotHarness, browser: Browser
) -> None:
    city, fire = await city_with_a_fire(sim, harness, map_tile_url="")
    page = await signed_in_page(
        browser, city, city.dispatcher, "?wall=1", viewport={"width": 1920, "height": 1080}
    )
    await page.wait_for_selector(item(fire), timeout=WAIT_MS)
    assert "wall" in (await page.get_attribute("html", "class") or "")
    assert (await page.text_content("#clock") or "").endswith("WIB")
    assert await page.is_hidden("#banner")
    await screenshot(page, "board-wall")
    # The bot (and its web server) stops: the banner says so.
    port = harness.services.settings.web_port
    address = harness.app.bot_data.web_address if harness.app else None
    assert address is not None
    await harness.stop()
    await page.wait_for_selector("#banner:not([hidden])", timeout=WAIT_MS)
    assert "Koneksi terputus" in (await page.text_content("#banner") or "")
    await screenshot(page, "board-wall-disconnected")
    # It comes back on the same address; the banner goes and what happened meanwhile shows.
    web_port = int(address.rsplit(":", 1)[1])
    await harness.start(admins=[city.admin], map_tile_url="", web_port=web_port or port)
    await page.wait_for_selector("#banner[hidden]", state="attached", timeout=WAIT_MS)
    budi = sim.add_user("Budi", language_code="id")
    second = await report(city, budi, kind_button="🚑 Darurat medis", location=(-2.1800, 113.8500))
    await page.wait_for_selector(item(second), timeout=WAIT_MS)
    no_script_errors(page)


async def test_an_agency_member_sees_only_their_agencies_incidents(
    sim: TelegramSimulator, harness: BotHarness, browser: Browser
) -> None:
    city = await build_city(sim, harness, map_tile_url="")
    ani = sim.add_user("Ani", language_code="id")
    await harness.says(ani, "/start")
    medical = await report(city, ani, kind_button="🚑 Darurat medis")
    dewi = city.crews["dinkes"][0]
    page = await signed_in_page(browser, city, dewi)
    await page.wait_for_selector(item(medical), timeout=WAIT_MS)
    budi = sim.add_user("Budi", language_code="id")
    fire = await report(city, budi)  # Damkar's and the volunteers', not Dinkes'
    cici = sim.add_user("Cici", language_code="id")
    second = await report(city, cici, kind_button="🚑 Darurat medis", location=(-2.1500, 113.8000))
    await page.wait_for_selector(item(second), timeout=WAIT_MS)
    assert await page.locator(item(fire)).count() == 0
    assert await page.locator("#list article").count() == 2
    no_script_errors(page)


async def test_the_map_works_with_tiles_unreachable_too(
    sim: TelegramSimulator, harness: BotHarness, browser: Browser
) -> None:
    # The default tile server, which this machine cannot reach: the pins and grid still show.
    city = await build_city(sim, harness)
    assert harness.services.settings.map_tile_url.startswith("https://")
    ani = sim.add_user("Ani", language_code="id")
    await harness.says(ani, "/start")
    fire = await report(city, ani)
    page = await signed_in_page(browser, city, city.dispatcher)
    await page.wait_for_selector(item(fire), timeout=WAIT_MS)
    assert await page.locator("#map path.leaflet-interactive").count() == 1
    assert await page.is_hidden("#mapnote")  # tiles are configured: no "no tiles" note
    attribution = await page.text_content(".leaflet-control-attribution") or ""
    assert "OpenStreetMap" in attribution
    no_script_errors(page)


async def test_drills_are_only_in_the_drill_view_and_marked(
    sim: TelegramSimulator, harness: BotHarness, browser: Browser
) -> None:
    city, real = await city_with_a_fire(sim, harness, map_tile_url="")
    drill = await start_drill(city)
    practice = await drill_incidents(harness, drill)
    assert practice
    page = await signed_in_page(browser, city, city.dispatcher)
    await page.wait_for_selector(item(real), timeout=WAIT_MS)
    assert await page.locator(item(practice[0])).count() == 0
    await page.click("#views a:has-text('Latihan')")
    await page.wait_for_selector(item(practice[0]), timeout=WAIT_MS)
    assert await page.locator(item(real)).count() == 0
    assert await page.is_visible("#drillbar")
    assert "LATIHAN" in (await page.text_content(f"{item(practice[0])} .tag.drill") or "")
    await screenshot(page, "board-drill")
    no_script_errors(page)


async def test_a_broadcast_in_progress_shows_its_confirmations(
    sim: TelegramSimulator, harness: BotHarness, browser: Browser
) -> None:
    city = await build_city(sim, harness, map_tile_url="")
    page = await signed_in_page(browser, city, city.coordinator)
    number = await send(city)
    selector = f'#broadcasts .broadcast[data-broadcast="{number}"]'
    await page.wait_for_selector(selector, timeout=WAIT_MS)
    copy = next(
        m
        for m in sim.bot_messages(city.groups["damkar"])
        if any("✅ Diterima" in row for row in m.buttons)
    )
    await sim.press_button(city.crews["damkar"][0], copy, text="✅ Diterima")
    await page.wait_for_function(
        "s => (document.querySelector(s)?.textContent || '').includes('1 konfirmasi')",
        arg=selector,
        timeout=WAIT_MS,
    )
    no_script_errors(page)


async def test_inside_telegram_the_mini_app_signs_in_by_itself_and_in_english(
    sim: TelegramSimulator, harness: BotHarness, browser: Browser
) -> None:
    city, fire = await city_with_a_fire(sim, harness, map_tile_url="")
    tom = city.crews["relawan"][1]  # Telegram in English
    address = harness.app.bot_data.web_address if harness.app else None
    now = int(harness.services.clock.now().timestamp())
    launch = init_data(sim.token, tom.id, now)
    url = f"{address}/board#tgWebAppData={quote(launch)}&tgWebAppVersion=8.0"
    page = await board_page(browser, url, viewport={"width": 390, "height": 844})
    await page.wait_for_selector(item(fire), timeout=WAIT_MS)
    assert "Open incidents: 1" in (await page.text_content("#count") or "")
    # A phone's width: one column, nothing wider than the screen.
    width = await page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390
    await screenshot(page, "board-phone")
    # A forged launch (another bot's signature) is not signed in: it is told how to.
    forged = init_data("123:another-bot", tom.id, now)
    url = f"{address}/board#tgWebAppData={quote(forged)}"
    stranger = await board_page(browser, url)
    await stranger.wait_for_selector("#signin:not([hidden])", timeout=WAIT_MS)
    assert "/papan" in (await stranger.text_content("#signin") or "")
    assert await stranger.locator("#list article").count() == 0
    no_script_errors(page)
    no_script_errors(stranger)


def test_leaflet_is_vendored_unchanged_from_its_npm_release() -> None:
    folder = STATIC / "vendor" / "leaflet"
    manifest = json.loads((folder / "VENDORED.json").read_text())
    assert manifest["package"] == "leaflet" and manifest["version"] == "1.9.4"
    files = {
        str(path.relative_to(folder)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(folder.rglob("*"))
        if path.is_file() and path.name != "VENDORED.json"
    }
    assert files == manifest["files"]
    assert "LICENSE" in files
    # Nothing on the page loads from another host.
    page = (STATIC / "board.html").read_text()
    assert "http://" not in page and "https://" not in page
