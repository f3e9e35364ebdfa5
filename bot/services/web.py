"""Signing in to the web pages: a one-time link sent in Telegram (`/papan`), valid ten minutes
and once, opens a session; every request then asks the access policy again, as a command would,
so a person who loses the role or leaves the agency loses the pages at their next request."""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import parse_qsl

from bot.services.access import AccessService
from bot.settings import Language, Settings
from bot.store import Store
from models.access import Action, Actor, ChatKind, Place, Target, by_role, decide
from models.clock import Clock

LINK_VALID = timedelta(minutes=10)
TOKEN_BYTES = 32  # 256 bits, well over the 128 the sign-in needs
LINK_PATH = "/masuk"
BOARD_PATH = "/board"
SESSION_COOKIE = "siaga112_session"


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


INIT_DATA_MAX_AGE = timedelta(hours=1)  # a Mini App's launch data older than this is refused
CLOCK_SKEW = 60.0  # seconds an auth_date may lie ahead of our clock


def telegram_user(init_data: str, bot_token: str, now: float, max_age: float) -> int | None:
    """The user id a Mini App's `initData` vouches for, checked as Telegram specifies: the
    HMAC-SHA256 of its fields (sorted, `key=value` per line, `hash` left out) under the key
    HMAC-SHA256("WebAppData", bot token) must be its `hash`, and `auth_date` recent. None for
    anything else: a changed field, another bot's signature, a stale launch, a field twice."""
    try:
        pairs = parse_qsl(init_data, keep_blank_values=True, strict_parsing=True)
    except ValueError:
        return None
    fields = dict(pairs)
    if len(fields) != len(pairs):
        return None  # a field given twice: which one was signed?
    given = fields.pop("hash", "")
    check = "\n".join(f"{key}={value}" for key, value in sorted(fields.items()))
    secret = hmac.new(b"WebAppData", bot_token.encode(), hashlib.sha256).digest()
    expected = hmac.new(secret, check.encode(), hashlib.sha256).hexdigest()
    if not given or not hmac.compare_digest(expected, given):
        return None
    try:
        age = now - int(fields.get("auth_date", ""))
        user = json.loads(fields.get("user", ""))
    except ValueError:
        return None
    if not -CLOCK_SKEW <= age <= max_age or not isinstance(user, dict):
        return None
    user_id = user.get("id")
    return user_id if isinstance(user_id, int) and user_id > 0 else None


@dataclass(frozen=True, slots=True)
class Viewer:
    """A signed-in person as the policy sees them now, and which agencies' incidents they see
    (None: all)."""

    actor: Actor
    scope: frozenset[int] | None
    language: Language  # as the bot speaks to them in Telegram

    def may_view(self, target: Target) -> bool:
        """As `/kejadian` in private decides (admins, who see every list, see every incident)."""
        if self.scope is None:
            return True
        return decide(self.actor, Action.VIEW_INCIDENT, Place(ChatKind.PRIVATE), target).allowed


class WebAccess:
    def __init__(
        self, store: Store, clock: Clock, settings: Settings, access: AccessService
    ) -> None:
        self.store = store
        self.clock = clock
        self.settings = settings
        self.access = access
        # Where links point: WEB_PUBLIC_URL, or the address the server got (a port of 0 becomes
        # the one it bound: `bot.web.server` says which once it listens).
        self.base_url = settings.web_url

    def board_url(self) -> str:
        return f"{self.base_url}{BOARD_PATH}"

    async def login_link(self, user_id: int) -> str:
        """A new one-time sign-in link for `user_id`."""
        token = secrets.token_urlsafe(TOKEN_BYTES)
        now = self.clock.now()
        async with self.store.transaction() as tx:
            await tx.add_web_link(_hash(token), user_id, now, now + LINK_VALID)
        return f"{self.base_url}{LINK_PATH}?t={token}"

    async def sign_in_telegram(self, init_data: str) -> str | None:
        """A session for the person a Telegram Mini App says opened it (`initData`, signed with
        the bot's token); None when the signature, the age or the person does not hold."""
        user_id = telegram_user(
            init_data,
            self.settings.require_token(),
            self.clock.now().timestamp(),
            INIT_DATA_MAX_AGE.total_seconds(),
        )
        if user_id is None:
            return None
        return await self._open(user_id)

    async def _open(self, user_id: int) -> str | None:
        session = secrets.token_urlsafe(TOKEN_BYTES)
        async with self.store.transaction() as tx:
            await tx.add_web_session(_hash(session), user_id, self.clock.now())
        return session if await self.viewer(session) is not None else None

    async def sign_in(self, token: str) -> str | None:
        """A session for the link's person (its id, for the cookie); None for a link that is
        unknown, used or expired, or a person who may no longer see the board."""
        now = self.clock.now()
        async with self.store.transaction() as tx:
            user_id = await tx.use_web_link(_hash(token), now)
        if user_id is None:
            return None
        return await self._open(user_id)

    async def viewer(self, session: str | None) -> Viewer | None:
        """Who the session is, checked against the policy now; a session whose person may no
        longer see the board ends here."""
        if not session:
            return None
        async with self.store.read() as tx:
            user_id = await tx.web_session_user(_hash(session))
            if user_id is None:
                return None
            language = await tx.language_of(user_id, self.settings.default_language)
        actor, place = await self.access.actor_and_place(
            user_id=user_id, chat_id=user_id, chat_type="private", thread_id=None
        )
        if not decide(actor, Action.USE_BOARD, place).allowed:
            async with self.store.transaction() as tx:
                await tx.end_web_session(_hash(session), self.clock.now())
            return None
        scope = None if by_role(actor, Action.USE_BOARD) else actor.agency_ids
        return Viewer(actor, scope, language)
