"""The simulator's media and copies, driven through a real PTB `Bot` over HTTP.

A reporter's voice notes, videos, audio files, video notes and documents reach the bot as PTB
objects (in groups only as privacy mode allows), the bot sends such files itself, and
copyMessage puts a reporter's message into an agency group the way Telegram does: a MessageId
back, a new message of the bot, Telegram's refusals and flood limits.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest
from telegram import (
    Audio,
    Bot,
    Document,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    MessageEntity,
    MessageId,
    ReplyParameters,
    Update,
    Video,
    VideoNote,
    Voice,
)
from telegram.error import BadRequest, Forbidden, RetryAfter
from telegram.request import HTTPXRequest

from bot.simulator import SimChat, SimMessage, SimUser, TelegramSimulator

TOKEN = "123456789:AAEsimulatorTokenxxxxxxxxxxxxxxxxxx"
# PTB 22 warns that durations will become timedeltas; irrelevant here.
pytestmark = pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")


class FakeClock:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def sim(clock: FakeClock) -> AsyncIterator[TelegramSimulator]:
    simulator = TelegramSimulator(TOKEN, bot_username="siaga112_bot", clock=clock)
    await simulator.start()
    yield simulator
    await simulator.stop()
    assert simulator.internal_errors == []


@pytest.fixture
async def bot(sim: TelegramSimulator) -> AsyncIterator[Bot]:
    request = HTTPXRequest(read_timeout=2.0, connect_timeout=1.0)
    async with Bot(
        TOKEN,
        base_url=sim.bot_base_url,
        base_file_url=sim.bot_base_file_url,
        request=request,
        get_updates_request=HTTPXRequest(read_timeout=2.0, connect_timeout=1.0),
    ) as ptb_bot:
        yield ptb_bot


@pytest.fixture
async def sari(sim: TelegramSimulator) -> SimUser:
    """A reporter who has started the bot."""
    reporter = sim.add_user("Sari", username="sari", language_code="id")
    await sim.send_message(reporter, "/start")
    return reporter


@pytest.fixture
def budi(sim: TelegramSimulator) -> SimUser:
    return sim.add_user("Budi", language_code="id")


@contextmanager
def rejected(sim: TelegramSimulator, description: str) -> Iterator[None]:
    """Expect a 400 answer whose raw Telegram description is exactly `description`."""
    with pytest.raises(BadRequest):
        yield
    assert sim.calls[-1].description == description


async def raw_call(sim: TelegramSimulator, method: str, **params: Any) -> Any:
    """Call a method with a JSON body, bypassing PTB, and return the decoded answer."""
    async with httpx.AsyncClient() as client:
        response = await client.post(f"{sim.bot_base_url}{TOKEN}/{method}", json=params)
    return response.json()


async def drain(bot: Bot) -> list[Message]:
    """Fetch and confirm every pending update; return the messages among them."""
    updates = list(await bot.get_updates(timeout=0))
    if updates:
        await bot.get_updates(offset=updates[-1].update_id + 1, timeout=0)
    return [u.message for u in updates if u.message is not None]


def as_ptb(sim: TelegramSimulator, msg: SimMessage, bot: Bot) -> Message:
    """A stored message as PTB parses Telegram's JSON of it."""
    return Message.de_json(sim.message_json(msg), bot)


def copy_of(sim: TelegramSimulator, chat: SimChat, copied: MessageId) -> SimMessage:
    return next(m for m in sim.bot_messages(chat) if m.message_id == copied.message_id)


async def agency_forum(sim: TelegramSimulator, member: SimUser) -> tuple[SimChat, int]:
    """A forum supergroup with the bot in it and a "Damkar" topic."""
    forum = sim.add_group("Pusat 112", members=[member], supergroup=True, forum=True)
    sim.add_bot_to_group(forum, by=member)
    return forum, sim.create_topic(forum, "Damkar")


# ---- copyMessage --------------------------------------------------------------------------------


