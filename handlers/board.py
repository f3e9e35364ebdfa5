"""`/papan` (`/board`): a one-time link that signs the person in to the web board, and inside
Telegram (an https WEB_PUBLIC_URL only, as Telegram requires) a Mini App button that opens the
board signed in, also kept in the chat's menu button."""

from __future__ import annotations

import logging

from telegram import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    MenuButtonWebApp,
    Update,
    WebAppInfo,
)
from telegram.error import TelegramError
from telegram.ext import CommandHandler, filters

from bot.commands import BOARD
from bot.context import App, AppContext
from bot.i18n import t
from handlers.guard import authorize, reply
from models.access import Action

log = logging.getLogger(__name__)


async def board_command(update: Update, context: AppContext) -> None:
    request = await authorize(update, context, Action.USE_BOARD)
    if request is None:
        return
    web = context.services.web
    link = await web.login_link(request.user.id)
    language = request.language
    text = t(language, "board.link", minutes=10) + f"\n{link}"
    keyboard = None
    board = web.board_url()
    if board.startswith("https://"):  # Telegram takes only https addresses on these buttons
        app = WebAppInfo(url=board)
        keyboard = InlineKeyboardMarkup(
            [
                [InlineKeyboardButton(t(language, "board.button"), web_app=app)],
                [InlineKeyboardButton(t(language, "board.in_browser"), url=link)],
            ]
        )
        try:
            menu = MenuButtonWebApp(t(language, "board.menu"), app)
            await context.bot.set_chat_menu_button(chat_id=request.user.id, menu_button=menu)
        except TelegramError as exc:  # the button is a convenience; the answer still goes
            log.warning("could not set the board's menu button: %s", exc)
    await reply(update, text, reply_markup=keyboard, protect_content=True)


def register(app: App) -> None:
    app.add_handler(CommandHandler(BOARD.names, board_command, filters=filters.UpdateType.MESSAGE))
