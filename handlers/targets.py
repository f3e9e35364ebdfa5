"""Finding the person a command is about: the author of the replied-to message, or @username."""

from __future__ import annotations

from telegram import Update

from bot.context import AppContext
from bot.i18n import t
from bot.settings import Language
from handlers.guard import reply
from models.users import Person


async def target_person(
    update: Update, context: AppContext, args: list[str], language: Language
) -> Person | None:
    """The person meant, or None after telling the user how to name one."""
    people = context.services.people
    message = update.effective_message
    mention = next((a for a in args if a.startswith("@")), None)
    if mention is not None:
        person = await people.by_username(mention)
        if person is None:
            await reply(update, t(language, "target.unknown_username", username=mention[:40]))
        return person
    replied = message.reply_to_message if message is not None else None
    author = replied.from_user if replied is not None else None
    if author is not None and not author.is_bot:
        await people.remember(author)
        return await people.person(author.id)
    await reply(update, t(language, "target.missing"))
    return None
