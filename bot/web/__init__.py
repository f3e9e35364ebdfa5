"""The bot's one web server: `/healthz` now; the board, the API and the feeds will live here."""
