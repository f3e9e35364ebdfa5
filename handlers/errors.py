"""The one error handler: log with the update, tell the person politely, leak nothing."""

from __future__ import annotations

import logging

from telegram import Update
from telegram.error import TelegramError

from bot.context import App, AppContext
from bot.i18n import t

log = logging.getLogger(__name__)


async def on_error(update: object, context: AppContext) -> None:
    """Log the failure with the update that caused it and apologise to the person."""
    summary = update.to_dict() if isinstance(update, Update) else repr(update)
    log.error("unhandled error while handling update %s", summary, exc_info=context.error)
    if not isinstance(update, Update):
        return
    language = context.services.language_of(update.effective_user)
    text = t(language, "error.generic")
    try:
        if update.callback_query is not None:
            await update.callback_query.answer(text, show_alert=True)
        elif update.effective_message is not None:
            await update.effective_message.reply_text(text)
    except TelegramError as exc:
        log.warning("could not tell the user about the error: %s", exc)


def register(app: App) -> None:
    app.add_error_handler(on_error)
