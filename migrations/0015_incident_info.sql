-- 0015_incident_info: information after the first report (models.info).
--
-- One row per question to an incident's reporters, per answer, per addition a reporter sent on
-- their own, and per note a responder wrote for every agency. Kinds and states are validated by
-- the enums in models/info.py (no CHECK lists: a new kind is a new enum member). A reporter's
-- text, photo, location and file are personal data: erasing the reporter scrubs them here.
--
-- A 112 caller joins an incident by a one-time link (`caller_links`) and becomes one of its
-- reporters (`incident_reporters`), who can be asked and can add information.

CREATE TABLE incident_info (
    id           INTEGER PRIMARY KEY,
    incident_id  INTEGER NOT NULL REFERENCES incidents (id),
    kind         TEXT    NOT NULL,   -- models.info.InfoKind
    state        TEXT    NOT NULL,   -- models.info.InfoState
    agency_id    INTEGER REFERENCES agencies (id),   -- who asks or notes; NULL: the operators
    author_id    INTEGER,            -- who asked, answered, added or noted (NULL once erased)
    text         TEXT    NOT NULL DEFAULT '',
    question_id  INTEGER REFERENCES incident_info (id),  -- an answer's question
    question_key TEXT,               -- a one-tap question (models.info.QUESTIONS)
    answer_key   TEXT,               -- a one-tap answer
    photo        TEXT,               -- Telegram file id
    latitude     REAL,
    longitude    REAL,
    file_id      TEXT,               -- a voice note, video, audio or document
    file_kind    TEXT,
    fills        TEXT,               -- models.info.Gap the information answers
    chat_id      INTEGER,            -- where it came from (copied under the cards from there)
    message_id   INTEGER,
    created_at   TEXT    NOT NULL,
    settled_at   TEXT                -- answered, timed out, confirmed, dropped
);

CREATE INDEX incident_info_of_incident ON incident_info (incident_id, id);
-- Questions that still wait, for the sweep that marks them unanswered.
CREATE INDEX incident_info_waiting ON incident_info (created_at)
    WHERE kind = 'question' AND state = 'open';
-- One open question per asker per incident.
CREATE UNIQUE INDEX incident_info_one_open_question ON incident_info (incident_id, author_id)
    WHERE kind = 'question' AND state = 'open';
CREATE INDEX incident_info_author ON incident_info (author_id);

CREATE TABLE incident_reporters (
    incident_id INTEGER NOT NULL REFERENCES incidents (id),
    user_id     INTEGER NOT NULL,
    via         TEXT    NOT NULL,    -- how they joined: 'link' (a 112 caller)
    joined_at   TEXT    NOT NULL,
    PRIMARY KEY (incident_id, user_id)
);

CREATE INDEX incident_reporters_user ON incident_reporters (user_id);

CREATE TABLE caller_links (
    token       TEXT    PRIMARY KEY,
    incident_id INTEGER NOT NULL REFERENCES incidents (id),
    created_by  INTEGER NOT NULL,
    created_at  TEXT    NOT NULL,
    expires_at  TEXT    NOT NULL,
    used_by     INTEGER,
    used_at     TEXT
);
