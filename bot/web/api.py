"""The HTTP API under `/api/v1`, on the bot's web server: the call centre files 112 calls,
reads incidents and adds notes; `/api/v1/openapi.json` documents it from the same pydantic
models that check each request (`models.api`).

Every request carries `Authorization: Bearer <key>` (`siaga112 apikey create`). Bad input gets
a clear 4xx with per-field errors, never a 500; each request is logged with the key's name,
never the key."""

from __future__ import annotations

import json
import logging
import math
import time
from collections import deque
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from http import HTTPStatus
from typing import Any

from aiohttp import web
from pydantic import BaseModel, ValidationError

from bot.context import App
from bot.services.api import PAGE_MAX, Detail
from bot.store import ApiKey
from models.api import (
    AgencyOut,
    CallerOut,
    ErrorOut,
    EventOut,
    FiledOut,
    IncidentIn,
    IncidentOut,
    NoteIn,
    NoteOut,
    PageOut,
    PointOut,
    Scope,
    field_errors,
)
from models.incidents import IncidentView, TimelineEvent
from models.info import InfoOutcome

log = logging.getLogger(__name__)

PREFIX = "/api/v1"
BODY_MAX = 64 * 1024  # bytes: a call is a few hundred
WINDOW = 60.0  # seconds of the per-key rate

Handler = Callable[[web.Request, ApiKey], Awaitable[web.Response]]


def _error(status: HTTPStatus, error: str, message: str) -> web.Response:
    body = ErrorOut(error=error, message=message).model_dump(mode="json", exclude_none=True)
    return web.json_response(body, status=status)


def _answer(model: BaseModel, status: HTTPStatus = HTTPStatus.OK) -> web.Response:
    return web.json_response(model.model_dump(mode="json"), status=status)


class _Refused(Exception):
    def __init__(self, response: web.Response) -> None:
        self.response = response


