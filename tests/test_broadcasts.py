"""Broadcast alerts, as dispatchers and the people in the groups live them: compose in private,
preview exactly what recipients get, send behind incident traffic, press Received, follow the
status message and the delivery report, stop a broadcast, and the emergency re-send."""

from __future__ import annotations

import asyncio
import xml.etree.ElementTree as ET
from datetime import timedelta
from pathlib import Path

from bot.callbacks import AlertButton, ButtonAction, ComposeStep, StopBroadcast
from bot.simulator import SimChat, SimMessage, SimUser, TelegramSimulator
from models.agencies import AgencyKind
from models.broadcast import TEXT_MAX
from models.clock import ManualClock
from models.outbox import OutboxStatus
from models.refs import alert_ref
from tests.harness import BotHarness
from tests.scenario import City, build_city
from tests.test_cli import run_cli

WARNING = "⚠️ Peringatan"
EMERGENCY = "🚨 Darurat"
ALL_GROUPS = "🏢 Semua grup instansi"
CHOOSE = "☑️ Pilih instansi"
ON_DUTY = "🧑‍🚒 Petugas siaga (pesan pribadi)"
SEND = "📣 Kirim sekarang"
RECEIVED = "✅ Diterima"
PEAT_FIRE = "Kebakaran lahan gambut meluas ke arah Kec. Jekan Raya. Siapkan personel dan air."
CAP = "{urn:oasis:names:tc:emergency:cap:1.2}"


def last(sim: TelegramSimulator, chat: SimChat) -> SimMessage:
    return sim.bot_messages(chat)[-1]


def alerts(sim: TelegramSimulator, chat: SimChat) -> list[SimMessage]:
    """The broadcast messages with a Received button in a chat."""
    return [m for m in sim.bot_messages(chat) if any(RECEIVED in row for row in m.buttons)]


async def press(city: City, user: SimUser, message: SimMessage, text: str) -> None:
    await city.sim.press_button(user, message, text=text)
    await city.harness.settle()


async def compose(
    city: City, text: str = PEAT_FIRE, urgency: str = WARNING, target: str = ALL_GROUPS
) -> SimChat:
    """The dispatcher goes through /siaran up to the preview."""
    sim, harness, dispatcher = city.sim, city.harness, city.dispatcher
    chat = sim.private_chat(dispatcher)
    question = await harness.says(dispatcher, "/siaran")
    assert "Siaran baru" in (question.text or "")
    urgency_question = await harness.says(dispatcher, text)
    await press(city, dispatcher, urgency_question, urgency)
    await press(city, dispatcher, last(sim, chat), target)
    return chat


async def send(city: City, **kwargs: str) -> int:
    chat = await compose(city, **kwargs)
    await press(city, city.dispatcher, last(city.sim, chat), SEND)
    return await latest_broadcast(city)


def delivery_report(sim: TelegramSimulator, chat: SimChat) -> SimMessage:
    """The newest delivery report in the sender's chat (it may overtake the direct answers)."""
    reports = [
        m
        for m in sim.bot_messages(chat)
        if (m.text or "").startswith(("📋 Laporan pengiriman", "⛔ Siaran #"))
    ]
    assert reports, [m.text for m in sim.bot_messages(chat)]
    return reports[-1]


def status_message(sim: TelegramSimulator, chat: SimChat, number: int) -> SimMessage:
    """The sender's status message of broadcast `number` (it carries the Details button)."""
    found = [
        m
        for m in sim.bot_messages(chat)
        if any("📋 Rincian" in row for row in m.buttons) and f"Siaran #{number} " in (m.text or "")
    ]
    assert len(found) == 1, [m.text for m in sim.bot_messages(chat)]
    return found[0]


