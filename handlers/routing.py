"""/rute (/route): the routing table, and changing which agencies a type goes to."""

from __future__ import annotations

from telegram import Update
from telegram.ext import CommandHandler, filters

from bot.commands import ROUTE
from bot.context import App, AppContext
from bot.i18n import N_, t
from bot.render.organisation import routes_text, type_label
from bot.services.routing import RouteError
from handlers.guard import authorize, reply, usage
from models.access import Action


async def route(update: Update, context: AppContext) -> None:
    """Show the routing table; with arguments, an admin sets one type's agencies."""
    args = context.args or []
    services = context.services
    if not args:
        request = await authorize(update, context, Action.VIEW_ROUTES)
        if request is None:
            return
        table = await services.routing.table()
        await reply(update, routes_text(request.language, table.routes, table.agencies))
        return
    request = await authorize(update, context, Action.SET_ROUTE)
    if request is None:
        return
    language = request.language
    if len(args) < 2:
        await reply(update, usage(language, N_("usage.route")))
        return
    try:
        kind, codes = await services.routing.set_route(args[0], " ".join(args[1:]))
    except RouteError as error:
        await reply(
            update,
            t(language, error.key, wrong=error.wrong[:40], valid=", ".join(error.valid) or "—"),
        )
        return
    if codes:
        text = t(language, "route.set", type=type_label(language, kind), agencies=", ".join(codes))
    else:
        text = t(language, "route.cleared", type=type_label(language, kind))
    await reply(update, text)


def register(app: App) -> None:
    app.add_handler(CommandHandler(ROUTE.names, route, filters=filters.UpdateType.MESSAGE))