class Api:
    def __init__(self, app: App) -> None:
        self.app = app
        self._calls: dict[int, deque[float]] = {}

    def routes(self) -> list[tuple[str, str, Callable[[web.Request], Awaitable[web.Response]]]]:
        return [
            ("GET", f"{PREFIX}/openapi.json", self.openapi),
            ("POST", f"{PREFIX}/incidents", self._guarded(self.file, Scope.WRITE)),
            ("GET", f"{PREFIX}/incidents", self._guarded(self.page, Scope.READ)),
            ("GET", PREFIX + "/incidents/{number}", self._guarded(self.incident, Scope.READ)),
            (
                "POST",
                PREFIX + "/incidents/{number}/notes",
                self._guarded(self.note, Scope.WRITE),
            ),
        ]

    # --- every request: the key, its scope, its rate, the log line ---

    def _guarded(
        self, handler: Handler, scope: Scope
    ) -> Callable[[web.Request], Awaitable[web.Response]]:
        async def guarded(request: web.Request) -> web.Response:
            key: ApiKey | None = None
            response: web.Response | None = None
            try:
                key = await self._key(request)
                if scope is Scope.WRITE and key.scope is not Scope.WRITE:
                    raise _Refused(
                        _error(HTTPStatus.FORBIDDEN, "forbidden", "this key may only read")
                    )
                self._rate(key)
                response = await handler(request, key)
            except _Refused as refused:
                response = refused.response
            finally:  # every request, also one that failed inside, with the key's name only
                log.info(
                    "api %s %s → %s (%s)",
                    request.method,
                    request.path,
                    response.status if response is not None else "failed",
                    key.name if key is not None else "no valid key",
                )
            return response

        return guarded

    async def _key(self, request: web.Request) -> ApiKey:
        scheme, _, given = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not given.strip():
            raise _Refused(_unauthorized("send Authorization: Bearer <key>"))
        key = await self.app.bot_data.services.api.key_for(given.strip())
        if key is None:
            raise _Refused(_unauthorized("unknown or revoked key"))
        return key

    def _rate(self, key: ApiKey) -> None:
        limit = self.app.bot_data.services.settings.api_rate_per_minute
        now = time.monotonic()
        calls = self._calls.setdefault(key.id, deque())
        while calls and calls[0] <= now - WINDOW:
            calls.popleft()
        if len(calls) >= limit:
            wait = max(1, math.ceil(calls[0] + WINDOW - now))
            response = _error(
                HTTPStatus.TOO_MANY_REQUESTS,
                "rate_limited",
                f"more than {limit} requests a minute; try again in {wait} s",
            )
            response.headers["Retry-After"] = str(wait)
            raise _Refused(response)
        calls.append(now)

    async def _body(self, request: web.Request) -> dict[str, Any]:
        if (request.content_length or 0) > BODY_MAX:
            raise _Refused(_too_large())
        raw = bytearray()
        async for chunk in request.content.iter_chunked(16 * 1024):  # all of it, however sent
            raw += chunk
            if len(raw) > BODY_MAX:
                raise _Refused(_too_large())
        try:
            data = json.loads(raw.decode("utf-8"), parse_constant=_no_constant)
        except (UnicodeDecodeError, ValueError, RecursionError) as exc:
            raise _Refused(
                _error(HTTPStatus.BAD_REQUEST, "invalid_json", f"the body is not JSON: {exc}")
            ) from None
        if not isinstance(data, dict):
            raise _Refused(_invalid([{"field": "body", "message": "expected a JSON object"}]))
        return data

    # --- the operations ---

    async def file(self, request: web.Request, key: ApiKey) -> web.Response:
        data = await self._body(request)
        try:
            call = IncidentIn.model_validate(data)
        except ValidationError as exc:
            return _invalid(field_errors(exc.errors()))
        services = self.app.bot_data.services
        filed = await services.api.file(key, call)
        view = await services.incidents.view(filed.number)
        assert view is not None
        out = FiledOut(
            number=filed.number,
            status=view.status.value,
            lifecycle=view.incident.lifecycle.value,
            created=filed.created,
        )
        return _answer(out, HTTPStatus.CREATED if filed.created else HTTPStatus.OK)

    async def incident(self, request: web.Request, key: ApiKey) -> web.Response:
        number = _number(request.match_info["number"])
        detail = await self.app.bot_data.services.api.detail(key, number) if number else None
        if detail is None:
            return _error(HTTPStatus.NOT_FOUND, "not_found", f"no incident #{number or '?'}")
        return _answer(incident_out(detail.view, detail))

    async def page(self, request: web.Request, key: ApiKey) -> web.Response:
        query = request.query
        problems = []
        status = query.get("status", "all")
        if status not in ("open", "closed", "all"):
            problems.append({"field": "status", "message": "open, closed or all"})
        since = None
        if "since" in query:
            try:
                since = datetime.fromisoformat(query["since"])
                if since.tzinfo is None:
                    raise ValueError("no time zone")
                since = since.astimezone(UTC)  # year 1 at +01:00 is before year 1 in UTC
            except (ValueError, OverflowError):
                problems.append({"field": "since", "message": "an ISO 8601 time with its zone"})
        after = _number(query.get("after", "0"), allow_zero=True)
        if after is None:
            problems.append({"field": "after", "message": "an incident number"})
        limit = _number(query.get("limit", "50"))
        if limit is None or limit > PAGE_MAX:
            problems.append({"field": "limit", "message": f"1 to {PAGE_MAX}"})
        if problems:
            return _invalid(problems)
        assert after is not None and limit is not None
        open_only = {"open": True, "closed": False}.get(status)
        views = await self.app.bot_data.services.api.page(
            open_only=open_only, since=since, after=after, limit=limit
        )
        more = len(views) == limit
        out = PageOut(
            incidents=[incident_out(v) for v in views],
            next_after=views[-1].incident.id if views and more else None,
        )
        return _answer(out)

    async def note(self, request: web.Request, key: ApiKey) -> web.Response:
        number = _number(request.match_info["number"])
        data = await self._body(request)
        try:
            note = NoteIn.model_validate(data)
        except ValidationError as exc:
            return _invalid(field_errors(exc.errors()))
        done = await self.app.bot_data.services.api.note(key, number or 0, note.text)
        if done.outcome is InfoOutcome.NOT_FOUND:
            return _error(HTTPStatus.NOT_FOUND, "not_found", f"no incident #{number or '?'}")
        if done.outcome is InfoOutcome.CLOSED:
            return _error(HTTPStatus.CONFLICT, "closed", f"#{number} is closed")
        return _answer(NoteOut(number=number or 0, note=note.text), HTTPStatus.CREATED)

    async def openapi(self, request: web.Request) -> web.Response:
        return web.json_response(openapi_document())


def _number(text: str, *, allow_zero: bool = False) -> int | None:
    """An incident number from the path or query: ASCII digits, at most nine."""
    if not text.isascii() or not text.isdigit() or len(text) > 9:
        return None
    value = int(text)
    return value if value > 0 or allow_zero else None


def _no_constant(name: str) -> None:
    raise ValueError(f"{name} is not a number JSON allows")


def _unauthorized(message: str) -> web.Response:
    response = _error(HTTPStatus.UNAUTHORIZED, "unauthorized", message)
    response.headers["WWW-Authenticate"] = 'Bearer realm="siaga112"'
    return response


def _too_large() -> web.Response:
    return _error(
        HTTPStatus.REQUEST_ENTITY_TOO_LARGE, "too_large", f"the body is over {BODY_MAX} bytes"
    )