async def test_a_warning_reaches_every_group_exactly_as_previewed_and_receipts_are_counted(
    sim: TelegramSimulator, harness: BotHarness
) -> None:
    city = await build_city(sim, harness)
    chat = await compose(city)
    confirm = last(sim, chat)
    assert "Akan dikirim ke 3 chat" in (confirm.text or "")
    for name in ("Damkar Palangka Raya", "Relawan Damkar", "PSC 119 Dinkes"):
        assert name in (confirm.text or "")
    preview = sim.bot_messages(chat)[-2]
    assert preview.buttons == [[RECEIVED]]

    await press(city, city.dispatcher, confirm, SEND)
    for code, group in city.groups.items():
        copies = alerts(sim, group)
        assert len(copies) == 1, code
        assert copies[0].html == preview.html  # the preview is what recipients see
        assert "⚠️ PERINGATAN · Siaran 112 #1" in (copies[0].text or "")
        assert PEAT_FIRE in (copies[0].text or "")
    said = [m.text or "" for m in sim.bot_messages(chat)]
    sent = next(i for i, text in enumerate(said) if "Siaran #1 dikirim ke 3 chat" in text)
    # The confirmation is queued with the sending, ahead of the status message it points to.
    assert "Siaran #1 —" in said[sent + 1]
    report = delivery_report(sim, chat)
    assert "Laporan pengiriman siaran #1" in (report.text or "")
    assert "Terkirim ke 3 dari 3 chat" in (report.text or "")
    assert "Semua chat menerima siaran" in (report.text or "")
    status = status_message(sim, chat, 1)
    assert "Terkirim 3 dari 3 · menunggu 0 · gagal 0" in (status.text or "")
    assert "selesai" in (status.text or "")

    rudi = city.crews["damkar"][0]
    damkar_copy = alerts(sim, city.groups["damkar"])[0]
    query = await sim.press_button(rudi, damkar_copy, text=RECEIVED)
    await harness.settle()
    assert "tercatat" in (query.answer_text or "")
    assert "✅ Diterima: Rudi" in (alerts(sim, city.groups["damkar"])[0].text or "")
    again = await sim.press_button(rudi, damkar_copy, text=RECEIVED)
    await harness.settle()
    assert "sudah mengonfirmasi" in (again.answer_text or "")
    assert "Dikonfirmasi: 1 dari 3 chat" in (status_message(sim, chat, 1).text or "")

    # The coordinator (not the sender) sees who confirmed and who did not.
    listing = await harness.says(city.coordinator, "/riwayatsiaran")
    assert "#1" in (listing.text or "") and "✅ 1/3" in (listing.text or "")
    details = await harness.says(city.coordinator, "/riwayatsiaran 1")
    text = details.text or ""
    confirmed, _, waiting = text.partition("belum dikonfirmasi")
    assert "Damkar Palangka Raya — Rudi" in confirmed
    assert "Relawan Damkar" in waiting and "PSC 119 Dinkes" in waiting
    async with harness.services.store.read() as tx:
        rows = await tx.outbox_items((OutboxStatus.SENT,), limit=10_000)
    assert all(row.priority == 50 for row in rows if (row.ref or "").startswith("bc:1:")), (
        "broadcast copies go behind incident traffic"
    )


