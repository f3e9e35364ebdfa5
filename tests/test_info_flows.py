"""Information after the first report, through the simulator: questions to the reporter and their
answers, additions, notes, the caller link, and what goes wrong (blocked bot, forged presses, a
restart in the middle of a question)."""

from __future__ import annotations

from datetime import timedelta

from bot.callbacks import (
    AskReporter,
    ButtonAction,
)
from bot.services.info import Content
from bot.simulator import SimChat, SimMessage, SimUser, TelegramSimulator
from models.clock import ManualClock
from models.info import InfoKind, InfoState
from tests.harness import BotHarness
from tests.scenario import City, build_city, report

ASK = "❓ Tanya pelapor"
QUESTION = "Masih ada orang di dalam?"


def texts(sim: TelegramSimulator, chat: SimChat) -> list[str]:
    return [m.text or m.caption or "" for m in sim.bot_messages(chat)]


def last(sim: TelegramSimulator, chat: SimChat) -> SimMessage:
    return sim.bot_messages(chat)[-1]


def under(sim: TelegramSimulator, chat: SimChat, card: SimMessage) -> list[SimMessage]:
    """The bot's replies under a card in its chat."""
    return [m for m in sim.bot_messages(chat) if m.reply_to_message_id == card.message_id]


async def fire_with_reporter(city: City, **kwargs: object) -> tuple[SimUser, int]:
    ani = city.sim.add_user("Ani", language_code="id")
    await city.harness.says(ani, "/start")
    number = await report(city, ani, **kwargs)  # type: ignore[arg-type]
    return ani, number


async def ask(city: City, asker: SimUser, number: int, code: str = "damkar") -> SimMessage:
    """`asker` presses ❓ on their agency's card; returns the picker in their private chat."""
    sim, harness = city.sim, city.harness
    query = await sim.press_button(asker, city.card(code, number), text=ASK)
    await harness.settle()
    assert query.answers == 1 and not query.show_alert, query.answer_text
    picker = last(sim, sim.private_chat(asker))
    assert (picker.text or "").startswith(f"❓ Tanya pelapor #{number}"), picker.text
    return picker


async def ask_quick(city: City, asker: SimUser, number: int, question: str = QUESTION) -> None:
    """Ask a one-tap question, named by the start of its label (long ones are cut with "…")."""
    picker = await ask(city, asker, number)
    label = next(b for row in picker.buttons for b in row if b.startswith(question[:30]))
    await city.sim.press_button(asker, picker, text=label)
    await city.harness.settle()


async def infos(harness: BotHarness, number: int) -> list[tuple[str, str, str | None]]:
    async with harness.services.store.read() as tx:
        view = await tx.incident_view(number)
    assert view is not None
    return [(i.kind.value, i.state.value, i.text) for i in view.infos]


# --- ask → answer with text, with a location, with a photo ---


async def test_a_question_and_a_text_answer_reach_every_routed_chat_the_timeline_and_the_asker(
    sim: TelegramSimulator, harness: BotHarness
) -> None:
    city = await build_city(sim, harness)
    ani, number = await fire_with_reporter(city)
    rudi = city.crews["damkar"][0]
    await ask_quick(city, rudi, number)

    question = last(sim, sim.private_chat(ani))
    assert "Damkar Palangka Raya bertanya" in (question.text or ""), question.text
    assert QUESTION in (question.text or "")
    assert "Rudi" not in (question.text or "")  # the agency asks, never the asker's account
    assert ["Ya", "Tidak", "Tidak tahu"] in question.buttons
    assert "Pertanyaan dikirim" in (last(sim, sim.private_chat(rudi)).text or "")
    # The card counts the waiting question.
    assert "1 pertanyaan menunggu" in (city.card("damkar", number).text or "")

    await harness.says(ani, "Ya, dua anak di lantai dua")
    await harness.settle()
    for code in ("damkar", "relawan"):
        card = city.card(code, number)
        replies = under(sim, city.groups[code], card)
        assert len(replies) == 1, (code, [m.text for m in replies])
        assert "Jawaban pelapor" in (replies[0].text or "")
        assert "Damkar Palangka Raya" in (replies[0].text or "")
        assert "dua anak di lantai dua" in (replies[0].text or "")
        assert "💬 1 info tambahan" in (card.text or ""), card.text
        assert "pertanyaan menunggu" not in (card.text or "")
    # Dinkes was not routed (nobody hurt): it sees nothing.
    assert not any("dua anak" in text for text in texts(sim, city.groups["dinkes"]))
    told = texts(sim, sim.private_chat(rudi))
    assert any("Jawaban pelapor #" in t and "dua anak di lantai dua" in t for t in told), told
    assert "Terima kasih" in (last(sim, sim.private_chat(ani)).text or "")
    # The timeline has both, with the agency.
    shown = await harness.says(city.dispatcher, f"/kejadian {number}")
    assert "Damkar Palangka Raya bertanya ke pelapor" in (shown.text or ""), shown.text
    assert "pelapor menjawab Damkar Palangka Raya" in (shown.text or "")
    assert [(k, s) for k, s, _ in await infos(harness, number)] == [
        (InfoKind.QUESTION.value, InfoState.ANSWERED.value),
        (InfoKind.ANSWER.value, InfoState.POSTED.value),
    ]


