"""The Telegram simulator, driven through a real PTB `Bot` over HTTP, as the bot would use it."""

from __future__ import annotations

import asyncio
import html
import json
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st
from telegram import (
    Bot,
    BotCommand,
    BotCommandScopeAllGroupChats,
    BotCommandScopeChat,
    CallbackQuery,
    ChatFullInfo,
    ChatMemberAdministrator,
    ChatMemberBanned,
    ChatMemberLeft,
    ChatMemberMember,
    ChatMemberOwner,
    ForceReply,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputMediaPhoto,
    KeyboardButton,
    MenuButtonCommands,
    MenuButtonWebApp,
    Message,
    MessageEntity,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
    ReplyParameters,
    Update,
    WebAppInfo,
)
from telegram.constants import ParseMode
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Conflict,
    EndPointNotFound,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TimedOut,
)
from telegram.ext import Application, CommandHandler, ContextTypes
from telegram.request import BaseRequest, HTTPXRequest

from bot.simulator import SimChat, SimUser, TelegramSimulator
from bot.simulator.entities import EntityParseError, parse_html

TOKEN = "123456789:AAEsimulatorTokenxxxxxxxxxxxxxxxxxx"
# PTB 22 warns that retry_after/live_period will become timedeltas; irrelevant here.
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


def make_bot(
    sim: TelegramSimulator,
    token: str = TOKEN,
    read_timeout: float = 2.0,
    transport: Callable[..., BaseRequest] = HTTPXRequest,
) -> Bot:
    """A PTB bot on the simulator; `transport`: PTB's own by default (the bot's is tested
    through here too, `tests/test_http.py`)."""
    return Bot(
        token,
        base_url=sim.bot_base_url,
        base_file_url=sim.bot_base_file_url,
        request=transport(read_timeout=read_timeout, connect_timeout=1.0),
        get_updates_request=transport(read_timeout=read_timeout, connect_timeout=1.0),
    )


@pytest.fixture
async def bot(sim: TelegramSimulator) -> AsyncIterator[Bot]:
    async with make_bot(sim) as ptb_bot:
        yield ptb_bot


@pytest.fixture
def sari(sim: TelegramSimulator) -> SimUser:
    return sim.add_user("Sari", username="sari", language_code="id")


@pytest.fixture
async def started(sim: TelegramSimulator, sari: SimUser) -> SimUser:
    await sim.send_message(sari, "/start")
    return sari


async def group_with_bot(
    sim: TelegramSimulator, *members: SimUser, admin: bool = False, supergroup: bool = False
) -> SimChat:
    group = sim.add_group("Damkar Palangka Raya", members=list(members), supergroup=supergroup)
    sim.add_bot_to_group(group, by=members[0], admin=admin)
    return group


@contextmanager
def rejected(sim: TelegramSimulator, description: str) -> Iterator[None]:
    """Expect a 400 answer whose Telegram description contains `description` verbatim.

    (PTB strips "Bad Request: " and re-capitalises the message, so check the raw answer.)
    """
    with pytest.raises(BadRequest):
        yield
    assert description in (sim.calls[-1].description or "")


async def raw_call(sim: TelegramSimulator, method: str, **params: Any) -> Any:
    """Call a method with a JSON body, bypassing PTB, and return the decoded answer."""
    async with httpx.AsyncClient() as client:
        response = await client.post(f"{sim.bot_base_url}{TOKEN}/{method}", json=params)
    return response.json()


async def drain(bot: Bot) -> list[Update]:
    """Fetch and confirm every pending update."""
    updates = list(await bot.get_updates(timeout=0))
    if updates:
        await bot.get_updates(offset=updates[-1].update_id + 1, timeout=0)
    return updates


# ---- basics -----------------------------------------------------------------------------------


async def test_get_me_describes_the_bot_with_privacy_mode_on(
    sim: TelegramSimulator, bot: Bot
) -> None:
    me = await bot.get_me()
    assert me.id == sim.bot_user_id == 123456789
    assert me.username == "siaga112_bot"
    assert me.is_bot
    assert me.can_read_all_group_messages is False


async def test_wrong_token_is_unauthorized(sim: TelegramSimulator) -> None:
    with pytest.raises(InvalidToken):
        async with make_bot(sim, token="987654321:AAwrongwrongwrongwrongwrongwrongwro"):
            pass
    assert sim.calls[-1].error_code == 401


async def test_unknown_method_answers_404(sim: TelegramSimulator, bot: Bot) -> None:
    with pytest.raises(EndPointNotFound):
        await bot.do_api_request("launchRockets")
    async with httpx.AsyncClient() as client:
        response = await client.post(f"{sim.bot_base_url}{TOKEN}/launchRockets")
    assert response.status_code == 404
    assert response.json() == {"ok": False, "error_code": 404, "description": "Not Found"}


async def test_parameters_from_query_string_form_and_json(
    sim: TelegramSimulator, started: SimUser
) -> None:
    url = f"{sim.bot_base_url}{TOKEN}/sendMessage"
    markup = {"inline_keyboard": [[{"text": "Ok", "callback_data": "ok"}]]}
    async with httpx.AsyncClient() as client:
        by_query = await client.get(url, params={"chat_id": started.id, "text": "123"})
        by_form = await client.post(
            url,
            data={"chat_id": str(started.id), "text": "form", "reply_markup": json.dumps(markup)},
        )
        by_json = await client.post(
            url, json={"chat_id": started.id, "text": "json", "reply_markup": markup}
        )
    assert [r.status_code for r in (by_query, by_form, by_json)] == [200, 200, 200]
    assert by_query.json()["result"]["text"] == "123"  # a numeric text stays text
    texts = [m.text for m in sim.bot_messages(sim.private_chat(started))]
    assert texts == ["123", "form", "json"]
    assert sim.bot_messages(sim.private_chat(started))[2].button_data == [["ok"]]
    assert sim.calls[-1].params["reply_markup"] == markup


# ---- getUpdates -------------------------------------------------------------------------------


