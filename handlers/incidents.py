"""Incident cards and tasks: the buttons on them, and looking incidents up.

Presses arrive through the one pipeline (`handlers.presses`), decoded and bound to the message
they were pressed on; here they are authorized against the store (who, which chat, which
incident, which agency), handed to one service operation, and answered — a refused press
changes nothing.
"""

from __future__ import annotations

import logging
from dataclasses import replace

from telegram import InlineKeyboardMarkup, Update
from telegram.error import Forbidden
from telegram.ext import CommandHandler, filters

from bot.callbacks import (
    ButtonAction,
    CancelIncident,
    CardButton,
    IncidentAgency,
    IncidentButton,
    PickerButton,
    PickMember,
    SetSeverity,
    SimilarChoice,
    TaskButton,
)
from bot.commands import INCIDENT, MERGE, OPEN, REOPEN, SEVERITY
from bot.context import App, AppContext
from bot.i18n import N_, format_clock, t
from bot.render.cards import (
    OPEN_LIST_MAX_LINES,
    already_acknowledged_text,
    assign_picker,
    illegal_transition_text,
    incident_closed_text,
    incident_text,
    manage_card,
    manage_confirmation,
    not_found_text,
    open_list_text,
)
from bot.services.incidents import Outcome, Result
from handlers.guard import Request, authorize, not_a_number, number_arg, reply, usage
from handlers.presses import Press, route
from models.access import Action, ChatKind, Target, by_role
from models.incidents import CANCEL_REASONS, AssignmentEvent, IncidentView, ResponseEvent, Severity
from models.refs import card_ref

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


async def answer_outcome(press: Press, result: Result) -> None:
    """Tell the presser what became of their press."""
    language = press.language
    if result.outcome is Outcome.DONE:
        await press.answer(t(language, "loop.done_toast"))
    elif result.outcome is Outcome.ALREADY and result.by_name and result.at:
        await press.answer(
            already_acknowledged_text(
                language, result.by_name, result.at, press.services.settings.zone
            ),
            alert=True,
        )
    elif result.outcome is Outcome.ALREADY:
        await press.answer(t(language, "loop.already_toast"), alert=True)
    elif result.outcome is Outcome.CLOSED:
        await press.answer(incident_closed_text(language), alert=True)
    elif result.outcome is Outcome.NOT_A_MEMBER:
        await press.answer(t(language, "loop.not_member_toast"), alert=True)
    elif result.outcome is Outcome.ILLEGAL:
        await press.answer(illegal_transition_text(language), alert=True)
    else:
        await press.refuse(f"outcome {result.outcome.value}")


async def _view(context: AppContext, incident_id: int) -> IncidentView | None:
    return await context.services.incidents.view(incident_id)


def phone_visible(request: Request, view: IncidentView) -> bool:
    """The reporter's phone only where it may be seen: in private (the asker is allowed to see
    the incident), in the coordinators' group or the operators' feed, or in a routed agency's
    own chat."""
    place = request.checked.place
    if place.kind in (ChatKind.PRIVATE, ChatKind.COORDINATORS_GROUP, ChatKind.OPERATORS_GROUP):
        return True
    return place.agency_id is not None and view.response_of(place.agency_id) is not None


async def still_entitled(
    context: AppContext, request: Request, view: IncidentView, target: Target
) -> bool:
    """Before a view with the reporter's phone: a person who may see the incident only as a
    member of a routed agency must still be in that agency's Telegram group (Telegram is asked;
    membership of a group they left ends on the way). Roles and reporters need no check, nor a
    member asking in that very group."""
    actor = request.checked.actor
    if by_role(actor, Action.VIEW_INCIDENT) or actor.user_id in target.owner_ids:
        return True
    granting = actor.agency_ids & {r.agency_id for r in view.responses}
    if request.checked.place.agency_id in granting:
        return True
    return await context.services.membership.still_in(actor.user_id, granting)


def _target(view: IncidentView) -> Target:
    owners = frozenset({view.incident.reporter_id}) if view.incident.reporter_id else frozenset()
    return Target(frozenset(r.agency_id for r in view.responses), owners)


async def _in_own_agency_chat(press: Press, request: Request, agency_id: int) -> bool:
    """A card's buttons belong to its agency's chat (Done may otherwise be pressed by members
    from elsewhere); say so when pressed anywhere else."""
    here = request.checked.agency
    if here is not None and here.id == agency_id:
        return True
    await press.answer(t(request.language, "deny.other_agency_chat"), alert=True)
    return False


