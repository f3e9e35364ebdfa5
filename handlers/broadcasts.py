"""/siaran (/broadcast), /riwayatsiaran (/broadcasts), /cap and the broadcast buttons.

A dispatcher composes an alert in private: the text (a photo or a map pin may come with it),
the urgency, the targets, a preview exactly as recipients see it, then Send. Recipients press
Received under it; the sender follows one status message and gets a delivery report. While a
broadcast draft is open, the person's private messages are answers for it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from telegram import CallbackQuery, InputFile, Message, ReplyKeyboardRemove, Update
from telegram.error import BadRequest
from telegram.ext import (
    ApplicationHandlerStop,
    CallbackQueryHandler,
    CommandHandler,
    MessageHandler,
    filters,
)

from bot.broadcasts import Compose, Notice
from bot.callbacks import ButtonAction, decode, pattern_for
from bot.commands import BROADCAST, BROADCASTS, CAP
from bot.context import App, AppContext
from bot.i18n import N_, t
from bot.render.broadcast import (
    agencies_question,
    alert_text,
    confirm_keyboard,
    confirm_text,
    list_text,
    no_recipients_keyboard,
    page_of,
    preview_intro,
    received_keyboard,
    stop_confirm_keyboard,
    targets_question,
    text_question,
    urgency_question,
)
from bot.settings import Language
from handlers.guard import Request, answer_stale, authorize, reply, usage
from handlers.reporting import input_of
from models.access import Action
from models.broadcast import TEXT_MAX, Receipt, Step

log = logging.getLogger(__name__)

# Before the report's handler for private messages: a broadcast draft takes the message first.
PRIVATE_MESSAGES_GROUP = -1


async def send_compose(
    message: Message, language: Language, compose: Compose, context: AppContext
) -> None:
    """Say what the broadcast draft needs now, or what became of it."""
    if compose.refused:
        await message.reply_text(t(language, compose.notice or Notice.REPORT_OPEN))
        return
    if compose.sent is not None:
        count = len(compose.recipients)
        await message.reply_text(
            t(language, "broadcast.sent", number=compose.sent.id, count=count),
            reply_markup=ReplyKeyboardRemove(),
        )
        return
    draft = compose.draft
    if draft is None or draft.step is None:
        return
    before = []
    if compose.problem is not None:
        before.append(t(language, compose.problem.value, max=TEXT_MAX))
    if compose.notice is not None:
        before.append(t(language, compose.notice))
    prefix = "\n".join(before) + "\n\n" if before else ""
    if draft.step is Step.TEXT:
        await message.reply_text(prefix + text_question(language))
    elif draft.step is Step.URGENCY:
        text, keyboard = urgency_question(language, draft)
        await message.reply_text(prefix + text, reply_markup=keyboard)
    elif draft.step is Step.TARGETS:
        text, keyboard = targets_question(language, draft)
        await message.reply_text(prefix + text, reply_markup=keyboard)
    elif draft.step is Step.AGENCIES:
        text, keyboard = agencies_question(language, draft, compose.agencies)
        if not compose.agencies:
            text = t(language, "broadcast.no_agencies")
        await message.reply_text(prefix + text, reply_markup=keyboard)
    elif draft.step is Step.PREVIEW:
        groups_language = context.services.settings.default_language
        await _preview(message, language, compose, prefix, groups_language)


async def _preview(
    message: Message, language: Language, compose: Compose, prefix: str, alert_language: Language
) -> None:
    """The alert exactly as the groups will see it (in their language), then Send or not."""
    draft = compose.draft
    assert draft is not None
    labels = [recipient.label for recipient in compose.recipients]
    if not labels:
        await message.reply_text(
            prefix + t(language, "broadcast.no_recipients"),
            reply_markup=no_recipients_keyboard(language, draft.id),
        )
        return
    await message.reply_text(prefix + preview_intro(language))
    if draft.photo_file_id:
        await message.reply_photo(draft.photo_file_id)
    if draft.latitude is not None and draft.longitude is not None:
        await message.reply_location(latitude=draft.latitude, longitude=draft.longitude)
    await message.reply_text(
        alert_text(alert_language, draft),
        reply_markup=received_keyboard(alert_language, draft.id),
    )
    await message.reply_text(
        confirm_text(language, labels), reply_markup=confirm_keyboard(language, draft.id)
    )


async def broadcast(update: Update, context: AppContext) -> None:
    """`/siaran`: start composing an alert (dispatchers and coordinators, in private)."""
    request = await authorize(update, context, Action.BROADCAST)
    if request is None or request.message is None:
        return
    user = request.user
    compose = await context.services.broadcasts.start(
        user.id, user.full_name or user.username or str(user.id), request.language
    )
    await send_compose(request.message, request.language, compose, context)


async def draft_message(update: Update, context: AppContext) -> None:
    """A private message while a broadcast draft is open: an answer for it."""
    message, user = update.effective_message, update.effective_user
    if message is None or user is None:
        return
    language = context.services.language_of(user)
    compose = await context.services.broadcasts.answer(user.id, input_of(message, language))
    if compose is None:
        return  # no broadcast draft: the report's handler takes it
    await send_compose(message, language, compose, context)
    raise ApplicationHandlerStop


async def compose_button(update: Update, context: AppContext) -> None:
    """A press on one of the composer's buttons; the role is checked again on every press."""
    query = update.callback_query
    if query is None or not isinstance(query.message, Message):
        return
    data = decode(query.data)
    if data is None or not data.ids:
        await answer_stale(update, context)
        return
    request = await authorize(update, context, Action.BROADCAST)
    if request is None:
        return
    service, user_id, language = context.services.broadcasts, query.from_user.id, request.language
    draft_id, value = data.ids[0], data.ids[1] if len(data.ids) > 1 else 0
    compose: Compose | None
    if data.action is ButtonAction.BC_DISCARD:
        discarded = await service.discard(user_id, draft_id)
        await query.answer()
        key = N_("broadcast.discarded") if discarded else N_("broadcast.nothing_to_discard")
        await query.edit_message_reply_markup(reply_markup=None)
        await query.message.reply_text(t(language, key))
        return
    if data.action is ButtonAction.BC_URGENCY:
        compose = await service.choose_urgency(user_id, draft_id, value)
    elif data.action is ButtonAction.BC_TARGET:
        compose = await service.choose_target(user_id, draft_id, value)
    elif data.action in (ButtonAction.BC_AGENCY, ButtonAction.BC_AGENCY_PAGE):
        toggled = data.action is ButtonAction.BC_AGENCY
        if toggled:
            compose = await service.toggle_agency(user_id, draft_id, value)
        else:
            compose = await service.agencies_shown(user_id, draft_id)
        if compose is not None and compose.draft is not None and not compose.notice:
            # The multi-select stays one message: only its ticks (or its page) change.
            await query.answer()
            page = page_of(compose.agencies, value) if toggled else value
            _, keyboard = agencies_question(language, compose.draft, compose.agencies, page)
            try:
                await query.edit_message_reply_markup(reply_markup=keyboard)
            except BadRequest as exc:
                if "not modified" not in exc.message:  # the page shown already: fine
                    raise
            return
    elif data.action is ButtonAction.BC_AGENCIES_DONE:
        compose = await service.agencies_done(user_id, draft_id)
    elif data.action is ButtonAction.BC_RETARGET:
        compose = await service.retarget(user_id, draft_id)
    elif data.action is ButtonAction.BC_SEND:
        compose = await service.send(user_id, draft_id)
    else:
        compose = None
    if compose is None:
        await query.answer(t(language, "callback.stale"))
        return
    await query.answer()
    if compose.notice is None and compose.problem is None:
        # The pressed question is answered: its buttons go, so it cannot be pressed again.
        await query.edit_message_reply_markup(reply_markup=None)
    await send_compose(query.message, language, compose, context)