async def test_chosen_agencies_only_and_photo_and_location_come_first(
    sim: TelegramSimulator, harness: BotHarness
) -> None:
    city = await build_city(sim, harness)
    dispatcher = city.dispatcher
    chat = sim.private_chat(dispatcher)
    await harness.says(dispatcher, "/siaran")
    before = len(sim.bot_messages(chat))
    await sim.send_photo(dispatcher, caption="Jalan Tjilik Riwut km 5 ditutup karena asap tebal.")
    await sim.wait_for(lambda: len(sim.bot_messages(chat)) > before, what="the urgency question")
    assert "Foto dilampirkan" in (last(sim, chat).text or "")
    before = len(sim.bot_messages(chat))
    await sim.send_location(dispatcher, -2.2, 113.9)
    await sim.wait_for(lambda: len(sim.bot_messages(chat)) > before, what="location noted")
    question = last(sim, chat)
    assert "Lokasi dilampirkan" in (question.text or "")
    assert "Terlampir: foto, lokasi" in (question.text or "")
    await press(city, dispatcher, question, "ℹ️ Info")
    await press(city, dispatcher, last(sim, chat), CHOOSE)
    picker = last(sim, chat)
    for name in ("Damkar Palangka Raya", "PSC 119 Dinkes", "Relawan Damkar"):
        await press(city, dispatcher, picker, "⬜ " + name)
    await press(city, dispatcher, picker, "☑️ Relawan Damkar")  # changed their mind
    assert sim.messages(chat)[-1].message_id == picker.message_id, "one picker, edited in place"
    await press(city, dispatcher, picker, "Lanjut (2 dipilih)")
    confirm = last(sim, chat)
    assert "Akan dikirim ke 2 chat" in (confirm.text or "")
    await press(city, dispatcher, confirm, SEND)

    assert alerts(sim, city.groups["relawan"]) == []
    for code in ("damkar", "dinkes"):
        shown = sim.bot_messages(city.groups[code])[-3:]
        assert [kind(m) for m in shown] == ["photo", "location", "alert"], code
        assert "ℹ️ INFO" in (shown[-1].text or "")


def kind(message: SimMessage) -> str:
    if message.photo:
        return "photo"
    if message.location:
        return "location"
    return "alert" if any(RECEIVED in row for row in message.buttons) else "other"


async def test_on_duty_responders_get_it_in_private_in_their_language(
    sim: TelegramSimulator, harness: BotHarness
) -> None:
    city = await build_city(sim, harness)
    tom = city.crews["relawan"][1]  # English
    sari = city.crews["relawan"][0]
    await harness.says(sari, "/lepassiaga", chat=city.groups["relawan"])
    await send(city, target=ON_DUTY)
    assert alerts(sim, city.groups["damkar"]) == [], "private only"
    english = [m for m in sim.bot_messages(sim.private_chat(tom)) if m.buttons == [["✅ Received"]]]
    assert len(english) == 1 and "WARNING · 112 broadcast #1" in (english[0].text or "")
    for person in (city.crews["damkar"][0], city.crews["dinkes"][0]):
        assert len(alerts(sim, sim.private_chat(person))) == 1
    assert alerts(sim, sim.private_chat(sari)) == [], "off duty"
    query = await sim.press_button(tom, english[0], text="✅ Received")
    await harness.settle()
    assert "recorded" in (query.answer_text or "")


async def test_bad_text_is_refused_with_the_reason_and_html_stays_text(
    sim: TelegramSimulator, harness: BotHarness
) -> None:
    city = await build_city(sim, harness)
    dispatcher = city.dispatcher
    await harness.says(dispatcher, "/siaran")
    answer = await harness.says(dispatcher, "   ")
    assert "kosong" in (answer.text or "")
    answer = await harness.says(dispatcher, "x" * (TEXT_MAX + 1))
    assert "terlalu panjang" in (answer.text or "") and str(TEXT_MAX) in (answer.text or "")
    hostile = "<b>Awas</b> & <script>alert(1)</script> <a href='x'>klik</a>"
    question = await harness.says(dispatcher, hostile)
    assert "Seberapa mendesak" in (question.text or "")
    await press(city, dispatcher, question, WARNING)
    chat = sim.private_chat(dispatcher)
    await press(city, dispatcher, last(sim, chat), ALL_GROUPS)
    await press(city, dispatcher, last(sim, chat), SEND)
    copy = alerts(sim, city.groups["damkar"])[0]
    assert hostile in (copy.text or ""), "shown literally"
    assert "<b>Awas</b>" not in (copy.html or "")


