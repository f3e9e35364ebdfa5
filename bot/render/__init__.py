"""Pure functions from domain state and a language to message text and keyboards.

No I/O and no state: the same inputs give the same message. May import `models` and the shared
modules at the top of `bot` (settings, i18n, callbacks, commands); nothing that reads the
store or talks to Telegram.
"""
