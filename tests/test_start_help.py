"""A person meets the bot: /start and /bantuan (/help) in both languages, and what it ignores."""

from __future__ import annotations

import logging

import pytest

from bot.simulator import TelegramSimulator
from tests.harness import BotHarness


async def test_start_in_indonesian_explains_the_bot_and_lists_commands(
    sim: TelegramSimulator, harness: BotHarness
) -> None:
    await harness.start()
    sari = sim.add_user("Sari", username="sari", language_code="id")
    answer = await harness.says(sari, "/start")
    assert answer.text is not None
    assert answer.text.startswith("Halo, Sari!")
    assert "Telepon 112" in answer.text
    assert "/bantuan — Bantuan dan daftar perintah (juga /help)" in answer.text
    # The person pressed Start: the bot may now message them, and remembers them.
    async with harness.services.store.read() as tx:
        person = await tx.person(sari.id)
    assert person is not None
    assert person.started_at is not None
    assert person.language_code == "id"


async def test_start_and_help_in_english(sim: TelegramSimulator, harness: BotHarness) -> None:
    await harness.start()
    john = sim.add_user("John", language_code="en-GB")
    welcome = await harness.says(john, "/start")
    assert welcome.text is not None and welcome.text.startswith("Hello, John!")
    help_answer = await harness.says(john, "/help")
    assert help_answer.text is not None
    assert help_answer.text.startswith("Siaga 112 help")
    assert "/help — Help and list of commands (also /bantuan)" in help_answer.text
    assert "always call 112" in help_answer.text


async def test_unsupported_language_falls_back_to_indonesian(
    sim: TelegramSimulator, harness: BotHarness
) -> None:
    await harness.start()
    budi = sim.add_user("Budi", language_code="jv")
    answer = await harness.says(budi, "/bantuan")
    assert answer.text is not None and answer.text.startswith("Bantuan Siaga 112")


async def test_help_lists_only_what_this_person_may_use(
    sim: TelegramSimulator, harness: BotHarness
) -> None:
    admin = sim.add_user("Admin", language_code="id")
    resident = sim.add_user("Warga", language_code="id")
    await harness.start(admins=[admin])
    for_resident = await harness.says(resident, "/bantuan")
    for_admin = await harness.says(admin, "/bantuan")
    assert for_resident.text is not None and for_admin.text is not None
    assert "/peran" not in for_resident.text
    assert "/rute" not in for_resident.text
    assert "/peran" in for_admin.text
    assert "/rute" in for_admin.text


async def test_bold_and_links_arrive_as_entities(
    sim: TelegramSimulator, harness: BotHarness
) -> None:
    await harness.start()
    sari = sim.add_user("Sari <Relawan> & co", language_code="id")
    answer = await harness.says(sari, "/start")
    # The name is shown exactly as typed (escaped for HTML on the way, not mangled).
    assert answer.text is not None and answer.text.startswith("Halo, Sari <Relawan> & co!")
    assert any(entity["type"] == "bold" for entity in answer.entities)


async def test_start_in_a_group_points_to_the_private_chat(
    sim: TelegramSimulator, harness: BotHarness
) -> None:
    await harness.start()
    sari = sim.add_user("Sari", language_code="id")
    group = sim.add_group("Relawan Damkar", members=[sari])
    sim.add_bot_to_group(group, by=sari)
    await harness.settle()
    answer = await harness.says(sari, "/start", chat=group)
    assert answer.text is not None and "obrolan pribadi" in answer.text
    assert answer.reply_markup is not None
    button = answer.reply_markup["inline_keyboard"][0][0]
    assert button["url"] == f"https://t.me/{sim.bot_username}"


async def test_unknown_command_and_stray_text_get_a_pointer_to_help(
    sim: TelegramSimulator, harness: BotHarness
) -> None:
    await harness.start()
    sari = sim.add_user("Sari", language_code="id")
    unknown = await harness.says(sari, "/tidakada")
    assert unknown.text == (
        "Perintah /tidakada tidak dikenal. Ketik /bantuan untuk melihat perintah yang tersedia."
    )
    stray = await harness.says(sari, "halo <b>apa</b> ini?")
    assert stray.text is not None and "/bantuan" in stray.text
    # Exactly one answer each: known commands are not also answered as unknown.
    before = len(sim.bot_messages(sim.private_chat(sari)))
    await harness.says(sari, "/bantuan")
    assert len(sim.bot_messages(sim.private_chat(sari))) == before + 1


