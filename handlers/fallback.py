"""Answers to what no feature handled: unknown commands and stale buttons."""

from __future__ import annotations

import logging

from telegram import Update
from telegram.ext import CallbackQueryHandler, MessageHandler, filters

from bot.context import App, AppContext
from bot.i18n import t

log = logging.getLogger(__name__)

# These are registered last in PTB's default group, so they see only what no feature handled.


async def unknown_command(update: Update, context: AppContext) -> None:
    """Say the command is unknown: always in private, in groups only when addressed to us."""
    message = update.effective_message
    if message is None or not message.text:
        return
    word = message.text.split(maxsplit=1)[0][1:]
    command, _, addressee = word.partition("@")
    if message.chat.type != "private" and addressee.lower() != (context.bot.username or "").lower():
        return  # another bot's command, or a general one we need not answer in a group
    log.info("unknown command /%s in chat %s", command[:32], message.chat_id)
    language = context.services.language_of(update.effective_user)
    await message.reply_text(t(language, "unknown.command", command=command[:64]))


async def stale_button(update: Update, context: AppContext) -> None:
    """A button no feature recognised (old, forged or from a removed feature)."""
    query = update.callback_query
    if query is None:
        return
    log.info("stale or unknown button %r from user %s", (query.data or "")[:64], query.from_user.id)
    language = context.services.language_of(query.from_user)
    await query.answer(t(language, "callback.stale"), show_alert=False)


def register(app: App) -> None:
    app.add_handler(MessageHandler(filters.COMMAND, unknown_command))
    app.add_handler(CallbackQueryHandler(stale_button))