async def test_only_dispatchers_and_coordinators_broadcast_and_only_in_private(
    sim: TelegramSimulator, harness: BotHarness
) -> None:
    city = await build_city(sim, harness)
    rudi = city.crews["damkar"][0]
    answer = await harness.says(rudi, "/siaran")
    assert "Siaran baru" not in (answer.text or "")
    sim.add_member(city.groups["damkar"], city.dispatcher)
    await harness.settle()
    answer = await harness.says(city.dispatcher, "/siaran", chat=city.groups["damkar"])
    assert "Siaran baru" not in (answer.text or "")
    answer = await harness.says(rudi, "/riwayatsiaran")
    assert "Siaran terakhir" not in (answer.text or "")
    async with harness.services.store.read() as tx:
        assert await tx.broadcast_draft(rudi.id) is None
    # A role taken away mid-draft: the next press is refused and nothing is sent.
    chat = await compose(city)
    await harness.says(city.admin, "/peran cabut dispatcher @dita")
    query = await sim.press_button(city.dispatcher, last(sim, chat), text=SEND)
    await harness.settle()
    assert query.answer_text and query.show_alert
    assert alerts(sim, city.groups["damkar"]) == []


async def test_targets_that_reach_nobody_say_so_and_offer_other_targets(
    sim: TelegramSimulator, harness: BotHarness
) -> None:
    city = await build_city(sim, harness)
    for code, crew in city.crews.items():
        for person in crew:
            await harness.says(person, "/lepassiaga", chat=city.groups[code])
    chat = await compose(city, target=ON_DUTY)
    answer = last(sim, chat)
    assert "tidak mencapai satu chat pun" in (answer.text or "")
    assert answer.buttons == [["🎯 Ganti sasaran"], ["🗑 Buang draf"]]
    await press(city, city.dispatcher, answer, "🎯 Ganti sasaran")
    await press(city, city.dispatcher, last(sim, chat), ALL_GROUPS)
    assert "Akan dikirim ke 3 chat" in (last(sim, chat).text or "")


async def test_stale_forged_and_misplaced_presses_change_nothing(
    sim: TelegramSimulator, harness: BotHarness
) -> None:
    city = await build_city(sim, harness)
    chat = await compose(city)
    old_confirm = last(sim, chat)
    await press(city, city.dispatcher, old_confirm, "🗑 Buang draf")
    assert "Draf siaran dibuang" in (last(sim, chat).text or "")
    query = await sim.press_raw(
        city.dispatcher, old_confirm, ComposeStep(ButtonAction.BC_SEND, 1).encode()
    )
    await harness.settle()
    assert "tidak berlaku" in (query.answer_text or "")
    number = await _send_to(city, "Damkar Palangka Raya")
    received_data = AlertButton(ButtonAction.BC_RECEIVED, number).encode()
    dinkes_person = city.crews["dinkes"][0]
    notice = sim.bot_messages(city.groups["dinkes"])[-1]
    query = await sim.press_raw(
        dinkes_person, notice, AlertButton(ButtonAction.BC_RECEIVED, number).encode()
    )
    await harness.settle()
    # That message carries no Received button: refused at the message, before any lookup.
    assert "tidak berlaku" in (query.answer_text or "")
    query = await sim.press_raw(
        dinkes_person, notice, AlertButton(ButtonAction.BC_RECEIVED, 999).encode()
    )
    await harness.settle()
    assert query.answer_text
    malformed = await sim.press_raw(dinkes_person, notice, "1|bc.ok")
    await harness.settle()
    assert "tidak berlaku" in (malformed.answer_text or ""), "a press is always answered"
    # The draft discarded above had the same number: its preview is older.
    preview = [m for m in sim.bot_messages(chat) if m.button_data == [[received_data]]][-1]
    query = await sim.press_button(city.dispatcher, preview, callback_data=received_data)
    await harness.settle()
    assert "pratinjau" in (query.answer_text or "")
    async with harness.services.store.read() as tx:
        assert await tx.broadcast_counts(number) == await tx.broadcast_counts(number)
        assert (await tx.broadcast_counts(number)).confirmed == 0