async def test_offset_confirms_and_limit_caps(
    sim: TelegramSimulator, bot: Bot, sari: SimUser
) -> None:
    for n in range(5):
        await sim.send_message(sari, f"pesan {n}")
    first = await bot.get_updates(limit=2, timeout=0)
    assert [u.message.text for u in first if u.message] == ["pesan 0", "pesan 1"]
    assert sim.updates_pending == 5  # nothing confirmed yet
    rest = await bot.get_updates(offset=first[-1].update_id + 1, timeout=0)
    assert [u.message.text for u in rest if u.message] == ["pesan 2", "pesan 3", "pesan 4"]
    assert sim.updates_pending == 3
    await bot.get_updates(offset=rest[-1].update_id + 1, timeout=0)
    assert sim.updates_pending == 0
    assert await bot.get_updates(timeout=0) == ()
    assert (sim.first_update_id, sim.last_update_id) == (1, 5)


async def test_negative_offset_keeps_only_the_last_updates(
    sim: TelegramSimulator, bot: Bot, sari: SimUser
) -> None:
    for n in range(4):
        await sim.send_message(sari, f"m{n}")
    updates = await bot.get_updates(offset=-1, timeout=0)
    assert [u.message.text for u in updates if u.message] == ["m3"]
    assert sim.updates_pending == 1


async def test_long_poll_returns_as_soon_as_an_update_arrives(
    sim: TelegramSimulator, bot: Bot, sari: SimUser
) -> None:
    poll = asyncio.create_task(bot.get_updates(timeout=5))
    await sim.wait_for(lambda: sim.polls_waiting == 1, 2, "the poll to wait")
    started_at = time.monotonic()
    await sim.send_message(sari, "halo")
    updates = await asyncio.wait_for(poll, 2)
    assert time.monotonic() - started_at < 1.0
    assert updates[0].message is not None
    assert updates[0].message.text == "halo"


async def test_long_poll_times_out_empty(bot: Bot) -> None:
    started_at = time.monotonic()
    assert await bot.get_updates(timeout=0.2) == ()  # type: ignore[arg-type]
    assert 0.15 < time.monotonic() - started_at < 1.5


async def test_stop_releases_a_waiting_poll(clock: FakeClock) -> None:
    sim = TelegramSimulator(TOKEN, clock=clock)
    await sim.start()
    async with make_bot(sim, read_timeout=10) as ptb_bot:
        poll = asyncio.create_task(ptb_bot.get_updates(timeout=30))
        await sim.wait_for(lambda: sim.polls_waiting == 1, 2, "the poll to wait")
        started_at = time.monotonic()
        await sim.stop()
        outcome = (await asyncio.wait_for(asyncio.gather(poll, return_exceptions=True), 3))[0]
        assert outcome == () or isinstance(outcome, NetworkError)
        assert time.monotonic() - started_at < 2.0


async def test_allowed_updates_filters_kinds(
    sim: TelegramSimulator, bot: Bot, started: SimUser
) -> None:
    sent = await bot.send_message(started.id, "Pilih", reply_markup=_keyboard("a"))
    stored = sim.messages(sim.private_chat(started))[-1]
    await sim.press_button(started, stored, text="A")
    await sim.send_message(started, "teks")
    updates = await bot.get_updates(timeout=0, allowed_updates=["callback_query"])
    assert [u.callback_query.data for u in updates if u.callback_query] == ["a"]
    assert all(u.message is None for u in updates)
    assert sent.message_id == stored.message_id


async def test_a_second_poll_terminates_the_first_with_conflict(
    sim: TelegramSimulator, bot: Bot
) -> None:
    first = asyncio.create_task(bot.get_updates(timeout=5))
    await sim.wait_for(lambda: sim.polls_waiting == 1, 2, "the poll to wait")
    second = asyncio.create_task(bot.get_updates(timeout=0))
    with pytest.raises(Conflict, match="terminated by other getUpdates"):
        await asyncio.wait_for(first, 2)
    assert await second == ()


async def test_webhook_blocks_get_updates(sim: TelegramSimulator, bot: Bot) -> None:
    await bot.set_webhook("https://example.org/hook")
    assert (await bot.get_webhook_info()).url == "https://example.org/hook"
    with pytest.raises(Conflict, match="webhook is active"):
        await bot.get_updates(timeout=0)
    await bot.delete_webhook()
    assert await bot.get_updates(timeout=0) == ()
    assert await bot.log_out()
    assert await bot.close()


async def test_injected_updates_keep_their_shape(sim: TelegramSimulator, bot: Bot) -> None:
    update_id = sim.inject_update({"weird": {"x": 1}})
    answer = await raw_call(sim, "getUpdates", timeout=0)
    assert answer["result"] == [{"update_id": update_id, "weird": {"x": 1}}]


# ---- every shape is PTB-parseable ---------------------------------------------------------------


