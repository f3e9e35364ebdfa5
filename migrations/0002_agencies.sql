-- 0002_agencies: agencies and their chats, routing rules, roles, membership and duty, and the
-- chats the bot has been added to. Also what people may share or withdraw about themselves.

ALTER TABLE users ADD COLUMN phone TEXT;          -- only when they shared their own contact
ALTER TABLE users ADD COLUMN forgotten_at TEXT;   -- /lupakan: personal data erased at this time

CREATE TABLE agencies (
    id            INTEGER PRIMARY KEY,
    code          TEXT    NOT NULL UNIQUE,        -- short slug: damkar, dinkes, bpbd, relawan …
    name          TEXT    NOT NULL,
    kind          TEXT    NOT NULL DEFAULT 'agency' CHECK (kind IN ('agency', 'coordinators')),
    chat_id       INTEGER NOT NULL,
    thread_id     INTEGER,                        -- forum topic the agency lives in, if any
    active        INTEGER NOT NULL DEFAULT 1,
    reachable     INTEGER NOT NULL DEFAULT 1,     -- 0 after the bot was removed from the chat
    registered_by INTEGER,
    registered_at TEXT    NOT NULL,
    updated_at    TEXT    NOT NULL
);

-- One active agency per chat or forum topic, and one coordinators' group.
CREATE UNIQUE INDEX agencies_place ON agencies (chat_id, COALESCE(thread_id, 0)) WHERE active = 1;
CREATE UNIQUE INDEX agencies_one_coordinators ON agencies (kind)
    WHERE kind = 'coordinators' AND active = 1;

-- Which agencies (by code) an incident type goes to. Codes, not ids, so the defaults below
-- apply as soon as agencies with these codes are registered.
CREATE TABLE routes (
    incident_type TEXT NOT NULL,
    agency_code   TEXT NOT NULL,
    PRIMARY KEY (incident_type, agency_code)
);

INSERT INTO routes (incident_type, agency_code) VALUES
    ('kebakaran', 'damkar'), ('kebakaran', 'relawan'),
    ('karhutla', 'damkar'), ('karhutla', 'bpbd'), ('karhutla', 'relawan'),
    ('medis', 'dinkes'),
    ('kecelakaan', 'dinkes'), ('kecelakaan', 'polisi'),
    ('banjir', 'bpbd'),
    ('penyelamatan', 'basarnas'), ('penyelamatan', 'damkar'),
    ('hewan', 'damkar'),
    ('runtuh', 'bpbd'), ('runtuh', 'damkar'), ('runtuh', 'dinkes');

CREATE TABLE user_roles (
    user_id    INTEGER NOT NULL REFERENCES users (id),
    role       TEXT    NOT NULL CHECK (role IN ('admin', 'koordinator', 'dispatcher', 'petugas')),
    granted_by INTEGER,
    granted_at TEXT    NOT NULL,
    PRIMARY KEY (user_id, role)
);

CREATE TABLE memberships (
    agency_id       INTEGER NOT NULL REFERENCES agencies (id),
    user_id         INTEGER NOT NULL REFERENCES users (id),
    joined_at       TEXT    NOT NULL,
    on_duty         INTEGER NOT NULL DEFAULT 0,
    duty_until      TEXT,                         -- automatic end of duty, if one was given
    duty_changed_at TEXT,
    PRIMARY KEY (agency_id, user_id)
);

CREATE INDEX memberships_user ON memberships (user_id);

-- Every group the bot has been in, registered or not.
CREATE TABLE known_chats (
    chat_id     INTEGER PRIMARY KEY,
    type        TEXT    NOT NULL,
    title       TEXT,
    bot_status  TEXT    NOT NULL,                 -- member, administrator, left, kicked
    greeted_at  TEXT,                             -- told once that it is not registered
    migrated_to INTEGER,                          -- became this supergroup
    updated_at  TEXT    NOT NULL
);