async def test_a_reporters_messages_are_copied_into_a_topic_as_replies_to_the_card(
    sim: TelegramSimulator, bot: Bot, sari: SimUser, budi: SimUser
) -> None:
    forum, topic = await agency_forum(sim, budi)
    card = await bot.send_message(forum.id, "Kebakaran di Jl. Rajawali", message_thread_id=topic)
    text = await sim.send_message(sari, "Asap tebal di gang 3")
    photo = await sim.send_photo(sari, caption="foto dari HP", data=b"\xff\xd8sari-photo")
    place = await sim.send_location(sari, -2.2096, 113.9135, live_period=600)
    voice = await sim.send_voice(sari, duration=7)
    reply = ReplyParameters(card.message_id)

    copied_text = await bot.copy_message(
        forum.id, sari.id, text.message_id, caption="diabaikan", reply_parameters=reply
    )
    copied_photo = await bot.copy_message(
        forum.id,
        sari.id,
        photo.message_id,
        caption="<b>Foto</b> pelapor",
        parse_mode="HTML",
        reply_parameters=reply,
    )
    copied_place = await bot.copy_message(
        forum.id, sari.id, place.message_id, reply_parameters=reply
    )
    copied_voice = await bot.copy_message(
        forum.id, sari.id, voice.message_id, reply_parameters=reply
    )

    assert all(
        isinstance(c, MessageId) for c in (copied_text, copied_photo, copied_place, copied_voice)
    )
    copies = [
        copy_of(sim, forum, c) for c in (copied_text, copied_photo, copied_place, copied_voice)
    ]
    assert [c.message_id for c in copies] == [card.message_id + n for n in range(1, 5)]
    for copy in copies:
        shown = as_ptb(sim, copy, bot)
        assert shown.from_user is not None
        assert shown.from_user.id == bot.id  # a message of the bot, not a forward
        assert shown.forward_origin is None
        assert shown.message_thread_id == topic  # the reply lands in the card's topic
        assert shown.is_topic_message
        assert shown.reply_to_message is not None
        assert shown.reply_to_message.message_id == card.message_id
    text_copy, photo_copy, place_copy, voice_copy = (as_ptb(sim, c, bot) for c in copies)
    assert text_copy.text == "Asap tebal di gang 3"
    assert text_copy.caption is None  # Telegram ignores a caption for a text message
    assert photo_copy.caption == "Foto pelapor"
    assert photo_copy.caption_entities == (MessageEntity(MessageEntity.BOLD, 0, 4),)
    assert photo.photo is not None
    assert photo_copy.photo[-1].file_unique_id == photo.photo[-1]["file_unique_id"]
    assert place_copy.location is not None
    assert place_copy.location.latitude == pytest.approx(-2.2096)
    assert place_copy.location.live_period is None  # a live location is copied as a static one
    assert isinstance(voice_copy.voice, Voice)
    assert voice.voice is not None
    assert voice_copy.voice.file_id == voice.voice["file_id"]
    assert voice_copy.voice.duration == 7
    file = await bot.get_file(voice_copy.voice.file_id)
    assert bytes(await file.download_as_bytearray()) == b"OggS\x00simulated-voice"

    call = [c for c in sim.calls if c.method == "copyMessage"][-1]
    assert call.ok
    assert call.params["from_chat_id"] == sari.id
    assert call.params["reply_parameters"] == {"message_id": card.message_id}
    assert [e.text for e in sim.events if e.kind == "bot_message"][-1] == "[copy] [voice 7s]"


async def test_copy_answers_a_bare_message_id(
    sim: TelegramSimulator, bot: Bot, sari: SimUser
) -> None:
    report = await sim.send_message(sari, "Pohon tumbang")
    answer = await raw_call(
        sim, "copyMessage", chat_id=sari.id, from_chat_id=sari.id, message_id=report.message_id
    )
    assert answer == {"ok": True, "result": {"message_id": report.message_id + 1}}
    assert sim.bot_messages(sim.private_chat(sari))[-1].text == "Pohon tumbang"


async def test_a_copy_keeps_replaces_or_drops_the_caption_and_takes_only_the_given_keyboard(
    sim: TelegramSimulator, bot: Bot, sari: SimUser
) -> None:
    chat = sim.private_chat(sari)
    video = await sim.send_video(sari, duration=12, caption="banjir naik")
    note = await sim.send_video_note(sari, duration=4)
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("Terima", callback_data="ack")]])

    kept = await bot.copy_message(sari.id, sari.id, video.message_id, reply_markup=keyboard)
    dropped = await bot.copy_message(sari.id, sari.id, video.message_id, caption="")
    on_note = await bot.copy_message(sari.id, sari.id, note.message_id, caption="tidak bisa")

    assert copy_of(sim, chat, kept).caption == "banjir naik"
    assert copy_of(sim, chat, kept).button_data == [["ack"]]
    assert copy_of(sim, chat, dropped).caption is None
    assert copy_of(sim, chat, dropped).reply_markup is None
    shown_note = as_ptb(sim, copy_of(sim, chat, on_note), bot)
    assert isinstance(shown_note.video_note, VideoNote)
    assert shown_note.caption is None  # a video note has no caption to replace


