"""The welcome and help texts."""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.commands import Command, visible_commands
from bot.i18n import Html, t
from bot.settings import Language


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


def welcome_text(language: Language, name: str) -> str:
    commands = command_lines(language, visible_commands(private=True))
    return t(language, "start.welcome", name=name, commands=commands)


def help_text(language: Language, *, private: bool) -> str:
    return "\n\n".join(
        (
            t(language, "help.title"),
            t(language, "help.intro"),
            command_lines(language, visible_commands(private=private)),
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
