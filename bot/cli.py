"""The `siaga112` command: run, migrate, check, demo.

Configuration mistakes end with one paragraph that says what to do and exit status 2, never a
traceback.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Sequence

from telegram import Bot
from telegram.error import InvalidToken, NetworkError, TelegramError

from bot import __version__
from bot.logs import configure_logging
from bot.settings import ConfigError, Settings, load_settings
from bot.store import DatabaseError, MigrationError, Store

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_CONFIG = 2

log = logging.getLogger("siaga112")


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(
        prog="siaga112",
        description="Telegram coordination hub for a city's 112 emergency service.",
    )
    root.add_argument("--version", action="version", version=f"siaga112 {__version__}")
    commands = root.add_subparsers(dest="command", metavar="COMMAND")
    commands.add_parser("run", help="run the bot (long polling) with the token from .env")
    commands.add_parser("migrate", help="create or upgrade the database, then exit")
    commands.add_parser("check", help="check settings, database and that Telegram answers getMe")
    demo = commands.add_parser(
        "demo", help="run a scripted scenario against the built-in Telegram simulator"
    )
    demo.add_argument("--quiet", action="store_true", help="print only the transcript")
    return root


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if args.command is None:
        parser().print_help()
        return EXIT_FAILED
    try:
        if args.command == "demo":
            from bot.demo import run_demo  # the simulator is only loaded when asked for

            return asyncio.run(run_demo(quiet=args.quiet))
        settings = load_settings()
        token = settings.require_token() if args.command in ("run", "check") else ""
        configure_logging(settings.log_level, [token])
        if args.command == "migrate":
            return asyncio.run(migrate(settings))
        if args.command == "check":
            return asyncio.run(check(settings))
        return asyncio.run(run(settings))
    except (ConfigError, DatabaseError, MigrationError) as exc:
        print(f"siaga112: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    except KeyboardInterrupt:
        return EXIT_OK


async def migrate(settings: Settings) -> int:
    store = Store(settings.database_path)
    applied = await store.open()
    await store.close()
    if applied:
        print(f"Applied {len(applied)} migration(s): {', '.join(applied)}")
    else:
        print(f"The database at {settings.database_path} is up to date.")
    return EXIT_OK


async def check(settings: Settings) -> int:
    """Settings valid, database opens and is migrated, Telegram answers getMe."""
    print(f"settings: ok (time zone {settings.timezone}, language {settings.default_language})")
    store = Store(settings.database_path)
    await store.open(apply_migrations=False)
    try:
        pending = await store.pending_migrations()
    finally:
        await store.close()
    ok = True
    if pending:
        ok = False
        print(
            f"database: {len(pending)} migration(s) not applied ({', '.join(pending)}); "
            "run `siaga112 migrate`"
        )
    else:
        print(f"database: ok ({settings.database_path})")
    bot = Bot(
        settings.require_token(), base_url=settings.bot_api_url, base_file_url=settings.bot_file_url
    )
    try:
        async with bot:
            me = await bot.get_me()
        print(f"telegram: ok (@{me.username} via {settings.telegram_api_base_url})")
    except InvalidToken:
        raise ConfigError(_rejected_token(settings)) from None
    except (NetworkError, TelegramError) as exc:
        ok = False
        print(f"telegram: cannot reach {settings.telegram_api_base_url}: {exc}")
    return EXIT_OK if ok else EXIT_FAILED


async def run(settings: Settings) -> int:
    from bot.app import build_application
    from bot.runtime import serve

    # Fail fast on a bad database before talking to Telegram.
    store = Store(settings.database_path)
    await store.open()
    await store.close()
    app = build_application(settings)
    try:
        await serve(app)
    except InvalidToken:
        raise ConfigError(_rejected_token(settings)) from None
    return EXIT_OK


def _rejected_token(settings: Settings) -> str:
    return (
        f"Telegram ({settings.telegram_api_base_url}) rejected TELEGRAM_BOT_TOKEN. Copy the "
        "token again from @BotFather (send /mybots, choose the bot, then API Token) into .env; "
        "if it was revoked, generate a new one there. `make demo` runs without a token."
    )


if __name__ == "__main__":
    raise SystemExit(main())
