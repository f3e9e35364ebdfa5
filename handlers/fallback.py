"""Answers to what no feature handled: unknown commands. (Every button press, stale or not,
is answered by the press pipeline, `handlers.presses`.)"""

from __future__ import annotations

import logging

from telegram import Update
from telegram.ext import MessageHandler, filters

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


def register(app: App) -> None:
    app.add_handler(MessageHandler(filters.COMMAND, unknown_command))
