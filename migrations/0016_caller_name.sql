-- The name a 112 caller gave the dispatcher (`/baru … | nama`): shown on the card as the
-- reporter's name, since a caller has no Telegram account the bot knows.
ALTER TABLE incidents ADD COLUMN caller_name TEXT;