async def test_a_one_tap_answer(sim: TelegramSimulator, harness: BotHarness) -> None:
    city = await build_city(sim, harness)
    ani, number = await fire_with_reporter(city)
    rudi = city.crews["damkar"][0]
    await ask_quick(city, rudi, number)
    question = last(sim, sim.private_chat(ani))
    yes = question.button_data[0][0]
    assert yes is not None
    query = await sim.press_button(ani, question, text="Tidak")
    await harness.settle()
    assert query.answers == 1
    replies = under(sim, city.groups["damkar"], city.card("damkar", number))
    assert len(replies) == 1 and "Tidak" in (replies[0].text or "")
    # The question keeps its words, not its buttons; a second tap (a modified client pressing
    # the old data) changes nothing.
    assert not question.buttons
    assert "Terima kasih" in (last(sim, sim.private_chat(ani)).text or "")
    again = await sim.press_raw(ani, question, yes)
    await harness.settle()
    assert again.answers == 1 and again.answer_text
    assert len(under(sim, city.groups["damkar"], city.card("damkar", number))) == 1


async def test_an_answer_with_a_location_and_one_with_a_photo_reach_every_routed_chat(
    sim: TelegramSimulator, harness: BotHarness
) -> None:
    city = await build_city(sim, harness)
    ani, number = await fire_with_reporter(
        city, location=None, address="Jl. Rajawali 7, dekat pasar Kahayan"
    )
    card = city.card("damkar", number)
    assert "Belum diketahui" in (card.text or "") and "lokasi tepat" in (card.text or "")
    rudi = city.crews["damkar"][0]
    await ask_quick(city, rudi, number, "Bisa kirim lokasi tepatnya? Tekan 📎 → Lokasi.")
    question = last(sim, sim.private_chat(ani))
    # a reply keyboard whose button sends the location
    assert "keyboard" in (question.reply_markup or {}), question.reply_markup
    await sim.send_location(ani, -2.2161, 113.9135)
    await harness.settle()
    for code in ("damkar", "relawan"):
        card = city.card(code, number)
        replies = under(sim, city.groups[code], card)
        assert [m.location is not None for m in replies] == [False, True], (code, replies)
        assert "Jawaban pelapor" in (replies[0].text or "")
        assert "lokasi tepat" not in (card.text or ""), card.text  # the gap is filled
    assert any(m.location is not None for m in sim.bot_messages(sim.private_chat(rudi)))
    thanks = last(sim, sim.private_chat(ani))
    assert "Terima kasih" in (thanks.text or "")
    assert (thanks.reply_markup or {}).get("remove_keyboard") is True

    await ask_quick(city, rudi, number, "Bisa kirim foto kejadiannya?")
    await sim.send_photo(ani, caption="Dari seberang jalan")
    await harness.settle()
    for code in ("damkar", "relawan"):
        replies = under(sim, city.groups[code], city.card(code, number))
        assert len(replies) == 4, (code, [m.text or m.caption for m in replies])
        words, photo = replies[-2:]
        assert "Dari seberang jalan" in (words.text or "") and "🖼 foto" in (words.text or "")
        assert photo.photo and photo.caption == f"💬 Dari pelapor #{number}", photo
    shown = await harness.says(city.dispatcher, f"/kejadian {number}")
    assert "🖼 foto" in (shown.text or "") and "📍 lokasi" in (shown.text or ""), shown.text


# --- additions ---


