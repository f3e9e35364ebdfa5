-- 0001_initial: the people the bot has met, and the transactional outbox.
--
-- Every message other people depend on is written to `outbox` in the same transaction as the
-- state change that causes it; the sender delivers it and records the Telegram message id in
-- `message_refs`, so later edits can find the message even after a restart.

CREATE TABLE users (
    id            INTEGER PRIMARY KEY,      -- Telegram user id
    first_name    TEXT,
    last_name     TEXT,
    username      TEXT,
    language_code TEXT,
    started_at    TEXT,                     -- pressed Start in private: the bot may message them
    first_seen_at TEXT NOT NULL,
    last_seen_at  TEXT NOT NULL
);

CREATE INDEX users_username ON users (username COLLATE NOCASE);

CREATE TABLE outbox (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    chat_id     INTEGER NOT NULL,
    method      TEXT    NOT NULL,           -- Bot API method, e.g. sendMessage
    payload     TEXT    NOT NULL,           -- JSON parameters without chat_id / message_id
    priority    INTEGER NOT NULL,           -- lower is sooner (models.outbox.Priority)
    ref         TEXT,                       -- name under which the sent message is remembered
    target_ref  TEXT,                       -- name of the message an edit or delete applies to
    status      TEXT    NOT NULL DEFAULT 'pending'
                CHECK (status IN ('pending', 'sent', 'parked', 'dropped')),
    attempts    INTEGER NOT NULL DEFAULT 0,
    not_before  TEXT    NOT NULL,           -- earliest time of the next attempt (UTC, ISO 8601)
    created_at  TEXT    NOT NULL,
    sent_at     TEXT,
    message_id  INTEGER,                    -- Telegram's id of the (first) message sent
    last_error  TEXT
);

-- The sender reads the oldest pending row of each chat; this keeps that cheap.
CREATE INDEX outbox_pending ON outbox (chat_id, id) WHERE status = 'pending';

CREATE TABLE message_refs (
    ref        TEXT PRIMARY KEY,
    chat_id    INTEGER NOT NULL,
    message_id INTEGER NOT NULL,
    updated_at TEXT    NOT NULL
);
