"""Telegram Bot API simulator for tests, the demo and benchmarks.

A local HTTP server speaking the Bot API shapes PTB parses (`server.TelegramSimulator`), holding
people, chats and messages (`state`), with Telegram's validation (`methods`, `entities`), group
privacy mode, flood limits and injectable faults (`limits`). It stands alone: it imports nothing
of the project outside `bot.simulator`, so it is Telegram, not a reflection of the bot.
"""

from bot.simulator.limits import Faults, RateLimits
from bot.simulator.models import (
    ApiCall,
    ApiError,
    SimCallbackQuery,
    SimChat,
    SimEvent,
    SimMessage,
    SimStats,
    SimUser,
)
from bot.simulator.server import TelegramSimulator

__all__ = [
    "ApiCall",
    "ApiError",
    "Faults",
    "RateLimits",
    "SimCallbackQuery",
    "SimChat",
    "SimEvent",
    "SimMessage",
    "SimStats",
    "SimUser",
    "TelegramSimulator",
]