async def test_group_commands_for_other_bots_are_left_alone(
    sim: TelegramSimulator, harness: BotHarness
) -> None:
    await harness.start()
    sari = sim.add_user("Sari", language_code="id")
    group = sim.add_group("Relawan", members=[sari])
    sim.add_bot_to_group(group, by=sari)
    await harness.settle()
    before = len(sim.bot_messages(group))
    await harness.handled_quietly(sari, "/weather@otherbot", group)
    await harness.handled_quietly(sari, "/tidakada", group)
    assert len(sim.bot_messages(group)) == before
    addressed = await harness.says(sari, f"/tidakada@{sim.bot_username}", chat=group)
    assert addressed.text is not None and "tidak dikenal" in addressed.text


async def test_forged_button_gets_a_polite_answer(
    sim: TelegramSimulator, harness: BotHarness
) -> None:
    await harness.start()
    sari = sim.add_user("Sari", language_code="id")
    welcome = await harness.says(sari, "/start")
    press = await sim.press_raw(sari, welcome, data="1|ack|999")
    await sim.wait_for(lambda: press.answered, what="the press to be answered")
    assert press.answer_text == "Tombol ini sudah tidak berlaku."


async def test_malformed_update_is_logged_and_the_bot_carries_on(
    sim: TelegramSimulator, harness: BotHarness, caplog: pytest.LogCaptureFixture
) -> None:
    await harness.start()
    sari = sim.add_user("Sari", language_code="id")
    sim.expect_refusal("query is too old")  # the injected press is no query Telegram knows
    sim.inject_update(
        {
            "message": {
                "message_id": 1,
                "date": 0,
                "chat": {"id": 5, "type": "private"},
                "text": "/start",
            }
        }
    )
    sim.inject_update({"callback_query": {"id": "x", "from": sari.to_json(), "chat_instance": "1"}})
    unknown = sim.inject_update({"something_new": {"field": 1}})
    await harness.settle()
    assert unknown in sim.withheld_update_ids, "the bot did not ask for it; Telegram keeps it"
    # Still alive and answering.
    answer = await harness.says(sari, "/start")
    assert answer.text is not None and answer.text.startswith("Halo, Sari!")
    async with harness.services.store.read() as tx:
        assert await tx.person(5) is None, "an update without a sender recorded nobody"


async def test_command_lists_are_published_in_both_languages(
    sim: TelegramSimulator, harness: BotHarness
) -> None:
    await harness.start()
    indonesian = sim.my_commands("all_private_chats", "")
    english = sim.my_commands("all_private_chats", "en")
    assert ("bantuan", "Bantuan dan daftar perintah") in [
        (c["command"], c["description"]) for c in indonesian
    ]
    assert ("help", "Help and list of commands") in [
        (c["command"], c["description"]) for c in english
    ]
    group_commands = [c["command"] for c in sim.my_commands("all_group_chats", "")]
    assert "gabung" in group_commands and "siaga" in group_commands
    assert "daftar" not in group_commands, "admin-only commands are not advertised"


async def test_the_token_never_reaches_the_log(
    sim: TelegramSimulator, harness: BotHarness, capsys: pytest.CaptureFixture[str]
) -> None:
    from bot.runtime.logs import configure_logging

    root = logging.getLogger()
    saved = (root.handlers[:], root.level)
    try:
        configure_logging("DEBUG", [sim.token])
        await harness.start(log_level="DEBUG")
        sari = sim.add_user("Sari", language_code="id")
        await harness.says(sari, "/start")
        # Even a careless log line that contains the token comes out redacted.
        logging.getLogger("siaga112.test").debug("calling %s/bot%s/getMe", sim.base_url, sim.token)
    finally:
        await harness.stop()
        root.handlers[:], level = saved
        root.setLevel(level)
    output = capsys.readouterr().err
    assert "getMe" in output, "expected debug logging"
    assert "<redacted>" in output
    assert sim.token not in output