async def test_every_person_action_yields_updates_ptb_parses(
    sim: TelegramSimulator, bot: Bot
) -> None:
    sari = sim.add_user("Sari", last_name="Dewi", username="sari", language_code="id")
    budi = sim.add_user("Budi", language_code="en")
    await sim.send_message(sari, "/start")
    await sim.send_location(sari, -2.2096, 113.9135, live_period=60)
    await sim.send_venue(sari, -2.2, 113.9, "Pos Damkar", "Jl. Tjilik Riwut")
    await sim.send_contact(sari, "+6281234567")
    await sim.send_photo(sari, caption="api", data=b"jpeg-bytes")
    await sim.send_document(sari, "laporan.pdf", "application/pdf", data=b"%PDF")
    group = sim.add_group("Relawan", members=[sari], supergroup=True, forum=True)
    sim.add_bot_to_group(group, by=sari, admin=True)
    sim.add_member(group, budi, by=sari)
    topic = sim.create_topic(group, "Damkar")
    await sim.send_message(budi, "di topik", chat=group, thread_id=topic)
    sim.remove_member(group, budi)
    basic = sim.add_group("Lama", members=[sari])
    sim.add_bot_to_group(basic, by=sari)
    sim.migrate_to_supergroup(basic)
    card = await bot.send_message(sari.id, "Kartu", reply_markup=_keyboard("ack"))
    await sim.press_button(sari, sim.messages(sim.private_chat(sari))[-1], callback_data="ack")
    sim.block_bot(sari)
    sim.remove_bot_from_group(group, by=sari)

    raw_updates = (await raw_call(sim, "getUpdates", timeout=0))["result"]
    updates = [Update.de_json(raw, bot) for raw in raw_updates]
    kinds = [u.effective_message is not None or u.my_chat_member is not None for u in updates]
    assert all(kinds)
    assert updates[0].message is not None
    assert updates[0].message.from_user is not None
    assert updates[0].message.from_user.language_code == "id"
    assert updates[0].message.entities[0].type == MessageEntity.BOT_COMMAND
    messages = [u.message for u in updates if u.message]
    assert messages[1].location is not None
    assert messages[1].location.live_period == 60
    assert messages[2].venue is not None
    assert messages[3].contact is not None
    assert messages[3].contact.user_id == sari.id
    assert len(messages[4].photo) == 3
    assert messages[5].document is not None
    assert messages[5].document.file_name == "laporan.pdf"
    assert any(m.new_chat_members and m.new_chat_members[0].id == bot.id for m in messages)
    assert any(m.forum_topic_created for m in messages)
    in_topic = next(m for m in messages if m.text == "di topik")
    assert in_topic.message_thread_id == topic
    assert in_topic.is_topic_message
    assert any(m.left_chat_member for m in messages)
    assert any(m.migrate_to_chat_id for m in messages)
    assert any(m.migrate_from_chat_id for m in messages)
    press = next(u.callback_query for u in updates if u.callback_query)
    assert isinstance(press, CallbackQuery)
    assert press.data == "ack"
    assert isinstance(press.message, Message)
    assert press.message.message_id == card.message_id
    member_updates = [u.my_chat_member for u in updates if u.my_chat_member]
    statuses = [(m.old_chat_member.status, m.new_chat_member.status) for m in member_updates]
    assert ("left", "administrator") in statuses
    assert ("left", "member") in statuses
    assert ("member", "kicked") in statuses  # sari blocked the bot
    assert ("administrator", "kicked") in statuses  # removed from the forum group


async def test_chat_info_and_members_parse(sim: TelegramSimulator, bot: Bot) -> None:
    sari = sim.add_user("Sari", username="sari")
    budi = sim.add_user("Budi")
    rudi = sim.add_user("Rudi")
    group = sim.add_group("Damkar", members=[sari, budi, rudi], admins=[budi])
    sim.add_bot_to_group(group, by=sari, admin=True)

    info = await bot.get_chat(group.id)
    assert isinstance(info, ChatFullInfo)
    assert info.title == "Damkar"
    private = await bot.get_chat(sari.id)
    assert private.first_name == "Sari"
    assert private.username == "sari"

    assert isinstance(await bot.get_chat_member(group.id, sari.id), ChatMemberOwner)
    assert isinstance(await bot.get_chat_member(group.id, budi.id), ChatMemberAdministrator)
    assert isinstance(await bot.get_chat_member(group.id, rudi.id), ChatMemberMember)
    assert isinstance(await bot.get_chat_member(group.id, bot.id), ChatMemberAdministrator)
    sim.remove_member(group, rudi)
    assert isinstance(await bot.get_chat_member(group.id, rudi.id), ChatMemberLeft)
    with rejected(sim, "user not found"):
        await bot.get_chat_member(group.id, 999)
    admins = await bot.get_chat_administrators(group.id)
    assert {a.user.id for a in admins} == {sari.id, budi.id, bot.id}
    assert await bot.get_chat_member_count(group.id) == 3

    sim.remove_bot_from_group(group, by=sari)
    with pytest.raises(Forbidden):
        await bot.get_chat_member(group.id, bot.id)


async def test_blocked_bot_member_is_banned_in_private_chat(
    sim: TelegramSimulator, bot: Bot, started: SimUser
) -> None:
    sim.block_bot(started)
    member = await bot.get_chat_member(started.id, bot.id)
    assert isinstance(member, ChatMemberBanned)


# ---- sending and HTML ---------------------------------------------------------------------------


async def test_html_becomes_plain_text_with_utf16_entities(
    sim: TelegramSimulator, bot: Bot, started: SimUser
) -> None:
    html = (
        '🔥 <b>Kebakaran</b> di <i>Jl. <u>Kenanga</u></i> &amp; <a href="https://maps.example/?q=1&amp;z=2">'
        'peta</a>\n<pre><code class="language-text">112</code></pre>'
        '<span class="tg-spoiler">rahasia</span> <blockquote expandable>kutipan</blockquote>'
    )
    sent = await bot.send_message(started.id, html, parse_mode=ParseMode.HTML)
    assert sent.text == "🔥 Kebakaran di Jl. Kenanga & peta\n112rahasia kutipan"
    stored = sim.bot_messages(sim.private_chat(started))[-1]
    assert stored.html == html
    assert stored.text == sent.text
    by_type = {e.type: e for e in sent.entities}
    assert sent.parse_entity(by_type[MessageEntity.BOLD]) == "Kebakaran"
    assert by_type[MessageEntity.BOLD].offset == 3  # the emoji is two UTF-16 code units
    assert sent.parse_entity(by_type[MessageEntity.UNDERLINE]) == "Kenanga"
    assert sent.parse_entity(by_type[MessageEntity.ITALIC]) == "Jl. Kenanga"
    assert by_type[MessageEntity.TEXT_LINK].url == "https://maps.example/?q=1&z=2"
    assert by_type[MessageEntity.PRE].language == "text"
    assert sent.parse_entity(by_type[MessageEntity.SPOILER]) == "rahasia"
    assert sent.parse_entity(by_type[MessageEntity.EXPANDABLE_BLOCKQUOTE]) == "kutipan"


