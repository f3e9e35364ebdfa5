"""The board page: one HTML file with its settings and words in the viewer's language; its
script (`static/board.js`) reads the data and the event stream. Leaflet is served from the
package (`static/vendor/leaflet`, from its npm release), never from a CDN: the 112 room's LAN may
be up while the internet is down."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from functools import cache
from importlib.resources import files
from pathlib import Path
from zoneinfo import ZoneInfo

from bot.i18n import N_, t, zone_label
from bot.settings import LANGUAGES, Language, Settings

STATIC = Path(str(files("bot.web") / "static"))

# The page's own words (web.*), passed to it under the name after "web.".
WORDS = (
    N_("web.title"),
    N_("web.drill_title"),
    N_("web.open_count"),
    N_("web.empty"),
    N_("web.more"),
    N_("web.disconnected"),
    N_("web.signed_out"),
    N_("web.age_minutes"),
    N_("web.age_hours"),
    N_("web.age_days"),
    N_("web.late_reminded"),
    N_("web.late_escalated"),
    N_("web.late_due"),
    N_("web.unowned"),
    N_("web.owned_by"),
    N_("web.merged"),
    N_("web.similar"),
    N_("web.drill_tag"),
    N_("web.drill_banner"),
    N_("web.live_view"),
    N_("web.drill_view"),
    N_("web.broadcasts"),
    N_("web.broadcast_counts"),
    N_("web.no_tiles"),
    N_("web.map_label"),
    N_("web.no_point"),
    N_("web.close"),
    N_("web.status"),
    N_("web.place"),
    N_("web.hurt"),
    N_("web.reporter"),
    N_("web.description"),
    N_("web.info"),
    N_("web.said"),
    N_("web.timeline"),
    N_("web.language_name"),
)

# What Intl formats the clock with, per language.
LOCALES: dict[Language, str] = {"id": "id-ID", "en": "en-GB"}


@cache
def _template() -> str:
    return (STATIC / "board.html").read_text(encoding="utf-8")


def _script_json(value: object) -> str:
    """JSON that cannot end the <script> element it sits in."""
    text = json.dumps(value, ensure_ascii=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def page_html(settings: Settings, language: Language, *, wall: bool, drill: bool) -> str:
    zone = ZoneInfo(settings.timezone)
    other = next(code for code in LANGUAGES if code != language)
    labels = {key.removeprefix("web."): t(language, key) for key in WORDS}
    title = labels["drill_title"] if drill else labels["title"]
    config = {
        "lang": language,
        "other_lang": other,
        "other_language_label": t(other, "web.language_name"),
        "locale": LOCALES[language],
        "zone": settings.timezone,
        "zone_label": zone_label(zone, datetime.now(UTC)),
        "wall": wall,
        "drill": drill,
        "tile_url": settings.map_tile_url,
        "tile_attribution": settings.map_tile_attribution,
        "center": [settings.service_area_latitude, settings.service_area_longitude],
        "radius_km": settings.service_area_radius_km,
        "labels": labels,
        "urls": {
            "open": "/board/data/open",
            "incident": "/board/data/incidents/{number}",
            "broadcasts": "/board/data/broadcasts",
            "events": "/board/events",
            "telegram": "/masuk/telegram",
        },
    }
    replacements = {
        "__LANG__": language,
        "__BODY_CLASS__": "wall" if wall else "",
        "__TITLE__": _text(title),
        "__CONFIG__": _script_json(config),
    }
    page = _template()
    for marker, value in replacements.items():
        page = page.replace(marker, value)
    return page


def _text(value: str) -> str:
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def content_security_policy(settings: Settings) -> str:
    """Scripts, styles and data from the bot's own address only; images also from the tile
    server; the page may be framed by Telegram's web client (a Mini App there)."""
    images = "'self' data:"
    tiles = settings.map_tile_url
    if tiles.startswith(("https://", "http://")):
        host = tiles.split("/", 3)[2].replace("{s}", "*")
        images += f" {tiles.split(':', 1)[0]}://{host}"
    return (
        "default-src 'self'; "
        f"img-src {images}; "
        "script-src 'self'; "
        "style-src 'self' 'unsafe-inline'; "
        "connect-src 'self'; "
        "frame-ancestors 'self' https://web.telegram.org https://*.telegram.org; "
        "base-uri 'none'; form-action 'self'"
    )
