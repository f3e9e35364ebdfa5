"""Waking the people on duty: a private alert to every on-duty member when a call comes for their
agency, acting from it, joining an agency by acting in its group, and what rings and what is
quiet — through the simulator."""

from __future__ import annotations

from typing import Any

from bot.callbacks import ButtonAction, DutyButton
from bot.services.incidents import NewIncident
from bot.simulator import ApiCall, SimMessage, SimUser, TelegramSimulator
from models.incident_types import IncidentType
from models.incidents import Location, Source
from models.outbox import message_link
from tests.harness import BotHarness
from tests.scenario import City, build_city, report

ALERT = "🚨"
ACK_RELAWAN = "✅ Terima untuk Relawan Damkar"
TAKE = "🙋 Saya ambil"


def alerts(sim: TelegramSimulator, person: SimUser) -> list[SimMessage]:
    return [
        m for m in sim.bot_messages(sim.private_chat(person)) if (m.text or "").startswith(ALERT)
    ]


def flag(call: ApiCall, name: str) -> bool:
    return str(call.params.get(name, "")).lower() == "true"


def sends_to(sim: TelegramSimulator, chat_id: int, method: str = "sendMessage") -> list[ApiCall]:
    return [
        c
        for c in sim.calls
        if c.ok and c.method == method and str(c.params.get("chat_id")) == str(chat_id)
    ]


async def fire(city: City) -> int:
    ani = city.sim.add_user("Ani", language_code="id")
    await city.harness.says(ani, "/start")
    return await report(city, ani)


async def submit(city: City, kind: IncidentType) -> int:
    submitted = await city.harness.services.incidents.submit(
        NewIncident(
            kind=kind,
            location=Location(-2.21, 113.92, None),
            description="Ular kobra masuk ke dapur rumah warga",
            source=Source.CALL,
        )
    )
    await city.harness.settle()
    return submitted.incident_id


# --- the alert, and acting from it ---


async def test_on_duty_members_are_alerted_after_the_card_and_one_acknowledges_from_it(
    sim: TelegramSimulator, harness: BotHarness
) -> None:
    city = await build_city(sim, harness)
    number = await fire(city)
    sari, tom = city.crews["relawan"]
    rudi = city.crews["damkar"][0]
    for person in (sari, tom, rudi):
        (alert,) = alerts(sim, person)
        assert f"#{number}" in (alert.text or "") and "Rumah kayu terbakar" in (alert.text or "")
    (alert,) = alerts(sim, sari)
    assert "Panggilan untuk Relawan Damkar" in (alert.text or "")
    assert alert.buttons == [[ACK_RELAWAN, TAKE]]
    assert "Ani" not in (alert.text or "") and "+62" not in (alert.text or "")
    # Never ahead of the group card.
    group = city.groups["relawan"]
    card_at = sim.calls.index(sends_to(sim, group.id)[0])
    assert all(sim.calls.index(c) > card_at for c in sends_to(sim, sari.id)[-1:])
    # A fire is of high severity: the alert rings.
    assert not flag(sends_to(sim, sari.id)[-1], "disable_notification")

    query = await sim.press_button(sari, alert, text=ACK_RELAWAN)
    await harness.settle()
    assert query.answers == 1 and not query.show_alert, query.answer_text
    card = city.card("relawan", number).text or ""
    assert "Relawan Damkar: diterima oleh Sari" in card, card
    (toms,) = alerts(sim, tom)
    assert "acknowledged by Sari" in (toms.text or "") and not toms.buttons  # Tom reads English
    assert not alert.buttons
    # Damkar is still waiting: Rudi's alert keeps its buttons.
    (rudis,) = alerts(sim, rudi)
    assert rudis.buttons and "Terima untuk Damkar" in rudis.buttons[0][0]
    # A second press, on the alert of someone slower, changes nothing.
    late = await sim.press_raw(tom, toms, DutyButton(ButtonAction.DUTY_ACK, number, 2).encode())
    await harness.settle()
    assert late.show_alert


async def test_taking_the_call_from_the_alert_gives_a_task_card(
    sim: TelegramSimulator, harness: BotHarness
) -> None:
    city = await build_city(sim, harness)
    number = await fire(city)
    rudi = city.crews["damkar"][0]
    (alert,) = alerts(sim, rudi)
    await sim.press_button(rudi, alert, text=TAKE)
    await harness.settle()
    task = sim.bot_messages(sim.private_chat(rudi))[-1]
    assert (task.text or "").startswith("📋 ") and f"#{number}" in (task.text or ""), task.text
    card = city.card("damkar", number).text or ""
    assert "diterima oleh Rudi" in card and "ditugaskan: Rudi (siap)" in card, card


