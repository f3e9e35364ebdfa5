"""`/papan` (`/board`): a one-time link that signs the person in to the web board."""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import CommandHandler, filters

from bot.commands import BOARD
from bot.context import App, AppContext
from bot.i18n import t
from handlers.guard import authorize, reply
from models.access import Action


async def board_command(update: Update, context: AppContext) -> None:
    request = await authorize(update, context, Action.USE_BOARD)
    if request is None:
        return
    link = await context.services.web.login_link(request.user.id)
    language = request.language
    text = t(language, "board.link", minutes=10) + f"\n{link}"
    keyboard = None
    if link.startswith("https://"):  # Telegram takes only https addresses on a button
        button = InlineKeyboardButton(t(language, "board.button"), url=link)
        keyboard = InlineKeyboardMarkup([[button]])
    await reply(update, text, reply_markup=keyboard, protect_content=True)


def register(app: App) -> None:
    app.add_handler(CommandHandler(BOARD.names, board_command, filters=filters.UpdateType.MESSAGE))