async def test_a_reporter_adds_a_photo_and_words_after_submitting(
    sim: TelegramSimulator, harness: BotHarness
) -> None:
    city = await build_city(sim, harness)
    ani, number = await fire_with_reporter(city)
    chat = sim.private_chat(ani)
    await sim.send_photo(ani, caption="Apinya makin besar")
    await harness.settle()
    offer = last(sim, chat)
    assert f"Tambahkan ini ke laporan #{number}?" in (offer.text or ""), offer.text
    await harness.says(ani, "Sekarang merembet ke rumah sebelah")
    offer = last(sim, chat)
    assert "(2 pesan)" in (offer.text or ""), offer.text
    query = await sim.press_button(ani, offer, text=f"➕ Ya, tambahkan ke #{number}")
    await harness.settle()
    assert not query.show_alert, query.answer_text
    assert f"Ditambahkan ke laporan #{number}" in (last(sim, chat).text or "")
    for code in ("damkar", "relawan"):
        replies = under(sim, city.groups[code], city.card(code, number))
        # Each thing sent is one addition: the photo's words, then its copy, then the text.
        assert [m.text or m.caption for m in replies] == [
            f"💬 Tambahan dari pelapor (#{number}): Apinya makin besar · 🖼 foto",
            f"💬 Dari pelapor #{number}",
            f"💬 Tambahan dari pelapor (#{number}): Sekarang merembet ke rumah sebelah",
        ], code
        assert replies[1].photo
    assert "💬 2 info tambahan" in (city.card("damkar", number).text or "")


async def test_a_reporter_declines_and_nothing_is_added(
    sim: TelegramSimulator, harness: BotHarness
) -> None:
    city = await build_city(sim, harness)
    ani, number = await fire_with_reporter(city)
    offer = await harness.says(ani, "Terima kasih pak")
    await sim.press_button(ani, offer, text="Tidak")
    await harness.settle()
    assert not under(sim, city.groups["damkar"], city.card("damkar", number))
    assert await infos(harness, number) == []


# --- notes ---


async def test_a_note_by_command_goes_to_every_routed_chat_and_the_card(
    sim: TelegramSimulator, harness: BotHarness
) -> None:
    city = await build_city(sim, harness)
    _ani, number = await fire_with_reporter(city)
    rudi = city.crews["damkar"][0]
    answer = await harness.says(
        rudi, f"/catatan {number} Hidran terdekat di depan SDN 3", chat=city.groups["damkar"]
    )
    assert "Catatan untuk" in (answer.text or ""), answer.text
    await harness.settle()
    for code in ("damkar", "relawan"):
        card = city.card(code, number)
        replies = under(sim, city.groups[code], card)
        assert [m.text for m in replies][-1:] == [
            f"📝 Damkar Palangka Raya (#{number}): Hidran terdekat di depan SDN 3"
        ]
        assert "🗒 Catatan terakhir (Damkar Palangka Raya): Hidran terdekat" in (card.text or "")
    shown = await harness.says(city.dispatcher, f"/kejadian {number}")
    assert "catatan Damkar Palangka Raya: Hidran terdekat" in (shown.text or ""), shown.text
    # Somebody outside the routed agencies may not.
    dewi = city.crews["dinkes"][0]
    refused = await harness.says(dewi, f"/catatan {number} coba", chat=city.groups["dinkes"])
    assert "coba" not in (city.card("damkar", number).text or "")
    assert refused.text


async def test_a_reply_to_the_card_becomes_a_note_only_when_confirmed(
    sim: TelegramSimulator, harness: BotHarness
) -> None:
    city = await build_city(sim, harness)
    _ani, number = await fire_with_reporter(city)
    sari, tom = city.crews["relawan"]
    group = city.groups["relawan"]
    card = city.card("relawan", number)
    await sim.send_message(sari, "Siap, kami dekat", chat=group, reply_to=card)
    await harness.settle()
    proposal = last(sim, group)
    assert "Jadikan balasan ini catatan" in (proposal.text or ""), proposal.text
    # Only Sari may decide; Tom's press changes nothing.
    other = await sim.press_button(tom, proposal, text="📝 Jadikan catatan")
    await harness.settle()
    assert other.show_alert
    await sim.press_button(sari, proposal, text="Tidak")
    await harness.settle()
    assert not any("Siap, kami dekat" in t for t in texts(sim, city.groups["damkar"]))
    assert "Balasan ini tetap di grup ini saja" in (proposal.text or "")
    # The proposal is kept as dropped: it never shows on a card or in the timeline.
    assert await infos(harness, number) == [
        (InfoKind.NOTE.value, InfoState.DROPPED.value, "Siap, kami dekat")
    ]

    await sim.send_message(sari, "Jalan masuk sempit, pakai mobil kecil", chat=group, reply_to=card)
    await harness.settle()
    await sim.press_button(sari, last(sim, group), text="📝 Jadikan catatan")
    await harness.settle()
    notes = [t for t in texts(sim, city.groups["damkar"]) if t.startswith("📝 Relawan")]
    assert notes == [f"📝 Relawan Damkar (#{number}): Jalan masuk sempit, pakai mobil kecil"]
    assert [(k, s) for k, s, _ in await infos(harness, number)] == [
        (InfoKind.NOTE.value, InfoState.DROPPED.value),
        (InfoKind.NOTE.value, InfoState.POSTED.value),
    ]
    assert "info tambahan" not in (city.card("damkar", number).text or "")


