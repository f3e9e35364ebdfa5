"""Records every person the bot meets, before any feature handler runs."""

from __future__ import annotations

from telegram import Update
from telegram.constants import ChatType
from telegram.ext import TypeHandler

from bot.context import App, AppContext

# Runs in a group of its own before the feature handlers (PTB runs one handler per group).
GROUP = -10


async def record_sender(update: Update, context: AppContext) -> None:
    """Keep the person's name, username and language current."""
    user = update.effective_user
    if user is None or user.is_bot:
        return
    chat = update.effective_chat
    private = chat is not None and chat.type == ChatType.PRIVATE and update.message is not None
    await context.services.people.saw(user, in_private=private)


def register(app: App) -> None:
    app.add_handler(TypeHandler(Update, record_sender), group=GROUP)
