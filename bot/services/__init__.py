"""The services: the bot's rules and operations, each a class built once in `bot.app`.

A service operation is one store transaction in which a state change and the messages it causes
are written together (the outbox sends them). Here live the incident rules (`incidents`),
posting (`publisher`), reminders and escalation (`reminders`), broadcasts and their CAP export
(`broadcasts`, `cap`), the digest, agencies, people, membership, routing, access, erasure, the
conversation mechanism (`conversations`; its flows are in `bot.flows`) and the builders of
outbox messages (`messages`). A service may import `models`, `bot.store`, `bot.render`, other
services and the shared modules at the top of `bot`; never `handlers`, `bot.runtime` or
`bot.flows`.
"""
