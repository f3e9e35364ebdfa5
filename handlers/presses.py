"""Every button press goes through here, one pipeline for all of them.

1. **Decode** the data into its family's payload (`bot.callbacks`): named fields, checked ranges.
2. **Bind** the press to its message: the pressed data must be among the buttons the bot last
   put on that very message (`bot_messages`). A modified client can send any data on any message
   it can see; a forwarded copy, a deleted or unknown message, data that was never on this
   message, and a button already taken away (a double tap) all stop here.
3. **Hand** it to the family's handler (registered with `route`), which checks the flow's own
   claim where there is one (the reporter's current question, the opener's picker), asks the
   one policy (`Press.authorize`), calls one service and answers.
4. **Answer** exactly once: the handler's answer, a silent one, or, on an unexpected error, the
   apology — which the error handler then does not repeat.

A press refused on the way changes nothing and is logged once at INFO with its reason.
Edits of the pressed message go through `Press` too: they are compared with what the message
shows, so the bot never sends an edit Telegram refuses as "not modified".
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from telegram import (
    CallbackQuery,
    InlineKeyboardMarkup,
    MaybeInaccessibleMessage,
    Message,
    ReplyParameters,
    Update,
    User,
)
from telegram.error import BadRequest
from telegram.ext import CallbackQueryHandler

from bot.callbacks import Button, decode
from bot.context import App, AppContext, Services
from bot.i18n import t
from bot.render.organisation import denial_text
from bot.settings import Language
from handlers.guard import Request, check_request, log_denial
from models.access import Action, Target
from models.shown import Shown, showing

log = logging.getLogger(__name__)

B = TypeVar("B", bound=Button)
QUERY_EXPIRED = "query is too old"


@dataclass(slots=True)
class Press:
    """One press on one message, bound to what that message shows."""

    update: Update
    context: AppContext
    query: CallbackQuery
    user: User
    chat_id: int
    chat_type: str
    message_id: int
    message: Message | None  # None when Telegram left the content out (old or deleted)
    shown: Shown
    language: Language
    answered: bool = False

    @property
    def services(self) -> Services:
        return self.context.services

    @property
    def thread_id(self) -> int | None:
        """The forum topic of the pressed message (recorded, for Telegram may leave it out)."""
        if self.message is not None and self.message.is_topic_message:
            return self.message.message_thread_id
        return self.shown.thread_id

    @property
    def private(self) -> bool:
        """Pressed in the presser's own private chat with the bot."""
        return self.chat_type == "private" and self.chat_id == self.user.id

    async def answer(self, text: str | None = None, *, alert: bool = False) -> None:
        """Answer the press (once; later calls do nothing)."""
        if self.answered:
            return
        self.answered = True
        await answer_query(self.context, self.query, text, alert=alert)

    async def refuse(
        self, reason: str, key: str = "callback.stale", *, text: str | None = None
    ) -> None:
        """A press that changes nothing: log why, and tell the person (`text`, or the message
        under `key`)."""
        log.info(
            "press refused (%s): %r by user %s in chat %s on message %s",
            reason,
            (self.query.data or "")[:64],
            self.user.id,
            self.chat_id,
            self.message_id,
        )
        await self.answer(text or t(self.language, key), alert=True)

    async def authorize(self, action: Action, target: Target | None = None) -> Request | None:
        """The request if the policy allows the presser `action` here; else answer the denial."""
        checked = await check_request(
            self.context,
            self.user,
            chat_id=self.chat_id,
            chat_type=self.chat_type,
            thread_id=self.thread_id,
            action=action,
            target=target,
        )
        if checked.allowed:
            return Request(self.user, self.message, checked, self.language, self.thread_id)
        log_denial(action, self.user, self.chat_id, checked)
        await self.answer(denial_text(self.language, checked.decision), alert=True)
        return None

    # --- changing the pressed message ---

    async def edit(self, text: str, keyboard: InlineKeyboardMarkup | None = None) -> None:
        """Replace the pressed message's text and buttons, unless it shows exactly that."""
        params = {"text": text, "parse_mode": "HTML", "reply_markup": keyboard}
        if self._unchanged("editMessageText", params):
            return
        await self.context.bot.edit_message_text(
            text, chat_id=self.chat_id, message_id=self.message_id, reply_markup=keyboard
        )

    async def set_buttons(self, keyboard: InlineKeyboardMarkup | None) -> None:
        """Replace the pressed message's buttons (None: take them away)."""
        if self._unchanged("editMessageReplyMarkup", {"reply_markup": keyboard}):
            return
        await self.context.bot.edit_message_reply_markup(
            chat_id=self.chat_id, message_id=self.message_id, reply_markup=keyboard
        )

    async def delete(self) -> None:
        """Delete the pressed message (a picker that did its job)."""
        await self.context.bot.delete_message(self.chat_id, self.message_id)

    async def reply(self, text: str, keyboard: InlineKeyboardMarkup | None = None) -> Message:
        """Answer in the chat (and topic) of the pressed message, as a reply to it."""
        return await self.context.bot.send_message(
            self.chat_id,
            text,
            reply_markup=keyboard,
            message_thread_id=self.thread_id,
            reply_parameters=ReplyParameters(self.message_id, allow_sending_without_reply=True),
        )

    def _unchanged(self, method: str, params: dict[str, Any]) -> bool:
        showing_now = showing(method, params)
        if showing_now is None or showing_now.changes(self.shown):
            if showing_now is not None:
                self.shown = showing_now.applied_to(self.shown)
            return False
        return True


