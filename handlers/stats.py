"""`/statistik [hari]` (`/stats [days]`): the coordinators' digest on demand, and the job that
queues it every morning.

Coordinators and admins ask for the last `days` full days (default 1: yesterday; 0: today so
far; at most 31) and get the digest's text and chart as answers to their own command — an answer
the person is waiting for, so it goes straight back rather than through the outbox. The morning
digest goes through the outbox like every message others did not ask for.
"""

from __future__ import annotations

import logging
from datetime import time, timedelta

from telegram import Update
from telegram.ext import CommandHandler, filters

from bot.commands import STATS
from bot.context import App, AppContext
from bot.digest import MAX_DAYS
from bot.i18n import N_
from handlers.guard import authorize, number_arg, reply, usage
from models.access import Action

log = logging.getLogger(__name__)

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


# --- the morning digest ---

DAILY_JOB = "daily-digest"
CATCH_UP_JOB = "daily-digest-catch-up"
CATCH_UP_DELAY = timedelta(seconds=10)  # after start-up, once the outbox sender runs


async def send_digest(context: AppContext) -> None:
    """Queue yesterday's digest for the coordinators (a repeat the same day sends nothing)."""
    recipients = await context.services.digest.send_daily()
    log.info("daily digest queued for %d recipients", recipients)


def schedule_digest(app: App, at: time) -> None:
    """Every day at `at` (local time of the configured zone); and soon, when today's time has
    passed already — a bot that was down at 07:00 still sends the morning's digest."""
    assert app.job_queue is not None
    services = app.bot_data.services
    zone = services.settings.zone
    app.job_queue.run_daily(send_digest, time=at.replace(tzinfo=zone), name=DAILY_JOB)
    now = services.clock.now().astimezone(zone)
    if now.time() >= at.replace(tzinfo=None):
        app.job_queue.run_once(send_digest, when=CATCH_UP_DELAY, name=CATCH_UP_JOB)
