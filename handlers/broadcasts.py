"""/riwayatsiaran (/broadcasts), /cap and the buttons of sent broadcasts.

Composing one (`/siaran`) is a conversation: `bot.flows.broadcast`. Recipients press Received
under it; the sender follows one status message (Details, Stop) and gets a delivery report.
"""

from __future__ import annotations

import logging

from telegram import InputFile, Update
from telegram.ext import (
    CommandHandler,
    filters,
)

from bot.callbacks import AlertButton, ButtonAction, StopBroadcast
from bot.commands import BROADCASTS, CAP
from bot.context import App, AppContext
from bot.i18n import N_, t
from bot.render.broadcast import (
    list_text,
    stop_confirm_keyboard,
)
from handlers.guard import authorize, number_arg, reply, usage
from handlers.presses import Press, route
from models.access import Action
from models.broadcast import Receipt
from models.refs import alert_status_ref

log = logging.getLogger(__name__)


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
    if press.shown.ref != alert_status_ref(button.broadcast_id):
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
    app.add_handler(
        CommandHandler(BROADCASTS.names, broadcasts, filters=filters.UpdateType.MESSAGE)
    )
    app.add_handler(CommandHandler(CAP.names, cap, filters=filters.UpdateType.MESSAGE))
    route(app, AlertButton, alert_button)
    route(app, StopBroadcast, stop_button, explain=explain_stop)
