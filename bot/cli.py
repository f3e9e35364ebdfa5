"""The `siaga112` command: run, migrate, check, backup, outbox, export, apikey, subscription,
demo.

Configuration mistakes end with one paragraph that says what to do and exit status 2, never a
traceback. A check that finds something wrong exits 1; warnings (a backlog, unreachable chats)
do not change the exit status.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import re
import sqlite3
import sys
import tempfile
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from pathlib import Path

from telegram import Bot
from telegram.error import InvalidToken, NetworkError, TelegramError

from bot import __version__
from bot.runtime.logs import configure_logging
from bot.services.api import ApiAdmin
from bot.services.broadcasts import BroadcastService
from bot.services.exports import ExportService
from bot.services.retention import RetentionService
from bot.settings import ConfigError, Settings, likely_typos, load_settings
from bot.store import DatabaseError, MigrationError, Store, UnreachableChat
from bot.store.maintenance import OutboxBacklog, backup_database
from models.api import EventName, Scope, parse_events
from models.exports import Period, sensible
from models.outbox import OutboxItem, OutboxStatus

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_CONFIG = 2

# A pending message older than this is a backlog worth a warning, not just the sender at work.
BACKLOG_WARNING_AGE = timedelta(minutes=1)
PREVIEW_CHARS = 80
# Bot tokens have no business in the outbox, but error texts can quote URLs: never print one.
TOKEN_IN_TEXT = re.compile(r"\d{3,}:[A-Za-z0-9_-]{30,}")

log = logging.getLogger("siaga112")


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(
        prog="siaga112",
        description="Telegram coordination hub for a city's 112 emergency service.",
    )
    root.add_argument("--version", action="version", version=f"siaga112 {__version__}")
    commands = root.add_subparsers(dest="command", metavar="COMMAND")
    run = commands.add_parser("run", help="run the bot with the token from .env")
    run.add_argument(
        "--webhook",
        action="store_true",
        help="receive updates on WEBHOOK_URL instead of long polling",
    )
    commands.add_parser("migrate", help="create or upgrade the database, then exit")
    commands.add_parser(
        "check",
        help="check settings, the database (integrity, migrations, outbox backlog, unreachable "
        "chats) and that Telegram answers getMe",
    )
    backup = commands.add_parser(
        "backup", help="copy the database to PATH while the bot runs (consistent online backup)"
    )
    backup.add_argument("path", type=_path, metavar="PATH", help="the backup file to create")
    backup.add_argument("--force", action="store_true", help="replace PATH if it exists")
    commands.add_parser(
        "maintenance",
        help="retention now (OUTBOX_RETENTION_DAYS, PERSONAL_DATA_RETENTION_DAYS) and give the "
        "freed space back; the bot does this every night",
    )
    outbox = commands.add_parser(
        "outbox", help="list parked and pending outbox items, or requeue a parked one"
    )
    outbox.add_argument("--all", action="store_true", help="also list sent and dropped items")
    outbox.add_argument(
        "--limit", type=_positive, default=50, metavar="N", help="list at most N items (50)"
    )
    outbox.add_argument("--requeue", type=_positive, metavar="ID", help="send parked item ID again")
    export = commands.add_parser("export", help="export data in a standard format")
    formats = export.add_subparsers(dest="format", metavar="FORMAT", required=True)
    cap = formats.add_parser(
        "cap", help="write broadcast N as an OASIS CAP 1.2 alert (XML) to a file or stdout"
    )
    cap.add_argument("number", type=_positive, metavar="N", help="the broadcast's number")
    cap.add_argument(
        "-o",
        "--output",
        type=_path,
        metavar="PATH",
        help="the file to write (default: siaga112-siaran-N.xml; '-' for stdout)",
    )
    for kind, what in (("csv", "CSV rows"), ("xlsx", "an XLSX workbook with summaries")):
        table = formats.add_parser(
            kind, help=f"incidents of a period as {what}, one row per agency response"
        )
        table.add_argument("--from", dest="start", type=_date, required=True, metavar="DATE")
        table.add_argument("--to", dest="end", type=_date, required=True, metavar="DATE")
        table.add_argument(
            "-o",
            "--output",
            type=_path,
            metavar="PATH",
            help=f"the file to write (default: siaga112-FROM-TO.{kind}; '-' for stdout)",
        )
        table.add_argument(
            "--personal-data",
            action="store_true",
            help="include reporters' names and phone numbers (keep the file safe)",
        )
        table.add_argument(
            "--include-drills", action="store_true", help="include drills' incidents (marked)"
        )
    apikey = commands.add_parser("apikey", help="keys of the HTTP API (/api/v1)")
    keys = apikey.add_subparsers(dest="action", metavar="ACTION", required=True)
    create = keys.add_parser("create", help="a new key; printed once, as the last line")
    create.add_argument("name", type=_name, metavar="NAME", help="who uses it, e.g. callcenter")
    create.add_argument(
        "--scope", choices=[s.value for s in Scope], default=Scope.READ.value, help="(read)"
    )
    keys.add_parser("list", help="every key: name, scope, when created, last used, revoked")
    revoke = keys.add_parser("revoke", help="stop the key NAME at once")
    revoke.add_argument("name", metavar="NAME")
    subscription = commands.add_parser(
        "subscription", help="event subscriptions: incident events POSTed to other systems"
    )
    subs = subscription.add_subparsers(dest="action", metavar="ACTION", required=True)
    add = subs.add_parser("add", help="POST these events to URL, signed with the secret")
    add.add_argument("url", type=_url, metavar="URL")
    add.add_argument(
        "--events",
        type=_events,
        required=True,
        help="comma-separated: " + ",".join(e.value for e in EventName),
    )
    add.add_argument(
        "--secret", type=_secret, required=True, help="at least 16 characters, to sign each body"
    )
    subs.add_parser("list", help="the active subscriptions")
    remove = subs.add_parser(
        "remove", help="stop subscription ID (what it still had queued is dropped)"
    )
    remove.add_argument("id", type=_positive, metavar="ID")
    log_parser = subs.add_parser("log", help="the latest deliveries, and the parked ones")
    log_parser.add_argument("--parked", action="store_true", help="only the parked ones")
    log_parser.add_argument("--limit", type=_positive, default=50, metavar="N")
    resend = subs.add_parser("resend", help="send parked delivery ID again")
    resend.add_argument("id", type=_positive, metavar="ID")
    play = commands.add_parser(
        "play",
        help="the playground: act as anyone in the demo city from a local web page (no token)",
    )
    play.add_argument("--port", type=_port, default=8113, help="the page's port (8113)")
    play.add_argument(
        "--keep", type=_path, metavar="DIR", help="keep the database in DIR (default: removed)"
    )
    play.add_argument("--open", action="store_true", help="open the page in a browser")
    demo = commands.add_parser(
        "demo", help="run a scripted scenario against the built-in Telegram simulator"
    )
    demo.add_argument("--quiet", action="store_true", help="print only the transcript")
    demo.add_argument(
        "--board",
        action="store_true",
        help="then keep the demo city running and print the web board's address (Ctrl+C ends)",
    )
    demo.add_argument(
        "--port",
        type=_port,
        default=0,
        help="the web server's port for --board (default: a free one)",
    )
    return root


def _path(text: str) -> Path:
    return Path(text).expanduser()  # also when the shell left a quoted ~ alone


def _date(text: str) -> date:
    try:
        day = date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a date like 2026-01-31, not {text!r}") from None
    if not sensible(day):
        raise argparse.ArgumentTypeError(f"expected a date between 2000 and 2100, not {text!r}")
    return day


_NAME = re.compile(r"[A-Za-z0-9_.-]{1,64}")


def _name(text: str) -> str:
    if not _NAME.fullmatch(text):
        raise argparse.ArgumentTypeError("1 to 64 letters, digits, '.', '_' or '-'")
    return text


def _url(text: str) -> str:
    if not re.fullmatch(r"https?://[^\s/]+(/\S*)?", text):
        raise argparse.ArgumentTypeError(f"expected an http:// or https:// address, not {text!r}")
    return text


def _events(text: str) -> list[EventName]:
    events = parse_events(text)
    if events is None:
        known = ",".join(e.value for e in EventName)
        raise argparse.ArgumentTypeError(f"expected some of {known}, not {text!r}")
    return events


def _secret(text: str) -> str:
    if len(text) < 16 or len(text) > 256 or not text.isprintable():
        raise argparse.ArgumentTypeError("16 to 256 printable characters")
    return text


def _port(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = -1
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"expected a port (0-65535), not {text!r}")
    return value


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive whole number, not {text!r}")
    return value


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if args.command is None:
        parser().print_help()
        return EXIT_FAILED
    try:
        if args.command == "demo":
            from bot.demo import run_demo  # the simulator is only loaded when asked for

            try:
                return asyncio.run(run_demo(quiet=args.quiet, board=args.board, port=args.port))
            except KeyboardInterrupt:  # Ctrl+C ends `demo --board`
                return 0
        if args.command == "play":
            from bot.playground.server import run_playground  # the simulator, only when asked

            try:
                return asyncio.run(
                    run_playground(port=args.port, keep=args.keep, open_browser=args.open)
                )
            except KeyboardInterrupt:
                return 0
        settings = load_settings()
        token = settings.require_token() if args.command in ("run", "check") else ""
        configure_logging(settings.log_level, [token], settings.log_format)
        for key, setting in likely_typos():
            log.warning(
                ".env sets %s, which is no setting; did you mean %s? It is ignored.", key, setting
            )
        if args.command == "migrate":
            return asyncio.run(migrate(settings))
        if args.command == "check":
            return asyncio.run(check(settings))
        if args.command == "backup":
            return backup(settings, args.path, force=args.force)
        if args.command == "maintenance":
            return asyncio.run(maintenance(settings))
        if args.command == "export" and args.format == "cap":
            return asyncio.run(export_cap(settings, args.number, args.output))
        if args.command == "export":
            return asyncio.run(export_table(settings, args))
        if args.command == "apikey":
            return asyncio.run(api_keys(settings, args))
        if args.command == "subscription":
            return asyncio.run(subscriptions(settings, args))
        if args.command == "outbox":
            if args.requeue is not None:
                return asyncio.run(requeue(settings, args.requeue))
            return asyncio.run(list_outbox(settings, show_all=args.all, limit=args.limit))
        return asyncio.run(run(settings, webhook=args.webhook))
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


async def maintenance(settings: Settings) -> int:
    """What the bot's nightly maintenance does, now (safe beside the running bot: each step is
    a short transaction of its own)."""
    async with Store(settings.database_path) as store:
        done = await RetentionService(store, store.clock, settings).run()
        size = settings.database_path.stat().st_size if settings.database_path.exists() else 0
    print(f"maintenance: {done.describe()}; the file is {size / 1e6:.1f} MB")
    return EXIT_OK


async def check(settings: Settings) -> int:
    """Settings valid; database intact, migrated, its outbox and chats; Telegram answers getMe.

    Read-only: a database that does not exist is reported, never created (`migrate` does that).
    """
    print(f"settings: ok (time zone {settings.timezone}, language {settings.default_language})")
    ok = _database_exists(settings)
    if ok:
        store = Store(settings.database_path)
        await store.open(apply_migrations=False)
        try:
            ok = await _check_database(store, settings)
        finally:
            await store.close()
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


def _database_exists(settings: Settings) -> bool:
    """Print the database's line of `check` when there is no database file; False then.

    Opening a missing file would create an empty database (and its directory), hiding a wrong
    DATABASE_PATH or working directory behind "migrations not applied".
    """
    path = settings.database_path
    try:
        if path.is_file():
            return True
        exists = path.exists()
    except OSError as exc:  # a directory on the way this user may not enter
        print(f"database: FAILED: cannot look at {path}: {exc.strerror or exc}")
        return False
    if exists:
        print(
            f"database: FAILED: {path} is not a file; set DATABASE_PATH to the bot's database "
            "file (see .env.example)"
        )
    else:
        print(
            f"database: missing: there is no database at {path}; run `siaga112 migrate` to "
            "create it, or run `check` with the same .env (or DATABASE_PATH) and working "
            "directory as the bot"
        )
    return False


async def _check_database(store: Store, settings: Settings) -> bool:
    """Print the database's lines of `check`; False when something is wrong (not a warning)."""
    try:
        async with store.read() as tx:
            problems = await tx.integrity_problems()
    except sqlite3.DatabaseError as exc:  # damage can stop the check itself
        problems = [str(exc)]
    if problems:
        print(f"integrity: FAILED for {settings.database_path}; PRAGMA integrity_check says:")
        for line in problems:
            print(f"  {line}")
        print(
            "  Stop the bot and restore the latest backup (README, 'Backup and restore'); keep "
            "the damaged file for inspection."
        )
        return False  # nothing else in a damaged file can be trusted
    print("integrity: ok")
    pending = await store.pending_migrations()
    if pending:
        print(
            f"database: {len(pending)} migration(s) not applied ({', '.join(pending)}); "
            "run `siaga112 migrate`"
        )
        return False
    print(f"database: ok ({settings.database_path})")
    async with store.read() as tx:
        backlog = await tx.outbox_backlog()
        unreachable = await tx.unreachable_chats()
    print(_backlog_line(backlog, store.clock.now()))
    if unreachable:
        print(f"unreachable chats: warning: {len(unreachable)} chat(s) refuse the bot")
        for chat in unreachable:
            print(f"  {_describe_unreachable(chat, settings)}")
    else:
        print("unreachable chats: none")
    return True


