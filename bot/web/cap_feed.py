"""Broadcast alerts for alert aggregators: an Atom feed of CAP 1.2 alerts at `/cap/feed.atom`,
each alert's CAP document at `/cap/alerts/N.xml` (and a stopped broadcast's Cancel at
`/cap/alerts/N-cancel.xml`). Public when `CAP_FEED_PUBLIC`, otherwise an API key
(`Authorization: Bearer`, read scope) is asked for, as by the API.

Each entry carries its CAP alert inline (`<content type="application/cap+xml">`) and links it;
a stopped broadcast that had gone out has two entries: its Alert, and the Cancel that
references it."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from http import HTTPStatus

from aiohttp import web

from bot.context import App
from bot.services.cap import MsgType, xml_text
from models.broadcast import Broadcast

ATOM = "http://www.w3.org/2005/Atom"
CAP = "urn:oasis:names:tc:emergency:cap:1.2"
# Atom's attributes (rel, href…) have no namespace, so the feed is written with prefixes.
ET.register_namespace("atom", ATOM)
ET.register_namespace("cap", CAP)
CAP_TYPE = "application/cap+xml"
FEED_PATH = "/cap/feed.atom"
FEED_SIZE = 50  # broadcasts in the feed, newest first
TITLE_MAX = 120


def _atom(name: str) -> str:
    return f"{{{ATOM}}}{name}"


def _time(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class CapFeed:
    def __init__(self, app: App) -> None:
        self.app = app
        # The feed as last written, and the broadcast change it was written after: aggregators
        # poll, and most polls find nothing new.
        self._cached: tuple[tuple[int, str], bytes] | None = None

    def routes(self) -> list[tuple[str, str, Callable[[web.Request], Awaitable[web.Response]]]]:
        return [
            ("GET", FEED_PATH, self.feed),
            ("GET", r"/cap/alerts/{number:[0-9]{1,9}}.xml", self.alert),
            ("GET", r"/cap/alerts/{number:[0-9]{1,9}}-cancel.xml", self.cancel),
        ]

    async def _allowed(self, request: web.Request) -> web.Response | None:
        """None when the request may read the feed; else the refusal."""
        services = self.app.bot_data.services
        if services.settings.cap_feed_public:
            return None
        scheme, _, given = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() == "bearer" and await services.api.key_for(given.strip()):
            return None
        return web.json_response(
            {"error": "unauthorized", "message": "send Authorization: Bearer <key>"},
            status=HTTPStatus.UNAUTHORIZED,
            headers={"WWW-Authenticate": 'Bearer realm="siaga112"'},
        )

    async def feed(self, request: web.Request) -> web.Response:
        refused = await self._allowed(request)
        if refused is not None:
            return refused
        services = self.app.bot_data.services
        base = services.web.base_url
        key = (services.changes.broadcast_changes, base)
        if self._cached is None or self._cached[0] != key:
            self._cached = (key, await self._feed(base))
        return web.Response(
            body=self._cached[1], content_type="application/atom+xml", charset="utf-8"
        )

    async def _feed(self, base: str) -> bytes:
        services = self.app.bot_data.services
        broadcasts = await services.broadcasts.cap_feed(FEED_SIZE)
        feed = ET.Element(_atom("feed"))
        ET.SubElement(feed, _atom("id")).text = f"{base}{FEED_PATH}"
        ET.SubElement(feed, _atom("title")).text = "Siaga 112 Kota Palangka Raya — CAP"
        newest = max((_changed(b) for b in broadcasts), default=services.clock.now())
        ET.SubElement(feed, _atom("updated")).text = _time(newest)
        author = ET.SubElement(feed, _atom("author"))
        ET.SubElement(author, _atom("name")).text = "Siaga 112 Kota Palangka Raya"
        ET.SubElement(feed, _atom("link"), rel="self", href=f"{base}{FEED_PATH}")
        for broadcast in broadcasts:
            if broadcast.cancelled_at is not None:
                cancel = await services.broadcasts.cap(broadcast.id, msg_type="Cancel")
                assert cancel is not None
                self._entry(feed, base, broadcast, cancel, "-cancel", broadcast.cancelled_at)
            alert = await services.broadcasts.cap(broadcast.id, msg_type="Alert")
            assert alert is not None
            self._entry(feed, base, broadcast, alert, "", broadcast.sent_at)
        body = ET.tostring(feed, encoding="unicode")
        return f'<?xml version="1.0" encoding="UTF-8"?>\n{body}\n'.encode()

    def _entry(
        self,
        feed: ET.Element,
        base: str,
        broadcast: Broadcast,
        document: bytes,
        suffix: str,
        at: datetime | None,
    ) -> None:
        entry = ET.SubElement(feed, _atom("entry"))
        address = f"{base}/cap/alerts/{broadcast.id}{suffix}.xml"
        ET.SubElement(entry, _atom("id")).text = address
        prefix = "Dibatalkan: " if suffix else ""
        text = " ".join(xml_text(broadcast.text).split())  # no character XML cannot carry
        title = prefix + (text if len(text) <= TITLE_MAX else text[: TITLE_MAX - 1] + "…")
        ET.SubElement(entry, _atom("title")).text = title
        ET.SubElement(entry, _atom("updated")).text = _time(at or broadcast.created_at)
        ET.SubElement(entry, _atom("link"), rel="alternate", type=CAP_TYPE, href=address)
        content = ET.SubElement(entry, _atom("content"), type=CAP_TYPE)
        content.append(ET.fromstring(document))  # noqa: S314 (the bot's own CAP, just made)

    async def alert(self, request: web.Request) -> web.Response:
        return await self._document(request, "Alert")

    async def cancel(self, request: web.Request) -> web.Response:
        return await self._document(request, "Cancel")

    async def _document(self, request: web.Request, kind: MsgType) -> web.Response:
        refused = await self._allowed(request)
        if refused is not None:
            return refused
        services = self.app.bot_data.services
        number = int(request.match_info["number"])
        broadcast = await services.broadcasts.get(number)
        shown = broadcast is not None and broadcast.sent_at is not None
        if not shown or (kind == "Cancel" and broadcast is not None and not broadcast.cancelled_at):
            return web.json_response({"error": "not_found"}, status=HTTPStatus.NOT_FOUND)
        document = await services.broadcasts.cap(number, msg_type=kind)
        assert document is not None
        return web.Response(body=document, content_type=CAP_TYPE, charset="utf-8")


def _changed(broadcast: Broadcast) -> datetime:
    return broadcast.cancelled_at or broadcast.sent_at or broadcast.created_at
