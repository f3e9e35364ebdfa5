"""The one conversation mechanism: a flow added by importing one module, driven through the
simulator across a restart, cancelled with the same /batal as every flow, one at a time."""

from __future__ import annotations

import tests.flow_feedback  # noqa: F401 - importing it is what adds the conversation
from bot.simulator import TelegramSimulator
from tests.harness import BotHarness


async def test_a_flow_added_by_one_module_goes_on_across_a_restart(
    sim: TelegramSimulator, harness: BotHarness
) -> None:
    await harness.start()
    ani = sim.add_user("Ani", language_code="id")
    await harness.says(ani, "/start")
    question = await harness.says(ani, "/umpanbalik")
    assert "Pilih 1 sampai 5" in (question.text or "")
    wrong = await harness.says(ani, "enam")
    assert "Pilih angka 1 sampai 5" in (wrong.text or "")
    remark = await harness.says(ani, "4")
    assert "Ada yang ingin" in (remark.text or "")
    await harness.restart()  # the bot goes down between two answers
    thanks = await harness.says(ani, "Petugas cepat datang")
    assert thanks.text == "Terima kasih! Nilai 4, catatan: Petugas cepat datang"
    after = await harness.says(ani, "halo")
    assert "/bantuan" in (after.text or ""), "the conversation is over: the fallback answers"


async def test_batal_ends_it_and_one_conversation_at_a_time(
    sim: TelegramSimulator, harness: BotHarness
) -> None:
    await harness.start()
    ani = sim.add_user("Ani", language_code="id")
    await harness.says(ani, "/start")
    await harness.says(ani, "/umpanbalik")
    busy = await harness.says(ani, "/lapor")
    assert "Selesaikan dulu" in (busy.text or ""), busy.text
    again = await harness.says(ani, "/umpanbalik")
    assert "Pilih 1 sampai 5" in (again.text or ""), "the open conversation's question again"
    cancelled = await harness.says(ani, "/batal")
    assert cancelled.text == "Umpan balik dibatalkan."
    nothing = await harness.says(ani, "/batal")
    assert "Tidak ada" in (nothing.text or "")
