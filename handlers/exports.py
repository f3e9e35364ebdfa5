"""`/ekspor [DARI SAMPAI]` (`/export [FROM TO]`): the evaluation meeting's workbook (XLSX), for
coordinators, in private, never with personal data. It is built beside the update loop (the
next report is not held up) and sent through the outbox as a file; the command line
(`siaga112 export xlsx`) has the same rows, and personal data when asked for there."""

from __future__ import annotations

from telegram import Update
from telegram.ext import CommandHandler, filters

from bot.commands import EXPORT
from bot.context import App, AppContext
from bot.i18n import N_, t
from handlers.guard import authorize, reply, usage
from models.access import Action


async def export(update: Update, context: AppContext) -> None:
    request = await authorize(update, context, Action.EXPORT)
    if request is None:
        return
    services = context.services
    period = services.exports.period_asked(context.args or [])
    language = request.language
    if period is None:
        await reply(update, usage(language, N_("usage.export")))
        return
    start, end = period.start.isoformat(), period.end.isoformat()
    await reply(update, t(language, "export.preparing", start=start, end=end))
    caption = t(language, "export.caption", start=start, end=end)
    empty = t(language, "export.empty", start=start, end=end)
    # Built beside the update loop: a year of incidents must not hold up the next report.
    context.application.create_task(
        services.exports.send_workbook(request.user.id, period, caption, empty),
        update=update,
        name="export",
    )


def register(app: App) -> None:
    app.add_handler(CommandHandler(EXPORT.names, export, filters=filters.UpdateType.MESSAGE))