def _invalid(errors: list[dict[str, str]]) -> web.Response:
    return web.json_response(
        {"error": "invalid", "message": "the request does not hold", "errors": errors},
        status=HTTPStatus.UNPROCESSABLE_ENTITY,
    )


def _event(event: TimelineEvent) -> EventOut:
    return EventOut(kind=event.kind, at=event.at, agency=event.agency_code, actor=event.actor_name)


def incident_out(view: IncidentView, detail: Detail | None = None) -> IncidentOut:
    incident = view.incident
    location = incident.location
    mine = detail is not None and detail.external_id is not None
    return IncidentOut(
        number=incident.id,
        type=incident.type.value,
        severity=incident.severity.value,
        status=view.status.value,
        lifecycle=incident.lifecycle.value,
        source=incident.source.value,
        reported_at=incident.created_at,
        updated_at=incident.updated_at,
        closed_at=incident.closed_at,
        location=PointOut(lat=location.latitude, lon=location.longitude, address=location.address),
        description=incident.description,
        hurt=incident.hurt.value,
        hurt_count=incident.hurt_count,
        merged_into=incident.merged_into,
        agencies=[
            AgencyOut(
                code=r.agency_code,
                name=r.agency_name,
                state=r.status.value,
                acknowledged_at=r.acknowledged_at,
                acknowledged_by=r.acknowledged_by_name,
                since=r.updated_at,
            )
            for r in view.responses
        ],
        external_id=detail.external_id if detail is not None else None,
        caller=CallerOut(name=incident.reporter_name, phone=incident.reporter_phone)
        if mine
        else None,
        timeline=[_event(e) for e in detail.events] if detail is not None else None,
    )


def openapi_document() -> dict[str, Any]:
    """OpenAPI 3.1, its schemas generated from the models that check the requests."""
    models: list[type[BaseModel]] = [
        IncidentIn,
        NoteIn,
        FiledOut,
        IncidentOut,
        PageOut,
        NoteOut,
        ErrorOut,
    ]
    schemas: dict[str, Any] = {}
    for model in models:
        schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
        schemas.update(schema.pop("$defs", {}))
        schemas[model.__name__] = schema

    def ref(name: str) -> dict[str, Any]:
        return {"$ref": f"#/components/schemas/{name}"}

    def answer(description: str, name: str = "ErrorOut") -> dict[str, Any]:
        return {"description": description, "content": {"application/json": {"schema": ref(name)}}}

    errors = {
        "401": answer("no key, or a wrong or revoked one"),
        "429": answer("over the key's rate; see Retry-After"),
    }
    writing = {
        **errors,
        "400": answer("the body is not JSON"),
        "403": answer("a read key writing"),
        "413": answer(f"the body is over {BODY_MAX} bytes"),
        "422": answer("per-field errors"),
    }
    number = {"name": "number", "in": "path", "required": True, "schema": {"type": "integer"}}
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "siaga112 API",
            "version": "1",
            "description": "112 calls in, incidents out, for the call centre's software.",
        },
        "servers": [{"url": PREFIX}],
        "components": {
            "schemas": schemas,
            "securitySchemes": {"key": {"type": "http", "scheme": "bearer"}},
        },
        "security": [{"key": []}],
        "paths": {
            "/incidents": {
                "post": {
                    "summary": "File a 112 call (idempotent by external_id)",
                    "requestBody": {
                        "required": True,
                        "content": {"application/json": {"schema": ref("IncidentIn")}},
                    },
                    "responses": {
                        "201": answer("filed", "FiledOut"),
                        "200": answer("this external_id was filed before", "FiledOut"),
                        **writing,
                    },
                },
                "get": {
                    "summary": "Incidents by number, paged",
                    "parameters": [
                        {"name": n, "in": "query", "schema": {"type": "string"}}
                        for n in ("status", "since", "after", "limit")
                    ],
                    "responses": {
                        "200": answer("a page", "PageOut"),
                        "422": answer("bad parameters"),
                        **errors,
                    },
                },
            },
            "/incidents/{number}": {
                "get": {
                    "summary": "One incident with its agencies and timeline",
                    "parameters": [number],
                    "responses": {
                        "200": answer("the incident", "IncidentOut"),
                        "404": answer("no such incident"),
                        **errors,
                    },
                }
            },
            "/incidents/{number}/notes": {
                "post": {
                    "summary": "A note for every agency on the incident",
                    "parameters": [number],
                    "requestBody": {
                        "required": True,
                        "content": {"application/json": {"schema": ref("NoteIn")}},
                    },
                    "responses": {
                        "201": answer("posted", "NoteOut"),
                        "404": answer("no such incident"),
                        "409": answer("the incident is closed"),
                        **writing,
                    },
                }
            },
        },
    }
