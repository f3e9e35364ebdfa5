"""Routing rules, roles, membership, duty and a person's own data, through the simulator."""

from __future__ import annotations

from datetime import timedelta

from bot.simulator import SimChat, SimUser, TelegramSimulator
from models.agencies import Role
from models.clock import ManualClock
from tests.harness import BotHarness
from tests.test_agencies import agency_group


async def registered(
    sim: TelegramSimulator, harness: BotHarness, admin: SimUser, code: str, *members: SimUser
) -> SimChat:
    group = await agency_group(sim, harness, admin, code.upper(), *members)
    await harness.says(admin, f"/daftar {code} {code.upper()} Palangka Raya", chat=group)
    return group


async def test_default_routes_apply_once_agencies_register(
    sim: TelegramSimulator, harness: BotHarness
) -> None:
    admin = sim.add_user("Admin", language_code="id")
    await harness.start(admins=[admin])
    table = await harness.says(admin, "/rute")
    assert table.text is not None
    assert "(kebakaran) → damkar (belum terdaftar), relawan (belum terdaftar)" in table.text
    assert "(lainnya) → dispatcher dan koordinator" in table.text
    await registered(sim, harness, admin, "damkar")
    table = await harness.says(admin, "/rute")
    assert "(kebakaran) → damkar, relawan (belum terdaftar)" in (table.text or "")
    async with harness.services.store.read() as tx:
        from models.incident_types import IncidentType

        routed = await tx.routed_agencies(IncidentType.FIRE)
    assert [a.code for a in routed] == ["damkar"]


async def test_admin_edits_a_route_and_mistakes_list_the_valid_values(
    sim: TelegramSimulator, harness: BotHarness
) -> None:
    admin = sim.add_user("Admin", language_code="en")
    await harness.start(admins=[admin])
    await registered(sim, harness, admin, "damkar")
    await registered(sim, harness, admin, "bpbd")
    done = await harness.says(admin, "/route flood bpbd,damkar")
    assert done.text is not None and "bpbd, damkar" in done.text
    unknown_type = await harness.says(admin, "/route volcano damkar")
    assert unknown_type.text is not None
    assert "volcano" in unknown_type.text and "kebakaran" in unknown_type.text
    unknown_code = await harness.says(admin, "/route banjir polisi")
    assert unknown_code.text is not None
    assert "polisi" in unknown_code.text and "bpbd, damkar" in unknown_code.text
    cleared = await harness.says(admin, "/route hewan -")
    assert cleared.text is not None and "cleared" in cleared.text
    table = await harness.says(admin, "/route")
    assert "(banjir) → bpbd, damkar" in (table.text or "")
    assert "(hewan) → dispatchers and coordinators" in (table.text or "")


async def test_only_admins_change_routes_and_reporters_do_not_see_them(
    sim: TelegramSimulator, harness: BotHarness
) -> None:
    admin = sim.add_user("Admin", language_code="id")
    resident = sim.add_user("Warga", language_code="id")
    await harness.start(admins=[admin])
    denied = await harness.says(resident, "/rute banjir bpbd")
    assert denied.text is not None and "tidak punya izin" in denied.text
    hidden = await harness.says(resident, "/rute")
    assert hidden.text is not None and "tidak punya izin" in hidden.text


async def test_roles_granted_by_username_and_by_reply(
    sim: TelegramSimulator, harness: BotHarness
) -> None:
    admin = sim.add_user("Admin", language_code="id")
    dina = sim.add_user("Dina", username="dina_112", language_code="id")
    koor = sim.add_user("Koor", language_code="id")
    await harness.start(admins=[admin])
    await harness.says(dina, "/start")
    granted = await harness.says(admin, "/peran beri dispatcher @dina_112")
    assert (
        granted.text is not None and "Dina sekarang memegang peran Dispatcher 112" in granted.text
    )
    again = await harness.says(admin, "/peran beri dispatcher @DINA_112")
    assert again.text is not None and "sudah memegang" in again.text

    group = await registered(sim, harness, admin, "koordinator", koor)
    said = await sim.send_message(koor, "/saya", chat=group)
    await harness.settle()
    await sim.send_message(admin, "/peran beri koordinator", chat=group, reply_to=said)
    await sim.wait_for(
        lambda: any("Koor sekarang memegang" in (m.text or "") for m in sim.bot_messages(group)),
        what="the role granted by reply",
    )
    listing = await harness.says(admin, "/peran")
    assert listing.text is not None
    assert "Admin: Admin (dari konfigurasi)" in listing.text
    assert "Dispatcher 112: Dina" in listing.text
    assert "Koordinator: Koor" in listing.text
    async with harness.services.store.read() as tx:
        assert await tx.roles_of(dina.id) == frozenset({Role.DISPATCHER})
    revoked = await harness.says(admin, "/peran cabut dispatcher @dina_112")
    assert revoked.text is not None and "dicabut" in revoked.text


