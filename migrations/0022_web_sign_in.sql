-- Signing in to the bot's web pages: one-time links (`/papan`) and the sessions they open. Only
-- SHA-256 hashes of the random tokens are kept, so a copy of the database lets nobody in.
CREATE TABLE web_links (
    token_hash  TEXT    PRIMARY KEY,
    user_id     INTEGER NOT NULL,
    created_at  TEXT    NOT NULL,
    expires_at  TEXT    NOT NULL,
    used_at     TEXT
) WITHOUT ROWID;

CREATE TABLE web_sessions (
    session_hash TEXT    PRIMARY KEY,
    user_id      INTEGER NOT NULL,
    created_at   TEXT    NOT NULL,
    ended_at     TEXT
) WITHOUT ROWID;
