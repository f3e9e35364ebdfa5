"""The playground page in a real headless Chromium: a resident files a report by clicking
through the steps, a responder acknowledges the card in the agency's group, the clock moves on
and the reminder appears. Screenshots land in build/screenshots/."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest
from playwright.async_api import Browser, Page

from bot.playground.server import playground
from tests.browser import WAIT_MS, chromium, screenshot

pytestmark = pytest.mark.browser


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    async with chromium() as launched:
        yield launched


async def bot_says(page: Page, words: str) -> None:
    """Wait until a message of the bot in the open chat contains `words`."""
    await page.wait_for_selector(f'#messages li.message.bot:has-text("{words}")', timeout=WAIT_MS)


async def press(page: Page, label: str) -> None:
    """Press the newest inline button with this label in the open chat."""
    await page.locator(f'#messages .keyboard button:has-text("{label}")').last.click()


async def be(page: Page, name: str) -> None:
    value = await page.evaluate(
        """name => [...document.querySelectorAll('#person option')]
            .find(o => o.textContent.startsWith(name)).value""",
        name,
    )
    await page.select_option("#person", value)
    await page.wait_for_selector("#chats button[aria-current=true]", timeout=WAIT_MS)


async def open_chat(page: Page, title: str) -> None:
    await page.click(f'#chats button:has-text("{title}")')
    await page.wait_for_selector(
        f'#chats button[aria-current=true]:has-text("{title}")', timeout=WAIT_MS
    )


async def say(page: Page, text: str) -> None:
    await page.fill("#text", text)
    await page.click("#send")


async def test_a_report_an_acknowledgement_and_a_reminder_by_clicking(browser: Browser) -> None:
    async with playground() as (address, script):
        page = await browser.new_page(viewport={"width": 1366, "height": 900})
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        await page.goto(address)
        await page.wait_for_selector("#chats button", timeout=WAIT_MS)
        assert "127.0.0.1" in (await page.text_content("#offline") or "")
        # As Ani, a resident: /lapor, the type, the place on the map, the words, nobody hurt,
        # her contact, send.
        await be(page, "Ani")
        await say(page, "/lapor")
        await bot_says(page, "Kebakaran")
        await press(page, "🔥 Kebakaran")
        await bot_says(page, "lokasi")
        await page.click("#share-location")
        await page.fill("#lat", "-2.2080")
        await page.fill("#lon", "113.9170")
        await page.click("#send-location")
        await page.wait_for_selector('#messages li.person:has-text("📍")', timeout=WAIT_MS)
        await say(page, "Rumah kayu terbakar di gang lima, api besar")
        await bot_says(page, "terluka")
        await press(page, "Tidak ada")
        await bot_says(page, "nomor")
        await page.click("#share-contact")
        await bot_says(page, "Periksa laporan")
        await screenshot(page, "play-report")
        await press(page, "Kirim laporan")
        await bot_says(page, "#1")
        # As Rudi of Damkar: the card in the group; he acknowledges it.
        await be(page, "Rudi")
        await open_chat(page, "Damkar")
        await page.wait_for_selector('#messages li.bot:has-text("#1")', timeout=WAIT_MS)
        await press(page, "Terima")
        card = '#messages li.bot:has-text("#1 · "):has-text("Rudi")'  # edited in place
        await page.wait_for_selector(card, timeout=WAIT_MS)
        assert "diedit" in (await page.text_content(card) or "")
        await screenshot(page, "play-acknowledged")
        # Five minutes pass: the volunteers, who have not acknowledged, are reminded.
        await page.click('#advance button[data-minutes="5"]')
        await be(page, "Sari")
        await open_chat(page, "Relawan")
        await bot_says(page, "Pengingat")
        await screenshot(page, "play-reminder")
        # A group's tools: the bot is made an admin there, from the page.
        await page.click('#chat-tools button:has-text("Jadikan bot admin")')
        await page.wait_for_selector(
            '#chat-tools button:has-text("Cabut admin bot")', timeout=WAIT_MS
        )
        assert errors == []
        # The refusals a modified page could ask for are answered, not crashed on.
        async with aiohttp.ClientSession() as session:
            async with session.post(
                f"{address}/api/act", json={"action": "clock", "minutes": 7}
            ) as r:
                assert r.status == 400 and "minutes" in (await r.json())["error"]
            async with session.post(f"{address}/api/act", json=["x"]) as r:
                assert r.status == 400
            body = {"action": "press", "user": 1, "chat": 1, "message": 1, "row": 0, "column": 0}
            async with session.post(f"{address}/api/act", json=body) as r:
                assert r.status == 400
        assert script.sim.unexpected_refusals() == []
