"""Figure 1, acknowledgement throughput: presses of ✅ Terima per second handled end to end — the
press reaches the bot through getUpdates, is authorized, acknowledged in one transaction,
answered, and the re-rendered card is edited through the outbox — with pacing off. The baseline
is a bare python-telegram-bot bot (PTB's own Updater, one handler that answers the press and
edits the message) on its own simulator instance in the same process and run."""

from __future__ import annotations

import time

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import Application, ApplicationBuilder, CallbackQueryHandler, ContextTypes

from bench.common import CallWatch, Row, main, row, simulator_and_bot
from bot.services.incidents import NewIncident
from bot.simulator import SimCallbackQuery, TelegramSimulator
from models.incident_types import IncidentType
from models.incidents import Location, Source
from tests.scenario import build_city

ACKNOWLEDGE = "✅ Terima"
EDITS = frozenset({"editMessageText"})
ANSWERS = frozenset({"answerCallbackQuery"})


async def siaga_presses_per_second(count: int) -> float:
    async with simulator_and_bot() as (sim, harness):
        city = await build_city(sim, harness, outbox_pacing=False)
        incidents = harness.services.incidents
        for n in range(count):
            await incidents.submit(
                NewIncident(
                    kind=IncidentType.MEDICAL,  # routed to one agency: dinkes
                    location=Location(-2.21, 113.92, None),
                    description=f"Pingsan di pasar, nomor {n}",
                    source=Source.CALL,
                )
            )
        await harness.settle(60)
        cards = city.cards("dinkes")
        assert len(cards) == count, len(cards)
        medic = city.crews["dinkes"][0]
        edits, answers = CallWatch(sim, EDITS), CallWatch(sim, ANSWERS)
        started = time.perf_counter()
        queries = [await sim.press_button(medic, card, text=ACKNOWLEDGE) for card in cards]
        await harness.settle(120)
        elapsed = time.perf_counter() - started
        _check(sim, queries, len(edits.scan()), len(answers.scan()))
        return count / elapsed


async def _echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Answer the press and edit the pressed message."""
    query = update.callback_query
    assert query is not None
    await query.answer("✅")
    await query.edit_message_text(f"pressed {query.data}")


async def echo_presses_per_second(count: int) -> float:
    async with TelegramSimulator() as sim:
        person = sim.add_user("Dewi", language_code="id")
        group = sim.add_group("Echo", members=[person])
        sim.add_bot_to_group(group, by=person)
        app: Application = (  # type: ignore[type-arg]
            ApplicationBuilder()
            .token(sim.token)
            .base_url(sim.bot_base_url)
            .base_file_url(sim.bot_base_file_url)
            .build()
        )
        app.add_handler(CallbackQueryHandler(_echo))
        async with app:
            assert app.updater is not None
            await app.updater.start_polling(poll_interval=0.0, timeout=1, drop_pending_updates=True)
            await app.start()
            for n in range(count):
                await app.bot.send_message(
                    group.id,
                    f"card {n}",
                    reply_markup=InlineKeyboardMarkup(
                        [[InlineKeyboardButton(ACKNOWLEDGE, callback_data=f"ack|{n}")]]
                    ),
                )
            cards = [m for m in sim.bot_messages(group) if (m.text or "").startswith("card ")]
            edits, answers = CallWatch(sim, EDITS), CallWatch(sim, ANSWERS)
            started = time.perf_counter()
            queries = [await sim.press_button(person, card, text=ACKNOWLEDGE) for card in cards]
            await edits.wait_count(count, 120, "every echo edit")
            await answers.wait_count(count, 120, "every echo answer")
            elapsed = time.perf_counter() - started
            _check(sim, queries, len(edits.found), len(answers.found))
            await app.updater.stop()
            await app.stop()
        return count / elapsed


def _check(
    sim: TelegramSimulator, queries: list[SimCallbackQuery], edits: int, answers: int
) -> None:
    unanswered = [q for q in queries if not (sim.callback_query(q.id) or q).answered]
    assert not unanswered, f"{len(unanswered)} presses unanswered"
    assert edits >= len(queries), f"only {edits} edits for {len(queries)} presses"
    assert answers >= len(queries), f"only {answers} answers for {len(queries)} presses"


async def measure(smoke: bool) -> list[Row]:
    count = 5 if smoke else 400
    echo = await echo_presses_per_second(count)
    siaga = await siaga_presses_per_second(count)
    return [
        row(
            "acknowledgement throughput vs bare PTB bot (pacing off)",
            siaga,
            "presses/s",
            target="ratio >= 0.5",
            baseline=echo,
        )
    ]


if __name__ == "__main__":
    main(__doc__ or "", measure)