async def test_stopping_drops_what_is_pending_and_the_report_says_which(
    sim: TelegramSimulator, harness: BotHarness
) -> None:
    city = await build_city(sim, harness)
    outbox = harness.services.outbox
    chat = await compose(city)
    await outbox.stop()  # Telegram is slow today: nothing leaves until we say so
    await sim.press_button(city.dispatcher, last(sim, chat), text=SEND)
    await harness.handled()
    number = 1
    damkar_ref = alert_ref(number, city.groups["damkar"].id)
    async with harness.services.store.read() as tx:
        items = await tx.outbox_items((OutboxStatus.PENDING,))
    for item in items:
        if item.ref in (f"bcs:{number}", damkar_ref):
            await outbox.deliver(item)  # these two got through before the stop
    status = status_message(sim, chat, number)
    ask = await sim.press_button(city.dispatcher, status, text="⛔ Hentikan")
    await harness.handled()
    assert "Hentikan siaran ini?" in (ask.answer_text or "")
    status = status_message(sim, chat, number)
    stop = await sim.press_button(city.dispatcher, status, text="⛔ Ya, hentikan pengiriman")
    await harness.handled()
    assert "2 pesan tidak jadi dikirim" in (stop.answer_text or "")
    outbox.start()
    await harness.settle()

    assert len(alerts(sim, city.groups["damkar"])) == 1, "a sent copy stays"
    assert alerts(sim, city.groups["relawan"]) == alerts(sim, city.groups["dinkes"]) == []
    report = delivery_report(sim, chat).text or ""
    assert "Siaran #1 dihentikan" in report
    assert "Tidak jadi dikirim (2)" in report
    assert "Relawan Damkar" in report and "PSC 119 Dinkes" in report
    assert "Sudah terkirim, dibiarkan (1)" in report and "Damkar Palangka Raya" in report
    query = await sim.press_button(
        city.crews["damkar"][0], alerts(sim, city.groups["damkar"])[0], text=RECEIVED
    )
    await harness.settle()
    assert "dibatalkan" in (query.answer_text or "")
    document = await harness.services.broadcasts.cap(number)
    assert document is not None
    assert ET.fromstring(document).findtext(f"{CAP}msgType") == "Cancel"
    final = status_message(sim, chat, number)
    assert final.buttons == [["📋 Rincian"]], "nothing left to stop"
    assert "dibatalkan" in (final.text or "") and "Tidak jadi dikirim: 2" in (final.text or "")
    stale = await sim.press_raw(
        city.dispatcher, final, StopBroadcast(ButtonAction.BC_STOP, number, 1).encode()
    )
    await harness.settle()
    assert "sudah selesai atau sudah dihentikan" in (stale.answer_text or "")


async def test_a_group_that_removed_the_bot_is_listed_as_failed_with_the_reason(
    sim: TelegramSimulator, harness: BotHarness
) -> None:
    city = await build_city(sim, harness)
    sim.remove_bot_from_group(city.groups["relawan"], by=city.admin)
    sim.expect_refusal("bot was kicked")  # how the bot learns it was removed
    await harness.settle()
    chat = await compose(city)
    await press(city, city.dispatcher, last(sim, chat), SEND)
    report = delivery_report(sim, chat).text or ""
    assert "Terkirim ke 2 dari 3 chat" in report
    assert "Gagal (1)" in report
    assert "Relawan Damkar — bot dikeluarkan dari grup" in report
    assert "gagal 1" in (status_message(sim, chat, 1).text or "")


