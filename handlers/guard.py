"""Asking the authorization policy from a handler, and answering a denial."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from telegram import Message, Update, User

from bot.access import Checked, check
from bot.context import AppContext
from bot.i18n import t
from bot.render.organisation import denial_text
from bot.settings import Language
from models.access import Action, Target

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Request:
    """A permitted request: who, from where, in which language."""

    user: User
    message: Message | None
    checked: Checked
    language: Language

    @property
    def thread_id(self) -> int | None:
        return topic_of(self.message)


def topic_of(message: Message | None) -> int | None:
    """The forum topic a message was sent in; replies in ordinary groups have none."""
    if message is None or not message.is_topic_message:
        return None
    return message.message_thread_id


async def authorize(
    update: Update, context: AppContext, action: Action, target: Target | None = None
) -> Request | None:
    """The request if the policy allows it; otherwise answer the person and return None."""
    user, chat = update.effective_user, update.effective_chat
    if user is None or chat is None:
        return None
    services = context.services
    message = update.effective_message
    if update.callback_query is not None:
        message = (
            update.callback_query.message
            if isinstance(update.callback_query.message, Message)
            else None
        )
    async with services.store.lookup() as tx:  # check reads all it needs in one query
        checked = await check(
            tx,
            services.settings,
            user_id=user.id,
            chat_id=chat.id,
            chat_type=chat.type,
            thread_id=topic_of(message),
            action=action,
            target=target,
        )
    language = services.language_of(user)
    if checked.allowed:
        return Request(user, message, checked, language)
    denial = checked.decision.denial
    log.info(
        "denied %s to user %s in chat %s (%s): %s",
        action.value,
        user.id,
        chat.id,
        checked.place.kind.value,
        denial.value if denial else "?",
    )
    text = denial_text(language, checked.decision)
    if update.callback_query is not None:
        await update.callback_query.answer(text, show_alert=True)
    elif update.effective_message is not None:
        await update.effective_message.reply_text(text)
    return None


async def reply(update: Update, text: str, **kwargs: object) -> None:
    """Answer the person's own command in the chat (and topic) it came from."""
    message = update.effective_message
    if message is not None:
        await message.reply_text(text, **kwargs)  # type: ignore[arg-type]


def usage(language: Language, key: str) -> str:
    return t(language, "usage.prefix") + "\n" + t(language, key)


async def answer_stale(update: Update, context: AppContext) -> None:
    """A press whose data no longer means anything (an old, forged or malformed button): say so
    politely, change nothing."""
    query = update.callback_query
    assert query is not None
    log.info("stale or forged press %r by %s", (query.data or "")[:64], query.from_user.id)
    await query.answer(
        t(context.services.language_of(query.from_user), "callback.stale"), show_alert=True
    )