# --- the card in an agency's chat ---


async def card_button(press: Press, button: CardButton) -> None:
    """Acknowledge, assign, en route, on scene, done — pressed in the agency's own chat."""
    if button.action is ButtonAction.ASSIGN:
        await open_picker(press, button)
        return
    action = Action.RESOLVE if button.action is ButtonAction.AGENCY_DONE else Action.ACKNOWLEDGE
    request = await press.authorize(action, Target(frozenset({button.agency_id})))
    if request is None or not await _in_own_agency_chat(press, request, button.agency_id):
        return
    incidents = press.services.incidents
    # The press's one write: it records the update as handled in the same commit.
    with incidents.completes_update():
        if button.action is ButtonAction.ACKNOWLEDGE:
            result = await incidents.acknowledge(
                button.incident_id, button.agency_id, request.user.id
            )
        else:
            result = await incidents.agency_progress(
                button.incident_id,
                button.agency_id,
                request.user.id,
                CARD_PROGRESS[button.action],
            )
    await answer_outcome(press, result)


async def explain_card(press: Press, button: CardButton) -> str | None:
    """Why a card's button is gone from the card it was pressed on: the incident closed, or the
    agency acknowledged already (the presser's screen had not caught up)."""
    if press.shown.ref != card_ref(button.incident_id, button.agency_id):
        return None  # not this card's own button: nothing to explain
    view = await _view(press.context, button.incident_id)
    if view is None:
        return None
    if view.incident.lifecycle.closed:
        return incident_closed_text(press.language)
    response = view.response_of(button.agency_id)
    if (
        button.action is ButtonAction.ACKNOWLEDGE
        and response is not None
        and response.acknowledged_by_name
        and response.acknowledged_at
    ):
        return already_acknowledged_text(
            press.language,
            response.acknowledged_by_name,
            response.acknowledged_at,
            press.services.settings.zone,
        )
    return None


async def open_picker(press: Press, button: CardButton) -> None:
    """Open the picker of whom to assign, in the agency's chat; it is the opener's."""
    request = await press.authorize(Action.TAKE_TASK, Target(frozenset({button.agency_id})))
    if request is None or not await _in_own_agency_chat(press, request, button.agency_id):
        return
    view = await _view(press.context, button.incident_id)
    agency = request.checked.agency
    if view is None or agency is None or view.response_of(button.agency_id) is None:
        await press.refuse("no such incident for this agency")
        return
    if view.incident.lifecycle.closed:
        await press.answer(incident_closed_text(request.language), alert=True)
        return
    services = press.services
    members = await services.incidents.members(button.agency_id)
    text, keyboard = assign_picker(
        services.settings.default_language, view, agency, members, press.user.id
    )
    await press.answer()
    await press.reply(text, keyboard)


async def picker_button(press: Press, button: PickerButton | PickMember) -> None:
    """Someone picked whom to assign (or themselves, or closed the picker) on their picker."""
    if button.opener_id != press.user.id:
        await press.answer(t(press.language, "assign.not_your_picker"), alert=True)
        return
    if button.action is ButtonAction.ASSIGN_CLOSE:
        request = await press.authorize(Action.TAKE_TASK, Target(frozenset({button.agency_id})))
        if request is None or not await _in_own_agency_chat(press, request, button.agency_id):
            return
        await press.answer()
        await press.delete()
        return
    assignee = button.user_id if isinstance(button, PickMember) else press.user.id
    action = Action.TAKE_TASK if assignee == press.user.id else Action.ASSIGN_OTHERS
    request = await press.authorize(action, Target(frozenset({button.agency_id})))
    if request is None or not await _in_own_agency_chat(press, request, button.agency_id):
        return
    result = await press.services.incidents.assign(
        button.incident_id, button.agency_id, assignee, request.user.id
    )
    await answer_outcome(press, result)
    if result.ok:
        await press.delete()


