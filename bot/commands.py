"""The bot's commands: Indonesian names, English aliases, and who sees them where.

One table feeds the handlers' command names, `/bantuan`, and the command lists Telegram shows
(`setMyCommands`), so the three never disagree.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.i18n import t
from bot.settings import LANGUAGES, Language


def N_(key: str) -> str:
    """Marks a message key for the translation completeness check; returns it unchanged."""
    return key


@dataclass(frozen=True, slots=True)
class Command:
    name: str  # Indonesian name, the default
    alias: str | None  # English alias; both work everywhere
    description_key: str
    in_private: bool = True
    in_groups: bool = False

    @property
    def names(self) -> tuple[str, ...]:
        return (self.name,) if self.alias is None else (self.name, self.alias)

    def name_in(self, language: Language) -> str:
        return self.alias if language == "en" and self.alias else self.name

    def other_name(self, language: Language) -> str | None:
        shown = self.name_in(language)
        others = [name for name in self.names if name != shown]
        return others[0] if others else None

    def description(self, language: Language) -> str:
        return t(language, self.description_key)


START = Command("start", None, N_("cmd.start"), in_private=True, in_groups=True)
HELP = Command("bantuan", "help", N_("cmd.help"), in_private=True, in_groups=True)

ALL_COMMANDS: tuple[Command, ...] = (START, HELP)


def visible_commands(*, private: bool) -> list[Command]:
    """Commands a person can use in this kind of chat (roles narrow this in later features)."""
    return [c for c in ALL_COMMANDS if (c.in_private if private else c.in_groups)]


def telegram_command_list(language: Language, *, private: bool) -> list[tuple[str, str]]:
    """(command, description) pairs for setMyCommands in one language."""
    return [
        (c.name_in(language), c.description(language)) for c in visible_commands(private=private)
    ]


__all__ = ["ALL_COMMANDS", "HELP", "LANGUAGES", "N_", "START", "Command", "telegram_command_list"]