@pytest.mark.parametrize(
    ("html", "detail"),
    [
        ("<script>alert(1)</script>", 'Unsupported start tag "script" at byte offset 0'),
        ("a < b", 'Unsupported start tag "" at byte offset 2'),
        ("<b>tebal", 'Can\'t find end tag corresponding to start tag "b"'),
        ("<b><i>x</b></i>", "Unmatched end tag at byte offset 7"),
        ("nilai <3", "Unclosed start tag at byte offset 6"),
        ("Tom & Jerry", 'Unescaped "&"'),
        ("a > b", 'Unescaped ">"'),
        ('<span class="x">s</span>', 'Tag "span" must have class "tg-spoiler"'),
        ("<br>", 'Unsupported start tag "br"'),
    ],
)
async def test_invalid_html_cannot_be_parsed(
    sim: TelegramSimulator, bot: Bot, started: SimUser, html: str, detail: str
) -> None:
    with pytest.raises(BadRequest) as raised:
        await bot.send_message(started.id, html, parse_mode=ParseMode.HTML)
    description = sim.calls[-1].description or ""
    assert description.startswith("Bad Request: can't parse entities: ")
    assert detail in description
    assert "parse entities" in raised.value.message
    assert sim.bot_messages(sim.private_chat(started)) == []


async def test_without_parse_mode_text_is_literal_and_markdown_is_noted(
    sim: TelegramSimulator, bot: Bot, started: SimUser
) -> None:
    literal = await bot.send_message(started.id, "<b>a < b & c</b>")
    assert literal.text == "<b>a < b & c</b>"
    assert literal.entities == ()
    markdown = await bot.send_message(started.id, "*tebal*", parse_mode=ParseMode.MARKDOWN_V2)
    assert markdown.text == "*tebal*"
    assert sim.notes


async def test_length_limits_count_text_after_parsing(
    sim: TelegramSimulator, bot: Bot, started: SimUser
) -> None:
    await bot.send_message(started.id, "x" * 4096)
    await bot.send_message(started.id, "<b>" + "x" * 4096 + "</b>", parse_mode=ParseMode.HTML)
    with rejected(sim, "message is too long"):
        await bot.send_message(started.id, "x" * 4097)
    with rejected(sim, "message is too long"):
        await bot.send_message(started.id, "😀" * 2049)  # 4098 UTF-16 code units
    with rejected(sim, "message text is empty"):
        await bot.send_message(started.id, "<b> </b>", parse_mode=ParseMode.HTML)
    with rejected(sim, "message caption is too long"):
        await bot.send_photo(started.id, b"jpeg", caption="c" * 1025)


async def test_keyboards_are_validated_and_stored(
    sim: TelegramSimulator, bot: Bot, started: SimUser
) -> None:
    with rejected(sim, "BUTTON_DATA_INVALID"):
        await bot.send_message(started.id, "x", reply_markup=_keyboard("d" * 65))
    answer = await raw_call(
        sim,
        "sendMessage",
        chat_id=started.id,
        text="x",
        reply_markup={"inline_keyboard": [[{"text": "only text"}]]},
    )
    assert answer["description"] == "Bad Request: text buttons are unallowed in the inline keyboard"
    link = InlineKeyboardMarkup([[InlineKeyboardButton("Peta", url="https://maps.example")]])
    await bot.send_message(started.id, "link", reply_markup=link)
    share = ReplyKeyboardMarkup(
        [[KeyboardButton("Kirim lokasi", request_location=True)], ["Batal"]],
        one_time_keyboard=True,
    )
    await bot.send_message(started.id, "Lokasi?", reply_markup=share)
    chat = sim.private_chat(started)
    assert sim.bot_messages(chat)[-1].buttons == [["Kirim lokasi"], ["Batal"]]
    assert chat.reply_keyboard is not None
    await sim.send_location(started, -2.2, 113.9)
    assert chat.reply_keyboard is None  # one-time keyboards hide after use
    await bot.send_message(started.id, "hapus", reply_markup=ReplyKeyboardRemove())
    await bot.send_message(started.id, "balas", reply_markup=ForceReply())
    assert sim.bot_messages(chat)[0].button_data == [[None]]


async def test_replies_need_an_existing_message(
    sim: TelegramSimulator, bot: Bot, started: SimUser
) -> None:
    question = await sim.send_message(started, "tolong")
    answer = await bot.send_message(
        started.id, "siap", reply_parameters=ReplyParameters(question.message_id)
    )
    assert answer.reply_to_message is not None
    assert answer.reply_to_message.text == "tolong"
    with rejected(sim, "message to be replied not found"):
        await bot.send_message(started.id, "x", reply_parameters=ReplyParameters(9999))
    lenient = await bot.send_message(
        started.id,
        "tetap",
        reply_parameters=ReplyParameters(9999, allow_sending_without_reply=True),
    )
    assert lenient.reply_to_message is None


async def test_forum_topics(sim: TelegramSimulator, bot: Bot, sari: SimUser) -> None:
    forum = sim.add_group("Pusat 112", members=[sari], supergroup=True, forum=True)
    sim.add_bot_to_group(forum, by=sari)
    topic = sim.create_topic(forum, "Damkar")
    sent = await bot.send_message(forum.id, "ke topik", message_thread_id=topic)
    assert sent.message_thread_id == topic
    assert sim.bot_messages(forum)[-1].message_thread_id == topic
    with rejected(sim, "message thread not found"):
        await bot.send_message(forum.id, "x", message_thread_id=4242)


async def test_media_files_round_trip(sim: TelegramSimulator, bot: Bot, started: SimUser) -> None:
    photo = await bot.send_photo(
        started.id, b"\xff\xd8photo", caption="<b>Foto</b>", parse_mode="HTML"
    )
    assert photo.caption == "Foto"
    file = await bot.get_file(photo.photo[-1].file_id)
    assert bytes(await file.download_as_bytearray()) == b"\xff\xd8photo"
    document = await bot.send_document(started.id, b"csv,data", filename="laporan.csv")
    assert document.document is not None
    assert document.document.file_name == "laporan.csv"
    album = await bot.send_media_group(
        started.id, [InputMediaPhoto(b"one"), InputMediaPhoto(b"two", caption="dua")]
    )
    assert len({m.media_group_id for m in album}) == 1
    assert album[1].caption == "dua"
    again = await bot.send_photo(started.id, photo.photo[-1].file_id)
    assert len(again.photo) == 3

    user_photo = await sim.send_photo(started, data=b"from-user")
    assert user_photo.photo is not None
    user_file = await bot.get_file(user_photo.photo[0]["file_id"])
    assert bytes(await user_file.download_as_bytearray()) == b"from-user"
    with rejected(sim, "invalid file_id"):
        await bot.get_file("nope")
    with rejected(sim, "wrong file identifier"):
        await bot.send_photo(started.id, "nope")