async def task_button(press: Press, button: TaskButton) -> None:
    """The assignee's own task card: accept, decline, en route, on scene, done."""
    services = press.services
    assignment = await services.incidents.assignment(button.assignment_id)
    if assignment is None:
        await press.refuse("no such task")
        return
    request = await press.authorize(
        Action.UPDATE_PROGRESS,
        Target(frozenset({assignment.agency_id}), frozenset({assignment.user_id})),
    )
    if request is None:
        return
    result = await services.incidents.task_progress(
        assignment.id, request.user.id, TASK_EVENTS[button.action]
    )
    await answer_outcome(press, result)


# --- coordinators, from an escalation ---


async def acknowledge_on_behalf(press: Press, button: IncidentAgency) -> None:
    """A coordinator owns the call for an agency that did not answer (recorded as such)."""
    request = await press.authorize(Action.ACKNOWLEDGE_ON_BEHALF)
    if request is None:
        return
    result = await press.services.incidents.acknowledge(
        button.incident_id, button.agency_id, request.user.id, on_behalf=True
    )
    await answer_outcome(press, result)


async def incident_button(press: Press, button: IncidentButton) -> None:
    """Open an incident in private (escalations), open its management card (cards), or act on
    the management card (resolve, reopen, back)."""
    view = await _view(press.context, button.incident_id)
    if view is None:
        await press.refuse("no such incident")
        return
    if button.action is ButtonAction.OPEN_INCIDENT:
        await open_incident(press, view)
    elif button.action is ButtonAction.MANAGE:
        await open_manage_card(press, view)
    elif button.action is ButtonAction.TAKE_OWNERSHIP:
        await take_ownership(press, view)
    else:
        await manage_action(press, view, button)


async def take_ownership(press: Press, view: IncidentView) -> None:
    """🙋 Ambil alih on an operators' copy of a call no agency is routed to."""
    request = await press.authorize(Action.TAKE_OWNERSHIP, _target(view))
    if request is None:
        return
    incidents = press.services.incidents
    with incidents.completes_update():
        result = await incidents.take_ownership(view.incident.id, request.user.id)
    language = request.language
    if result.outcome is Outcome.ALREADY and result.by_name and result.at:
        zone = press.services.settings.zone
        text = t(
            language,
            "ownership.already",
            name=result.by_name,
            time=format_clock(result.at, language, zone),
        )
        await press.answer(text, alert=True)
    elif result.outcome is Outcome.ALREADY:
        await press.answer(t(language, "ownership.routed"), alert=True)
    elif result.ok:
        await press.answer(t(language, "ownership.done"), alert=True)
    else:
        await answer_outcome(press, result)


async def similar_button(press: Press, button: SimilarChoice) -> None:
    """🔗 Merge into #12 or ✖️ Not a duplicate, on a report duplicate detection hinted as
    repeating #12 (the operators' copies and the management card). Merging stays the
    dispatchers' and coordinators', as the policy says; the hint pressed must still stand."""
    view = await _view(press.context, button.incident_id)
    if view is None:
        await press.refuse("no such incident")
        return
    request = await press.authorize(Action.MERGE, _target(view))
    if request is None:
        return
    hint = view.similar_to
    if hint is None or hint.of_id != button.of_id or view.incident.lifecycle.closed:
        await press.answer(t(request.language, "similar.decided"), alert=True)
        return
    incidents = press.services.incidents
    if button.action is ButtonAction.MERGE_SIMILAR:
        result = await incidents.merge(view.incident.id, hint.of_id, request.user.id)
        done = t(request.language, "similar.merged", id=hint.of_id)
    else:
        result = await incidents.not_duplicate(view.incident.id, hint.of_id, request.user.id)
        done = t(request.language, "similar.dismissed", id=hint.of_id)
    if result.outcome is Outcome.DONE:
        await press.answer(done)
    else:
        await answer_outcome(press, result)
    if press.shown.ref is None:
        # Pressed on the management card (the bot's own, in private): show it as it is now.
        fresh = await _view(press.context, view.incident.id)
        if fresh is not None:
            await press.edit(*await _manage(press.context, request, fresh))


async def open_incident(press: Press, view: IncidentView) -> None:
    """Send the full card and timeline to the presser's private chat."""
    services = press.services
    target = await _owned_target(press.context, view)
    request = await press.authorize(Action.VIEW_INCIDENT, target)
    if request is None:
        return
    if not await still_entitled(press.context, request, view, target):
        await press.answer(t(request.language, "deny.left_group"), alert=True)
        return
    text = await _incident_text(press.context, request, view, in_private=True)
    sent = await services.publisher.send_view(
        view.incident.id,
        request.user.id,
        text,
        thread_id=None,
        update_id=press.update.update_id,
        asked_here=press.private,
    )
    if not sent:
        await press.answer(t(request.language, "loop.manage_start_first"), alert=True)
        return
    await press.answer(t(request.language, "loop.sent_private"))


