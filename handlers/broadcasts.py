"""/siaran (/broadcast), /riwayatsiaran (/broadcasts), /cap and the broadcast buttons.

A dispatcher composes an alert in private: the text (a photo or a map pin may come with it),
the urgency, the targets, a preview exactly as recipients see it, then Send. Recipients press
Received under it; the sender follows one status message and gets a delivery report. While a
broadcast draft is open, the person's private messages are answers for it.
"""

from __future__ import annotations

import logging

from telegram import InputFile, ReplyKeyboardRemove, Update
from telegram.ext import (
    ApplicationHandlerStop,
    CommandHandler,
    MessageHandler,
    filters,
)

from bot.broadcasts import Compose, Notice, status_ref
from bot.callbacks import AlertButton, ButtonAction, ComposeChoice, ComposeStep, StopBroadcast
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
from handlers.guard import authorize, number_arg, reply, usage
from handlers.presses import Press, route
from handlers.reporting import input_of
from models.access import Action
from models.broadcast import TEXT_MAX, Receipt, Step

log = logging.getLogger(__name__)

# Before the report's handler for private messages: a broadcast draft takes the message first.
PRIVATE_MESSAGES_GROUP = -1


async def send_compose(
    context: AppContext, chat_id: int, language: Language, compose: Compose
) -> None:
    """Say what the broadcast draft needs now, or what became of it, in the sender's chat."""
    send = context.bot.send_message
    if compose.refused:
        await send(chat_id, t(language, compose.notice or Notice.REPORT_OPEN))
        return
    if compose.sent is not None:
        count = len(compose.recipients)
        await send(
            chat_id,
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
        await send(chat_id, prefix + text_question(language))
    elif draft.step is Step.URGENCY:
        text, keyboard = urgency_question(language, draft)
        await send(chat_id, prefix + text, reply_markup=keyboard)
    elif draft.step is Step.TARGETS:
        text, keyboard = targets_question(language, draft)
        await send(chat_id, prefix + text, reply_markup=keyboard)
    elif draft.step is Step.AGENCIES:
        text, keyboard = agencies_question(language, draft, compose.agencies)
        if not compose.agencies:
            text = t(language, "broadcast.no_agencies")
        await send(chat_id, prefix + text, reply_markup=keyboard)
    elif draft.step is Step.PREVIEW:
        groups_language = context.services.settings.default_language
        await _preview(context, chat_id, language, compose, prefix, groups_language)


async def _preview(
    context: AppContext,
    chat_id: int,
    language: Language,
    compose: Compose,
    prefix: str,
    alert_language: Language,
) -> None:
    """The alert exactly as the groups will see it (in their language), then Send or not. The
    preview's Received button is shown, not live: the preview is no copy of the broadcast."""
    draft = compose.draft
    assert draft is not None
    bot = context.bot
    labels = [recipient.label for recipient in compose.recipients]
    if not labels:
        await bot.send_message(
            chat_id,
            prefix + t(language, "broadcast.no_recipients"),
            reply_markup=no_recipients_keyboard(language, draft.id),
        )
        return
    await bot.send_message(chat_id, prefix + preview_intro(language))
    if draft.photo_file_id:
        await bot.send_photo(chat_id, draft.photo_file_id)
    if draft.latitude is not None and draft.longitude is not None:
        await bot.send_location(chat_id, latitude=draft.latitude, longitude=draft.longitude)
    await bot.send_message(
        chat_id,
        alert_text(alert_language, draft),
        reply_markup=received_keyboard(alert_language, draft.id),
    )
    await bot.send_message(
        chat_id, confirm_text(language, labels), reply_markup=confirm_keyboard(language, draft.id)
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
    await send_compose(context, user.id, request.language, compose)


async def draft_message(update: Update, context: AppContext) -> None:
    """A private message while a broadcast draft is open: an answer for it."""
    message, user = update.effective_message, update.effective_user
    if message is None or user is None:
        return
    language = context.services.language_of(user)
    compose = await context.services.broadcasts.answer(user.id, input_of(message, language))
    if compose is None:
        return  # no broadcast draft: the report's handler takes it
    await send_compose(context, user.id, language, compose)
    raise ApplicationHandlerStop


async def compose_button(press: Press, button: ComposeChoice | ComposeStep) -> None:
    """A press on one of the composer's questions, in the sender's own private chat; the role is
    checked again on every press, and the draft must be the presser's."""
    if not press.private:
        await press.refuse("a composer's question outside the sender's private chat")
        return
    request = await press.authorize(Action.BROADCAST)
    if request is None:
        return
    service, user_id, language = press.services.broadcasts, press.user.id, request.language
    draft_id = button.draft_id
    value = button.value if isinstance(button, ComposeChoice) else 0
    compose: Compose | None
    if button.action is ButtonAction.BC_DISCARD:
        discarded = await service.discard(user_id, draft_id)
        await press.answer()
        key = N_("broadcast.discarded") if discarded else N_("broadcast.nothing_to_discard")
        await press.set_buttons(None)
        await press.context.bot.send_message(user_id, t(language, key))
        return
    if button.action is ButtonAction.BC_URGENCY:
        compose = await service.choose_urgency(user_id, draft_id, value)
    elif button.action is ButtonAction.BC_TARGET:
        compose = await service.choose_target(user_id, draft_id, value)
    elif button.action in (ButtonAction.BC_AGENCY, ButtonAction.BC_AGENCY_PAGE):
        toggled = button.action is ButtonAction.BC_AGENCY
        if toggled:
            compose = await service.toggle_agency(user_id, draft_id, value)
        else:
            compose = await service.agencies_shown(user_id, draft_id)
        if compose is not None and compose.draft is not None and not compose.notice:
            # The multi-select stays one message: only its ticks (or its page) change.
            await press.answer()
            page = page_of(compose.agencies, value) if toggled else value
            _, keyboard = agencies_question(language, compose.draft, compose.agencies, page)
            await press.set_buttons(keyboard)  # the page shown already: nothing to change
            return
    elif button.action is ButtonAction.BC_AGENCIES_DONE:
        compose = await service.agencies_done(user_id, draft_id)
    elif button.action is ButtonAction.BC_RETARGET:
        compose = await service.retarget(user_id, draft_id)
    else:
        compose = await service.send(user_id, draft_id)
    if compose is None:
        await press.refuse("not the presser's broadcast draft")
        return
    await press.answer()
    if compose.notice is None and compose.problem is None:
        # The pressed question is answered: its buttons go, so it cannot be pressed again.
        await press.set_buttons(None)
    await send_compose(press.context, user_id, language, compose)


async def alert_button(press: Press, button: AlertButton) -> None:
    """Received under an alert (counted once per person and chat), or Details under the
    sender's status message (who confirmed and who did not)."""
    if button.action is ButtonAction.BC_RECEIVED:
        request = await press.authorize(Action.CONFIRM_BROADCAST)
        if request is None:
            return
        receipt = await press.services.broadcasts.confirm(
            button.broadcast_id, press.chat_id, request.user.id
        )
        await press.answer(
            t(request.language, receipt.value), alert=receipt is not Receipt.CONFIRMED
        )
        return
    request = await press.authorize(Action.VIEW_BROADCASTS)
    if request is None:
        return
    language = request.language
    text = await press.services.broadcasts.details_text(button.broadcast_id, language)
    await press.answer()
    await press.reply(text or t(language, "broadcast.not_found"))


async def explain_stop(press: Press, button: StopBroadcast) -> str | None:
    """Stop is gone from the status message once the broadcast finished or was stopped."""
    if press.shown.ref != status_ref(button.broadcast_id):
        return None
    if await press.services.broadcasts.finished(button.broadcast_id):
        return t(press.language, "broadcast.stop_too_late")
    return None


async def stop_button(press: Press, button: StopBroadcast) -> None:
    """Stop, under the status message: first asks, the second press drops what is pending."""
    request = await press.authorize(Action.BROADCAST)
    if request is None:
        return
    language = request.language
    if not button.confirmed:
        await press.answer(t(language, "broadcast.stop_confirm"), alert=True)
        await press.set_buttons(stop_confirm_keyboard(language, button.broadcast_id))
        return
    stopped = await press.services.broadcasts.stop(button.broadcast_id)
    if stopped is None:
        await press.answer(t(language, "broadcast.stop_too_late"), alert=True)
        return
    log.info("broadcast %s stopped by %s", button.broadcast_id, press.user.id)
    await press.answer(t(language, "broadcast.stopped", dropped=stopped.dropped), alert=True)


def _number(args: list[str]) -> int | None:
    return number_arg(args[0]) if len(args) == 1 else None


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
    route(app, ComposeChoice, compose_button)
    route(app, ComposeStep, compose_button)
    route(app, AlertButton, alert_button)
    route(app, StopBroadcast, stop_button, explain=explain_stop)
    app.add_handler(
        MessageHandler(
            filters.ChatType.PRIVATE & ~filters.COMMAND & filters.UpdateType.MESSAGE,
            draft_message,
        ),
        group=PRIVATE_MESSAGES_GROUP,
    )