async def test_locations_actions_pins_and_leaving(
    sim: TelegramSimulator, bot: Bot, started: SimUser
) -> None:
    location = await bot.send_location(started.id, -2.21, 113.91)
    assert location.location is not None
    venue = await bot.send_venue(started.id, -2.21, 113.91, "Pos 1", "Jl. A")
    assert venue.venue is not None
    assert venue.venue.title == "Pos 1"
    assert await bot.send_chat_action(started.id, "typing")
    with rejected(sim, "wrong parameter action"):
        await bot.send_chat_action(started.id, "dancing")
    assert await bot.pin_chat_message(started.id, venue.message_id)
    assert await bot.pin_chat_message(started.id, location.message_id)
    # Telegram keeps every pin; getChat shows the latest, and one can be unpinned by its id.
    pinned = (await bot.get_chat(started.id)).pinned_message
    assert pinned is not None and pinned.message_id == location.message_id
    assert await bot.unpin_chat_message(started.id, message_id=venue.message_id)
    pinned = (await bot.get_chat(started.id)).pinned_message
    assert pinned is not None and pinned.message_id == location.message_id
    assert await bot.unpin_chat_message(started.id)
    assert (await bot.get_chat(started.id)).pinned_message is None

    group = await group_with_bot(sim, started)
    card = await bot.send_message(group.id, "kartu")
    with rejected(sim, "not enough rights"):
        await bot.pin_chat_message(group.id, card.message_id)
    assert await bot.leave_chat(group.id)
    with pytest.raises(Forbidden, match="bot is not a member of the group chat"):
        await bot.send_message(group.id, "x")


async def test_profile_menu_and_contact_methods(
    sim: TelegramSimulator, bot: Bot, started: SimUser
) -> None:
    assert await bot.set_my_description("Layanan darurat 112")
    assert (await bot.get_my_description()).description == "Layanan darurat 112"
    assert await bot.set_my_short_description("112", language_code="en")
    assert (await bot.get_my_short_description(language_code="en")).short_description == "112"
    assert (await bot.get_my_name()).name == "Siaga 112"
    assert await bot.set_chat_menu_button(menu_button=MenuButtonCommands())
    assert isinstance(await bot.get_chat_menu_button(), MenuButtonCommands)
    contact = await bot.send_contact(started.id, phone_number="112", first_name="Damkar")
    assert contact.contact is not None
    assert contact.contact.phone_number == "112"


async def test_text_is_trimmed_like_telegram(
    sim: TelegramSimulator, bot: Bot, started: SimUser
) -> None:
    sent = await bot.send_message(started.id, "\n  <b>Judul</b>\n\n", parse_mode="HTML")
    assert sent.text == "Judul"
    assert sent.entities[0].offset == 0
    assert sent.entities[0].length == 5
    with rejected(sim, "message is not modified"):
        await bot.edit_message_text(
            "<b>Judul</b>\n", started.id, sent.message_id, parse_mode="HTML"
        )


# ---- edits and deletes --------------------------------------------------------------------------


async def test_edits_replace_content_and_refuse_no_ops(
    sim: TelegramSimulator, bot: Bot, started: SimUser
) -> None:
    card = await bot.send_message(
        started.id, "<b>Baru</b>", parse_mode="HTML", reply_markup=_keyboard("a")
    )
    with rejected(sim, "message is not modified"):
        await bot.edit_message_text(
            "<b>Baru</b>",
            started.id,
            card.message_id,
            parse_mode="HTML",
            reply_markup=_keyboard("a"),
        )
    edited = await bot.edit_message_text("Diterima", started.id, card.message_id)
    assert isinstance(edited, Message)
    assert edited.edit_date is not None
    stored = sim.bot_messages(sim.private_chat(started))[-1]
    assert stored.text == "Diterima"
    assert stored.entities == []
    assert stored.reply_markup is None  # no reply_markup given: the keyboard goes away
    await bot.edit_message_reply_markup(started.id, card.message_id, reply_markup=_keyboard("b"))
    assert stored.button_data == [["b"]]
    with rejected(sim, "message is not modified"):
        await bot.edit_message_reply_markup(
            started.id, card.message_id, reply_markup=_keyboard("b")
        )
    with rejected(sim, "there is no caption"):
        await bot.edit_message_caption(started.id, card.message_id, caption="x")
    photo = await bot.send_photo(started.id, b"p", caption="lama")
    await bot.edit_message_caption(started.id, photo.message_id, caption="baru")
    assert sim.bot_messages(sim.private_chat(started))[-1].caption == "baru"
    assert [e.kind for e in sim.events].count("bot_edit") == 3


async def test_edit_and_delete_of_missing_messages(
    sim: TelegramSimulator, bot: Bot, started: SimUser
) -> None:
    theirs = await sim.send_message(started, "punya saya")
    with rejected(sim, "message to edit not found"):
        await bot.edit_message_text("x", started.id, 9999)
    with rejected(sim, "message to edit not found"):
        await bot.edit_message_text("x", started.id, theirs.message_id)
    mine = await bot.send_message(started.id, "hapus saya")
    assert await bot.delete_message(started.id, mine.message_id)
    assert all(m.message_id != mine.message_id for m in sim.messages(sim.private_chat(started)))
    with rejected(sim, "message to delete not found"):
        await bot.delete_message(started.id, mine.message_id)
    with rejected(sim, "message to edit not found"):
        await bot.edit_message_text("x", started.id, mine.message_id)


# ---- chats the bot may not write to -------------------------------------------------------------


