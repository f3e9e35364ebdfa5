"""siaga112: the Telegram coordination hub of a city's 112 emergency service."""

__version__ = "0.1.0"
