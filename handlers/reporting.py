"""/lapor (/report), /baru (/new), /batal (/cancel): the guided report and a 112 call entry.

Every private message that is not a command goes through here: into the person's draft when
they have one, otherwise to a pointer towards /lapor and /bantuan.
"""

from __future__ import annotations

import logging

from telegram import Message, ReplyKeyboardRemove, Update
from telegram.ext import CommandHandler, MessageHandler, filters

from bot.callbacks import ButtonAction, ReportChoice, ReportStep
from bot.commands import CANCEL, NEW_CALL, REPORT
from bot.context import App, AppContext
from bot.i18n import N_, t
from bot.incidents import NewIncident
from bot.render.report import (
    already_running_text,
    call_created_text,
    cancelled_text,
    expired_text,
    limited_text,
    no_draft_text,
    open_private_for_report,
    problem_text,
    question,
    skip_label,
)
from bot.reporting import (
    Button,
    Input,
    Mode,
    Photo,
    Point,
    Prompt,
    SharedContact,
    Text,
    TypeChosen,
    Unsupported,
    venue_text,
)
from bot.settings import Language
from handlers.guard import authorize, reply
from handlers.presses import Press, route
from models.access import Action
from models.incident_types import IncidentType
from models.incidents import Hurt, Location, PhoneSource, Source
from models.report import CallLine, Problem, parse_call_line

log = logging.getLogger(__name__)

ENDS = filters.UpdateType.MESSAGE


async def send_prompt(
    context: AppContext, user_id: int, language: Language, prompt: Prompt
) -> None:
    """Say what the draft needs now (or what became of it), in the person's private chat. The
    question sent is the one the draft waits on from now on."""
    zone = context.services.settings.zone
    bot = context.bot
    if prompt.limited_until is not None:
        await bot.send_message(
            user_id,
            limited_text(language, prompt.limited_until, zone),
            reply_markup=ReplyKeyboardRemove(),
        )
        return
    if prompt.cancelled:
        await bot.send_message(
            user_id, cancelled_text(language), reply_markup=ReplyKeyboardRemove()
        )
        return
    if prompt.expired:
        await bot.send_message(user_id, expired_text(language), reply_markup=ReplyKeyboardRemove())
        return
    if prompt.submitted is not None:
        submitted = prompt.submitted
        if prompt.mode is Mode.CALL:
            text = call_created_text(
                language, submitted.incident_id, submitted.agency_names, submitted.fallback
            )
            await bot.send_message(user_id, text, reply_markup=ReplyKeyboardRemove())
        # A reporter's confirmation comes through the outbox with the submission itself.
        return
    if prompt.step is None:
        return
    text, markup = question(language, prompt)
    before = problem_text(language, prompt)
    if prompt.already_running:
        before = already_running_text(language)
    if before:
        text = before + "\n\n" + text
    sent = await bot.send_message(user_id, text, reply_markup=markup)
    await context.services.reporting.bind_question(user_id, sent.message_id)


async def report(update: Update, context: AppContext) -> None:
    """Start a report in private; in a group, point to the private chat."""
    message = update.effective_message
    if message is None or update.effective_user is None:
        return
    language = context.services.language_of(update.effective_user)
    if message.chat.type != "private":
        text, keyboard = open_private_for_report(language, context.bot.username)
        await message.reply_text(text, reply_markup=keyboard)
        return
    await start_report(update, context, Mode.REPORT)


async def start_report(update: Update, context: AppContext, mode: Mode) -> None:
    action = Action.REPORT_INCIDENT if mode is Mode.REPORT else Action.ENTER_CALL
    request = await authorize(update, context, action)
    if request is None or request.message is None:
        return
    prompt = await context.services.reporting.start(request.user.id, mode, request.language)
    await send_prompt(context, request.user.id, request.language, prompt)


async def new_call(update: Update, context: AppContext) -> None:
    """A dispatcher logs a 112 call: `/baru type | place | what | phone`, or the short form."""
    request = await authorize(update, context, Action.ENTER_CALL)
    if request is None or request.message is None:
        return
    line = " ".join(context.args or []).strip()
    if not line:
        await start_report(update, context, Mode.CALL)
        return
    parsed = parse_call_line(line)
    language = request.language
    if isinstance(parsed, Problem):
        await reply(update, t(language, parsed.value) + "\n\n" + t(language, "report.call_usage"))
        return
    submitted = await context.services.incidents.submit(_call(parsed, update.update_id))
    log.info("call entered as incident %s by %s", submitted.incident_id, request.user.id)
    await reply(
        update,
        call_created_text(
            language, submitted.incident_id, submitted.agency_names, submitted.fallback
        ),
    )


def _call(line: CallLine, update_id: int) -> NewIncident:
    return NewIncident(
        origin_update_id=update_id,
        kind=line.type,
        location=Location(None, None, line.address),
        description=line.description,
        phone=line.phone,
        phone_source=PhoneSource.CALL if line.phone else None,
        source=Source.CALL,
    )


