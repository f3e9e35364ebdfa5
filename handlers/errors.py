"""The one error handler: log with the update, tell the person politely, leak nothing."""

from __future__ import annotations

import logging

from telegram import Update
from telegram.error import TelegramError

from bot.context import App, AppContext
from bot.i18n import t
from handlers.presses import answer_query

log = logging.getLogger(__name__)


def describe(update: object) -> str:
    """Which update failed, without what people wrote or who they are: its id, its kind and
    the chat it came from."""
    if not isinstance(update, Update):
        return type(update).__name__
    kind = next(
        (name for name in Update.ALL_TYPES if getattr(update, name, None) is not None), "unknown"
    )
    chat = update.effective_chat
    return f"{update.update_id} ({kind} in chat {chat.id if chat else '-'})"


async def on_error(update: object, context: AppContext) -> None:
    """Log the failure with the update that caused it and apologise to the person (once)."""
    log.error("unhandled error while handling update %s", describe(update), exc_info=context.error)
    if not isinstance(update, Update):
        return
    language = context.services.language_of(update.effective_user)
    text = t(language, "error.generic")
    query = update.callback_query
    try:
        if query is not None:
            if not context.bot_data.was_answered(query.id):
                # The press pipeline apologises itself when a press fails in it.
                await answer_query(context, query, text, alert=True)
        elif update.effective_message is not None:
            await update.effective_message.reply_text(text)
    except TelegramError as exc:
        log.warning("could not tell the user about the error: %s", exc)


def register(app: App) -> None:
    app.add_error_handler(on_error)