async def test_role_refusals(sim: TelegramSimulator, harness: BotHarness) -> None:
    admin = sim.add_user("Admin", username="boss", language_code="id")
    dina = sim.add_user("Dina", username="dina", language_code="id")
    await harness.start(admins=[admin])
    await harness.says(dina, "/start")
    not_admin = await harness.says(dina, "/peran beri admin @dina")
    assert not_admin.text is not None and "tidak punya izin" in not_admin.text
    unknown_user = await harness.says(admin, "/peran beri dispatcher @nobody")
    assert unknown_user.text is not None and "belum mengenal @nobody" in unknown_user.text
    unknown_role = await harness.says(admin, "/peran beri raja @dina")
    assert unknown_role.text is not None and "raja" in unknown_role.text
    assert "dispatcher" in unknown_role.text
    nobody = await harness.says(admin, "/peran beri dispatcher")
    assert nobody.text is not None and "Siapa yang dimaksud" in nobody.text
    bad_verb = await harness.says(admin, "/peran jadikan dispatcher @dina")
    assert bad_verb.text is not None and "Cara pakai" in bad_verb.text
    configured = await harness.says(admin, "/peran cabut admin @boss")
    assert configured.text is not None and "ADMIN_USER_IDS" in configured.text
    async with harness.services.store.read() as tx:
        assert await tx.roles_of(dina.id) == frozenset()


async def test_members_join_go_on_duty_and_show_in_the_roster(
    sim: TelegramSimulator, harness: BotHarness
) -> None:
    clock = ManualClock()
    admin = sim.add_user("Admin", language_code="id")
    rudi = sim.add_user("Rudi", language_code="id")
    sita = sim.add_user("Sita", language_code="en")
    await harness.start(admins=[admin], clock=clock)
    group = await registered(sim, harness, admin, "damkar", rudi, sita)
    joined = await harness.says(rudi, "/gabung", chat=group)
    assert (
        joined.text is not None
        and "Rudi bergabung dengan DAMKAR Palangka Raya (damkar)" in joined.text
    )
    again = await harness.says(rudi, "/gabung", chat=group)
    assert again.text is not None and "sudah menjadi anggota" in again.text
    await harness.says(sita, "/join", chat=group)

    on = await harness.says(rudi, "/siaga", chat=group)
    assert on.text is not None and "Anda siaga untuk" in on.text
    timed = await harness.says(sita, "/onduty 8h", chat=group)
    assert timed.text is not None and "until" in timed.text and "WIB" in timed.text
    bad = await harness.says(sita, "/onduty forever", chat=group)
    assert bad.text is not None and "not a duty length" in bad.text

    roster = await harness.says(rudi, "/piket", chat=group)
    assert roster.text is not None
    assert "2 dari 2 siaga" in roster.text
    assert "🟢 Rudi" in roster.text

    clock.advance(timedelta(hours=9))  # Sita's duty ended by itself
    roster = await harness.says(rudi, "/piket", chat=group)
    assert roster.text is not None
    assert "1 dari 2 siaga" in roster.text
    assert "⚪ Sita" in roster.text

    off = await harness.says(rudi, "/lepassiaga", chat=group)
    assert off.text is not None and "tidak lagi siaga" in off.text
    left = await harness.says(rudi, "/keluar", chat=group)
    assert left.text is not None and "keluar dari" in left.text
    # Still in the group: going on duty there joins the agency again.
    again = await harness.says(rudi, "/siaga", chat=group)
    assert again.text is not None and "Anda siaga" in again.text, again.text


