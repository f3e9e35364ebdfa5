"""Incident cards and tasks: the buttons on them, and looking incidents up.

Every press is decoded, re-authorized against the store (who, which chat, which incident, which
agency), handed to one service operation, and answered at once — with a toast for a stale,
forged or refused press, which changes nothing.
"""

from __future__ import annotations

import logging

from telegram import InlineKeyboardMarkup, Message, Update
from telegram.error import Forbidden
from telegram.ext import CallbackQueryHandler, CommandHandler, filters

from bot.callbacks import ButtonAction, CallbackData, decode, pattern_for
from bot.commands import INCIDENT, MERGE, OPEN, REOPEN, SEVERITY
from bot.context import App, AppContext
from bot.i18n import N_, t
from bot.incidents import Outcome, Result
from bot.render.cards import (
    OPEN_LIST_MAX_LINES,
    already_acknowledged_text,
    assign_picker,
    illegal_transition_text,
    incident_closed_text,
    incident_text,
    manage_card,
    not_found_text,
    open_list_text,
)
from handlers.guard import Request, answer_stale, authorize, reply, usage
from models.access import Action, ChatKind, Target, by_role
from models.incidents import CANCEL_REASONS, AssignmentEvent, IncidentView, ResponseEvent, Severity

log = logging.getLogger(__name__)

ENDS = filters.UpdateType.MESSAGE

CARD_PROGRESS = {
    ButtonAction.EN_ROUTE: ResponseEvent.DISPATCH,
    ButtonAction.ON_SCENE: ResponseEvent.ARRIVE,
    ButtonAction.AGENCY_DONE: ResponseEvent.FINISH,
}
TASK_EVENTS = {
    ButtonAction.TASK_ACCEPT: AssignmentEvent.ACCEPT,
    ButtonAction.TASK_DECLINE: AssignmentEvent.DECLINE,
    ButtonAction.TASK_EN_ROUTE: AssignmentEvent.DEPART,
    ButtonAction.TASK_ON_SCENE: AssignmentEvent.ARRIVE,
    ButtonAction.TASK_DONE: AssignmentEvent.FINISH,
}


def _ids(data: CallbackData | None, count: int) -> tuple[int, ...] | None:
    if data is None or len(data.ids) != count:
        return None
    return data.ids


async def _answer_outcome(
    update: Update, context: AppContext, request: Request, result: Result
) -> None:
    """Tell the presser what became of their press."""
    query = update.callback_query
    assert query is not None
    language = request.language
    if result.outcome is Outcome.DONE:
        await query.answer(t(language, "loop.done_toast"))
    elif result.outcome is Outcome.ALREADY and result.by_name and result.at:
        await query.answer(
            already_acknowledged_text(
                language, result.by_name, result.at, context.services.settings.zone
            ),
            show_alert=True,
        )
    elif result.outcome is Outcome.ALREADY:
        await query.answer(t(language, "loop.already_toast"), show_alert=True)
    elif result.outcome is Outcome.CLOSED:
        await query.answer(incident_closed_text(language), show_alert=True)
    elif result.outcome is Outcome.NOT_A_MEMBER:
        await query.answer(t(language, "loop.not_member_toast"), show_alert=True)
    elif result.outcome is Outcome.ILLEGAL:
        await query.answer(illegal_transition_text(language), show_alert=True)
    else:
        await query.answer(t(language, "callback.stale"), show_alert=True)


async def _view(context: AppContext, incident_id: int) -> IncidentView | None:
    async with context.services.store.read() as tx:
        return await tx.incident_view(incident_id)


def phone_visible(request: Request, view: IncidentView) -> bool:
    """The reporter's phone only where it may be seen: in private (the asker is allowed to see
    the incident), in the coordinators' group, or in a routed agency's own chat."""
    place = request.checked.place
    if place.kind in (ChatKind.PRIVATE, ChatKind.COORDINATORS_GROUP):
        return True
    return place.agency_id is not None and view.response_of(place.agency_id) is not None


