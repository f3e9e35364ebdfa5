"""/start and /bantuan (/help): what the bot is and what this person can do with it."""

from __future__ import annotations

from telegram import Update
from telegram.constants import ParseMode
from telegram.ext import CommandHandler, filters

from bot.commands import HELP, START
from bot.context import App, AppContext
from bot.i18n import t
from bot.render.help import group_start_text, help_text, open_private_keyboard, welcome_text
from bot.render.info import outcome_text
from bot.services.info import LINK_PREFIX
from handlers.conversations import start_conversation
from handlers.guard import topic_of


async def start(update: Update, context: AppContext) -> None:
    """Greet a person in private (they can now receive messages) or point a group to private."""
    message, user = update.effective_message, update.effective_user
    if message is None or user is None:
        return
    services = context.services
    language = services.language_of(user)
    if message.chat.type == "private":
        await services.people.remember(user, started=True)
        if context.args and context.args[0] == "report":
            # The deep link of a group's "report in private" button.
            await start_conversation(update, context, "report")
            return
        if context.args and context.args[0].startswith(LINK_PREFIX):
            # A 112 caller opening the link the dispatcher read out or sent by SMS.
            await join_by_link(update, context, context.args[0][len(LINK_PREFIX) :])
            return
        actor, _place = await services.access.actor_and_place(
            user_id=user.id,
            chat_id=message.chat_id,
            chat_type=message.chat.type,
            thread_id=None,
        )
        await message.reply_text(
            welcome_text(language, user.first_name, actor), parse_mode=ParseMode.HTML
        )
    else:
        await message.reply_text(
            group_start_text(language),
            parse_mode=ParseMode.HTML,
            reply_markup=open_private_keyboard(language, context.bot.username),
        )


async def join_by_link(update: Update, context: AppContext, token: str) -> None:
    """The caller becomes a reporter of the incident: they can be asked and add to it."""
    message, user = update.effective_message, update.effective_user
    if message is None or user is None:
        return
    language = context.services.language_of(user)
    done = await context.services.info.join(token[:64], user.id)
    if not done.ok:
        await message.reply_text(outcome_text(language, done.outcome))
        return
    number = done.detail["incident"]
    await message.reply_text(t(language, "info.joined", id=number), parse_mode=ParseMode.HTML)


async def show_help(update: Update, context: AppContext) -> None:
    """List what the bot does and the commands this person may use here."""
    message, user = update.effective_message, update.effective_user
    if message is None or user is None:
        return
    services = context.services
    actor, place = await services.access.actor_and_place(
        user_id=user.id,
        chat_id=message.chat_id,
        chat_type=message.chat.type,
        thread_id=topic_of(message),
    )
    language = services.language_of(user)
    await message.reply_text(help_text(language, actor, place), parse_mode=ParseMode.HTML)


def register(app: App) -> None:
    app.add_handler(CommandHandler(START.names, start, filters=~filters.UpdateType.EDITED))
    app.add_handler(CommandHandler(HELP.names, show_help, filters=~filters.UpdateType.EDITED))