def _backlog_line(backlog: OutboxBacklog, now: datetime) -> str:
    if not backlog.pending and not backlog.parked:
        return "outbox: ok (nothing pending or parked)"
    parts = []
    if backlog.pending:
        oldest = backlog.oldest_pending_at
        waited = now - oldest if oldest is not None else timedelta(0)
        parts.append(f"{backlog.pending} pending, the oldest waiting {_age(waited)}")
    if backlog.parked:
        parts.append(f"{backlog.parked} parked")
    stuck = backlog.oldest_pending_at is not None and (
        now - backlog.oldest_pending_at > BACKLOG_WARNING_AGE
    )
    if backlog.parked or stuck:
        return f"outbox: warning: {'; '.join(parts)} (see `siaga112 outbox`)"
    return f"outbox: ok ({'; '.join(parts)})"  # the sender at work, not a backlog


def _describe_unreachable(chat: UnreachableChat, settings: Settings) -> str:
    since = chat.since.astimezone(settings.zone).strftime("%Y-%m-%d %H:%M")
    return f"chat {chat.chat_id} since {since}: {_redact(chat.reason)}"


def backup(settings: Settings, target: Path, *, force: bool) -> int:
    """A verified, consistent copy of the database at `target`, made while the bot may run.

    Synchronous: a one-off command with nothing else to do while SQLite copies."""
    source = settings.database_path
    if not source.is_file():
        raise ConfigError(
            f"There is no database at {source} to back up. Run `siaga112 backup` with the same "
            ".env (or DATABASE_PATH) as the bot, from the bot's working directory; a new "
            "installation has nothing to back up until `siaga112 migrate` or the bot created it."
        )
    if target.is_dir():
        raise ConfigError(
            f"{target} is a directory. Give the backup a file name, such as "
            f"{target / 'siaga112-YYYY-MM-DD.db'}."
        )
    if target.exists() and target.resolve() == source.resolve():
        raise ConfigError(f"{target} is the live database itself; choose another file name.")
    if target.exists() and not force:
        raise ConfigError(
            f"{target} already exists, and a backup is never overwritten by accident. Choose "
            "a new file name (a date in it keeps each night apart), or add --force to replace it."
        )
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        # Written beside the target under a temporary name and renamed only when verified, so
        # a crash or a full disk never leaves half a backup under the real name.
        handle, name = tempfile.mkstemp(
            dir=target.parent, prefix=f".{target.name}.", suffix=".partial"
        )
        os.close(handle)
    except OSError as exc:
        raise ConfigError(_cannot_write(target, exc)) from None
    partial = Path(name)
    try:
        try:
            backup_database(source, partial)
        except sqlite3.Error as exc:
            raise DatabaseError(
                f"Copying {source} to {target} failed: {exc}. Check that DATABASE_PATH is the "
                "bot's SQLite database and that the backup's disk has room."
            ) from None
        verified = asyncio.run(_verify_backup(partial, source))
        if verified is None:
            return EXIT_FAILED
        incidents, pending = verified
        try:
            os.replace(partial, target)
            _sync_directory(target.parent)
        except OSError as exc:
            raise ConfigError(_cannot_write(target, exc)) from None
    finally:
        for leftover in (partial, Path(f"{partial}-wal"), Path(f"{partial}-shm")):
            leftover.unlink(missing_ok=True)
    print(
        f"backup: {target} ({_size(target.stat().st_size)}, integrity ok): "
        f"{incidents} incident(s), {pending} message(s) pending in the outbox"
    )
    return EXIT_OK


