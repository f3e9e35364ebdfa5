-- 0008_outbox_attempts: when a send to Telegram was started and its outcome is unknown.
--
-- Set just before a message that others will edit (a card, a task card) is sent, and cleared
-- when Telegram's answer is recorded. A row still marked after a crash may have been delivered:
-- it is sent again, and the chat is told that the message may appear twice and which copy counts.

ALTER TABLE outbox ADD COLUMN attempted_at TEXT;
