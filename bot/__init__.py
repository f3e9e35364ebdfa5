"""siaga112: the Telegram coordination hub of a city's 112 emergency service.

The packages show the architecture (docs/CONTRIBUTING.md walks through it):

- `bot.app` is the one composition root; `bot.cli` and `bot.demo` are the entry points.
- `bot.services` holds the rules and operations; `bot.flows` the conversations on them.
- `bot.store` holds all SQL; `bot.render` turns state into text and keyboards.
- `bot.runtime` keeps the bot running: updates, the outbox sender, pacing, the scheduler.
- `bot.simulator` is the Telegram Bot API simulator for tests, the demo and the benchmarks.
- The modules at the top (`settings`, `i18n`, `callbacks`, `commands`, `hooks`, `context`) are
  shared by all of them.

Which package may import which is a table in `tests/test_layering.py`, checked on every run.
"""

__version__ = "0.1.0"