async def _verify_backup(copy: Path, source: Path) -> tuple[int, int] | None:
    """Integrity, migrations and counts of a fresh copy; None (after saying why) if damaged."""
    store = Store(copy)
    await store.open(apply_migrations=False)
    try:
        try:
            async with store.read() as tx:
                problems = await tx.integrity_problems()
        except sqlite3.DatabaseError as exc:
            problems = [str(exc)]
        if problems:
            print(f"backup: FAILED: the copy of {source} fails PRAGMA integrity_check:")
            for line in problems:
                print(f"  {line}")
            print("  The live database is probably damaged too: run `siaga112 check`.")
            return None
        pending = await store.pending_migrations()
        if pending:
            raise DatabaseError(
                f"The database at {source} is not a migrated siaga112 database ({len(pending)} "
                "migration(s) not applied), so no backup was written. Run `siaga112 migrate`, "
                "or back it up with the version of siaga112 that made it."
            )
        async with store.read() as tx:
            return await tx.count_incidents(), await tx.count_outbox(OutboxStatus.PENDING)
    finally:
        await store.close()


def _cannot_write(target: Path, exc: OSError) -> str:
    return (
        f"Cannot write the backup {target}: {exc.strerror or exc}. Choose a path in a directory "
        "this user may write to (missing directories are created) on a disk with room for a "
        "copy of the database."
    )