def _target(view: IncidentView) -> Target:
    owners = frozenset({view.incident.reporter_id}) if view.incident.reporter_id else frozenset()
    return Target(frozenset(r.agency_id for r in view.responses), owners)


# --- the card in an agency's chat ---


async def card_button(update: Update, context: AppContext) -> None:
    """Acknowledge, en route, on scene, done — pressed in the agency's own chat."""
    query = update.callback_query
    assert query is not None
    data = decode(query.data)
    ids = _ids(data, 2)
    if data is None or ids is None:
        await answer_stale(update, context)
        return
    incident_id, agency_id = ids
    action = Action.RESOLVE if data.action is ButtonAction.AGENCY_DONE else Action.ACKNOWLEDGE
    request = await authorize(update, context, action, Target(frozenset({agency_id})))
    if request is None:
        return
    here = request.checked.agency
    if here is None or here.id != agency_id:
        # Done may be pressed by members from elsewhere; a card's buttons belong to its chat.
        await query.answer(t(request.language, "deny.other_agency_chat"), show_alert=True)
        return
    services = context.services
    # The press's one write: it records the update as handled in the same commit.
    with services.store.completes_update():
        if data.action is ButtonAction.ACKNOWLEDGE:
            result = await services.incidents.acknowledge(incident_id, agency_id, request.user.id)
        else:
            result = await services.incidents.agency_progress(
                incident_id, agency_id, request.user.id, CARD_PROGRESS[data.action]
            )
    await _answer_outcome(update, context, request, result)


async def assign_button(update: Update, context: AppContext) -> None:
    """Open the picker of whom to assign, in the agency's chat."""
    query = update.callback_query
    assert query is not None
    ids = _ids(decode(query.data), 2)
    if ids is None or not isinstance(query.message, Message):
        await answer_stale(update, context)
        return
    incident_id, agency_id = ids
    request = await authorize(update, context, Action.TAKE_TASK, Target(frozenset({agency_id})))
    if request is None:
        return
    view = await _view(context, incident_id)
    agency = request.checked.agency
    if (
        view is None
        or agency is None
        or agency.id != agency_id
        or view.response_of(agency_id) is None
    ):
        await answer_stale(update, context)
        return
    if view.incident.lifecycle.closed:
        await query.answer(incident_closed_text(request.language), show_alert=True)
        return
    services = context.services
    async with services.store.read() as tx:
        members = await tx.members(agency_id, services.clock.now())
    text, keyboard = assign_picker(services.settings.default_language, view, agency, members)
    await query.answer()
    await query.message.reply_text(text, reply_markup=keyboard)


async def picker_button(update: Update, context: AppContext) -> None:
    """Someone picked whom to assign (or themselves, or closed the picker)."""
    query = update.callback_query
    assert query is not None
    data = decode(query.data)
    if data is None or not isinstance(query.message, Message):
        await answer_stale(update, context)
        return
    if data.action is ButtonAction.ASSIGN_CLOSE:
        ids = _ids(data, 2)
        if ids is None:
            await answer_stale(update, context)
            return
        request = await authorize(update, context, Action.TAKE_TASK, Target(frozenset({ids[1]})))
        if request is None:
            return
        if request.checked.agency is None or request.checked.agency.id != ids[1]:
            await query.answer(t(request.language, "deny.other_agency_chat"), show_alert=True)
            return
        await query.answer()
        await query.message.delete()
        return
    ids = _ids(data, 3) if data.action is ButtonAction.ASSIGN_TO else _ids(data, 2)
    if ids is None:
        await answer_stale(update, context)
        return
    incident_id, agency_id = ids[0], ids[1]
    assignee = ids[2] if len(ids) == 3 else query.from_user.id
    myself = assignee == query.from_user.id
    action = Action.TAKE_TASK if myself else Action.ASSIGN_OTHERS
    request = await authorize(update, context, action, Target(frozenset({agency_id})))
    if request is None:
        return
    if request.checked.agency is None or request.checked.agency.id != agency_id:
        await query.answer(t(request.language, "deny.other_agency_chat"), show_alert=True)
        return
    services = context.services
    result = await services.incidents.assign(incident_id, agency_id, assignee, request.user.id)
    await _answer_outcome(update, context, request, result)
    if result.ok:
        await query.message.delete()