async def test_forbidden_and_missing_chats(sim: TelegramSimulator, bot: Bot) -> None:
    stranger = sim.add_user("Asing")
    with pytest.raises(Forbidden, match="bot can't initiate conversation with a user"):
        await bot.send_message(stranger.id, "halo")
    await sim.send_message(stranger, "/bantuan")  # any private message opens the chat
    assert stranger.started
    sim.block_bot(stranger)
    with pytest.raises(Forbidden, match="bot was blocked by the user"):
        await bot.send_message(stranger.id, "halo")
    with pytest.raises(ValueError, match="blocked the bot"):
        await sim.send_message(stranger, "halo?")
    await sim.send_message(stranger, "/start")  # restarting unblocks
    await bot.send_message(stranger.id, "halo")
    with rejected(sim, "chat not found"):
        await bot.send_message(-42, "halo")
    never_joined = sim.add_group("Tanpa bot", members=[stranger])
    with rejected(sim, "chat not found"):
        await bot.send_message(never_joined.id, "halo")

    group = await group_with_bot(sim, stranger)
    sim.remove_bot_from_group(group, by=stranger)
    with pytest.raises(Forbidden, match="bot was kicked from the group chat"):
        await bot.send_message(group.id, "halo")
    supergroup = await group_with_bot(sim, stranger, supergroup=True)
    sim.remove_bot_from_group(supergroup, by=stranger)
    with pytest.raises(Forbidden, match="bot was kicked from the supergroup chat"):
        await bot.send_message(supergroup.id, "halo")


async def test_migrated_group_points_to_its_supergroup(
    sim: TelegramSimulator, bot: Bot, sari: SimUser
) -> None:
    group = await group_with_bot(sim, sari)
    await drain(bot)
    new = sim.migrate_to_supergroup(group)
    assert new.type == "supergroup"
    assert str(new.id).startswith("-100")
    with pytest.raises(ChatMigrated) as raised:
        await bot.send_message(group.id, "halo")
    assert raised.value.new_chat_id == new.id
    await bot.send_message(new.id, "halo")
    updates = await drain(bot)
    service = [u.message for u in updates if u.message]
    assert service[0].migrate_to_chat_id == new.id
    assert service[1].migrate_from_chat_id == group.id


# ---- privacy mode -------------------------------------------------------------------------------


async def test_privacy_mode_in_groups(sim: TelegramSimulator, bot: Bot) -> None:
    sari = sim.add_user("Sari")
    budi = sim.add_user("Budi")
    group = await group_with_bot(sim, sari, budi)
    await drain(bot)
    card = await bot.send_message(group.id, "Kartu insiden")

    await sim.send_message(budi, "ada yang lihat asap?", chat=group)
    await sim.send_message(budi, "/lapor@otherbot", chat=group)
    await sim.send_location(budi, -2.2, 113.9, chat=group)
    assert await drain(bot) == []
    assert len(sim.messages(group)) == 5  # stored, just not delivered

    await sim.send_message(budi, "/lapor", chat=group)
    await sim.send_message(budi, "/lapor@siaga112_bot kebakaran", chat=group)
    await sim.send_message(budi, "siap", chat=group, reply_to=sim.messages(group)[1])
    await sim.send_message(budi, "tolong @siaga112_bot", chat=group)
    await sim.send_location(budi, -2.2, 113.9, chat=group, reply_to=card.message_id)
    sim.add_member(group, sim.add_user("Rudi"), by=sari)
    delivered = [u.message for u in await drain(bot) if u.message]
    assert [m.text for m in delivered[:4]] == [
        "/lapor",
        "/lapor@siaga112_bot kebakaran",
        "siap",
        "tolong @siaga112_bot",
    ]
    assert delivered[4].location is not None
    assert delivered[5].new_chat_members


async def test_admin_bot_and_private_chats_see_everything(
    sim: TelegramSimulator, bot: Bot, sari: SimUser
) -> None:
    group = await group_with_bot(sim, sari, admin=True)
    await drain(bot)
    await sim.send_message(sari, "obrolan biasa", chat=group)
    await sim.send_message(sari, "di chat pribadi")
    texts = [u.message.text for u in await drain(bot) if u.message]
    assert texts == ["obrolan biasa", "di chat pribadi"]


async def test_promotion_is_a_my_chat_member_update_and_lifts_privacy(
    sim: TelegramSimulator, bot: Bot, sari: SimUser
) -> None:
    group = await group_with_bot(sim, sari)
    await drain(bot)
    sim.set_bot_admin(group, True, by=sari)
    await sim.send_message(sari, "biasa", chat=group)
    updates = await drain(bot)
    assert updates[0].my_chat_member is not None
    assert updates[0].my_chat_member.new_chat_member.status == "administrator"
    assert updates[1].message is not None


# ---- callback queries ---------------------------------------------------------------------------


async def test_press_and_answer_once(sim: TelegramSimulator, bot: Bot, started: SimUser) -> None:
    await bot.send_message(started.id, "Kartu", reply_markup=_keyboard("ack:1"))
    stored = sim.bot_messages(sim.private_chat(started))[-1]
    query = await sim.press_button(started, stored, text="Ack:1")
    assert not query.answered
    update = (await drain(bot))[-1]
    assert update.callback_query is not None
    assert update.callback_query.data == "ack:1"
    assert update.callback_query.from_user.language_code == "id"
    assert await bot.answer_callback_query(update.callback_query.id, "Tercatat", show_alert=True)
    assert query.answered
    assert query.answer_text == "Tercatat"
    assert query.show_alert
    with rejected(sim, "query is too old"):
        await bot.answer_callback_query(update.callback_query.id)
    with rejected(sim, "query is too old"):
        await bot.answer_callback_query("123")

    forged = await sim.press_raw(started, stored, data="v1:ack:999")
    forged_update = (await drain(bot))[-1]
    assert forged_update.callback_query is not None
    assert forged_update.callback_query.data == "v1:ack:999"
    with rejected(sim, "MESSAGE_TOO_LONG"):
        await bot.answer_callback_query(forged.id, "x" * 201)
    with pytest.raises(ValueError, match="no button"):
        await sim.press_button(started, stored, text="Missing")


# ---- commands -----------------------------------------------------------------------------------