def _sync_directory(directory: Path) -> None:
    """Make the rename itself durable (POSIX); where directories cannot be opened, skip it."""
    try:
        handle = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(handle)
    except OSError:
        pass
    finally:
        os.close(handle)


async def list_outbox(settings: Settings, *, show_all: bool, limit: int) -> int:
    """Parked and pending items (with --all every item), the ones to look at first on top."""
    statuses = tuple(OutboxStatus) if show_all else (OutboxStatus.PARKED, OutboxStatus.PENDING)
    store = await _open_existing(settings)
    try:
        async with store.read() as tx:
            backlog = await tx.outbox_backlog()
            items = await tx.outbox_problems(statuses, limit)
        now = store.clock.now()
    finally:
        await store.close()
    print(_backlog_line(backlog, now))
    for item in items:
        print(_describe_item(item, now))
    shown = sum(backlog.counts.get(status, 0) for status in statuses)
    if len(items) < shown:
        print(f"({len(items)} of {shown} shown; --limit N shows more)")
    return EXIT_OK


async def requeue(settings: Settings, item_id: int) -> int:
    """Put a parked item back in line; the running bot's sender picks it up on its next poll."""
    store = await _open_existing(settings)
    try:
        async with store.transaction() as tx:
            item = await tx.outbox_item(item_id)
            requeued = item is not None and await tx.requeue_parked(item_id, store.clock.now())
            unreachable = item is not None and await tx.is_unreachable(item.chat_id)
    finally:
        await store.close()
    if item is None:
        print(f"There is no outbox item {item_id}.")
        return EXIT_FAILED
    if not requeued:
        print(f"Outbox item {item_id} is {item.status}, not parked; nothing changed.")
        return EXIT_FAILED
    print(
        f"Outbox item {item_id} ({item.method} to chat {item.chat_id}) is pending again; it was "
        f"parked after: {_redact(item.last_error or 'no error recorded')}"
    )
    if unreachable:
        print(
            f"Note: chat {item.chat_id} is still recorded as refusing the bot; unless that has "
            "changed, Telegram will refuse this message again."
        )
    return EXIT_OK