async def task_button(update: Update, context: AppContext) -> None:
    """The assignee's own task card: accept, decline, en route, on scene, done."""
    query = update.callback_query
    assert query is not None
    data = decode(query.data)
    ids = _ids(data, 1)
    if data is None or ids is None:
        await answer_stale(update, context)
        return
    services = context.services
    async with services.store.read() as tx:
        assignment = await tx.assignment(ids[0])
    if assignment is None:
        await answer_stale(update, context)
        return
    request = await authorize(
        update,
        context,
        Action.UPDATE_PROGRESS,
        Target(frozenset({assignment.agency_id}), frozenset({assignment.user_id})),
    )
    if request is None:
        return
    result = await services.incidents.task_progress(
        assignment.id, request.user.id, TASK_EVENTS[data.action]
    )
    await _answer_outcome(update, context, request, result)


# --- coordinators, from an escalation ---


async def acknowledge_on_behalf(update: Update, context: AppContext) -> None:
    """A coordinator owns the call for an agency that did not answer (recorded as such)."""
    query = update.callback_query
    assert query is not None
    ids = _ids(decode(query.data), 2)
    if ids is None:
        await answer_stale(update, context)
        return
    incident_id, agency_id = ids
    request = await authorize(update, context, Action.ACKNOWLEDGE_ON_BEHALF)
    if request is None:
        return
    result = await context.services.incidents.acknowledge(
        incident_id, agency_id, request.user.id, on_behalf=True
    )
    await _answer_outcome(update, context, request, result)


async def open_incident(update: Update, context: AppContext) -> None:
    """Send the full card and timeline to the presser's private chat."""
    query = update.callback_query
    assert query is not None
    ids = _ids(decode(query.data), 1)
    view = None if ids is None else await _view(context, ids[0])
    if view is None:
        await answer_stale(update, context)
        return
    request = await authorize(update, context, Action.VIEW_INCIDENT, _target(view))
    if request is None:
        return
    async with context.services.store.read() as tx:
        events = await tx.events(view.incident.id)
    zone = context.services.settings.zone
    text = incident_text(request.language, view, events, zone, show_phone=True)
    try:
        await context.bot.send_message(request.user.id, text)
    except Forbidden:
        await query.answer(t(request.language, "loop.manage_start_first"), show_alert=True)
        return
    await query.answer(t(request.language, "loop.sent_private"))


# --- dispatchers ---


async def manage_button(update: Update, context: AppContext) -> None:
    """A dispatcher opens the management card of an incident, in their private chat."""
    query = update.callback_query
    assert query is not None
    ids = _ids(decode(query.data), 1)
    if ids is None:
        await answer_stale(update, context)
        return
    view = await _view(context, ids[0])
    if view is None:
        await answer_stale(update, context)
        return
    request = await authorize(update, context, Action.CANCEL, _target(view))
    if request is None:
        return
    text, keyboard = await _manage(context, request, view)
    try:
        await context.bot.send_message(request.user.id, text, reply_markup=keyboard)
    except Forbidden:
        await query.answer(t(request.language, "loop.manage_start_first"), show_alert=True)
        return
    await query.answer(t(request.language, "loop.manage_sent"))


async def _manage(
    context: AppContext, request: Request, view: IncidentView
) -> tuple[str, InlineKeyboardMarkup]:
    addable = await context.services.incidents.addable_agencies(view)
    return manage_card(request.language, view, addable, zone=context.services.settings.zone)