async def answer_query(
    context: AppContext, query: CallbackQuery, text: str | None, *, alert: bool
) -> None:
    """Answer a callback query once. A press that waited too long (the bot was down or busy)
    can no longer be answered; what it did still counts, so that is no error."""
    context.bot_data.answered(query.id)
    try:
        await query.answer(text, show_alert=alert)
    except BadRequest as exc:
        if QUERY_EXPIRED not in exc.message.lower():
            raise
        log.info("press %s by user %s came too late to be answered", query.id, query.from_user.id)


PressHandler = Callable[[Press, Any], Awaitable[None]]
Explainer = Callable[[Press, Any], Awaitable[str | None]]


def route(
    app: App,
    family: type[B],
    handler: Callable[[Press, B], Awaitable[None]],
    *,
    explain: Callable[[Press, B], Awaitable[str | None]] | None = None,
) -> None:
    """Presses of `family` go to `handler`. `explain`: for a press of the family on a message
    that no longer carries it (a button taken away since the person's screen showed it), the
    answer that says why — "already acknowledged by …" — or None for the plain one."""
    routes = app.bot_data.press_routes
    if family in routes:
        raise ValueError(f"{family.__name__} is routed already")
    routes[family] = (handler, explain)


async def on_press(update: Update, context: AppContext) -> None:
    """Every callback query: decode, bind, hand over, answer (see the module's docstring)."""
    query = update.callback_query
    if query is None:
        return
    language = context.services.language_of(query.from_user)
    press = await _bind(update, context, query, query.message, language)
    if press is None:
        return
    button = decode(query.data)
    found = context.bot_data.press_routes.get(type(button)) if button is not None else None
    if button is None or found is None:
        await press.refuse("not a button of this version")
        return
    handler, explain = found
    if not press.shown.carries(query.data or ""):
        reason = await explain(press, button) if explain is not None else None
        await press.refuse("not on this message", text=reason)
        return
    try:
        await handler(press, button)
    except Exception:
        if not press.answered:
            await press.answer(t(language, "error.generic"), alert=True)
        raise
    await press.answer()


async def _bind(
    update: Update,
    context: AppContext,
    query: CallbackQuery,
    origin: MaybeInaccessibleMessage | None,
    language: Language,
) -> Press | None:
    """The press with what its message shows, or None after refusing a press on a message the
    bot has no record of (a forwarded copy, a deleted or unknown message)."""
    if origin is None:
        reason = "no message (an inline message)"
        shown = None
    else:
        shown = await context.services.messages.shown(origin.chat.id, origin.message_id)
        reason = "the bot has no record of this message (forwarded, deleted or unknown)"
    if origin is None or shown is None:
        log.info(
            "press refused (%s): %r by user %s", reason, (query.data or "")[:64], query.from_user.id
        )
        await answer_query(context, query, t(language, "callback.stale"), alert=True)
        return None
    return Press(
        update=update,
        context=context,
        query=query,
        user=query.from_user,
        chat_id=origin.chat.id,
        chat_type=origin.chat.type,
        message_id=origin.message_id,
        message=origin if isinstance(origin, Message) else None,
        shown=shown,
        language=language,
    )


def register(app: App) -> None:
    app.add_handler(CallbackQueryHandler(on_press))