# --- who is asked ---


async def test_the_reporters_of_a_merged_duplicate_are_asked_too(
    sim: TelegramSimulator, harness: BotHarness
) -> None:
    city = await build_city(sim, harness)
    ani, original = await fire_with_reporter(city)
    budi = sim.add_user("Budi", language_code="id")
    await harness.says(budi, "/start")
    duplicate = await report(city, budi, description="Ada kebakaran rumah di dekat pasar")
    await harness.says(city.dispatcher, f"/gabungkan {duplicate} {original}")
    await harness.settle()
    rudi = city.crews["damkar"][0]
    await ask_quick(city, rudi, original)
    for person in (ani, budi):
        question = last(sim, sim.private_chat(person))
        assert QUESTION in (question.text or ""), (person.first_name, question.text)
        assert f"laporan #{original}" in (question.text or "")
    assert "(2 orang)" in (last(sim, sim.private_chat(rudi)).text or "")
    await sim.press_button(budi, last(sim, sim.private_chat(budi)), text="Ya")
    await harness.settle()
    replies = under(sim, city.groups["damkar"], city.card("damkar", original))
    assert len(replies) == 1 and "Ya" in (replies[0].text or "")


async def test_a_112_caller_joins_by_the_link_and_is_asked(
    sim: TelegramSimulator, harness: BotHarness
) -> None:
    city = await build_city(sim, harness)
    await harness.says(
        city.dispatcher, "/baru kebakaran | Jl. Rajawali 7 dekat pasar | rumah terbakar"
    )
    await harness.settle()
    number = int((city.cards("damkar")[-1].text or "").split("#", 1)[1].split(" ", 1)[0])
    rudi = city.crews["damkar"][0]
    # Nobody to ask yet: the asker is pointed to the caller link.
    refused = await sim.press_button(rudi, city.card("damkar", number), text=ASK)
    await harness.settle()
    assert refused.show_alert and "tautan untuk penelepon" in (refused.answer_text or "")

    sim.add_member(city.groups["damkar"], city.dispatcher)
    await harness.settle()
    await sim.press_button(city.dispatcher, city.card("damkar", number), text="⚙️ Kelola")
    await harness.settle()
    manage = last(sim, sim.private_chat(city.dispatcher))
    await sim.press_button(city.dispatcher, manage, text="🔗 Tautan untuk penelepon")
    await harness.settle()
    link = last(sim, sim.private_chat(city.dispatcher)).text or ""
    assert "sekali pakai" in link, link
    token = link.split("?start=", 1)[1].split()[0]
    assert token.startswith("c_") and len(token) <= 64

    caller = sim.add_user("Penelepon", language_code="id")
    joined = await harness.says(caller, f"/start {token}")
    assert f"#{number}" in (joined.text or "") and "terhubung" in (joined.text or ""), joined.text
    await harness.settle()
    assert any("sudah bergabung" in t for t in texts(sim, sim.private_chat(city.dispatcher)))
    # The link is used up: a second person opening it becomes nobody's reporter.
    other = sim.add_user("Orang lain", language_code="id")
    again = await harness.says(other, f"/start {token}")
    assert "sudah dipakai" in (again.text or ""), again.text

    await ask_quick(city, rudi, number)
    assert QUESTION in (last(sim, sim.private_chat(caller)).text or "")
    await harness.says(caller, "Sudah keluar semua")
    await harness.settle()
    replies = under(sim, city.groups["damkar"], city.card("damkar", number))
    assert len(replies) == 1 and "Sudah keluar semua" in (replies[0].text or "")
    # The caller can add, like any reporter.
    offer = await harness.says(caller, "Apinya sudah mengecil")
    assert f"laporan #{number}" in (offer.text or ""), offer.text


