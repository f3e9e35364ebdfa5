"""Translations (Babel .po catalogs) and locale-aware formatting of times.

Messages are looked up by key, e.g. `t("id", "help.title")`. Indonesian is the default; English is
complete. Parameters are HTML-escaped unless wrapped in `Html`, because every message is sent
with parse_mode=HTML and user text is data, never markup.
"""

from __future__ import annotations

import html
import string
from datetime import datetime, time
from functools import cache, lru_cache
from importlib import resources
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import format_datetime
from babel.dates import format_time as babel_format_time
from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po

from bot.settings import LANGUAGES, Language

DOMAIN = "messages"
BABEL_LOCALES: dict[str, str] = {"id": "id_ID", "en": "en_GB"}


class Html(str):
    """Text that is already safe HTML for Telegram and must not be escaped again."""

    __slots__ = ()


def escape(text: str) -> Html:
    """Escape user text for Telegram's HTML parse mode."""
    return Html(html.escape(text, quote=False))


class MissingTranslation(KeyError):
    pass


def N_(key: str) -> str:
    """Marks a message key chosen at run time, so the completeness check finds it."""
    return key


@cache
def catalog(language: str) -> dict[str, str]:
    """All messages of one language, keyed by message id, from every .po file of the language.

    Each feature keeps its messages in its own file (core.po, agencies.po, …); a key defined in
    two files is an error.
    """
    folder = resources.files("bot") / "locales" / language / "LC_MESSAGES"
    messages: dict[str, str] = {}
    for entry in sorted(folder.iterdir(), key=lambda item: item.name):
        if not entry.name.endswith(".po"):
            continue
        with entry.open("rb") as handle:
            parsed: Catalog = read_po(handle, locale=BABEL_LOCALES[language], domain=DOMAIN)
        for message in parsed:
            text = message.string
            usable = isinstance(text, str) and text and not message.fuzzy
            if usable and isinstance(message.id, str) and message.id:
                if message.id in messages:
                    raise ValueError(f"{language}: {message.id!r} is defined twice ({entry.name})")
                messages[message.id] = str(text)
    return messages


def pick_language(language_code: str | None, default: Language) -> Language:
    """The supported language closest to a Telegram `language_code` (e.g. "en-US" → "en")."""
    if language_code:
        primary = language_code.replace("_", "-").split("-", 1)[0].lower()
        if primary in LANGUAGES:
            return primary
    return default


def placeholders(template: str) -> set[str]:
    return {field for _, field, _, _ in string.Formatter().parse(template) if field}


def t(language: str, key: str, /, **params: object) -> str:
    """The message `key` in `language`, with parameters filled in (escaped unless `Html`)."""
    template = catalog(language).get(key)
    if template is None:
        raise MissingTranslation(f"no {language!r} translation for {key!r}")
    if not params:
        return template
    safe = {
        name: value if isinstance(value, Html) else html.escape(str(value), quote=False)
        for name, value in params.items()
    }
    return template.format_map(safe)


@cache
def babel_locale(language: str) -> Locale:
    """Babel's locale for a language, parsed once (not again for every time on a card)."""
    return Locale.parse(BABEL_LOCALES[language])


def format_time(moment: datetime, language: str, zone: ZoneInfo, fmt: str = "medium") -> str:
    """A time as people in the configured zone read it, e.g. "27 Nov 2026 10.02.00"."""
    return format_datetime(moment, format=fmt, tzinfo=zone, locale=babel_locale(language))


def format_clock(moment: datetime, language: str, zone: ZoneInfo) -> str:
    """Hours and minutes with the zone abbreviation, e.g. "10.02 WIB"."""
    local = moment.astimezone(zone)
    return f"{_short_clock(local.hour, local.minute, language)} {zone_label(zone, local)}"


@lru_cache(maxsize=4096)
def _short_clock(hour: int, minute: int, language: str) -> str:
    """Babel's short time of day ("10.02", "10:02 AM"), made once per minute of the day and
    language: every card shows a few, and every press re-renders cards."""
    return babel_format_time(time(hour, minute), "short", locale=babel_locale(language))


def zone_label(zone: ZoneInfo, moment: datetime) -> str:
    # Indonesian zones have well-known names; tzdata only knows them as offsets.
    names = {
        "Asia/Jakarta": "WIB",
        "Asia/Pontianak": "WIB",
        "Asia/Makassar": "WITA",
        "Asia/Jayapura": "WIT",
    }
    return names.get(zone.key) or moment.astimezone(zone).tzname() or zone.key