@dataclass(frozen=True, slots=True)
class Pressed:
    query: CallbackQuery
    request: Request
    message: Message  # the message the button is on
    ids: tuple[int, ...]


async def _press(update: Update, context: AppContext, action: Action, ids: int) -> Pressed | None:
    """A press on a sent broadcast's button carrying `ids` ids, if the presser may make it."""
    query = update.callback_query
    if query is None:
        return None
    data = decode(query.data)
    if data is None or len(data.ids) != ids:
        await answer_stale(update, context)
        return None
    request = await authorize(update, context, action)
    if request is None or request.message is None:
        return None
    return Pressed(query, request, request.message, data.ids)


async def received(update: Update, context: AppContext) -> None:
    """Received, under an alert: counted once per person and chat."""
    pressed = await _press(update, context, Action.CONFIRM_BROADCAST, 1)
    if pressed is None:
        return
    receipt = await context.services.broadcasts.confirm(
        pressed.ids[0], pressed.message.chat_id, pressed.request.user.id
    )
    await pressed.query.answer(
        t(pressed.request.language, receipt.value), show_alert=receipt is not Receipt.CONFIRMED
    )


async def details_button(update: Update, context: AppContext) -> None:
    """Details, under the status message: who confirmed and who did not."""
    pressed = await _press(update, context, Action.VIEW_BROADCASTS, 1)
    if pressed is None:
        return
    language = pressed.request.language
    text = await context.services.broadcasts.details_text(pressed.ids[0], language)
    await pressed.query.answer()
    await pressed.message.reply_text(text or t(language, "broadcast.not_found"))


