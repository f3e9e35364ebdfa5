"""`/latihan` (`/drill`): choose a scenario and the agencies taking part, start it, stop it; its
after-action review (`/latihan hasil N`) and the past drills (`/latihan riwayat`)."""

from __future__ import annotations

from telegram import Update
from telegram.ext import CommandHandler, filters

from bot.callbacks import ButtonAction, DrillButton
from bot.commands import DRILL
from bot.context import App, AppContext
from bot.i18n import N_, t
from bot.render.drills import (
    drill_preview,
    drill_status,
    history_text,
    review_text,
    scenario_picker,
)
from bot.services.drills import DrillOutcome, Started
from bot.settings import Language
from handlers.guard import authorize, not_a_number, number_arg, reply, usage
from handlers.presses import Press, route
from models.access import Action
from models.agencies import Agency

STOP_WORDS = frozenset({"stop", "berhenti", "hentikan", "selesai"})
RESULT_WORDS = frozenset({"hasil", "results", "result"})
HISTORY_WORDS = frozenset({"riwayat", "history"})

OUTCOME_KEYS = {
    DrillOutcome.UNKNOWN_SCENARIO: N_("drill.unknown"),
    DrillOutcome.RUNNING: N_("drill.already_running"),
    DrillOutcome.NO_AGENCIES: N_("drill.no_agencies"),
    DrillOutcome.NOT_RUNNING: N_("drill.not_running"),
}


async def drill_command(update: Update, context: AppContext) -> None:
    args = [a.lower() for a in context.args or []]
    if args and (args[0] in RESULT_WORDS or args[0] in HISTORY_WORDS):
        await _look_back(update, context, args)
        return
    request = await authorize(update, context, Action.RUN_DRILL)
    if request is None:
        return
    drills, language = context.services.drills, request.language
    if not args:
        text, keyboard = scenario_picker(language, list(drills.scenarios.values()))
        await reply(update, text, reply_markup=keyboard)
    elif args[0] in STOP_WORDS:
        stopped = await drills.stop(request.user.id)
        await reply(update, _stopped_text(language, stopped))
    else:
        started = await drills.start(args[0], request.user.id)
        await _tell_started(update, context, language, started)


async def _look_back(update: Update, context: AppContext, args: list[str]) -> None:
    request = await authorize(update, context, Action.VIEW_DRILLS)
    if request is None:
        return
    drills, language, zone = (
        context.services.drills,
        request.language,
        context.services.settings.zone,
    )
    if args[0] in HISTORY_WORDS:
        await reply(update, history_text(language, await drills.history(), zone))
        return
    if len(args) != 2:
        await reply(update, usage(language, N_("usage.drill")))
        return
    number = number_arg(args[1])
    if number is None:
        await reply(update, not_a_number(language, args[1], N_("usage.drill")))
        return
    found = await drills.review(number)
    if found is None:
        await reply(update, t(language, "drill.no_such", id=number))
        return
    await reply(update, review_text(language, found, zone))


async def _tell_started(
    update: Update, context: AppContext, language: Language, started: Started
) -> None:
    if started.outcome is DrillOutcome.DONE and started.drill is not None:
        title = _title(context, started.drill.scenario, language)
        text, keyboard = drill_status(language, started.drill, title)
        await reply(update, text, reply_markup=keyboard)
        return
    await reply(update, t(language, OUTCOME_KEYS[started.outcome], id=_number(started)))


def _number(started: Started) -> int | str:
    return started.drill.id if started.drill is not None else "?"


def _title(context: AppContext, code: str, language: Language) -> str:
    scenario = context.services.drills.scenarios.get(code)
    return scenario.title.get(language) if scenario is not None else code


def _stopped_text(language: Language, stopped: Started) -> str:
    if stopped.outcome is DrillOutcome.DONE and stopped.drill is not None:
        return t(language, "drill.stopped", id=stopped.drill.id)
    return t(language, OUTCOME_KEYS[stopped.outcome], id=_number(stopped))


async def drill_button(press: Press, button: DrillButton) -> None:
    """The picker's buttons and the running drill's stop button, re-authorized on each press."""
    request = await press.authorize(Action.RUN_DRILL)
    if request is None:
        return
    drills, language = press.services.drills, request.language
    scenarios = list(drills.scenarios.values())
    if button.action is ButtonAction.DRILL_STOP:
        stopped = await drills.stop(request.user.id, button.value)
        await press.answer()
        await press.edit(_stopped_text(language, stopped))
        return
    if button.action is ButtonAction.DRILL_BACK:
        await press.answer()
        await press.edit(*scenario_picker(language, scenarios))
        return
    if not 0 <= button.value < len(scenarios):
        await press.refuse("no such scenario")
        return
    scenario = scenarios[button.value]
    agencies = await drills.participants(scenario)
    everyone = (1 << len(agencies)) - 1
    if button.action is ButtonAction.DRILL_PICK:
        await press.answer()
        await press.edit(*drill_preview(language, button.value, scenario, agencies, everyone))
        return
    chosen = button.agencies & everyone
    if button.action is ButtonAction.DRILL_TOGGLE:
        await press.answer()
        await press.edit(*drill_preview(language, button.value, scenario, agencies, chosen))
        return
    codes = _chosen(agencies, chosen)
    if not codes:
        await press.answer(t(language, "drill.no_agencies"), alert=True)
        return
    started = await drills.start(scenario.code, request.user.id, codes)
    await press.answer()
    if started.outcome is DrillOutcome.DONE and started.drill is not None:
        await press.edit(*drill_status(language, started.drill, scenario.title.get(language)))
    else:
        await press.edit(t(language, OUTCOME_KEYS[started.outcome], id=_number(started)))


def _chosen(agencies: list[Agency], bits: int) -> list[str]:
    return [agency.code for bit, agency in enumerate(agencies) if bits & (1 << bit)]


def register(app: App) -> None:
    app.add_handler(CommandHandler(DRILL.names, drill_command, filters=filters.UpdateType.MESSAGE))
    route(app, DrillButton, drill_button)
