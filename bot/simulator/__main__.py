"""Run a standalone simulator for manual use: ``python -m bot.simulator --port 8081``."""

from __future__ import annotations

import argparse
import asyncio
import contextlib

from bot.simulator.server import TelegramSimulator
from bot.simulator.state import DEFAULT_TOKEN


async def _serve(host: str, port: int, token: str, username: str) -> None:
    async with TelegramSimulator(token, bot_username=username, host=host, port=port) as sim:
        print(f"Telegram simulator at {sim.base_url}", flush=True)
        print(f"  PTB base_url:      {sim.bot_base_url}", flush=True)
        print(f"  PTB base_file_url: {sim.bot_base_file_url}", flush=True)
        print(f"  token:             {token}", flush=True)
        await asyncio.Event().wait()  # until Ctrl-C


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bot.simulator", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8081)
    parser.add_argument("--token", default=DEFAULT_TOKEN)
    parser.add_argument("--bot-username", default="siaga112_bot")
    args = parser.parse_args(argv)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve(args.host, args.port, args.token, args.bot_username))


if __name__ == "__main__":
    main()