async def test_an_unconfirmed_emergency_is_sent_again_once_where_nobody_confirmed(
    sim: TelegramSimulator, harness: BotHarness
) -> None:
    clock = ManualClock()
    city = await build_city(sim, harness, clock=clock)
    number = await send(city, urgency=EMERGENCY)
    rudi = city.crews["damkar"][0]
    await press(city, rudi, alerts(sim, city.groups["damkar"])[0], RECEIVED)

    clock.advance(timedelta(minutes=9))
    await harness.services.reminders.sweep()
    await harness.settle()
    assert all(len(alerts(sim, group)) == 1 for group in city.groups.values()), "not yet"

    clock.advance(timedelta(minutes=2))
    await harness.services.reminders.sweep()
    await harness.settle()
    assert len(alerts(sim, city.groups["damkar"])) == 1, "confirmed: left alone"
    for code in ("relawan", "dinkes"):
        copies = alerts(sim, city.groups[code])
        assert len(copies) == 2, code
        assert "Dikirim ulang" in (copies[1].text or "")
        assert copies[1].reply_to_message_id == copies[0].message_id

    clock.advance(timedelta(hours=1))
    await harness.services.reminders.sweep()
    await harness.settle()
    assert all(len(alerts(sim, city.groups[c])) == 2 for c in ("relawan", "dinkes")), "once"

    sari = city.crews["relawan"][0]
    await press(city, sari, alerts(sim, city.groups["relawan"])[1], RECEIVED)
    details = await harness.says(city.dispatcher, f"/riwayatsiaran {number}")
    assert "Relawan Damkar — Sari" in (details.text or "")


async def test_a_draft_survives_a_restart(sim: TelegramSimulator, harness: BotHarness) -> None:
    city = await build_city(sim, harness)
    chat = sim.private_chat(city.dispatcher)
    await harness.says(city.dispatcher, "/siaran")
    question = await harness.says(city.dispatcher, PEAT_FIRE)
    await harness.restart()
    await press(city, city.dispatcher, question, WARNING)
    await press(city, city.dispatcher, last(sim, chat), ALL_GROUPS)
    await press(city, city.dispatcher, last(sim, chat), SEND)
    assert all(len(alerts(sim, group)) == 1 for group in city.groups.values())
    again = await harness.says(city.dispatcher, "/siaran")
    assert "Siaran baru" in (again.text or ""), "the sent one is no draft any more"
    resumed = await harness.says(city.dispatcher, "/siaran")
    assert "sedang menyusun siaran" in (resumed.text or "")
    cancelled = await harness.says(city.dispatcher, "/batal")
    assert "Draf siaran dibuang" in (cancelled.text or "")


async def test_cap_export_in_chat_and_from_the_command_line(
    sim: TelegramSimulator, harness: BotHarness, tmp_path: Path
) -> None:
    city = await build_city(sim, harness)
    number = await send(city, urgency=EMERGENCY)
    chat = sim.private_chat(city.dispatcher)
    await sim.send_message(city.dispatcher, f"/cap {number}")
    await sim.wait_for(lambda: last(sim, chat).document is not None, what="the CAP file")
    document = last(sim, chat).document
    assert document is not None and document["file_name"] == f"siaga112-siaran-{number}.xml"
    stored = sim.file(document["file_id"])
    assert stored is not None
    alert = ET.fromstring(stored.data)
    assert alert.findtext(f"{CAP}msgType") == "Alert"
    assert alert.findtext(f"{CAP}status") == "Actual"
    assert alert.findtext(f"{CAP}info/{CAP}urgency") == "Immediate"
    area = alert.findtext(f"{CAP}info/{CAP}area/{CAP}areaDesc") or ""
    assert "Damkar Palangka Raya" in area and "PSC 119 Dinkes" in area
    assert harness.settings is not None
    env = {"DATABASE_PATH": str(harness.settings.database_path)}
    written = await asyncio.to_thread(run_cli, "export", "cap", str(number), env=env, cwd=tmp_path)
    assert written.returncode == 0, written.stderr
    exported = (tmp_path / f"siaga112-siaran-{number}.xml").read_bytes()
    assert exported == stored.data, "the command line writes what /cap sends"
    absent = await asyncio.to_thread(run_cli, "export", "cap", "99", env=env, cwd=tmp_path)
    assert absent.returncode == 1 and "no sent broadcast #99" in absent.stderr
    missing = await harness.says(city.dispatcher, "/cap 99")
    assert "tidak ada" in (missing.text or "")
    usage = await harness.says(city.dispatcher, "/cap")
    assert "/cap 3" in (usage.text or "")