async def test_off_duty_members_get_nothing_privately(
    sim: TelegramSimulator, harness: BotHarness
) -> None:
    city = await build_city(sim, harness)
    sari, tom = city.crews["relawan"]
    await harness.says(tom, "/lepassiaga", chat=city.groups["relawan"])
    await fire(city)
    assert len(alerts(sim, sari)) == 1
    assert alerts(sim, tom) == []


async def test_an_agency_added_later_alerts_its_members(
    sim: TelegramSimulator, harness: BotHarness
) -> None:
    city = await build_city(sim, harness)
    number = await fire(city)
    dewi = city.crews["dinkes"][0]
    assert alerts(sim, dewi) == []
    dinkes = next(
        a
        for a in await harness.services.incidents.addable_agencies(
            await harness.services.incidents.view(number)  # type: ignore[arg-type]
        )
        if a.code == "dinkes"
    )
    await harness.services.incidents.add_agency(number, dinkes.id, city.dispatcher.id)
    await harness.settle()
    (alert,) = alerts(sim, dewi)
    assert "Panggilan untuk PSC 119 Dinkes" in (alert.text or "")


async def test_a_member_who_left_the_group_cannot_act_from_the_alert(
    sim: TelegramSimulator, harness: BotHarness
) -> None:
    city = await build_city(sim, harness)
    number = await fire(city)
    sari = city.crews["relawan"][0]
    (alert,) = alerts(sim, sari)
    sim.leave_silently(city.groups["relawan"], sari)  # the bot does not see it happen
    query = await sim.press_button(sari, alert, text=ACK_RELAWAN)
    await harness.settle()
    assert query.show_alert and "tidak ada di grup" in (query.answer_text or "")
    assert "menunggu" in (city.card("relawan", number).text or "")


async def test_alert_buttons_pressed_elsewhere_or_forged_change_nothing(
    sim: TelegramSimulator, harness: BotHarness
) -> None:
    city = await build_city(sim, harness)
    number = await fire(city)
    rudi, dewi = city.crews["damkar"][0], city.crews["dinkes"][0]
    damkar = city.groups["damkar"]
    data = DutyButton(ButtonAction.DUTY_ACK, number, 1).encode()
    # On the card in the group (the alert's data there is refused by the press pipeline).
    in_group = await sim.press_raw(rudi, city.card("damkar", number), data)
    # By a member of another agency, on a message in their own chat.
    await harness.says(dewi, "/saya")
    other = await sim.press_raw(dewi, sim.bot_messages(sim.private_chat(dewi))[-1], data)
    await harness.settle()
    assert in_group.show_alert and other.show_alert
    assert "menunggu" in (city.card("damkar", number).text or "")
    assert len(alerts(sim, rudi)) == 1 and alerts(sim, rudi)[0].buttons
    assert damkar.id


# --- joining by acting in the group ---


async def test_a_group_member_who_never_joined_presses_acknowledge_and_it_works(
    sim: TelegramSimulator, harness: BotHarness
) -> None:
    city = await build_city(sim, harness)
    number = await fire(city)
    budi = sim.add_user("Budi", language_code="id")
    sim.add_member(city.groups["damkar"], budi)
    await harness.settle()
    query = await sim.press_button(budi, city.card("damkar", number), text="✅ Terima")
    await harness.settle()
    assert not query.show_alert, query.answer_text
    assert "diterima oleh Budi" in (city.card("damkar", number).text or "")
    roster = await harness.says(budi, "/piket", chat=city.groups["damkar"])
    assert "Budi" in (roster.text or "")


async def test_onduty_in_the_group_without_joining_first(
    sim: TelegramSimulator, harness: BotHarness
) -> None:
    city = await build_city(sim, harness)
    budi = sim.add_user("Budi", language_code="id")
    sim.add_member(city.groups["damkar"], budi)
    await harness.says(budi, "/start")
    await harness.settle()
    answer = await harness.says(budi, "/siaga", chat=city.groups["damkar"])
    assert "siaga" in (answer.text or "").lower(), answer.text
    await fire(city)
    assert len(alerts(sim, budi)) == 1


async def test_registering_an_agency_says_what_members_do(
    sim: TelegramSimulator, harness: BotHarness
) -> None:
    city = await build_city(sim, harness)
    group = sim.add_group("BPBD Kota", members=[city.admin])
    sim.add_bot_to_group(group, by=city.admin)
    await harness.settle()
    answer = await harness.says(city.admin, "/daftar bpbd BPBD Kota Palangka Raya", chat=group)
    text = answer.text or ""
    assert "1. Tekan tombol di bawah" in text and "2. Kirim /siaga" in text, text
    (row,) = answer.reply_markup["inline_keyboard"]  # type: ignore[index]
    assert row[0]["url"] == f"https://t.me/{sim.bot_username}?start=duty"


