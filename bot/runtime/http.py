"""How the bot reaches the Bot API: python-telegram-bot's requests carried by aiohttp.

python-telegram-bot builds every request (the method, its parameters, files) and reads every
answer (errors, `retry_after`, migrations); how the bytes travel is its `BaseRequest`, which it
lets a bot replace. Its own, `HTTPXRequest`, goes through httpx, httpcore, h11 and anyio: about
0.8 ms of CPU per call here, the largest part of what a press of ✅ Terima cost once the store
stopped crossing threads (`docs/benchmarks.md`, figure 1). aiohttp, which already serves the
bot's web pages and webhook, carries the same request in well under half of that (its HTTP
parser is compiled).

Everything python-telegram-bot promises a caller stays: the same parameters (in a JSON body,
which the Bot API takes for every call but uploads), multipart uploads, its timeouts (read,
write, connect, pool; media uploads get the longer write time), `TimedOut` for any of them,
`NetworkError` for the rest, and an outgoing proxy named in the environment (`HTTPS_PROXY`,
`NO_PROXY`). A connection that could not be opened at all is said so (`NOT_CONNECTED`): that
request never left, so the outbox knows no copy of the message can exist.
"""

from __future__ import annotations

import json
from urllib.parse import urlsplit
from urllib.request import getproxies, proxy_bypass

import aiohttp
from telegram._utils.defaultvalue import DefaultValue
from telegram._utils.types import ODVInput
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData

# The start of a NetworkError's message when no connection could be opened (refused, no route,
# no name, TLS refused): the request never reached Telegram.
NOT_CONNECTED = "no connection to the Bot API"


class AiohttpRequest(BaseRequest):
    """A `BaseRequest` on one aiohttp session, with python-telegram-bot's default timeouts."""

    def __init__(
        self,
        *,
        connection_pool_size: int = 256,
        read_timeout: float | None = 5.0,
        write_timeout: float | None = 5.0,
        connect_timeout: float | None = 5.0,
        pool_timeout: float | None = 1.0,
        media_write_timeout: float | None = 20.0,
    ) -> None:
        self._pool_size = connection_pool_size
        self._read_timeout = read_timeout
        self._write_timeout = write_timeout
        self._connect_timeout = connect_timeout
        self._pool_timeout = pool_timeout
        self._media_write_timeout = media_write_timeout
        self._session: aiohttp.ClientSession | None = None
        self._proxies: dict[str, str] = {}
        self._proxy_of: dict[tuple[str, str], str | None] = {}  # (scheme, host) → proxy

    @property
    def read_timeout(self) -> float | None:
        return self._read_timeout

    @property
    def open(self) -> bool:
        """Whether its session is open (between `initialize` and `shutdown`)."""
        return self._session is not None and not self._session.closed

    async def initialize(self) -> None:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=self._pool_size),
                headers={"User-Agent": self.USER_AGENT},
            )
            # An outgoing proxy from the environment (HTTPS_PROXY, NO_PROXY), as
            # python-telegram-bot's own transport honours it: read once here, not on every
            # call as aiohttp's trust_env does (a third of a press's cost, measured).
            self._proxies = getproxies()
            self._proxy_of.clear()

    def _proxy(self, url: str) -> str | None:
        """The proxy a call to `url` goes through, if the environment names one for it."""
        parts = urlsplit(url)
        key = (parts.scheme, parts.hostname or "")
        if key not in self._proxy_of:
            proxy = self._proxies.get(parts.scheme)
            if proxy and proxy_bypass(key[1]):
                proxy = None
            self._proxy_of[key] = proxy or None
        return self._proxy_of[key]

    async def shutdown(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        write_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        connect_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        pool_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        if self._session is None or self._session.closed:
            raise RuntimeError("This AiohttpRequest is not initialized!")
        files = request_data.multipart_data if request_data is not None else None
        read = _given(read_timeout, self._read_timeout)
        connect = _given(connect_timeout, self._connect_timeout)
        pool = _given(pool_timeout, self._pool_timeout)
        write = _given(write_timeout, self._media_write_timeout if files else self._write_timeout)
        timeout = aiohttp.ClientTimeout(
            # aiohttp has no write timeout: the whole exchange is bounded by the sum instead.
            total=_sum(connect, pool, write, read),
            connect=_sum(connect, pool),  # a free connection from the pool, then connected
            sock_connect=connect,
            sock_read=read,
        )
        data: aiohttp.FormData | bytes | None = None
        headers: dict[str, str] | None = None
        if request_data is not None and files:
            form = aiohttp.FormData()
            for name, value in request_data.json_parameters.items():
                form.add_field(name, value)
            for name, (filename, content, mime_type) in files.items():
                form.add_field(name, content, filename=filename, content_type=mime_type)
            data = form
        elif request_data is not None:
            # A JSON body (the Bot API takes one for every call but uploads): PTB's parameters,
            # already made JSON-compatible, encoded at once (`json_payload` would encode each
            # value on its own, twice, and then the strings again).
            data = json.dumps(request_data.parameters).encode()
            headers = {"Content-Type": "application/json"}
        try:
            async with self._session.request(
                method,
                url,
                data=data,
                headers=headers,
                timeout=timeout,
                allow_redirects=False,
                proxy=self._proxy(url),
            ) as response:
                return response.status, await response.read()
        except TimeoutError as exc:
            raise TimedOut from exc
        except aiohttp.ClientConnectorError as exc:
            raise NetworkError(f"{NOT_CONNECTED} ({type(exc).__name__}: {exc})") from exc
        except aiohttp.InvalidURL as exc:
            raise NetworkError("aiohttp.InvalidURL: the Bot API address is not valid") from exc
        except aiohttp.ClientError as exc:
            raise NetworkError(f"aiohttp.{type(exc).__name__}: {exc}") from exc


def _given(value: ODVInput[float], default: float | None) -> float | None:
    """A timeout the caller gave, or this transport's default (PTB passes `DEFAULT_NONE`)."""
    return default if isinstance(value, DefaultValue) else value


def _sum(*timeouts: float | None) -> float | None:
    """The sum of timeouts, or None (no limit) when any of them is unlimited."""
    return None if None in timeouts else sum(t for t in timeouts if t is not None)
