"""Thin Telegram handlers, one module per feature, each with `register(app)`.

A handler reads the update, asks `context.services` and answers. May import `models`,
`bot.services` (their result types), `bot.render` and the shared modules at the top of `bot`;
never `bot.store`, `bot.runtime` or `bot.flows` (tests/test_layering.py).
"""