async def test_a_reporter_who_blocked_the_bot_the_asker_is_told_at_once(
    sim: TelegramSimulator, harness: BotHarness
) -> None:
    city = await build_city(sim, harness)
    ani, number = await fire_with_reporter(city)
    sim.block_bot(ani)
    sim.expect_refusal("bot was blocked by the user")  # how the bot learns it
    rudi = city.crews["damkar"][0]
    await ask_quick(city, rudi, number)
    told = texts(sim, sim.private_chat(rudi))
    assert any("tidak sampai" in t and "memblokir bot" in t for t in told), told
    # The card stops saying the question waits (the sender's finding is handled beside it).
    await sim.wait_for(
        lambda: "pertanyaan menunggu" not in (city.card("damkar", number).text or ""),
        what="the question marked undeliverable",
    )
    assert [(k, s) for k, s, _ in await infos(harness, number)] == [
        (InfoKind.QUESTION.value, InfoState.UNDELIVERABLE.value)
    ]
    # Asking again is refused at the press: the reporter is known to be unreachable.
    again = await sim.press_button(rudi, city.card("damkar", number), text=ASK)
    await harness.settle()
    assert again.show_alert and "tidak bisa dihubungi" in (again.answer_text or "")


# --- refusals ---


async def test_one_open_question_per_asker_and_none_on_a_closed_incident(
    sim: TelegramSimulator, harness: BotHarness
) -> None:
    city = await build_city(sim, harness)
    _ani, number = await fire_with_reporter(city)
    rudi = city.crews["damkar"][0]
    await ask_quick(city, rudi, number)
    second = await sim.press_button(rudi, city.card("damkar", number), text=ASK)
    await harness.settle()
    assert second.show_alert and "masih menunggu jawaban" in (second.answer_text or "")
    # A member of an agency the incident was not routed to may not ask.
    dewi = city.crews["dinkes"][0]
    seen = sim.bot_messages(city.groups["dinkes"])[-1]  # a message of the bot Dewi can see
    stranger = await sim.press_raw(
        dewi, seen, AskReporter(ButtonAction.ASK_REPORTER, number, 0).encode()
    )
    await harness.settle()
    assert stranger.show_alert
    assert not any("Tanya pelapor" in t for t in texts(sim, sim.private_chat(dewi)))
    # Closed: the card loses its buttons, and a forged press is refused.
    await harness.services.incidents.resolve(number, city.dispatcher.id)
    await harness.settle()
    forged = await sim.press_raw(
        rudi,
        city.card("damkar", number),
        AskReporter(ButtonAction.ASK_REPORTER, number, 1).encode(),
    )
    await harness.settle()
    assert forged.show_alert
    assert "pertanyaan menunggu" not in (city.card("damkar", number).text or "")


# --- time and restarts ---


async def test_an_unanswered_question_is_marked_and_a_late_answer_still_counts(
    sim: TelegramSimulator, harness: BotHarness
) -> None:
    clock = ManualClock()
    city = await build_city(sim, harness, clock=clock, question_unanswered_minutes=5)
    ani, number = await fire_with_reporter(city)
    rudi = city.crews["damkar"][0]
    await ask_quick(city, rudi, number)
    clock.advance(timedelta(minutes=4))
    assert await harness.services.info.mark_unanswered() == 0
    clock.advance(timedelta(minutes=2))
    assert await harness.services.info.mark_unanswered() == 1
    await harness.settle()
    card = city.card("damkar", number).text or ""
    assert "⏳ 1 pertanyaan belum dijawab pelapor" in card, card
    shown = await harness.says(city.dispatcher, f"/kejadian {number}")
    assert "pertanyaan Damkar Palangka Raya belum dijawab pelapor" in (shown.text or "")
    assert await harness.services.info.mark_unanswered() == 0  # once

    await harness.says(ani, "Tidak ada, semua sudah keluar")
    await harness.settle()
    card = city.card("damkar", number).text or ""
    assert "belum dijawab" not in card and "💬 1 info tambahan" in card, card