async def export_cap(settings: Settings, number: int, output: Path | None) -> int:
    """Write broadcast `number` as a CAP 1.2 alert; exit 1 when there is no such broadcast."""
    store = await _open_existing(settings)
    try:
        document = await BroadcastService(store, store.clock, settings).cap(number)
    finally:
        await store.close()
    if document is None:
        print(f"siaga112: there is no sent broadcast #{number}", file=sys.stderr)
        return EXIT_FAILED
    target = _write(document, output, Path(f"siaga112-siaran-{number}.xml"))
    if target is not None:
        print(f"Wrote broadcast #{number} as CAP 1.2 to {target}")
    return EXIT_OK


def _write(document: bytes, output: Path | None, default: Path) -> Path | None:
    """`document` to `output` (`default` when not given; standard output for "-", then
    None). A file that cannot be written is a configuration mistake, said in one line."""
    if output is not None and str(output) == "-":
        sys.stdout.buffer.write(document)
        sys.stdout.flush()
        return None
    target = output or default
    try:
        target.write_bytes(document)
    except OSError as exc:
        raise ConfigError(f"Cannot write {target}: {exc.strerror or exc}.") from None
    return target


async def export_table(settings: Settings, args: argparse.Namespace) -> int:
    """`siaga112 export csv|xlsx --from --to`: the evaluation meeting's rows and summaries."""
    if args.end < args.start:
        print("siaga112: --to is before --from", file=sys.stderr)
        return EXIT_CONFIG
    store = await _open_existing(settings)
    try:
        exports = ExportService(store, store.clock, settings)
        export = await exports.collect(
            Period(args.start, args.end),
            personal_data=args.personal_data,
            include_drills=args.include_drills,
        )
    finally:
        await store.close()
    if args.format == "csv":
        document = exports.csv_bytes(export)
    else:
        document = await exports.xlsx_bytes(export)
    default = Path(f"siaga112-{args.start}-{args.end}.{args.format}")
    target = _write(document, args.output, default)
    if target is None:
        return EXIT_OK
    personal = "WITH names and phone numbers" if export.personal_data else "without personal data"
    incidents = len({row.number for row in export.rows})
    print(f"Wrote {incidents} incident(s), {len(export.rows)} row(s), {personal}, to {target}")
    return EXIT_OK


