"""`siaga112 play`: the real bot against the built-in simulator with the demo city, and a local
web page where a person acts as anyone in it (`bot.playground.server`)."""