# --- what rings and what is quiet ---


async def test_medium_alerts_can_be_quiet_and_high_ones_always_ring(
    sim: TelegramSimulator, harness: BotHarness
) -> None:
    city = await build_city(sim, harness, alert_ring_below_high=False)
    rudi = city.crews["damkar"][0]
    await submit(city, IncidentType.ANIMAL)  # medium
    assert flag(sends_to(sim, rudi.id)[-1], "disable_notification")
    await submit(city, IncidentType.FIRE)  # high
    assert not flag(sends_to(sim, rudi.id)[-1], "disable_notification")


async def test_routine_sends_are_quiet_and_phone_bearing_ones_protected(
    sim: TelegramSimulator, harness: BotHarness
) -> None:
    city = await build_city(sim, harness)
    number = await fire(city)
    # The card carries the reporter's phone: it may not be forwarded or saved.
    card = city.card("damkar", number)
    assert card.has_protected_content and "+6281255550101" in (card.text or "")
    ani = sim.users()[-1]
    confirmation = next(
        c for c in sends_to(sim, ani.id) if "diterima dengan nomor" in str(c.params.get("text", ""))
    )
    assert flag(confirmation, "disable_notification")
    shown = await harness.says(city.dispatcher, f"/kejadian {number}")
    assert shown.has_protected_content

    # An info broadcast is news: quiet. A warning rings.
    dita = city.dispatcher
    for text, urgency, quiet in (
        ("Info: latihan evakuasi besok pagi di kantor BPBD.", "ℹ️ Info", True),
        ("Asap karhutla menuju Jekan Raya, tutup jendela.", "⚠️ Peringatan", False),
    ):
        await harness.says(dita, "/siaran")
        question = await harness.says(dita, text)
        await sim.press_button(dita, question, text=urgency)
        await harness.settle()
        chat = sim.private_chat(dita)
        await sim.press_button(dita, sim.bot_messages(chat)[-1], text="🏢 Semua grup instansi")
        await harness.settle()
        await sim.press_button(dita, sim.bot_messages(chat)[-1], text="📣 Kirim sekarang")
        await harness.settle()
        copy = next(
            c for c in sends_to(sim, city.groups["dinkes"].id) if text in str(c.params.get("text"))
        )
        assert flag(copy, "disable_notification") is quiet, (text, copy.params)


async def test_cards_can_mention_the_members_on_duty(
    sim: TelegramSimulator, harness: BotHarness
) -> None:
    city = await build_city(sim, harness, card_mentions_on_duty=True)
    _sari, tom = city.crews["relawan"]
    await harness.says(tom, "/lepassiaga", chat=city.groups["relawan"])
    number = await fire(city)
    card = city.card("relawan", number)
    assert "📣 Siaga: Sari" in (card.text or ""), card.text
    assert "Tom" not in (card.text or "").split("📣", 1)[1]
    mentions: list[dict[str, Any]] = [
        e for e in card.entities if e.get("type") == "text_mention" or e.get("type") == "text_link"
    ]
    assert mentions, card.entities


async def test_the_alert_links_to_the_card_in_a_supergroup(
    sim: TelegramSimulator, harness: BotHarness
) -> None:
    city = await build_city(sim, harness)
    posko = sim.add_group("Posko BPBD", members=[city.admin], supergroup=True)
    sim.add_bot_to_group(posko, by=city.admin)
    await harness.settle()
    await harness.says(city.admin, "/daftar bpbd BPBD Kota", chat=posko)
    bayu = sim.add_user("Bayu", language_code="id")
    sim.add_member(posko, bayu)
    await harness.says(bayu, "/start")
    await harness.says(bayu, "/siaga", chat=posko)
    await harness.says(city.admin, "/rute banjir bpbd")
    number = await submit(city, IncidentType.FLOOD)
    (alert,) = alerts(sim, bayu)
    card = (
        city.card("bpbd", number)
        if "bpbd" in city.groups
        else next(m for m in sim.bot_messages(posko) if f"#{number}" in (m.text or ""))
    )
    link = alert.reply_markup["inline_keyboard"][-1][0]  # type: ignore[index]
    assert link["url"] == f"https://t.me/c/{str(posko.id)[4:]}/{card.message_id}", link


def test_message_links_exist_only_in_supergroups() -> None:
    assert message_link(-1001234567890, 42) == "https://t.me/c/1234567890/42"
    assert message_link(-4000000001, 42) is None  # a basic group
    assert message_link(10004, 42) is None  # a private chat
    assert message_link(-1001234567890, 0) is None
