"""Information after the first report: ❓ on cards and task cards, the reporter's one-tap
answers, notes (`/catatan` and a reply to a card made a note with one tap), and the link a 112
caller joins by (`bot.services.info`)."""

from __future__ import annotations

import logging

from telegram import Update
from telegram.ext import CommandHandler, MessageHandler, filters

from bot.callbacks import AskReporter, ButtonAction, NoteButton, QuickAnswer
from bot.commands import NOTE
from bot.context import App, AppContext
from bot.i18n import N_, t
from bot.render.info import note_proposal, outcome_text
from bot.services.conversations import Start
from bot.services.info import Content
from handlers.conversations import say
from handlers.guard import authorize, not_a_number, number_arg, reply, topic_of, usage
from handlers.presses import Press, route
from models.access import Action, Target
from models.agencies import Agency
from models.info import INFO_TEXT_MAX, Gap, InfoOutcome
from models.refs import RefKind, parts_of
from models.report import visible_count

log = logging.getLogger(__name__)

NOTE_MIN_CHARS = 2

# --- ❓ on a card, a task card or an operators' copy ---


async def ask_button(press: Press, button: AskReporter) -> None:
    """Open the asker's private question picker (or, on the manage card, a caller's link)."""
    if button.action is ButtonAction.CALLER_LINK:
        await caller_link(press, button)
        return
    services = press.services
    view = await services.incidents.view(button.incident_id)
    if view is None:
        await press.refuse("no such incident")
        return
    if button.agency_id and view.response_of(button.agency_id) is None:
        await press.refuse("the agency has no part in this incident")
        return
    assignees = frozenset(
        a.user_id for a in view.assignments_of(button.agency_id) if a.status.active
    )
    agencies = frozenset({button.agency_id}) if button.agency_id else frozenset()
    request = await press.authorize(Action.ASK_REPORTER, Target(agencies, assignees))
    if request is None:
        return
    here = request.checked.agency
    if here is not None and button.agency_id and here.id != button.agency_id:
        await press.answer(t(press.language, "deny.other_agency_chat"), alert=True)
        return
    allowed = await services.info.may_ask(button.incident_id, press.user.id)
    if not allowed.ok:
        text = outcome_text(press.language, allowed.outcome, button.incident_id)
        await press.answer(text, alert=True)
        return
    if not await services.people.may_message(press.user.id):
        text = t(press.language, "info.start_first", bot=press.context.bot.username)
        await press.answer(text, alert=True)
        return
    start = Start(
        press.user.id,
        press.user.full_name,
        press.language,
        (str(button.incident_id), str(button.agency_id)),
        press.update.update_id,
    )
    begun = await services.conversations.begin("ask", start)
    await press.answer(t(press.language, "info.ask_in_private") if not press.private else None)
    await say(press.context, press.user.id, begun.reply)


async def caller_link(press: Press, button: AskReporter) -> None:
    """🔗 on a dispatcher's incident: a one-time link for the 112 caller, sent in private."""
    request = await press.authorize(Action.CALLER_LINK)
    if request is None:
        return
    services = press.services
    if not await services.people.may_message(press.user.id):
        text = t(press.language, "info.start_first", bot=press.context.bot.username)
        await press.answer(text, alert=True)
        return
    done = await services.info.caller_link(
        button.incident_id, press.user.id, press.context.bot.username
    )
    if not done.ok:
        await press.answer(
            outcome_text(press.language, done.outcome, button.incident_id), alert=True
        )
        return
    await press.answer(t(press.language, "info.link_sent"))


# --- the reporter's one-tap answer ---


async def quick_answer(press: Press, button: QuickAnswer) -> None:
    if not press.private:
        await press.refuse("an answer's button outside the reporter's private chat")
        return
    content = Content(chat_id=press.user.id, message_id=press.message_id)
    done = await press.services.info.answer(
        button.question_id, press.user.id, content, answer_index=button.answer
    )
    if done.outcome is InfoOutcome.NOT_YOURS:
        await press.refuse("somebody else's question")
        return
    if not done.ok:
        await press.answer(outcome_text(press.language, done.outcome), alert=True)
        await press.set_buttons(None)
        return
    await press.answer()
    await press.set_buttons(None)  # answered: the question keeps its words, not its buttons


# --- notes ---