async def test_duty_from_private_covers_all_of_a_members_agencies(
    sim: TelegramSimulator, harness: BotHarness
) -> None:
    admin = sim.add_user("Admin", language_code="id")
    rudi = sim.add_user("Rudi", language_code="id")
    await harness.start(admins=[admin])
    damkar = await registered(sim, harness, admin, "damkar", rudi)
    relawan = await registered(sim, harness, admin, "relawan", rudi)
    await harness.says(rudi, "/gabung", chat=damkar)
    await harness.says(rudi, "/gabung", chat=relawan)
    on = await harness.says(rudi, "/siaga 90m")
    assert on.text is not None
    assert "damkar" in on.text and "relawan" in on.text
    roster = await harness.says(rudi, "/piket")
    assert (roster.text or "").count("🟢 Rudi") == 2
    stranger = sim.add_user("Warga", language_code="id")
    denied = await harness.says(stranger, "/siaga")
    assert denied.text is not None and "Hanya anggota" in denied.text


async def test_joining_needs_a_registered_group(
    sim: TelegramSimulator, harness: BotHarness
) -> None:
    admin = sim.add_user("Admin", language_code="id")
    rudi = sim.add_user("Rudi", language_code="id")
    await harness.start(admins=[admin])
    group = await agency_group(sim, harness, admin, "Belum terdaftar", rudi)
    answer = await harness.says(rudi, "/gabung", chat=group)
    assert answer.text is not None and "grup instansi yang terdaftar" in answer.text
    private = await harness.says(rudi, "/gabung")
    assert private.text is not None and "hanya bisa dipakai di" in private.text


async def test_admin_removes_a_member(sim: TelegramSimulator, harness: BotHarness) -> None:
    admin = sim.add_user("Admin", language_code="id")
    rudi = sim.add_user("Rudi", username="rudi", language_code="id")
    await harness.start(admins=[admin])
    group = await registered(sim, harness, admin, "damkar", rudi)
    await harness.says(rudi, "/gabung", chat=group)
    denied = await harness.says(rudi, "/keluarkan @rudi", chat=group)
    assert denied.text is not None and "tidak punya izin" in denied.text
    removed = await harness.says(admin, "/keluarkan @rudi", chat=group)
    assert removed.text is not None and "dikeluarkan dari" in removed.text
    again = await harness.says(admin, "/keluarkan damkar @rudi")
    assert again.text is not None and "bukan anggota" in again.text
    unknown = await harness.says(admin, "/keluarkan polisi @rudi")
    assert unknown.text is not None and "polisi" in unknown.text


async def test_me_and_forget(sim: TelegramSimulator, harness: BotHarness) -> None:
    admin = sim.add_user("Admin", language_code="id")
    rudi = sim.add_user("Rudi", last_name="Hartono", username="rudi_h", language_code="id")
    await harness.start(admins=[admin])
    group = await registered(sim, harness, admin, "damkar", rudi)
    await harness.says(rudi, "/gabung", chat=group)
    await sim.send_contact(rudi, "+6281234567890")
    await harness.settle()
    async with harness.services.store.transaction() as tx:
        await tx.set_phone(rudi.id, "+6281234567890")
    me = await harness.says(rudi, "/saya")
    assert me.text is not None
    assert "Rudi Hartono" in me.text
    assert "DAMKAR Palangka Raya (damkar)" in me.text
    assert "+6281234567890" in me.text

    in_group = await harness.says(rudi, "/lupakan", chat=group)
    assert in_group.text is not None and "obrolan pribadi" in in_group.text
    question = await harness.says(rudi, "/lupakan")
    assert question.text is not None and "Hapus data Anda" in question.text
    await harness.sim.press_button(rudi, question, text="🗑 Ya, hapus data saya")
    await harness.settle()
    forgotten = harness.sim.bot_messages(harness.sim.private_chat(rudi))[-1]
    assert forgotten.text is not None and "dihapus" in forgotten.text
    async with harness.services.store.read() as tx:
        person = await tx.person(rudi.id)
        members = await tx.members(
            (await tx.agency_by_code("damkar")).id, harness.services.clock.now()
        )  # type: ignore[union-attr]
    assert person is not None
    assert person.first_name is None and person.username is None and person.phone is None
    assert person.display_name.startswith("anon-")
    assert str(rudi.id) not in person.display_name
    assert [m.display_name for m in members] == [person.display_name]
