"""`/statistik [hari]` (`/stats [days]`): the coordinators' digest on demand.

Coordinators and admins ask for the last `days` full days (default 1: yesterday; 0: today so
far; at most 31) and get the digest's text and chart as answers to their own command — an answer
the person is waiting for, so it goes straight back rather than through the outbox. The morning
digest (`DigestService.schedule`) goes through the outbox like every message others did not ask
for.
"""

from __future__ import annotations

from telegram import Update
from telegram.ext import CommandHandler, filters

from bot.commands import STATS
from bot.context import App, AppContext
from bot.i18n import N_
from bot.services.digest import MAX_DAYS
from handlers.guard import authorize, number_arg, reply, usage
from models.access import Action

DEFAULT_DAYS = 1


def parse_days(args: list[str]) -> int | None:
    """The number of days asked for; None when the arguments are not one number in 0..31."""
    if not args:
        return DEFAULT_DAYS
    if len(args) != 1:
        return None
    days = number_arg(args[0]) if len(args[0].strip()) <= 2 else None
    return days if days is not None and 0 <= days <= MAX_DAYS else None


async def stats(update: Update, context: AppContext) -> None:
    """`/statistik [hari]`: figures and response times of the last days, with the chart."""
    request = await authorize(update, context, Action.VIEW_STATS)
    if request is None:
        return
    days = parse_days(context.args or [])
    if days is None:
        await reply(update, usage(request.language, N_("usage.stats")))
        return
    report = await context.services.digest.report(days, request.language)
    await reply(update, report.text)
    if request.message is not None and report.chart is not None:  # None: it could not be drawn
        await request.message.reply_photo(photo=report.chart, caption=report.caption)


def register(app: App) -> None:
    app.add_handler(CommandHandler(STATS.names, stats, filters=filters.UpdateType.MESSAGE))