async def test_a_restart_in_the_middle_of_a_question_loses_nothing(
    sim: TelegramSimulator, harness: BotHarness
) -> None:
    clock = ManualClock()
    city = await build_city(sim, harness, clock=clock)
    ani, number = await fire_with_reporter(city)
    rudi = city.crews["damkar"][0]
    picker = await ask(city, rudi, number)
    await harness.restart(clock=clock)  # the picker is open
    await sim.press_button(rudi, picker, text=QUESTION)
    await harness.settle()
    assert QUESTION in (last(sim, sim.private_chat(ani)).text or "")
    await harness.restart(clock=clock)  # the question waits for its answer
    await harness.says(ani, "Ya, satu orang di dapur")
    await harness.settle()
    for code in ("damkar", "relawan"):
        replies = under(sim, city.groups[code], city.card(code, number))
        assert [("satu orang di dapur" in (m.text or "")) for m in replies] == [True], code
    assert any("satu orang di dapur" in t for t in texts(sim, sim.private_chat(rudi)))

    # An offer to add survives a restart too.
    offer = await harness.says(ani, "Pemadam sudah datang")
    await harness.restart(clock=clock)
    await sim.press_button(ani, offer, text=f"➕ Ya, tambahkan ke #{number}")
    await harness.settle()
    replies = under(sim, city.groups["damkar"], city.card("damkar", number))
    assert "Pemadam sudah datang" in (replies[-1].text or "")


async def test_erasure_takes_the_reporters_answers_and_their_copies_off_every_chat(
    sim: TelegramSimulator, harness: BotHarness
) -> None:
    city = await build_city(sim, harness)
    ani, number = await fire_with_reporter(city)
    rudi = city.crews["damkar"][0]
    await ask_quick(city, rudi, number, "Bisa kirim foto kejadiannya?")
    await sim.send_photo(ani, caption="Rumah saya, Jl. Rajawali 7")
    await harness.settle()
    replies = under(sim, city.groups["damkar"], city.card("damkar", number))
    assert len(replies) == 2 and replies[1].photo
    question = await harness.says(ani, "/lupakan")
    await sim.press_button(ani, question, text="🗑 Ya, hapus data saya")
    await harness.settle()
    for code in ("damkar", "relawan"):
        shown = [m for m in under(sim, city.groups[code], city.card(code, number)) if not m.deleted]
        assert [m.text for m in shown] == [f"💬 (dihapus atas permintaan pelapor — #{number})"], (
            code
        )
    everywhere = [t for chat in sim.chats() for t in texts(sim, chat)]
    assert not any("Rajawali 7" in t for t in everywhere)


async def test_a_reporter_who_never_pressed_start_can_be_asked(
    sim: TelegramSimulator, harness: BotHarness
) -> None:
    # Writing to the bot in private opens the chat as Start does: /lapor straight away is enough.
    city = await build_city(sim, harness)
    bima = sim.add_user("Bima", language_code="id")
    number = await report(city, bima)
    await ask_quick(city, city.crews["damkar"][0], number)
    assert QUESTION in (last(sim, sim.private_chat(bima)).text or "")


async def test_odd_and_huge_answers_are_escaped_and_bounded(
    sim: TelegramSimulator, harness: BotHarness
) -> None:
    city = await build_city(sim, harness)
    ani, number = await fire_with_reporter(city)
    await ask_quick(city, city.crews["damkar"][0], number)
    odd = "<b>Ya</b> & <a href='x'>dua</a> " + "😀" * 10 + "kata " * 900
    await harness.says(ani, odd[:4000])
    await harness.settle()
    for code in ("damkar", "relawan"):
        (reply,) = under(sim, city.groups[code], city.card(code, number))
        assert "<b>Ya</b> & <a href='x'>dua</a>" in (reply.text or ""), reply.text  # as written
        assert len(reply.text or "") < 4096
    shown = await harness.says(city.dispatcher, f"/kejadian {number}")
    assert len(shown.text or "") < 4096


async def test_an_answer_delivered_twice_is_posted_once(
    sim: TelegramSimulator, harness: BotHarness
) -> None:
    # Telegram delivers an update again when the bot died before recording it as handled.
    city = await build_city(sim, harness)
    ani, number = await fire_with_reporter(city)
    await ask_quick(city, city.crews["damkar"][0], number)
    message = await sim.send_message(ani, "Tidak ada orang di dalam")
    await harness.settle()
    info = harness.services.info
    view = await harness.services.incidents.view(number)
    assert view is not None
    (question,) = [i for i in view.infos if i.kind is InfoKind.QUESTION]
    again = await info.answer(
        question.id, ani.id, Content(chat_id=ani.id, message_id=message.message_id, text="x")
    )
    await harness.settle()
    assert again.ok
    replies = under(sim, city.groups["damkar"], city.card("damkar", number))
    assert len(replies) == 1
    assert [k for k, _s, _t in await infos(harness, number)] == ["question", "answer"]
