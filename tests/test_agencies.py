"""Agencies and their chats: registering, moving, deactivating, migration, removal, strangers."""

from __future__ import annotations

from pathlib import Path

from bot.simulator import SimChat, SimUser, TelegramSimulator
from bot.store import Store
from models.agencies import AgencyKind, Role
from models.outbox import OutboxStatus
from tests.harness import BotHarness


async def agency_group(
    sim: TelegramSimulator,
    harness: BotHarness,
    admin: SimUser,
    title: str,
    *members: SimUser,
    **kw: bool,
) -> SimChat:
    group = sim.add_group(title, members=[admin, *members], **kw)
    sim.add_bot_to_group(group, by=admin)
    await harness.settle()
    return group


async def test_admin_registers_a_group_and_it_stops_being_unknown(
    sim: TelegramSimulator, harness: BotHarness
) -> None:
    admin = sim.add_user("Admin", username="admin112", language_code="id")
    await harness.start(admins=[admin])
    await harness.says(admin, "/start")
    group = await agency_group(sim, harness, admin, "Damkar Palangka Raya")
    # Added to an unknown group: it says once that the group is not registered, and by whom.
    [greeting] = sim.bot_messages(group)
    assert greeting.text is not None
    assert "belum terdaftar" in greeting.text
    assert "Admin" in greeting.text
    answer = await harness.says(admin, "/daftar damkar Damkar Kota Palangka Raya", chat=group)
    assert answer.text is not None
    assert "terdaftar sebagai instansi Damkar Kota Palangka Raya (damkar)" in answer.text
    async with harness.services.store.read() as tx:
        agency = await tx.agency_by_code("damkar")
    assert agency is not None
    assert agency.chat_id == group.id
    assert agency.name == "Damkar Kota Palangka Raya"
    # Re-adding the bot to a group it already greeted does not greet twice.
    sim.remove_bot_from_group(group, by=admin)
    sim.add_bot_to_group(group, by=admin)
    await harness.settle()
    assert sum("belum terdaftar" in (m.text or "") for m in sim.bot_messages(group)) == 1


async def test_english_alias_and_coordinators_group(
    sim: TelegramSimulator, harness: BotHarness
) -> None:
    admin = sim.add_user("Ann", language_code="en")
    await harness.start(admins=[admin])
    group = await agency_group(sim, harness, admin, "112 Coordinators")
    answer = await harness.says(admin, "/register coordinators", chat=group)
    assert answer.text is not None
    assert "coordinators' group" in answer.text
    async with harness.services.store.read() as tx:
        coordinators = await tx.coordinators_agency()
    assert coordinators is not None
    assert coordinators.chat_id == group.id


async def test_registration_refusals(sim: TelegramSimulator, harness: BotHarness) -> None:
    admin = sim.add_user("Admin", language_code="id")
    volunteer = sim.add_user("Rina", language_code="id")
    await harness.start(admins=[admin])
    group = await agency_group(sim, harness, admin, "Grup", volunteer)

    not_admin = await harness.says(volunteer, "/daftar damkar Damkar", chat=group)
    assert not_admin.text is not None and "tidak punya izin" in not_admin.text
    in_private = await harness.says(admin, "/daftar damkar Damkar")
    assert in_private.text is not None and "hanya bisa dipakai di" in in_private.text
    bad_code = await harness.says(admin, "/daftar Dam-Kar! Damkar", chat=group)
    assert bad_code.text is not None and "tidak valid" in bad_code.text
    no_name = await harness.says(admin, "/daftar damkar", chat=group)
    assert no_name.text is not None and "belum ditulis" in no_name.text
    too_long = await harness.says(admin, "/daftar damkar " + "x" * 65, chat=group)
    assert too_long.text is not None and "terlalu panjang" in too_long.text
    no_args = await harness.says(admin, "/daftar", chat=group)
    assert no_args.text is not None and "Cara pakai" in no_args.text
    async with harness.services.store.read() as tx:
        assert await tx.active_agencies() == []


async def test_names_with_html_and_unicode_are_shown_as_typed(
    sim: TelegramSimulator, harness: BotHarness
) -> None:
    admin = sim.add_user("Admin", language_code="id")
    await harness.start(admins=[admin])
    group = await agency_group(sim, harness, admin, "Grup")
    name = "<b>Damkar</b> & Relawan 🚒 مرحبا"
    answer = await harness.says(admin, f"/daftar damkar {name}", chat=group)
    assert answer.text is not None
    assert name in answer.text