# --- dispatchers ---


async def open_manage_card(press: Press, view: IncidentView) -> None:
    """A dispatcher opens the management card of an incident, in their private chat."""
    request = await press.authorize(Action.CANCEL, _target(view))
    if request is None:
        return
    text, keyboard = await _manage(press.context, request, view)
    try:
        await press.context.bot.send_message(request.user.id, text, reply_markup=keyboard)
    except Forbidden:
        await press.answer(t(request.language, "loop.manage_start_first"), alert=True)
        return
    await press.answer(t(request.language, "loop.manage_sent"))


async def _manage(
    context: AppContext, request: Request, view: IncidentView
) -> tuple[str, InlineKeyboardMarkup]:
    addable = await context.services.incidents.addable_agencies(view)
    return manage_card(request.language, view, addable, zone=context.services.settings.zone)


MANAGE_ACTIONS = {
    ButtonAction.SET_SEVERITY: Action.CHANGE_SEVERITY,
    ButtonAction.ADD_AGENCY: Action.ADD_AGENCY,
    ButtonAction.CANCEL_INCIDENT: Action.CANCEL,
    ButtonAction.CANCEL_CONFIRMED: Action.CANCEL,
    ButtonAction.RESOLVE: Action.RESOLVE,
    ButtonAction.RESOLVE_CONFIRMED: Action.RESOLVE,
    ButtonAction.REOPEN: Action.REOPEN,
    ButtonAction.MANAGE_BACK: Action.CANCEL,  # whoever may use the management card
}


async def manage_button(
    press: Press, button: SetSeverity | IncidentAgency | CancelIncident
) -> None:
    """Severity, add an agency, cancel — from the management card (acknowledge on behalf of an
    agency shares its payload with adding one, and comes from an escalation)."""
    if button.action is ButtonAction.ACK_ON_BEHALF:
        assert isinstance(button, IncidentAgency)
        await acknowledge_on_behalf(press, button)
        return
    view = await _view(press.context, button.incident_id)
    if view is None:
        await press.refuse("no such incident")
        return
    await manage_action(press, view, button)


async def manage_action(
    press: Press,
    view: IncidentView,
    button: SetSeverity | IncidentAgency | CancelIncident | IncidentButton,
) -> None:
    """One step on the management card. Resolving and cancelling tell the reporter at once, so
    they first turn the card into a question; the other changes are made at once. The card
    then shows the incident as it is now."""
    request = await press.authorize(MANAGE_ACTIONS[button.action], _target(view))
    if request is None:
        return
    incidents, incident_id, user_id = press.services.incidents, view.incident.id, request.user.id
    action = button.action
    if action is ButtonAction.RESOLVE or (
        action is ButtonAction.CANCEL_INCIDENT and isinstance(button, CancelIncident)
    ):
        if view.incident.lifecycle.closed:
            await press.answer(incident_closed_text(request.language), alert=True)
        else:
            reason = CANCEL_REASONS[button.reason] if isinstance(button, CancelIncident) else None
            await press.answer()
            await press.edit(*manage_confirmation(request.language, view, reason))
            return
    elif action is ButtonAction.MANAGE_BACK:
        await press.answer()
    else:
        if isinstance(button, SetSeverity):
            result = await incidents.set_severity(incident_id, list(Severity)[button.rank], user_id)
        elif isinstance(button, IncidentAgency):
            result = await incidents.add_agency(incident_id, button.agency_id, user_id)
        elif isinstance(button, CancelIncident):
            result = await incidents.cancel(incident_id, CANCEL_REASONS[button.reason], user_id)
        elif action is ButtonAction.RESOLVE_CONFIRMED:
            result = await incidents.resolve(incident_id, user_id)
        else:
            result = await incidents.reopen(incident_id, user_id)
        await answer_outcome(press, result)
    fresh = await _view(press.context, incident_id)
    if fresh is not None:
        text, keyboard = await _manage(press.context, request, fresh)
        await press.edit(text, keyboard)


