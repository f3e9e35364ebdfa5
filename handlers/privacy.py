"""/saya (/me) and /lupakan (/forget): what the bot knows about a person, and erasing it."""

from __future__ import annotations

from telegram import Update
from telegram.ext import CommandHandler, filters

from bot.commands import FORGET, ME
from bot.context import App, AppContext
from bot.i18n import t
from bot.people import forget_person, self_view
from bot.render.organisation import self_text
from handlers.guard import authorize, reply
from models.access import Action, ChatKind

ENDS = filters.UpdateType.MESSAGE


async def me(update: Update, context: AppContext) -> None:
    """Show the person their roles, agencies, duty and the data stored about them."""
    request = await authorize(update, context, Action.VIEW_SELF)
    if request is None:
        return
    services = context.services
    view = await self_view(services.store, services.clock, services.settings, request.user.id)
    pairs = [(r.agency, r.members) for r in view.rosters]
    await reply(
        update,
        self_text(
            request.language,
            view.person,
            view.roles,
            pairs,
            services.settings.zone,
            private=request.checked.place.kind is ChatKind.PRIVATE,
        ),
    )


async def forget(update: Update, context: AppContext) -> None:
    """Erase the person's name, username and phone (Indonesia's personal data protection law)."""
    request = await authorize(update, context, Action.FORGET_SELF)
    if request is None:
        return
    services = context.services
    await forget_person(services.store, services.clock, request.user.id)
    services.people.forget(request.user.id)
    await reply(update, t(request.language, "me.forgotten"))


def register(app: App) -> None:
    app.add_handler(CommandHandler(ME.names, me, filters=ENDS))
    app.add_handler(CommandHandler(FORGET.names, forget, filters=ENDS))