async def test_a_taken_code_moves_only_when_confirmed(
    sim: TelegramSimulator, harness: BotHarness
) -> None:
    admin = sim.add_user("Admin", language_code="id")
    await harness.start(admins=[admin])
    await harness.says(admin, "/start")
    old = await agency_group(sim, harness, admin, "Damkar lama")
    new = await agency_group(sim, harness, admin, "Damkar baru")
    await harness.says(admin, "/daftar damkar Damkar", chat=old)
    question = await harness.says(admin, "/daftar damkar Damkar", chat=new)
    assert question.text is not None and "sudah dipakai" in question.text
    async with harness.services.store.read() as tx:
        agency = await tx.agency_by_code("damkar")
    assert agency is not None and agency.chat_id == old.id, "nothing moves before confirmation"

    stranger = sim.add_user("Orang", language_code="id")
    sim.add_member(new, stranger)
    press = await sim.press_button(stranger, question, text="Pindahkan ke sini")
    await sim.wait_for(lambda: press.answered, what="the stranger's press answered")
    assert press.answer_text is not None and "tidak punya izin" in press.answer_text

    press = await sim.press_button(admin, question, text="Pindahkan ke sini")
    await sim.wait_for(lambda: press.answered, what="the admin's press answered")
    await harness.settle()
    async with harness.services.store.read() as tx:
        agency = await tx.agency_by_code("damkar")
    assert agency is not None and agency.chat_id == new.id
    [edited] = [m for m in sim.bot_messages(new) if m.message_id == question.message_id]
    assert edited.text is not None and "terdaftar sebagai instansi" in edited.text
    # The question's buttons are gone once answered; what members do next has its button.
    assert edited.buttons == [["🤖 Buka chat dengan bot"]]
    assert edited.button_data == [[None]]
    assert any("dipindahkan ke grup lain" in (m.text or "") for m in sim.bot_messages(old))


async def test_one_agency_per_place_and_unregister(
    sim: TelegramSimulator, harness: BotHarness
) -> None:
    admin = sim.add_user("Admin", language_code="id")
    await harness.start(admins=[admin])
    group = await agency_group(sim, harness, admin, "Grup")
    await harness.says(admin, "/daftar damkar Damkar", chat=group)
    other = await harness.says(admin, "/daftar bpbd BPBD", chat=group)
    assert other.text is not None and "sudah terdaftar sebagai" in other.text
    renamed = await harness.says(admin, "/daftar damkar Damkar Kota", chat=group)
    assert renamed.text is not None and "diperbarui" in renamed.text
    gone = await harness.says(admin, "/nonaktifkan", chat=group)
    assert gone.text is not None and "dinonaktifkan" in gone.text
    again = await harness.says(admin, "/nonaktifkan", chat=group)
    assert again.text is not None and "hanya bisa dipakai di" in again.text
    async with harness.services.store.read() as tx:
        assert await tx.active_agencies() == []


async def test_forum_topic_binding(sim: TelegramSimulator, harness: BotHarness) -> None:
    admin = sim.add_user("Admin", language_code="id")
    await harness.start(admins=[admin])
    forum = await agency_group(sim, harness, admin, "Forum 112", supergroup=True, forum=True)
    damkar_topic = sim.create_topic(forum, "Damkar")
    bpbd_topic = sim.create_topic(forum, "BPBD")
    before = len(sim.bot_messages(forum))
    await sim.send_message(admin, "/daftar damkar Damkar", chat=forum, thread_id=damkar_topic)
    await sim.send_message(admin, "/daftar bpbd BPBD", chat=forum, thread_id=bpbd_topic)
    await sim.wait_for(lambda: len(sim.bot_messages(forum)) >= before + 2, what="two confirmations")
    replies = sim.bot_messages(forum)[-2:]
    assert {m.message_thread_id for m in replies} == {damkar_topic, bpbd_topic}
    assert all("topik forum" in (m.text or "") for m in replies)
    async with harness.services.store.read() as tx:
        damkar = await tx.agency_by_code("damkar")
        bpbd = await tx.agency_by_code("bpbd")
        at_topic = await tx.agency_at(forum.id, bpbd_topic)
    assert damkar is not None and damkar.thread_id == damkar_topic
    assert bpbd is not None and bpbd.thread_id == bpbd_topic
    assert at_topic is not None and at_topic.code == "bpbd"