async def test_copy_refusals_carry_telegrams_descriptions_and_leave_no_trace(
    sim: TelegramSimulator, bot: Bot, sari: SimUser, budi: SimUser
) -> None:
    group, _ = await agency_forum(sim, budi)
    report = await sim.send_message(sari, "hapus saya")
    await bot.delete_message(sari.id, report.message_id)
    before = len(sim.bot_messages(group))

    with rejected(sim, "Bad Request: message to copy not found"):
        await bot.copy_message(group.id, sari.id, report.message_id)
    with rejected(sim, "Bad Request: message to copy not found"):
        await bot.copy_message(group.id, sari.id, 9999)
    with rejected(sim, "Bad Request: chat not found"):
        await bot.copy_message(group.id, -42, 1)
    never_joined = sim.add_group("Tanpa bot", members=[budi])
    with rejected(sim, "Bad Request: chat not found"):
        await bot.copy_message(group.id, never_joined.id, 1)
    joined = sim.messages(group)[0]  # the new_chat_members service message
    assert joined.is_service
    with rejected(sim, "Bad Request: the message can't be copied"):
        await bot.copy_message(group.id, group.id, joined.message_id)
    text = await sim.send_message(sari, "ada")
    with rejected(sim, "Bad Request: message thread not found"):
        await bot.copy_message(group.id, sari.id, text.message_id, message_thread_id=77)
    with rejected(sim, "Bad Request: message to be replied not found"):
        await bot.copy_message(
            group.id, sari.id, text.message_id, reply_parameters=ReplyParameters(9999)
        )
    unsupported = 'Bad Request: can\'t parse entities: Unsupported start tag "x" at byte offset 0'
    with rejected(sim, unsupported):
        await bot.copy_message(group.id, sari.id, 9999, caption="<x>", parse_mode="HTML")

    raw = await raw_call(sim, "copyMessage", chat_id=group.id, from_chat_id=sari.id, message_id=0)
    assert raw == {
        "ok": False,
        "error_code": 400,
        "description": "Bad Request: message to copy not found",
    }
    missing_source = await raw_call(sim, "copyMessage", chat_id=group.id, message_id=1)
    assert missing_source["description"] == 'Bad Request: parameter "from_chat_id" is required'
    assert len(sim.bot_messages(group)) == before

    sim.remove_bot_from_group(group, by=budi)
    own = await bot.send_message(sari.id, "kartu")
    with pytest.raises(Forbidden, match="bot was kicked from the supergroup chat"):
        await bot.copy_message(sari.id, group.id, 1)
    with pytest.raises(Forbidden, match="bot was kicked from the supergroup chat"):
        await bot.copy_message(group.id, sari.id, own.message_id)


async def test_copy_into_a_chat_that_blocked_the_bot_is_forbidden(
    sim: TelegramSimulator, bot: Bot, sari: SimUser, budi: SimUser
) -> None:
    await sim.send_message(budi, "/start")
    report = await sim.send_voice(sari, duration=5)
    sim.block_bot(budi)
    with pytest.raises(Forbidden, match="bot was blocked by the user"):
        await bot.copy_message(budi.id, sari.id, report.message_id)
    assert sim.calls[-1].error_code == 403
    assert sim.bot_messages(sim.private_chat(budi)) == []

    # The chat of someone who blocked the bot can still be read from.
    sim.block_bot(sari)
    sim.unblock_bot(budi)
    copied = await bot.copy_message(budi.id, sari.id, report.message_id)
    assert copy_of(sim, sim.private_chat(budi), copied).voice is not None