# --- commands ---


async def show_incident(update: Update, context: AppContext) -> None:
    """`/kejadian N`: the full card and the timeline."""
    args = context.args or []
    language = context.services.language_of(update.effective_user)
    if len(args) != 1:
        await reply(update, usage(language, N_("usage.incident")))
        return
    number = number_arg(args[0])
    if number is None:
        await reply(update, not_a_number(language, args[0], N_("usage.incident")))
        return
    view = await _view(context, number)
    if view is None:
        await reply(update, not_found_text(language, number))
        return
    target = await _owned_target(context, view)
    request = await authorize(update, context, Action.VIEW_INCIDENT, target)
    if request is None or request.message is None:
        return
    if phone_visible(request, view) and not await still_entitled(context, request, view, target):
        await reply(update, t(request.language, "deny.left_group"))
        return
    text = await _incident_text(context, request, view)
    await context.services.publisher.send_view(
        number,
        request.message.chat_id,
        text,
        thread_id=request.thread_id,
        update_id=update.update_id,
        asked_here=True,
    )


async def _owned_target(context: AppContext, view: IncidentView) -> Target:
    return await context.services.incidents.viewing_target(view)


async def _incident_text(
    context: AppContext, request: Request, view: IncidentView, *, in_private: bool = False
) -> str:
    """The full card and timeline as this person may see them: a resident who follows the
    incident through a merged report of their own sees no other reporter's name or phone."""
    actor = request.checked.actor
    reporter = view.incident.reporter_id
    follower = (
        actor.user_id != reporter
        and not by_role(actor, Action.VIEW_INCIDENT)
        and not actor.agency_ids & {r.agency_id for r in view.responses}
    )
    events = await context.services.incidents.events(view.incident.id)
    if follower:
        someone = t(request.language, "timeline.a_resident")
        events = [replace(e, actor_name=someone) if e.actor_id == reporter else e for e in events]
    return incident_text(
        request.language,
        view,
        events,
        context.services.settings.zone,
        show_phone=not follower and (in_private or phone_visible(request, view)),
        show_reporter=not follower,
    )


async def open_incidents(update: Update, context: AppContext) -> None:
    """`/terbuka`: open incidents of the person's agencies (all, for dispatchers)."""
    request = await authorize(update, context, Action.VIEW_OPEN)
    if request is None:
        return
    services = context.services
    actor = request.checked.actor
    scope = None if by_role(actor, Action.VIEW_OPEN) else actor.agency_ids
    # Only the lines the list shows are read whole; the rest are counted.
    found = await services.incidents.open_list(scope, OPEN_LIST_MAX_LINES)
    text = open_list_text(
        request.language, found.views, services.settings.zone, found.at, total=found.total
    )
    await reply(update, text)


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
    # These are the dispatchers' and coordinators' whatever the incident: ask first, then read.
    request = await authorize(update, context, action)
    if request is None:
        return
    args, language = context.args or [], request.language
    if len(args) != count:
        await reply(update, usage(language, usage_key))
        return
    number = number_arg(args[0])
    if number is None:
        await reply(update, not_a_number(language, args[0], usage_key))
        return
    view = await _view(context, number)
    if view is None:
        await reply(update, not_found_text(language, number))
        return
    incidents, user_id = context.services.incidents, request.user.id
    if action is Action.MERGE:
        other = number_arg(args[1])
        if other is None:
            await reply(update, not_a_number(language, args[1], usage_key))
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
    route(app, CardButton, card_button, explain=explain_card)
    route(app, PickerButton, picker_button)
    route(app, PickMember, picker_button)
    route(app, TaskButton, task_button)
    route(app, IncidentButton, incident_button)
    route(app, SimilarChoice, similar_button)
    route(app, IncidentAgency, manage_button)
    route(app, SetSeverity, manage_button)
    route(app, CancelIncident, manage_button)
    app.add_handler(CommandHandler(INCIDENT.names, show_incident, filters=ENDS))
    app.add_handler(CommandHandler(OPEN.names, open_incidents, filters=ENDS))
    app.add_handler(CommandHandler(MERGE.names, merge, filters=ENDS))
    app.add_handler(CommandHandler(REOPEN.names, reopen, filters=ENDS))
    app.add_handler(CommandHandler(SEVERITY.names, severity, filters=ENDS))