async def test_everyone_registered_means_every_group_and_every_person_but_the_sender(
    sim: TelegramSimulator, harness: BotHarness
) -> None:
    city = await build_city(sim, harness)
    chat = await compose(city, target="📣 Semua yang terdaftar")
    assert "Akan dikirim ke 9 chat" in (last(sim, chat).text or "")  # 3 groups, 6 people
    await press(city, city.dispatcher, last(sim, chat), SEND)
    for person in (city.admin, city.coordinator, *city.crews["relawan"]):
        assert len(alerts(sim, sim.private_chat(person))) == 1 or person.language_code == "en"
    assert len(alerts(sim, chat)) == 1, "the sender has the preview only"
    assert "Terkirim ke 9 dari 9 chat" in (delivery_report(sim, chat).text or "")


async def test_the_agency_picker_pages_through_a_large_city(
    sim: TelegramSimulator, harness: BotHarness
) -> None:
    city = await build_city(sim, harness)
    services = harness.services
    posts = [sim.add_group(f"Posko {n:02d}", members=[city.admin]) for n in range(22)]
    for group in posts:
        group.bot_status, group.bot_ever_member = "member", True
    async with services.store.transaction() as tx:
        for n, group in enumerate(posts):
            await tx.save_agency(
                code=f"posko{n:02d}",
                name=group.title or "",
                kind=AgencyKind.AGENCY,
                chat_id=group.id,
                thread_id=None,
                by_user=city.admin.id,
                now=services.clock.now(),
            )
    chat = await compose(city, target=CHOOSE)
    picker = last(sim, chat)
    assert len(picker.buttons) == 10 + 3  # a page, the pager, Continue, Discard
    assert picker.buttons[10] == ["◀️", "1/3", "▶️"]
    await press(city, city.dispatcher, picker, "◀️")  # wraps to the last page
    picker = last(sim, chat)
    assert picker.buttons[-3] == ["◀️", "3/3", "▶️"]
    await press(city, city.dispatcher, picker, "⬜ Posko 21")
    assert last(sim, chat).buttons[-3] == ["◀️", "3/3", "▶️"], "the page stays"
    await press(city, city.dispatcher, last(sim, chat), "3/3")  # the page shown: no change
    await press(city, city.dispatcher, last(sim, chat), "Lanjut (1 dipilih)")
    assert "Akan dikirim ke 1 chat: Posko 21" in (last(sim, chat).text or "")


async def test_a_group_upgraded_to_a_supergroup_can_still_confirm(
    sim: TelegramSimulator, harness: BotHarness
) -> None:
    city = await build_city(sim, harness)
    number = await _send_to(city, "Damkar Palangka Raya")
    old_copy = alerts(sim, city.groups["damkar"])[0]
    supergroup = sim.migrate_to_supergroup(city.groups["damkar"])
    await harness.settle()
    rudi = city.crews["damkar"][0]
    # The copy stays in the old group's history; the edit that shows Rudi's confirmation
    # finds no message in the new chat and is posted there afresh.
    sim.expect_refusal("message to edit not found")
    query = await sim.press_button(rudi, old_copy, text=RECEIVED)
    await harness.settle()
    assert "tercatat" in (query.answer_text or "")
    details = await harness.says(city.dispatcher, f"/riwayatsiaran {number}")
    assert "Damkar Palangka Raya — Rudi" in (details.text or "")
    shown = [m for m in sim.bot_messages(supergroup) if "✅ Diterima: Rudi" in (m.text or "")]
    assert len(shown) == 1, "the copy with the confirmation is in the new chat"