async def manage_action(update: Update, context: AppContext) -> None:
    """Severity, add an agency, cancel, reopen — from the management card."""
    query = update.callback_query
    assert query is not None
    data = decode(query.data)
    if data is None or not data.ids:
        await answer_stale(update, context)
        return
    view = await _view(context, data.ids[0])
    if view is None:
        await answer_stale(update, context)
        return
    action = {
        ButtonAction.SET_SEVERITY: Action.CHANGE_SEVERITY,
        ButtonAction.ADD_AGENCY: Action.ADD_AGENCY,
        ButtonAction.CANCEL_INCIDENT: Action.CANCEL,
        ButtonAction.REOPEN: Action.REOPEN,
    }[data.action]
    request = await authorize(update, context, action, _target(view))
    if request is None:
        return
    incidents, incident_id, user_id = context.services.incidents, view.incident.id, request.user.id
    result: Result | None = None
    if (
        data.action is ButtonAction.SET_SEVERITY
        and len(data.ids) == 2
        and 0 <= data.ids[1] < len(Severity)
    ):
        result = await incidents.set_severity(incident_id, list(Severity)[data.ids[1]], user_id)
    elif data.action is ButtonAction.ADD_AGENCY and len(data.ids) == 2:
        result = await incidents.add_agency(incident_id, data.ids[1], user_id)
    elif (
        data.action is ButtonAction.CANCEL_INCIDENT
        and len(data.ids) == 2
        and 0 <= data.ids[1] < len(CANCEL_REASONS)
    ):
        result = await incidents.cancel(incident_id, CANCEL_REASONS[data.ids[1]], user_id)
    elif data.action is ButtonAction.REOPEN and len(data.ids) == 1:
        result = await incidents.reopen(incident_id, user_id)
    if result is None:
        await answer_stale(update, context)
        return
    await _answer_outcome(update, context, request, result)
    fresh = await _view(context, incident_id)
    if fresh is not None and isinstance(query.message, Message):
        text, keyboard = await _manage(context, request, fresh)
        await query.edit_message_text(text, reply_markup=keyboard)


# --- commands ---


def _number(text: str) -> int | None:
    text = text.strip().removeprefix("#")
    return int(text) if text.isdigit() and len(text) <= 12 else None


async def show_incident(update: Update, context: AppContext) -> None:
    """`/kejadian N`: the full card and the timeline."""
    args = context.args or []
    language = context.services.language_of(update.effective_user)
    number = _number(args[0]) if args else None
    if number is None:
        await reply(update, usage(language, N_("usage.incident")))
        return
    view = await _view(context, number)
    if view is None:
        await reply(update, not_found_text(language, number))
        return
    request = await authorize(update, context, Action.VIEW_INCIDENT, _target(view))
    if request is None:
        return
    async with context.services.store.read() as tx:
        events = await tx.events(number)
    text = incident_text(
        request.language,
        view,
        events,
        context.services.settings.zone,
        show_phone=phone_visible(request, view),
    )
    await reply(update, text)


async def open_incidents(update: Update, context: AppContext) -> None:
    """`/terbuka`: open incidents of the person's agencies (all, for dispatchers)."""
    request = await authorize(update, context, Action.VIEW_OPEN)
    if request is None:
        return
    services = context.services
    actor = request.checked.actor
    scope = None if by_role(actor, Action.VIEW_OPEN) else actor.agency_ids
    async with services.store.read() as tx:
        ids = await tx.open_incident_ids(scope)
        # Only the lines the list shows are built; the rest are counted.
        views = [v for i in ids[:OPEN_LIST_MAX_LINES] if (v := await tx.incident_view(i))]
    zone, now = services.settings.zone, services.clock.now()
    await reply(update, open_list_text(request.language, views, zone, now, total=len(ids)))


async def merge(update: Update, context: AppContext) -> None:
    """`/gabungkan N M`: incident N is a duplicate of M."""
    await _dispatcher_command(update, context, Action.MERGE, N_("usage.merge"), 2)


