"""The conversations the bot has: one module each (see `bot.conversations`).

Importing this package registers them; a new conversation is a new module imported here.
"""

from bot.flows import broadcast, report

__all__ = ["broadcast", "report"]