async def test_a_broadcast_cut_short_by_a_restart_finishes_after_it(
    sim: TelegramSimulator, harness: BotHarness
) -> None:
    city = await build_city(sim, harness)
    chat = await compose(city)
    await harness.services.outbox.stop()  # the bot goes down before anything leaves
    await sim.press_button(city.dispatcher, last(sim, chat), text=SEND)
    await harness.handled()
    assert all(alerts(sim, group) == [] for group in city.groups.values())
    await harness.restart()
    await harness.settle()
    assert all(len(alerts(sim, group)) == 1 for group in city.groups.values())
    await sim.wait_for(
        lambda: any(
            "Laporan pengiriman siaran #1" in (m.text or "") for m in sim.bot_messages(chat)
        ),
        what="the delivery report after the restart",
    )
    assert "Terkirim 3 dari 3" in (status_message(sim, chat, 1).text or "")


async def test_agencies_in_forum_topics_get_it_in_their_topic_or_once_for_all(
    sim: TelegramSimulator, harness: BotHarness
) -> None:
    city = await build_city(sim, harness)
    forum = sim.add_group("Forum Kecamatan", members=[city.admin], supergroup=True, forum=True)
    sim.add_bot_to_group(forum, by=city.admin)
    await harness.settle()
    topics = {code: sim.create_topic(forum, code.upper()) for code in ("bpbd", "polisi")}
    for code, topic in topics.items():
        text = f"/daftar {code} {code.upper()}"
        await sim.send_message(city.admin, text, chat=forum, thread_id=topic)
    await harness.settle()

    await _send_to(city, "BPBD")
    copies = alerts(sim, forum)
    assert len(copies) == 1 and copies[0].message_thread_id == topics["bpbd"]

    chat = await compose(city)
    assert "Akan dikirim ke 4 chat" in (last(sim, chat).text or "")
    assert "BPBD, POLISI" in (last(sim, chat).text or "")
    await press(city, city.dispatcher, last(sim, chat), SEND)
    copies = alerts(sim, forum)
    assert len(copies) == 2 and copies[1].message_thread_id is None, "once, for both"


async def _send_to(city: City, agency_name: str) -> int:
    """A warning to one chosen agency; returns the broadcast's number."""
    sim, dispatcher = city.sim, city.dispatcher
    chat = sim.private_chat(dispatcher)
    await city.harness.says(dispatcher, "/siaran")
    question = await city.harness.says(dispatcher, "Banjir: jalan ke posko ditutup.")
    await press(city, dispatcher, question, WARNING)
    await press(city, dispatcher, last(sim, chat), CHOOSE)
    picker = last(sim, chat)
    await press(city, dispatcher, picker, "⬜ " + agency_name)
    await press(city, dispatcher, picker, "Lanjut (1 dipilih)")
    await press(city, dispatcher, last(sim, chat), SEND)
    return await latest_broadcast(city)


async def latest_broadcast(city: City) -> int:
    async with (
        city.harness.services.store.read() as tx,
        tx.db.execute("SELECT MAX(id) FROM broadcasts") as cursor,
    ):
        row = await cursor.fetchone()
    assert row is not None and row[0] is not None
    return int(row[0])


async def test_an_english_dispatcher_previews_what_the_groups_will_read(
    sim: TelegramSimulator, harness: BotHarness
) -> None:
    city = await build_city(sim, harness)
    tom = city.crews["relawan"][1]  # his Telegram is in English
    await harness.says(city.admin, "/peran beri dispatcher @tom")
    chat = sim.private_chat(tom)
    question = await harness.says(tom, "/broadcast")
    assert "New broadcast" in (question.text or "")
    urgency = await harness.says(tom, PEAT_FIRE)
    await press(city, tom, urgency, "⚠️ Warning")
    await press(city, tom, last(sim, chat), "🏢 All agency groups")
    preview = sim.bot_messages(chat)[-2]
    assert "PERINGATAN · Siaran 112" in (preview.text or ""), "the groups' language"
    assert preview.buttons == [[RECEIVED]]
    assert "It will go to 3 chats" in (last(sim, chat).text or "")
    await press(city, tom, last(sim, chat), "📣 Send now")
    assert alerts(sim, city.groups["damkar"])[0].html == preview.html