async def api_keys(settings: Settings, args: argparse.Namespace) -> int:
    """`siaga112 apikey create|list|revoke`."""
    store = await _open_existing(settings)
    try:
        admin = ApiAdmin(store, store.clock)
        if args.action == "create":
            key = await admin.create_key(args.name, Scope(args.scope))
            if key is None:
                print(f"siaga112: an active key is already named {args.name!r}", file=sys.stderr)
                return EXIT_FAILED
            print(
                f"API key {args.name!r} ({args.scope}) created. It is shown only now (the bot "
                "keeps a hash); put it in the other system's configuration:"
            )
            print(key)
            return EXIT_OK
        if args.action == "revoke":
            if not await admin.revoke(args.name):
                print(f"siaga112: no active key is named {args.name!r}", file=sys.stderr)
                return EXIT_FAILED
            print(f"API key {args.name!r} revoked: its next request is refused (401).")
            return EXIT_OK
        found = await admin.keys()
        if not found:
            print("No API keys. Create one with `siaga112 apikey create NAME --scope write`.")
        for key_row in found:
            used = (
                key_row.last_used_at.isoformat(timespec="seconds")
                if key_row.last_used_at
                else "never"
            )
            state = (
                f"revoked {key_row.revoked_at.isoformat(timespec='seconds')}"
                if key_row.revoked_at
                else "active"
            )
            print(
                f"{key_row.name}  {key_row.scope.value}  created "
                f"{key_row.created_at.isoformat(timespec='seconds')}  last used {used}  {state}"
            )
        return EXIT_OK
    finally:
        await store.close()


