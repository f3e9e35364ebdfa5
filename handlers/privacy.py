"""/saya (/me) and /lupakan (/forget): what the bot knows about a person, and erasing it."""

from __future__ import annotations

from telegram import Update
from telegram.ext import CommandHandler, filters

from bot.callbacks import ButtonAction, ForgetChoice
from bot.commands import FORGET, ME
from bot.context import App, AppContext
from bot.i18n import t
from bot.render.organisation import forget_question, self_text
from handlers.guard import authorize, reply
from handlers.presses import Press, route
from models.access import Action, ChatKind

ENDS = filters.UpdateType.MESSAGE


async def me(update: Update, context: AppContext) -> None:
    """Show the person their roles, agencies, duty and the data stored about them."""
    request = await authorize(update, context, Action.VIEW_SELF)
    if request is None:
        return
    services = context.services
    view = await services.people.self_view(request.user.id)
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
    """Ask before erasing the person's data (Indonesia's personal data protection law): what
    goes, what stays, and one tap to confirm."""
    request = await authorize(update, context, Action.FORGET_SELF)
    if request is None:
        return
    text, keyboard = forget_question(request.language)
    await reply(update, text, reply_markup=keyboard)


async def forget_button(press: Press, button: ForgetChoice) -> None:
    """Yes, erase (or no, keep) — in the person's own private chat only."""
    request = await press.authorize(Action.FORGET_SELF)
    if request is None:
        return
    if not press.private:
        await press.refuse("an erasure outside the person's own chat")
        return
    language = request.language
    if button.action is ButtonAction.FORGET_KEPT:
        await press.answer()
        await press.edit(t(language, "me.forget_kept"))
        return
    services = press.services
    await services.erasure.forget(request.user.id)
    services.people.forget(request.user.id)
    await press.answer()
    await press.edit(t(language, "me.forgotten"))


def register(app: App) -> None:
    app.add_handler(CommandHandler(ME.names, me, filters=ENDS))
    app.add_handler(CommandHandler(FORGET.names, forget, filters=ENDS))
    route(app, ForgetChoice, forget_button)
