-- The 112 operators' feed (`/daftar operator`): every incident's card in the 112 room's group.
-- One active feed, as there is one coordinators' group.
CREATE UNIQUE INDEX agencies_one_operators ON agencies (kind)
    WHERE kind = 'operators' AND active = 1;

-- Whether a copy of an incident is pinned: the feed's copy of a critical incident, while open.
ALTER TABLE incident_posts ADD COLUMN pinned INTEGER NOT NULL DEFAULT 0;

-- What the bot says once in a chat (that pinning there needs admin rights); forgotten when the
-- bot is promoted there, so a later loss of the right is said again.
CREATE TABLE chat_notices (
    chat_id INTEGER NOT NULL,
    notice  TEXT    NOT NULL,
    said_at TEXT    NOT NULL,
    PRIMARY KEY (chat_id, notice)
) WITHOUT ROWID;