async def test_commands_per_scope_and_language(sim: TelegramSimulator, bot: Bot) -> None:
    await bot.set_my_commands([BotCommand("lapor", "Laporkan kejadian")])
    await bot.set_my_commands([BotCommand("report", "Report an incident")], language_code="en")
    await bot.set_my_commands(
        [BotCommand("status", "Status")], scope=BotCommandScopeAllGroupChats()
    )
    await bot.set_my_commands([BotCommand("x", "y")], scope=BotCommandScopeChat(-100123))
    assert [c.command for c in await bot.get_my_commands()] == ["lapor"]
    assert [c.command for c in await bot.get_my_commands(language_code="en")] == ["report"]
    groups = await bot.get_my_commands(scope=BotCommandScopeAllGroupChats())
    assert [c.command for c in groups] == ["status"]
    assert sim.my_commands("all_group_chats") == [{"command": "status", "description": "Status"}]
    assert sim.my_commands({"type": "chat", "chat_id": -100123})[0]["command"] == "x"
    assert await bot.delete_my_commands(language_code="en")
    assert await bot.get_my_commands(language_code="en") == ()
    with rejected(sim, "BOT_COMMAND_INVALID"):
        await bot.set_my_commands([BotCommand("Lapor", "x")])
    with rejected(sim, "BOT_COMMAND_DESCRIPTION_INVALID"):
        await bot.set_my_commands([BotCommand("lapor", "d" * 257)])


# ---- flood limits -------------------------------------------------------------------------------


async def test_private_chat_burst_then_429(
    sim: TelegramSimulator, bot: Bot, started: SimUser, clock: FakeClock
) -> None:
    sim.enforce_rate_limits = True
    for n in range(3):
        await bot.send_message(started.id, f"m{n}")
    with pytest.raises(RetryAfter) as raised:
        await bot.send_message(started.id, "terlalu cepat")
    assert raised.value.retry_after == 1
    assert sim.stats.too_many_requests == 1
    assert sim.stats.limit_violations == 1
    assert len(sim.bot_messages(sim.private_chat(started))) == 3
    clock.advance(1.0)
    await bot.send_message(started.id, "sudah boleh")
    assert sim.stats.sends_by_chat[started.id] == 4


async def test_group_minute_limit_and_edits_count(
    sim: TelegramSimulator, bot: Bot, sari: SimUser, clock: FakeClock
) -> None:
    sim.enforce_rate_limits = True
    group = await group_with_bot(sim, sari)
    first = await bot.send_message(group.id, "m0")
    for n in range(1, 19):
        clock.advance(1.0)
        await bot.send_message(group.id, f"m{n}")
    clock.advance(1.0)
    await bot.edit_message_text("m0 (diedit)", group.id, first.message_id)  # the 20th in a minute
    clock.advance(1.0)
    with pytest.raises(RetryAfter) as raised:
        await bot.send_message(group.id, "ke-21")
    assert raised.value.retry_after == 40  # 20 sends since t0; the first frees up at t0+60
    clock.advance(40.0)
    await bot.send_message(group.id, "ke-21")


async def test_global_limit_and_violations_counted_without_enforcement(
    sim: TelegramSimulator, bot: Bot
) -> None:
    users = [sim.add_user(f"U{n}") for n in range(31)]
    for user in users:
        await sim.send_message(user, "/start")
    for user in users[:30]:
        await bot.send_message(user.id, "siaran")
    assert sim.stats.limit_violations == 0
    await bot.send_message(users[30].id, "yang ke-31")  # not enforced: delivered, but counted
    assert sim.stats.limit_violations == 1
    assert sim.stats.too_many_requests == 0
    sim.enforce_rate_limits = True
    with pytest.raises(RetryAfter):
        await bot.send_message(users[0].id, "lagi")


# ---- faults -------------------------------------------------------------------------------------


async def test_fail_next_gives_server_errors_without_effect(
    sim: TelegramSimulator, bot: Bot, started: SimUser
) -> None:
    sim.faults.fail_next(2, status=502)
    for _ in range(2):
        with pytest.raises(NetworkError):
            await bot.send_message(started.id, "hilang")
    assert sim.bot_messages(sim.private_chat(started)) == []
    sim.faults.fail_next(1, status=500)
    with pytest.raises(NetworkError, match="Internal Server Error"):
        await bot.send_message(started.id, "hilang")
    await bot.send_message(started.id, "sampai")
    assert [m.text for m in sim.bot_messages(sim.private_chat(started))] == ["sampai"]
    assert sim.stats.errors_by_code[502] == 2


async def test_error_rate_is_seeded_and_can_answer_429(
    sim: TelegramSimulator, bot: Bot, started: SimUser
) -> None:
    sim.faults.error_rate = 0.5
    sim.faults.mode = "retry_after"
    sim.faults.retry_after = 7
    outcomes = [
        (await asyncio.gather(bot.send_message(started.id, f"m{n}"), return_exceptions=True))[0]
        for n in range(20)
    ]
    refused = [o for o in outcomes if isinstance(o, RetryAfter)]
    assert all(o.retry_after == 7 for o in refused)
    assert 3 < len(refused) < 17
    assert sim.stats.too_many_requests == len(refused)
    assert len(sim.bot_messages(sim.private_chat(started))) == 20 - len(refused)

    replay = TelegramSimulator(TOKEN)
    replay.faults.error_rate = 0.5
    picks = [replay.faults.pick_failure() for _ in range(20)]
    fresh = TelegramSimulator(TOKEN)
    fresh.faults.error_rate = 0.5
    assert picks == [fresh.faults.pick_failure() for _ in range(20)]


async def test_latency_beyond_read_timeout_times_out(
    sim: TelegramSimulator, started: SimUser
) -> None:
    async with make_bot(sim, read_timeout=2.0) as slow_bot:
        sim.faults.latency = 0.15
        started_at = time.monotonic()
        await slow_bot.send_message(started.id, "lambat tapi sampai")
        assert time.monotonic() - started_at >= 0.15
        with pytest.raises(TimedOut):
            await slow_bot.send_message(started.id, "terlalu lambat", read_timeout=0.05)
    sim.faults.latency = 0.0


async def test_outage_drops_connections_and_changes_nothing(
    sim: TelegramSimulator, bot: Bot, started: SimUser
) -> None:
    sim.faults.outage = True
    with pytest.raises(NetworkError):
        await bot.send_message(started.id, "tidak sampai")
    with pytest.raises(NetworkError):
        await bot.get_updates(timeout=0)
    assert sim.bot_messages(sim.private_chat(started)) == []
    sim.faults.outage = False
    await bot.send_message(started.id, "pulih")
    assert sim.calls[-2].description == "connection dropped"