async def stop_button(update: Update, context: AppContext) -> None:
    """Stop, under the status message: first asks, the second press drops what is pending."""
    pressed = await _press(update, context, Action.BROADCAST, 2)
    if pressed is None:
        return
    query, language = pressed.query, pressed.request.language
    broadcast_id, confirmed = pressed.ids
    if not confirmed:
        await query.answer(t(language, "broadcast.stop_confirm"), show_alert=True)
        await query.edit_message_reply_markup(
            reply_markup=stop_confirm_keyboard(language, broadcast_id)
        )
        return
    stopped = await context.services.broadcasts.stop(broadcast_id)
    if stopped is None:
        await query.answer(t(language, "broadcast.stop_too_late"), show_alert=True)
        return
    log.info("broadcast %s stopped by %s", broadcast_id, query.from_user.id)
    await query.answer(t(language, "broadcast.stopped", dropped=stopped.dropped), show_alert=True)


def _number(args: list[str]) -> int | None:
    if len(args) != 1:
        return None
    text = args[0].lstrip("#")
    return int(text) if text.isdecimal() and len(text) <= 9 else None


async def broadcasts(update: Update, context: AppContext) -> None:
    """`/riwayatsiaran [N]`: recent broadcasts with their confirmations, or one in detail."""
    request = await authorize(update, context, Action.VIEW_BROADCASTS)
    if request is None:
        return
    service, language = context.services.broadcasts, request.language
    args = context.args or []
    if not args:
        await reply(
            update, list_text(language, await service.recent(), context.services.settings.zone)
        )
        return
    number = _number(args)
    if number is None:
        await reply(update, usage(language, N_("usage.broadcasts")))
        return
    text = await service.details_text(number, language)
    await reply(update, text or t(language, "broadcast.not_found"))


async def cap(update: Update, context: AppContext) -> None:
    """`/cap N`: broadcast N as an OASIS CAP 1.2 XML file, for other warning systems."""
    request = await authorize(update, context, Action.VIEW_BROADCASTS)
    if request is None or request.message is None:
        return
    number = _number(context.args or [])
    if number is None:
        await reply(update, usage(request.language, N_("usage.cap")))
        return
    document = await context.services.broadcasts.cap(number)
    if document is None:
        await reply(update, t(request.language, "broadcast.not_found"))
        return
    await request.message.reply_document(
        InputFile(document, filename=f"siaga112-siaran-{number}.xml"),
        caption=t(request.language, "broadcast.cap_caption", number=number),
    )


def register(app: App) -> None:
    app.add_handler(CommandHandler(BROADCAST.names, broadcast, filters=filters.UpdateType.MESSAGE))
    app.add_handler(
        CommandHandler(BROADCASTS.names, broadcasts, filters=filters.UpdateType.MESSAGE)
    )
    app.add_handler(CommandHandler(CAP.names, cap, filters=filters.UpdateType.MESSAGE))
    app.add_handler(
        CallbackQueryHandler(
            compose_button,
            pattern=pattern_for(
                ButtonAction.BC_URGENCY,
                ButtonAction.BC_TARGET,
                ButtonAction.BC_AGENCY,
                ButtonAction.BC_AGENCY_PAGE,
                ButtonAction.BC_AGENCIES_DONE,
                ButtonAction.BC_SEND,
                ButtonAction.BC_RETARGET,
                ButtonAction.BC_DISCARD,
            ),
        )
    )
    app.add_handler(CallbackQueryHandler(received, pattern=pattern_for(ButtonAction.BC_RECEIVED)))
    app.add_handler(
        CallbackQueryHandler(details_button, pattern=pattern_for(ButtonAction.BC_DETAILS))
    )
    app.add_handler(CallbackQueryHandler(stop_button, pattern=pattern_for(ButtonAction.BC_STOP)))
    app.add_handler(
        MessageHandler(
            filters.ChatType.PRIVATE & ~filters.COMMAND & filters.UpdateType.MESSAGE,
            draft_message,
        ),
        group=PRIVATE_MESSAGES_GROUP,
    )