async def test_a_protected_copy_cannot_be_forwarded_by_people(
    sim: TelegramSimulator, bot: Bot, sari: SimUser
) -> None:
    report = await sim.send_photo(sari, caption="bukti")
    copied = await bot.copy_message(sari.id, sari.id, report.message_id, protect_content=True)
    copy = copy_of(sim, sim.private_chat(sari), copied)
    assert as_ptb(sim, copy, bot).has_protected_content is True
    with pytest.raises(ValueError, match="protected content"):
        await sim.forward_message(sari, copy)


async def test_flood_limits_count_copies(
    sim: TelegramSimulator, bot: Bot, sari: SimUser, clock: FakeClock
) -> None:
    sim.enforce_rate_limits = True
    report = await sim.send_message(sari, "tolong")
    for _ in range(3):
        await bot.copy_message(sari.id, sari.id, report.message_id)
    with pytest.raises(RetryAfter) as raised:
        await bot.copy_message(sari.id, sari.id, report.message_id)
    assert raised.value.retry_after == 1
    assert sim.stats.too_many_requests == 1
    assert sim.stats.sends_by_chat[sari.id] == 3
    assert len(sim.bot_messages(sim.private_chat(sari))) == 3
    clock.advance(1.0)
    await bot.copy_message(sari.id, sari.id, report.message_id)
    assert sim.stats.sends_by_chat[sari.id] == 4


# ---- people send media --------------------------------------------------------------------------


async def test_a_reporters_media_reach_the_bot_as_ptb_objects(
    sim: TelegramSimulator, bot: Bot, sari: SimUser
) -> None:
    await drain(bot)
    await sim.send_voice(sari, duration=9, data=b"OggS-suara")
    await sim.send_video(sari, duration=14, caption="air naik", data=b"mp4-video")
    await sim.send_audio(sari, duration=61, title="Sirene", performer="Pos 3", data=b"ID3-mp3")
    await sim.send_video_note(sari, duration=6, data=b"mp4-bulat")
    await sim.send_document(sari, "denah.pdf", "application/pdf", data=b"%PDF", caption="denah")

    voice, video, audio, note, document = await drain(bot)
    assert isinstance(voice.voice, Voice)
    assert (voice.voice.duration, voice.voice.mime_type) == (9, "audio/ogg")
    assert voice.voice.file_size == len(b"OggS-suara")
    assert voice.voice.file_id.startswith("AwAC")  # Telegram's voice file_ids
    assert isinstance(video.video, Video)
    assert (video.video.duration, video.video.width, video.video.height) == (14, 720, 1280)
    assert video.video.mime_type == "video/mp4"
    assert video.caption == "air naik"
    assert isinstance(audio.audio, Audio)
    assert (audio.audio.title, audio.audio.performer) == ("Sirene", "Pos 3")
    assert (audio.audio.file_name, audio.audio.mime_type) == ("rekaman.mp3", "audio/mpeg")
    assert isinstance(note.video_note, VideoNote)
    assert (note.video_note.length, note.video_note.duration) == (384, 6)
    assert isinstance(document.document, Document)
    assert document.document.file_name == "denah.pdf"
    assert document.caption == "denah"

    files = [
        (voice.voice.file_id, b"OggS-suara", "voice/"),
        (video.video.file_id, b"mp4-video", "videos/"),
        (audio.audio.file_id, b"ID3-mp3", "music/"),
        (note.video_note.file_id, b"mp4-bulat", "video_notes/"),
        (document.document.file_id, b"%PDF", "documents/"),
    ]
    for file_id, data, folder in files:
        file = await bot.get_file(file_id)
        assert file.file_path is not None
        assert folder in file.file_path
        assert bytes(await file.download_as_bytearray()) == data


async def test_in_a_group_the_bot_sees_media_only_as_privacy_mode_allows(
    sim: TelegramSimulator, bot: Bot, budi: SimUser
) -> None:
    rudi = sim.add_user("Rudi")
    group = sim.add_group("Relawan", members=[budi, rudi])
    sim.add_bot_to_group(group, by=budi)
    card = await bot.send_message(group.id, "Kartu insiden")
    chatter = await sim.send_message(rudi, "siapa di lokasi?", chat=group)
    await drain(bot)

    await sim.send_voice(budi, chat=group)
    await sim.send_video(budi, chat=group, caption="lihat ini")
    await sim.send_video_note(budi, chat=group)
    await sim.send_audio(budi, chat=group, reply_to=chatter)
    await sim.send_document(budi, "a.pdf", "application/pdf", chat=group, reply_to=chatter)
    assert await drain(bot) == []

    await sim.send_voice(budi, chat=group, duration=4, reply_to=card.message_id)
    await sim.send_video(budi, chat=group, caption="/lapor banjir")
    await sim.send_video_note(budi, chat=group, reply_to=card.message_id)
    await sim.send_audio(budi, chat=group, caption="untuk @siaga112_bot")
    await sim.send_document(budi, "b.pdf", "application/pdf", chat=group, reply_to=card.message_id)
    seen = await drain(bot)
    assert [m.effective_attachment.__class__ for m in seen] == [
        Voice,
        Video,
        VideoNote,
        Audio,
        Document,
    ]
    assert seen[0].reply_to_message is not None
    assert seen[0].reply_to_message.message_id == card.message_id


