"""Asking the authorization policy from a handler, and answering a denial."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass

from telegram import Message, Update, User

from bot.context import AppContext
from bot.i18n import t
from bot.render.organisation import denial_text
from bot.services.access import Checked
from bot.settings import Language
from models.access import POLICY, Action, ChatKind, Denial, Target

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Request:
    """A permitted request: who, from where (chat and forum topic), in which language."""

    user: User
    message: Message | None
    checked: Checked
    language: Language
    thread_id: int | None = None


def topic_of(message: Message | None) -> int | None:
    """The forum topic a message was sent in; replies in ordinary groups have none."""
    if message is None or not message.is_topic_message:
        return None
    return message.message_thread_id


async def check_request(
    context: AppContext,
    user: User,
    *,
    chat_id: int,
    chat_type: str,
    thread_id: int | None,
    action: Action,
    target: Target | None,
) -> Checked:
    """The policy's answer for `user` doing `action` from this chat (and topic). A person who
    acts in an agency's group as its members do, without having joined, joins on the way
    (`Membership.join_from_group`) and is asked again."""
    services = context.services

    async def policy() -> Checked:
        return await services.access.check(
            user_id=user.id,
            chat_id=chat_id,
            chat_type=chat_type,
            thread_id=thread_id,
            action=action,
            target=target,
        )

    checked = await policy()
    agency = checked.agency
    if (
        checked.decision.denial is Denial.NOT_MEMBER
        and checked.place.kind is ChatKind.AGENCY_GROUP
        and agency is not None
        and POLICY[action].members
        and not user.is_bot
        and await services.membership.join_from_group(user.id, agency)
    ):
        checked = await policy()
    return checked


def log_denial(action: Action, user: User, chat_id: int, checked: Checked) -> None:
    denial = checked.decision.denial
    log.info(
        "denied %s to user %s in chat %s (%s): %s",
        action.value,
        user.id,
        chat_id,
        checked.place.kind.value,
        denial.value if denial else "?",
    )


async def authorize(
    update: Update, context: AppContext, action: Action, target: Target | None = None
) -> Request | None:
    """The request if the policy allows it; otherwise answer the person and return None.
    For commands and messages; button presses are authorized by `handlers.presses.Press`."""
    user, chat = update.effective_user, update.effective_chat
    if user is None or chat is None:
        return None
    message = update.effective_message
    thread_id = topic_of(message)
    checked = await check_request(
        context,
        user,
        chat_id=chat.id,
        chat_type=chat.type,
        thread_id=thread_id,
        action=action,
        target=target,
    )
    language = context.services.language_of(user)
    if checked.allowed:
        return Request(user, message, checked, language, thread_id)
    log_denial(action, user, chat.id, checked)
    if message is not None:
        await message.reply_text(denial_text(language, checked.decision))
    return None


async def reply(update: Update, text: str, **kwargs: object) -> None:
    """Answer the person's own command in the chat (and topic) it came from."""
    message = update.effective_message
    if message is not None:
        await message.reply_text(text, **kwargs)  # type: ignore[arg-type]


def usage(language: Language, key: str) -> str:
    return t(language, "usage.prefix") + "\n" + t(language, key)


_NUMBER = re.compile(r"#?([0-9]{1,9})")


def number_arg(text: str) -> int | None:
    """A number typed as a command's argument (`12`, `#12`): ASCII digits only, at most nine,
    so "²", "١٢", "-3" and twenty digits are no number (and never reach int() or SQLite)."""
    match = _NUMBER.fullmatch(text.strip())
    return None if match is None else int(match.group(1))


def not_a_number(language: Language, given: str, usage_key: str) -> str:
    """The friendly correction for an argument that is no number."""
    return t(language, "usage.not_a_number", given=given[:20]) + "\n" + usage(language, usage_key)