async def cancel(update: Update, context: AppContext) -> None:
    """Drop the report (or else the broadcast draft) in progress."""
    message, user = update.effective_message, update.effective_user
    if message is None or user is None:
        return
    language = context.services.language_of(user)
    if await context.services.reporting.cancel(user.id):
        text = cancelled_text(language)
    elif await context.services.broadcasts.discard(user.id):
        text = t(language, "broadcast.discarded")
    else:
        text = no_draft_text(language)
    await message.reply_text(text, reply_markup=ReplyKeyboardRemove())


def input_of(message: Message, language: Language) -> Input:
    """What a private message contributes to a draft."""
    if message.venue is not None:
        # Telegram sets `location` on a venue too: the venue first, so its name is kept.
        venue = message.venue
        return Point(
            venue.location.latitude,
            venue.location.longitude,
            venue_text(venue.title, venue.address),
        )
    if message.location is not None:
        return Point(message.location.latitude, message.location.longitude)
    if message.contact is not None:
        contact = message.contact
        own = (
            contact.user_id is not None
            and message.from_user is not None
            and contact.user_id == message.from_user.id
        )
        return SharedContact(contact.phone_number, own, message.message_id)
    if message.photo:
        return Photo(message.photo[-1].file_id, message.caption)
    if message.text is not None:
        if message.text.strip() == skip_label(language):
            return Button("skip_contact")
        return Text(message.text, message.message_id)
    return Unsupported()


async def private_message(update: Update, context: AppContext) -> None:
    """A private message that is not a command: an answer for the draft, or a pointer."""
    message, user = update.effective_message, update.effective_user
    if message is None or user is None:
        return
    language = context.services.language_of(user)
    prompt = await context.services.reporting.answer(user.id, input_of(message, language))
    if prompt is None:
        await message.reply_text(t(language, "unknown.text"), reply_markup=ReplyKeyboardRemove())
        return
    await send_prompt(context, user.id, language, prompt)


STEPS = {
    ButtonAction.REPORT_PHOTOS_DONE: "photos_done",
    ButtonAction.REPORT_SUBMIT: "submit",
    ButtonAction.REPORT_CANCEL: "cancel",
}


def pressed_input(button: ReportChoice | ReportStep) -> Input | None:
    """What a report button answers; None for a value no button of ours carries."""
    if isinstance(button, ReportStep):
        return Button(STEPS[button.action])
    value = button.value
    if button.action is ButtonAction.REPORT_TYPE:
        return TypeChosen(list(IncidentType)[value]) if 0 <= value < len(IncidentType) else None
    if button.action is ButtonAction.REPORT_FAR_OK:
        return Button("far_ok" if value == 1 else "far_again") if value in (0, 1) else None
    if button.action is ButtonAction.REPORT_HURT:
        if value == -1:
            return Button("hurt_unknown")
        return Button("hurt", value) if 0 <= value < len(Hurt) else None
    return Button("edit", value) if value >= 0 else None


async def old_question(press: Press, button: ReportChoice | ReportStep) -> str:
    """A button taken away from a question already answered (a double tap, say)."""
    return t(press.language, "report.old_question")


async def report_button(press: Press, button: ReportChoice | ReportStep) -> None:
    """A press on the question the person's draft waits on, in their own private chat."""
    given = pressed_input(button)
    if not press.private or given is None:
        await press.refuse("not a report question of the presser's")
        return
    reporting, language = press.services.reporting, press.language
    prompt = await reporting.answer(press.user.id, given, pressed_on=press.message_id)
    if prompt is None:
        await press.refuse("no report in progress", N_("report.no_draft_button"))
        return
    if prompt.stale:
        await press.refuse("not the question the draft waits on", "report.old_question")
        return
    await press.answer()
    if prompt.submitted is not None and prompt.mode is Mode.REPORT:
        number = prompt.submitted.incident_id
        await press.edit(t(language, "report.submitted", number=number))
        return
    # The pressed question is answered: its buttons go, so an old one cannot be pressed again.
    await press.set_buttons(None)
    await send_prompt(press.context, press.user.id, language, prompt)


def register(app: App) -> None:
    app.add_handler(CommandHandler(REPORT.names, report, filters=ENDS))
    app.add_handler(CommandHandler(NEW_CALL.names, new_call, filters=ENDS))
    app.add_handler(CommandHandler(CANCEL.names, cancel, filters=ENDS))
    route(app, ReportChoice, report_button, explain=old_question)
    route(app, ReportStep, report_button, explain=old_question)
    app.add_handler(
        MessageHandler(
            filters.ChatType.PRIVATE & ~filters.COMMAND & filters.UpdateType.MESSAGE,
            private_message,
        )
    )
