"""The runtime: what keeps the bot running and talking to Telegram, apart from what it decides.

Here live the start and stop of the application (`running`), durable update handling by long
polling (`updates`) or webhook (`webhook`), the outbox sender (`outbox`), the pacer under
Telegram's limits (`pacing`), the gate every Bot API call passes (`gate`) with the record of what
each message shows (`message_records`), every timed job (`scheduler`) and logging (`logs`). It
may import `models`, `bot.store`, `bot.services`, `bot.render` and the shared modules at the top
of `bot` (settings, i18n, callbacks, commands, hooks, context); never `handlers`.
"""
