"""The welcome and help texts."""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.commands import Command, visible_commands
from bot.i18n import Html, t
from bot.settings import Language
from models.access import Actor, ChatKind, Place


def command_lines(language: Language, commands: list[Command]) -> Html:
    lines = [t(language, "help.commands")]
    for command in commands:
        line = t(
            language,
            "help.command_line",
            command=command.name_in(language),
            description=command.description(language),
        )
        other = command.other_name(language)
        if other:
            line += " " + t(language, "help.command_alias", alias=other)
        lines.append(line)
    return Html("\n".join(lines))


def welcome_text(language: Language, name: str, actor: Actor) -> str:
    commands = visible_commands(private=True, actor=actor, place=Place(ChatKind.PRIVATE))
    return t(language, "start.welcome", name=name, commands=command_lines(language, commands))


def help_text(language: Language, actor: Actor, place: Place) -> str:
    private = place.kind is ChatKind.PRIVATE
    return "\n\n".join(
        (
            t(language, "help.title"),
            t(language, "help.intro"),
            command_lines(language, visible_commands(private=private, actor=actor, place=place)),
            t(language, "help.emergency"),
        )
    )


def group_start_text(language: Language) -> str:
    return t(language, "start.group")


def open_private_keyboard(language: Language, bot_username: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    t(language, "start.open_private"), url=f"https://t.me/{bot_username}"
                )
            ]
        ]
    )