async def note_command(update: Update, context: AppContext) -> None:
    """`/catatan 12 text`: a note on incident 12 for every agency on it."""
    message = update.effective_message
    args = context.args or []
    language = context.services.language_of(update.effective_user)
    if message is None:
        return
    if len(args) < 2:
        await reply(update, usage(language, N_("usage.note")))
        return
    number = number_arg(args[0])
    if number is None:
        await reply(update, not_a_number(language, args[0], N_("usage.note")))
        return
    text = " ".join(args[1:])
    if visible_count(text) < NOTE_MIN_CHARS or len(text) > INFO_TEXT_MAX:
        await reply(update, t(language, "info.note_length", max=INFO_TEXT_MAX))
        return
    view = await context.services.incidents.view(number)
    if view is None:
        await reply(update, t(language, "info.refused.not_found", id=number))
        return
    routed = frozenset(r.agency_id for r in view.responses)
    request = await authorize(update, context, Action.ADD_NOTE, Target(routed))
    if request is None or request.message is None:
        return
    agency_id = _notes_as(request.checked.agency, request.checked.actor.agency_ids, routed)
    done = await context.services.info.note(number, request.user.id, agency_id, text)
    if not done.ok:
        await reply(update, outcome_text(request.language, done.outcome, number))
        return
    text, keyboard = context.services.info.note_sent(request.language, done)
    await request.message.reply_text(text, reply_markup=keyboard)


def _notes_as(here: Agency | None, mine: frozenset[int], routed: frozenset[int]) -> int | None:
    """The agency a note speaks for: this chat's, else the writer's one routed agency; None
    (the operators) for dispatchers and coordinators writing from elsewhere."""
    if here is not None and here.id in routed:
        return here.id
    own = sorted(mine & routed)
    return own[0] if own else None


async def card_reply(update: Update, context: AppContext) -> None:
    """A reply to a card in an agency's group: offer its author to make it a note. Anything else
    (chatter between members) is left alone."""
    message, user = update.effective_message, update.effective_user
    if message is None or user is None or message.reply_to_message is None or not message.text:
        return
    replied = message.reply_to_message
    if replied.from_user is None or replied.from_user.id != context.bot.id:
        return
    services = context.services
    shown = await services.messages.shown(message.chat_id, replied.message_id)
    parts = parts_of(shown.ref if shown is not None else None, RefKind.CARD)
    if parts is None:
        return
    incident_id, agency_id = int(parts[0]), int(parts[1])
    text = message.text.strip()
    if visible_count(text) < NOTE_MIN_CHARS or len(text) > INFO_TEXT_MAX:
        return
    actor, place = await services.access.actor_and_place(
        user_id=user.id,
        chat_id=message.chat_id,
        chat_type=message.chat.type,
        thread_id=topic_of(message),  # an agency bound to a forum topic answers there
    )
    if agency_id not in actor.agency_ids or place.agency_id != agency_id:
        return  # not a member speaking for this agency: no offer
    done = await services.info.propose_note(
        incident_id, user.id, agency_id, text, message.chat_id, message.message_id
    )
    if not done.ok or done.info is None:
        return
    language = services.language_of(user)
    prompt, keyboard = note_proposal(language, done.info.id)
    await message.reply_text(prompt, reply_markup=keyboard)


async def note_button(press: Press, button: NoteButton) -> None:
    """Make a reply a note, leave it as chatter, or say what missing item a note answers."""
    services = press.services
    if button.action is ButtonAction.NOTE_FILLS:
        done = await services.info.note_fills(
            button.info_id, press.user.id, list(Gap)[button.value]
        )
        if done.outcome is InfoOutcome.NOT_YOURS:
            await press.refuse("somebody else's note")
            return
        if not done.ok:
            await press.answer(outcome_text(press.language, done.outcome), alert=True)
            return
        await press.answer(t(press.language, "info.note_filled"))
        text, keyboard = services.info.note_sent(press.language, done)
        await press.set_buttons(keyboard)
        return
    confirm = button.action is ButtonAction.NOTE_CONFIRM
    done = await services.info.settle_proposal(button.info_id, press.user.id, confirm)
    if done.outcome is InfoOutcome.NOT_YOURS:
        await press.refuse("somebody else's reply", N_("info.not_your_reply"))
        return
    if not done.ok:
        await press.answer(outcome_text(press.language, done.outcome), alert=True)
        await press.set_buttons(None)
        return
    await press.answer()
    if not confirm:
        await press.edit(t(press.language, "info.note_kept_chatter"))
        return
    text, keyboard = services.info.note_sent(press.language, done)
    await press.edit(text, keyboard)


def register(app: App) -> None:
    route(app, AskReporter, ask_button)
    route(app, QuickAnswer, quick_answer)
    route(app, NoteButton, note_button)
    app.add_handler(CommandHandler(NOTE.names, note_command, filters=~filters.UpdateType.EDITED))
    app.add_handler(
        MessageHandler(
            filters.ChatType.GROUPS
            & filters.REPLY
            & filters.TEXT
            & ~filters.COMMAND
            & filters.UpdateType.MESSAGE,
            card_reply,
        )
    )