async def test_group_upgraded_to_supergroup_keeps_its_agency(
    sim: TelegramSimulator, harness: BotHarness
) -> None:
    admin = sim.add_user("Admin", language_code="id")
    member = sim.add_user("Rudi", language_code="id")
    await harness.start(admins=[admin])
    group = await agency_group(sim, harness, admin, "Damkar", member)
    await harness.says(admin, "/daftar damkar Damkar", chat=group)
    await harness.says(member, "/gabung", chat=group)
    supergroup = sim.migrate_to_supergroup(group)
    await harness.settle()
    async with harness.services.store.read() as tx:
        agency = await tx.agency_by_code("damkar")
        members = await tx.members(agency.id if agency else 0, harness.services.clock.now())
    assert agency is not None and agency.chat_id == supergroup.id
    assert [m.user_id for m in members] == [member.id]
    roster = await harness.says(member, "/piket", chat=supergroup)
    assert roster.text is not None and "Damkar" in roster.text


async def test_removed_bot_marks_the_agency_unreachable_and_tells_admins(
    sim: TelegramSimulator, harness: BotHarness
) -> None:
    admin = sim.add_user("Admin", language_code="id")
    other_admin = sim.add_user("Boss", language_code="en")
    await harness.start(admins=[admin, other_admin])
    await harness.says(admin, "/start")
    await harness.says(other_admin, "/start")
    group = await agency_group(sim, harness, admin, "Dinkes")
    await harness.says(admin, "/daftar dinkes Dinkes Kota", chat=group)
    sim.remove_bot_from_group(group, by=admin)
    await harness.settle()
    async with harness.services.store.read() as tx:
        agency = await tx.agency_by_code("dinkes")
        assert await tx.count_outbox(OutboxStatus.PARKED) == 0
    assert agency is not None and not agency.reachable
    indonesian = sim.bot_messages(sim.private_chat(admin))[-1].text or ""
    english = sim.bot_messages(sim.private_chat(other_admin))[-1].text or ""
    assert "tidak terjangkau" in indonesian and "Dinkes Kota (dinkes)" in indonesian
    assert "unreachable" in english
    # Added back: reachable again, and no new greeting since the group is registered.
    greetings = sum("belum terdaftar" in (m.text or "") for m in sim.bot_messages(group))
    sim.add_bot_to_group(group, by=admin)
    await harness.settle()
    async with harness.services.store.read() as tx:
        agency = await tx.agency_by_code("dinkes")
    assert agency is not None and agency.reachable
    assert sum("belum terdaftar" in (m.text or "") for m in sim.bot_messages(group)) == greetings


async def test_the_one_query_standing_agrees_with_the_lookups_it_replaces(tmp_path: Path) -> None:
    async with Store(tmp_path / "standing.db") as store:
        now = store.clock.now()
        async with store.transaction() as tx:
            await tx.record_person(
                7, first_name="Rudi", last_name=None, username=None, language_code="id", now=now
            )
            places = {
                "whole": (-100, None),
                "topic": (-200, 5),
                "rest": (-200, None),
                "gone": (-300, None),
            }
            for code, (chat_id, thread_id) in places.items():
                agency = await tx.save_agency(
                    code=code,
                    name=code.title(),
                    kind=AgencyKind.AGENCY,
                    chat_id=chat_id,
                    thread_id=thread_id,
                    by_user=0,
                    now=now,
                )
                await tx.join(agency.id, 7, now)
                if code == "gone":
                    await tx.deactivate_agency(agency.id, now)
            await tx.grant_role(7, Role.DISPATCHER, 0, now)
        asked = [(-100, None), (-100, 3), (-200, 5), (-200, 9), (-200, None), (-300, None)]
        async with store.read() as tx:
            for chat_id, thread_id in [*asked, (-400, 2)]:
                standing = await tx.standing(7, chat_id, thread_id)
                assert standing.roles == await tx.roles_of(7) == {Role.DISPATCHER}
                assert standing.agency_ids == await tx.agency_ids_of(7)
                assert len(standing.agency_ids) == 3
                assert standing.agency_here == await tx.agency_at(chat_id, thread_id)
            assert (await tx.standing(7, -200, 9)).agency_here == await tx.agency_by_code("rest")
            assert (await tx.standing(7, -400, 2)).agency_here is None
            assert (await tx.standing(7, None, None)).agency_here is None
            assert (await tx.standing(8, -100, None)).roles == frozenset()
