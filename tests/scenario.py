"""A running city for scenario tests: admin, agencies with members on duty, a coordinator."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from bot.simulator import SimChat, SimMessage, SimUser, TelegramSimulator
from models.clock import Clock
from tests.harness import BotHarness

CARD_HEADER = re.compile(r"^\S+ #\d+")
DRILL_LINE = re.compile(r"^🧪 [^\n]*\n")  # a drill's marker heads its cards


def headline(message: SimMessage) -> str:
    """A card's first line, below a drill's marker."""
    return DRILL_LINE.sub("", message.text or "", count=1).split("\n", 1)[0]


@dataclass
class City:
    sim: TelegramSimulator
    harness: BotHarness
    admin: SimUser
    dispatcher: SimUser
    coordinator: SimUser
    groups: dict[str, SimChat] = field(default_factory=dict)
    crews: dict[str, list[SimUser]] = field(default_factory=dict)

    async def agency(
        self, code: str, name: str, *members: SimUser, on_duty: bool = True
    ) -> SimChat:
        group = self.sim.add_group(name, members=[self.admin, *members])
        self.sim.add_bot_to_group(group, by=self.admin)
        await self.harness.settle()
        await self.harness.says(self.admin, f"/daftar {code} {name}", chat=group)
        for member in members:
            await self.harness.says(member, "/gabung", chat=group)
            await self.harness.says(member, "/start")
            if on_duty:
                await self.harness.says(member, "/siaga", chat=group)
        self.groups[code] = group
        self.crews[code] = list(members)
        return group

    def cards(self, code: str) -> list[SimMessage]:
        """The incident cards the agency's chat shows (bot messages with a Manage/closed card)."""
        return [
            m for m in self.sim.bot_messages(self.groups[code]) if CARD_HEADER.match(headline(m))
        ]

    def card(self, code: str, number: int) -> SimMessage:
        found = [m for m in self.cards(code) if f"#{number} " in headline(m) + " "]
        assert len(found) == 1, f"expected one card #{number} in {code}, found {len(found)}"
        return found[0]


async def build_city(
    sim: TelegramSimulator, harness: BotHarness, *, clock: Clock | None = None, **settings: Any
) -> City:
    admin = sim.add_user("Yusuf", username="yusuf", language_code="id")
    dispatcher = sim.add_user("Dita", username="dita", language_code="id")
    coordinator = sim.add_user("Kiki", username="kiki", language_code="id")
    await harness.start(admins=[admin], clock=clock, **settings)
    city = City(sim, harness, admin, dispatcher, coordinator)
    for person in (admin, dispatcher, coordinator):
        await harness.says(person, "/start")
    await harness.says(admin, "/peran beri dispatcher @dita")
    await harness.says(admin, "/peran beri koordinator @kiki")
    await city.agency(
        "damkar", "Damkar Palangka Raya", sim.add_user("Rudi", username="rudi", language_code="id")
    )
    await city.agency(
        "relawan",
        "Relawan Damkar",
        sim.add_user("Sari", username="sari", language_code="id"),
        sim.add_user("Tom", username="tom", language_code="en"),
    )
    await city.agency(
        "dinkes", "PSC 119 Dinkes", sim.add_user("Dewi", username="dewi", language_code="id")
    )
    return city


async def report(
    city: City,
    reporter: SimUser,
    *,
    kind_button: str = "🔥 Kebakaran",
    location: tuple[float, float] | None = (-2.2100, 113.9200),
    address: str | None = None,
    description: str = "Rumah kayu terbakar, api besar, asap hitam",
    photos: int = 0,
    hurt: str = "Tidak ada",
    share_phone: bool = True,
) -> int:
    """A reporter goes through /lapor as a person would; returns the incident number."""
    sim, harness = city.sim, city.harness
    chat = sim.private_chat(reporter)
    await harness.says(reporter, "/lapor")
    question = sim.bot_messages(chat)[-1]
    await sim.press_button(reporter, question, text=kind_button)
    await sim.wait_for(
        lambda: sim.bot_messages(chat)[-1] is not question, what="the location question"
    )
    if location is not None:
        before = len(sim.bot_messages(chat))
        await sim.send_location(reporter, *location)
        await sim.wait_for(
            lambda: len(sim.bot_messages(chat)) > before, what="the description question"
        )
    else:
        assert address is not None
        await harness.says(reporter, address)
    for index in range(photos):
        before = len(sim.bot_messages(chat))
        await sim.send_photo(reporter, caption=description if index == 0 else None)
        await sim.wait_for(
            lambda seen=before: len(sim.bot_messages(chat)) > seen, what="the photo acknowledged"
        )
    if photos:
        await sim.press_button(reporter, sim.bot_messages(chat)[-1], text="Lanjut ➡️")
        await sim.wait_for(
            lambda: "terluka" in (sim.bot_messages(chat)[-1].text or ""), what="hurt question"
        )
    else:
        await harness.says(reporter, description)
    hurt_question = sim.bot_messages(chat)[-1]
    await sim.press_button(reporter, hurt_question, text=hurt)
    await sim.wait_for(
        lambda: "nomor" in (sim.bot_messages(chat)[-1].text or ""), what="contact question"
    )
    before = len(sim.bot_messages(chat))
    if share_phone:
        await sim.send_contact(reporter, "+62 812-5555-0101")
    else:
        await sim.send_message(reporter, "Lewati")
    await sim.wait_for(lambda: len(sim.bot_messages(chat)) > before, what="the review")
    review = sim.bot_messages(chat)[-1]
    assert review.text is not None and review.text.startswith("Periksa laporan Anda"), review.text
    await sim.press_button(reporter, review, text="✅ Kirim laporan")
    await sim.wait_for(
        lambda: any(
            "#" in (m.text or "") and "terkirim" in (m.text or "") for m in sim.bot_messages(chat)
        ),
        what="the submission",
    )
    await harness.settle()
    async with (
        harness.services.store.read() as tx,
        tx.db.execute(
            "SELECT MAX(id) FROM incidents WHERE reporter_id = ?", (reporter.id,)
        ) as cursor,
    ):
        row = await cursor.fetchone()
    assert row is not None and row[0] is not None
    return int(row[0])


async def city_with_a_fire(
    sim: TelegramSimulator, harness: BotHarness, **settings: Any
) -> tuple[City, int]:
    """The test city, and a fire Ani (a resident) reported through the bot."""
    city = await build_city(sim, harness, **settings)
    ani = sim.add_user("Ani", language_code="id")
    await harness.says(ani, "/start")
    return city, await report(city, ani)