async def subscriptions(settings: Settings, args: argparse.Namespace) -> int:
    """`siaga112 subscription add|list|remove|log|resend`."""
    store = await _open_existing(settings)
    try:
        admin = ApiAdmin(store, store.clock)
        if args.action == "add":
            number = await admin.subscribe(args.url, args.events, args.secret)
            events = ",".join(e.value for e in args.events)
            print(f"Subscription {number}: {events} to {args.url}")
            return EXIT_OK
        if args.action == "remove":
            if not await admin.unsubscribe(args.id):
                print(f"siaga112: there is no active subscription {args.id}", file=sys.stderr)
                return EXIT_FAILED
            print(f"Subscription {args.id} removed; nothing more is sent to it, queued or new.")
            return EXIT_OK
        if args.action == "resend":
            if not await admin.resend(args.id):
                print(
                    f"siaga112: delivery {args.id} is not parked (or its subscription was removed)",
                    file=sys.stderr,
                )
                return EXIT_FAILED
            print(f"Delivery {args.id} is queued again.")
            return EXIT_OK
        if args.action == "log":
            for d in await admin.delivery_log(args.limit, parked_only=args.parked):
                error = f"  ({_redact(d.last_error)})" if d.last_error else ""
                print(
                    f"{d.id}  {d.status.value}  {d.event.value} #{d.incident_id}  to "
                    f"subscription {d.subscription_id}  {d.attempts} attempt(s)  created "
                    f"{d.created_at.isoformat(timespec='seconds')}{error}"
                )
            return EXIT_OK
        found = await admin.subscriptions()
        if not found:
            print("No subscriptions. Add one with `siaga112 subscription add URL --events …`.")
        for sub in found:
            events = ",".join(e.value for e in sub.events)
            since = sub.created_at.isoformat(timespec="seconds")
            print(f"{sub.id}  {sub.url}  {events}  since {since}")
        return EXIT_OK
    finally:
        await store.close()


async def _open_existing(settings: Settings) -> Store:
    """The bot's database, which must already exist and be migrated (never created here)."""
    if not settings.database_path.is_file():
        raise ConfigError(
            f"There is no database at {settings.database_path}. Run this command with the same "
            ".env (or DATABASE_PATH) as the bot, from the bot's working directory."
        )
    store = Store(settings.database_path)
    await store.open(apply_migrations=False)
    try:
        pending = await store.pending_migrations()
    except BaseException:
        await store.close()
        raise
    if pending:
        await store.close()
        raise ConfigError(
            f"The database at {settings.database_path} needs {len(pending)} migration(s): run "
            "`siaga112 migrate` first."
        )
    return store


def _describe_item(item: OutboxItem, now: datetime) -> str:
    """Two or three lines per item: what, where, how it went, and a glimpse of the content."""
    attempts = f"{item.attempts} attempt{'' if item.attempts == 1 else 's'}"
    lines = [
        f"#{item.id} {item.status} {item.method} to chat {item.chat_id}, {attempts}, "
        f"created {_age(now - item.created_at)} ago"
    ]
    if item.last_error:
        lines.append(f"    error: {_redact(_shorten(item.last_error, 200))}")
    lines.append(f"    payload: {_preview(item)}")
    return "\n".join(lines)


def _preview(item: OutboxItem) -> str:
    """The text people would see if there is one, else the parameters; always one short line."""
    for field in ("text", "caption"):
        value = item.payload.get(field)
        if isinstance(value, str):
            shown = f"{field}={json.dumps(value, ensure_ascii=False)}"
            break
    else:
        shown = json.dumps(item.payload, ensure_ascii=False, sort_keys=True)
    return _redact(_shorten(shown, PREVIEW_CHARS))


def _shorten(text: str, limit: int) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def _redact(text: str) -> str:
    return TOKEN_IN_TEXT.sub("<token>", text)


def _age(delta: timedelta) -> str:
    seconds = max(0, int(delta.total_seconds()))
    if seconds < 120:
        return f"{seconds} s"
    minutes = seconds // 60
    if minutes < 120:
        return f"{minutes} min"
    hours = minutes // 60
    if hours < 48:
        return f"{hours} h {minutes % 60} min"
    return f"{hours // 24} d {hours % 24} h"


def _size(size: int) -> str:
    if size < 1024:
        return f"{size} bytes"
    if size < 1024 * 1024:
        return f"{size / 1024:.1f} KB"
    return f"{size / (1024 * 1024):.1f} MB"


async def run(settings: Settings, *, webhook: bool = False) -> int:
    from bot.app import build_application
    from bot.runtime.running import serve

    # Fail fast on a bad database before talking to Telegram.
    store = Store(settings.database_path)
    await store.open()
    await store.close()
    app = build_application(settings)
    try:
        if webhook:
            from bot.runtime.webhook import serve_webhook  # only webhook mode needs the HTTP server

            await serve_webhook(app, settings)
        else:
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