async def test_updates_with_media_parse_as_whole_updates(
    sim: TelegramSimulator, bot: Bot, sari: SimUser
) -> None:
    await drain(bot)
    await sim.send_voice(sari, caption="dengar", duration=2)
    raw = (await raw_call(sim, "getUpdates", timeout=0))["result"][0]
    assert set(raw["message"]["voice"]) == {
        "file_id",
        "file_unique_id",
        "duration",
        "mime_type",
        "file_size",
    }
    update = Update.de_json(raw, bot)
    assert update.message is not None
    assert update.message.caption == "dengar"


# ---- the bot sends media ------------------------------------------------------------------------


async def test_the_bot_sends_voice_video_audio_and_video_notes(
    sim: TelegramSimulator, bot: Bot, sari: SimUser
) -> None:
    voice = await bot.send_voice(
        sari.id, b"OggS-bot", duration=3, caption="<i>pesan</i>", parse_mode="HTML"
    )
    assert isinstance(voice.voice, Voice)
    assert voice.caption == "pesan"
    assert voice.voice.duration == 3
    video = await bot.send_video(sari.id, b"mp4", duration=5, width=640, height=360)
    assert isinstance(video.video, Video)
    assert (video.video.width, video.video.height) == (640, 360)
    audio = await bot.send_audio(sari.id, b"ID3", title="Sirene", performer="Damkar")
    assert isinstance(audio.audio, Audio)
    assert audio.audio.title == "Sirene"
    note = await bot.send_video_note(sari.id, b"mp4-round", duration=4, length=240)
    assert isinstance(note.video_note, VideoNote)
    assert note.video_note.length == 240
    file = await bot.get_file(note.video_note.file_id)
    assert bytes(await file.download_as_bytearray()) == b"mp4-round"

    again = await bot.send_voice(sari.id, voice.voice.file_id)
    assert again.voice is not None
    assert again.voice.file_unique_id == voice.voice.file_unique_id
    # A document-like file keeps its kind: a voice sent through sendDocument is a voice.
    through_document = await bot.send_document(sari.id, voice.voice.file_id)
    assert through_document.voice is not None
    assert through_document.document is None

    await bot.edit_message_caption(sari.id, voice.message_id, caption="pesan baru")
    assert sim.bot_messages(sim.private_chat(sari))[0].caption == "pesan baru"
    with rejected(sim, "Bad Request: there is no caption in the message to edit"):
        await bot.edit_message_caption(sari.id, note.message_id, caption="x")


async def test_sends_refuse_a_missing_file_or_one_of_another_type(
    sim: TelegramSimulator, bot: Bot, sari: SimUser
) -> None:
    photo = await bot.send_photo(sari.id, b"\xff\xd8foto")
    voice = await bot.send_voice(sari.id, b"OggS")
    with rejected(sim, "Bad Request: can't use file of type Photo as VoiceNote"):
        await bot.send_voice(sari.id, photo.photo[-1].file_id)
    assert voice.voice is not None
    with rejected(sim, "Bad Request: can't use file of type VoiceNote as Photo"):
        await bot.send_photo(sari.id, voice.voice.file_id)
    with rejected(sim, "Bad Request: wrong file identifier/HTTP URL specified"):
        await bot.send_video(sari.id, "AwACunknown")
    missing = await raw_call(sim, "sendVideoNote", chat_id=sari.id)
    assert missing["description"] == "Bad Request: there is no video note in the request"
    assert len(sim.bot_messages(sim.private_chat(sari))) == 2