async def test_outage_cuts_a_waiting_poll(sim: TelegramSimulator, bot: Bot) -> None:
    poll = asyncio.create_task(bot.get_updates(timeout=5))
    await sim.wait_for(lambda: sim.polls_waiting == 1, 2, "the poll to wait")
    sim.faults.outage = True
    sim.inject_update({"message": {}})  # any state change wakes the poll, which then drops
    with pytest.raises(NetworkError):
        await asyncio.wait_for(poll, 2)


async def test_simulator_bugs_become_500_answers(
    sim: TelegramSimulator, bot: Bot, started: SimUser
) -> None:
    async def broken(_: Any) -> Any:
        raise RuntimeError("boom")

    sim._api.handlers["sendmessage"] = broken
    with pytest.raises(NetworkError):
        await bot.send_message(started.id, "x")
    assert sim.stats.internal_errors == 1
    assert "boom" in sim.internal_errors.pop()
    assert (await bot.get_me()).username == "siaga112_bot"  # the server is still up


# ---- test helpers: waiting, transcripts ---------------------------------------------------------


async def test_wait_for_bot_message_walks_messages_in_order(
    sim: TelegramSimulator, bot: Bot, started: SimUser
) -> None:
    chat = sim.private_chat(started)
    await bot.send_message(started.id, "satu")
    later = asyncio.create_task(sim.wait_for_bot_message(chat, contains="tiga", timeout=2))
    assert (await sim.wait_for_bot_message(chat)).text == "satu"
    await bot.send_message(started.id, "dua")
    await bot.send_message(started.id, "tiga")
    assert (await later).text == "tiga"
    assert (await sim.wait_for_bot_message(chat)).text == "dua"
    with pytest.raises(AssertionError, match="timed out waiting for a bot message"):
        await sim.wait_for_bot_message(chat, timeout=0.05)


async def test_events_form_a_transcript(sim: TelegramSimulator, bot: Bot, started: SimUser) -> None:
    await bot.send_message(started.id, "Kartu", reply_markup=_keyboard("ok"))
    stored = sim.bot_messages(sim.private_chat(started))[-1]
    query = await sim.press_button(started, stored, callback_data="ok")
    await bot.answer_callback_query(query.id, "Oke")
    await bot.delete_message(started.id, stored.message_id)
    kinds = [(e.kind, e.actor, e.text) for e in sim.events]
    assert kinds == [
        ("user_message", "Sari", "/start"),
        ("bot_message", "bot", "Kartu"),
        ("press", "Sari", "Ok"),
        ("answer", "bot", "Oke"),
        ("bot_delete", "bot", "Kartu"),
    ]
    assert sim.events[1].buttons == [["Ok"]]


async def test_ptb_application_polls_answers_and_stops_fast(
    sim: TelegramSimulator, sari: SimUser
) -> None:
    async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Greet."""
        assert update.effective_chat is not None
        await context.bot.send_message(update.effective_chat.id, "Selamat datang")

    app = (
        Application.builder()
        .token(TOKEN)
        .base_url(sim.bot_base_url)
        .base_file_url(sim.bot_base_file_url)
        .build()
    )
    app.add_handler(CommandHandler("start", start))
    async with app:
        assert app.updater is not None
        await app.updater.start_polling(poll_interval=0, timeout=5)
        await app.start()
        await sim.send_message(sari, "/start")
        reply = await sim.wait_for_bot_message(sim.private_chat(sari), timeout=5)
        assert reply.text == "Selamat datang"
        stopping = time.monotonic()
        await app.updater.stop()
        await app.stop()
        assert time.monotonic() - stopping < 2.0
    await sim.wait_for(lambda: sim.updates_pending == 0, 2, "the /start update to be confirmed")


def _keyboard(data: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[InlineKeyboardButton(data.capitalize(), callback_data=data)]])


async def test_mini_app_buttons_need_https_and_a_private_chat(
    sim: TelegramSimulator, bot: Bot, started: SimUser
) -> None:
    """As Telegram: a web_app button or menu button with an http address is refused, and a
    web_app button is refused outside a private chat."""
    plain = WebAppInfo(url="http://127.0.0.1:8112/board")
    secure = WebAppInfo(url="https://siaga112.example.org/board")
    with rejected(sim, "Only HTTPS links are allowed"):
        await bot.send_message(
            started.id,
            "papan",
            reply_markup=InlineKeyboardMarkup([[InlineKeyboardButton("Papan", web_app=plain)]]),
        )
    with rejected(sim, "Only HTTPS links are allowed"):
        await bot.set_chat_menu_button(started.id, MenuButtonWebApp("Papan", plain))
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("Papan", web_app=secure)]])
    sent = await bot.send_message(started.id, "papan", reply_markup=keyboard)
    assert sent.reply_markup is not None
    assert await bot.set_chat_menu_button(started.id, MenuButtonWebApp("Papan", secure))
    assert isinstance(await bot.get_chat_menu_button(started.id), MenuButtonWebApp)
    group = await group_with_bot(sim, started)
    with rejected(sim, "BUTTON_TYPE_INVALID"):
        await bot.send_message(group.id, "papan", reply_markup=keyboard)


@given(st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc")), max_size=80))
def test_a_quoted_attribute_reads_back_as_written(url: str) -> None:
    """A link's address, escaped as the bot escapes it, reads back exactly, in either quotes
    (the simulator scans a quoted value to its closing quote and decodes its references)."""
    for quote in ('"', "'"):
        text, entities = parse_html(f"<a href={quote}{html.escape(url)}{quote}>peta</a>")
        assert text == "peta"
        assert entities == (
            [{"type": "text_link", "offset": 0, "length": 4, "url": url}] if url else []
        )


def test_a_tag_error_names_its_byte_offset() -> None:
    with pytest.raises(EntityParseError, match="at byte offset 10"):
        parse_html("Kebakar é<x>")
    with pytest.raises(EntityParseError, match="Unmatched end tag at byte offset 11"):
        parse_html("<b>Api 😀</i>")
