"""The conversations the bot has: one module each (see `bot.services.conversations`).

Importing this package registers them; a new conversation is a new module imported here. A flow
may import what a service may (`models`, `bot.store`, `bot.render`, the shared modules at the
top of `bot`) and `bot.services`.
"""

from bot.flows import addition, ask, broadcast, report

__all__ = ["addition", "ask", "broadcast", "report"]
