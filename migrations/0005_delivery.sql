-- 0005_delivery: updates already handled (a replay changes nothing twice) and chats that refuse
-- the bot (blocked it, never started it, removed it), so it stops retrying there and says so once.

CREATE TABLE processed_updates (
    update_id  INTEGER PRIMARY KEY,
    handled_at TEXT    NOT NULL
);

CREATE TABLE unreachable_chats (
    chat_id     INTEGER PRIMARY KEY,
    reason      TEXT    NOT NULL,
    since       TEXT    NOT NULL,
    notified_at TEXT                            -- admins and coordinators were told
);