async def reopen(update: Update, context: AppContext) -> None:
    """`/bukalagi N`: reopen a resolved or cancelled incident."""
    await _dispatcher_command(update, context, Action.REOPEN, N_("usage.reopen"), 1)


async def severity(update: Update, context: AppContext) -> None:
    """`/keparahan N level`: change an incident's severity."""
    await _dispatcher_command(update, context, Action.CHANGE_SEVERITY, N_("usage.severity"), 2)


async def _dispatcher_command(
    update: Update, context: AppContext, action: Action, usage_key: str, count: int
) -> None:
    args = context.args or []
    language = context.services.language_of(update.effective_user)
    number = _number(args[0]) if args else None
    if number is None or len(args) != count:
        await reply(update, usage(language, usage_key))
        return
    view = await _view(context, number)
    if view is None:
        await reply(update, not_found_text(language, number))
        return
    request = await authorize(update, context, action, _target(view))
    if request is None:
        return
    incidents, user_id = context.services.incidents, request.user.id
    if action is Action.MERGE:
        other = _number(args[1])
        if other is None:
            await reply(update, usage(language, usage_key))
            return
        result = await incidents.merge(number, other, user_id)
        if result.outcome is Outcome.NOT_FOUND:
            await reply(update, not_found_text(language, other))
            return
    elif action is Action.REOPEN:
        result = await incidents.reopen(number, user_id)
    else:
        level = Severity.parse(args[1])
        if level is None:
            await reply(update, usage(language, usage_key))
            return
        result = await incidents.set_severity(number, level, user_id)
    key = {
        Outcome.DONE: N_("loop.command_done"),
        Outcome.ALREADY: N_("loop.command_already"),
        Outcome.CLOSED: N_("loop.command_closed"),
    }.get(result.outcome, N_("loop.command_illegal"))
    await reply(update, t(language, key, number=number))


def register(app: App) -> None:
    app.add_handler(
        CallbackQueryHandler(
            card_button, pattern=pattern_for(ButtonAction.ACKNOWLEDGE, *CARD_PROGRESS)
        )
    )
    app.add_handler(CallbackQueryHandler(assign_button, pattern=pattern_for(ButtonAction.ASSIGN)))
    app.add_handler(
        CallbackQueryHandler(
            picker_button,
            pattern=pattern_for(
                ButtonAction.ASSIGN_TO, ButtonAction.ASSIGN_SELF, ButtonAction.ASSIGN_CLOSE
            ),
        )
    )
    app.add_handler(CallbackQueryHandler(task_button, pattern=pattern_for(*TASK_EVENTS)))
    app.add_handler(CallbackQueryHandler(manage_button, pattern=pattern_for(ButtonAction.MANAGE)))
    app.add_handler(
        CallbackQueryHandler(acknowledge_on_behalf, pattern=pattern_for(ButtonAction.ACK_ON_BEHALF))
    )
    app.add_handler(
        CallbackQueryHandler(open_incident, pattern=pattern_for(ButtonAction.OPEN_INCIDENT))
    )
    app.add_handler(
        CallbackQueryHandler(
            manage_action,
            pattern=pattern_for(
                ButtonAction.SET_SEVERITY,
                ButtonAction.ADD_AGENCY,
                ButtonAction.CANCEL_INCIDENT,
                ButtonAction.REOPEN,
            ),
        )
    )
    app.add_handler(CommandHandler(INCIDENT.names, show_incident, filters=ENDS))
    app.add_handler(CommandHandler(OPEN.names, open_incidents, filters=ENDS))
    app.add_handler(CommandHandler(MERGE.names, merge, filters=ENDS))
    app.add_handler(CommandHandler(REOPEN.names, reopen, filters=ENDS))
    app.add_handler(CommandHandler(SEVERITY.names, severity, filters=ENDS))
