-- 0014_kinds_without_check_lists: no column lists its allowed kinds or statuses any more.
--
-- Kinds and statuses are validated by the enums in models/ (OutboxStatus, AgencyKind, Role,
-- Severity, Lifecycle, Source, Hurt, ResponseStatus, AssignmentStatus, BroadcastStatus, Urgency,
-- TargetKind, ReminderKind, ReminderState): the store writes their values and reads every row
-- back through them, so a value no enum knows fails loudly on read. A new kind is a new enum
-- member, not a rebuild of its table (reminders were rebuilt in 0009 for one new kind).
--
-- SQLite cannot drop a CHECK in place, so the eight tables that had such lists are rebuilt
-- (https://www.sqlite.org/lang_altertable.html#otheralter), each with its columns in the same
-- order, types and defaults, every row (and rowid), index and trigger. What stays: NOT NULL,
-- UNIQUE, primary and foreign keys, and the CHECKs that tie columns together (a reminder is
-- about a broadcast exactly when it names a broadcast and a chat and no incident), although they
-- name a kind.
--
-- Foreign keys stay on: the migrator runs this file in one transaction, where they cannot be
-- switched off, so violations are deferred to the commit, where none may remain. That rules out
-- the usual build-new-then-rename (0009, 0012) for the tables others refer to (agencies,
-- broadcasts, incidents): dropping one counts a violation for each row referring to it, and only
-- rows put back into a table of that same name count them off again. So the rows of those three,
-- and of the rebuilt tables referring to them, are set aside in plain copies; the old tables are
-- dropped, referring ones first; each new table is created under its own name and filled from its
-- copy, referred-to ones first. outbox and user_roles, linked to no rebuilt table, are built new
-- and renamed.

PRAGMA defer_foreign_keys = ON;

-- With foreign keys on, a row put back that refers to a row that does not exist (only possible if
-- it was written with them off, by hand) would fail the commit with no word of why: stop first,
-- saying so. Nothing is changed; PRAGMA foreign_key_check lists the rows to mend.
CREATE TEMP TABLE migration_0014_guard (
    intact INTEGER
        CONSTRAINT "rows refer to missing rows: see PRAGMA foreign_key_check" CHECK (intact)
);

INSERT INTO migration_0014_guard
SELECT NOT (SELECT foreign_keys FROM pragma_foreign_keys)
    OR NOT EXISTS (SELECT 1 FROM pragma_foreign_key_check('incidents')
                      UNION ALL SELECT 1 FROM pragma_foreign_key_check('responses')
                      UNION ALL SELECT 1 FROM pragma_foreign_key_check('assignments')
                      UNION ALL SELECT 1 FROM pragma_foreign_key_check('reminders'));

DROP TABLE migration_0014_guard;

-- outbox: nothing refers to it and it refers to nothing. Built new and renamed, its AUTOINCREMENT
-- counter carried over (ids of rows already deleted are never handed out again).
CREATE TABLE outbox_new (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    chat_id     INTEGER NOT NULL,
    method      TEXT    NOT NULL,           -- Bot API method, e.g. sendMessage
    payload     TEXT    NOT NULL,           -- JSON parameters without chat_id / message_id
    priority    INTEGER NOT NULL,           -- lower is sooner (models.outbox.Priority)
    ref         TEXT,                       -- name under which the sent message is remembered
    target_ref  TEXT,                       -- name of the message an edit or delete applies to
    status      TEXT    NOT NULL DEFAULT 'pending',  -- models.outbox.OutboxStatus
    attempts    INTEGER NOT NULL DEFAULT 0,
    not_before  TEXT    NOT NULL,           -- earliest time of the next attempt (UTC, ISO 8601)
    created_at  TEXT    NOT NULL,
    sent_at     TEXT,
    message_id  INTEGER,                    -- Telegram's id of the (first) message sent
    last_error  TEXT,
    fallback    TEXT,
    attempted_at TEXT,
    shows       TEXT                        -- what a sent row put on its message (0011)
);

INSERT INTO outbox_new (id, chat_id, method, payload, priority, ref, target_ref, status, attempts,
                        not_before, created_at, sent_at, message_id, last_error, fallback,
                        attempted_at, shows)
SELECT id, chat_id, method, payload, priority, ref, target_ref, status, attempts, not_before,
       created_at, sent_at, message_id, last_error, fallback, attempted_at, shows
  FROM outbox;

DELETE FROM sqlite_sequence WHERE name = 'outbox_new';

INSERT INTO sqlite_sequence (name, seq) SELECT 'outbox_new', seq FROM sqlite_sequence
 WHERE name = 'outbox';

DROP TABLE outbox;

ALTER TABLE outbox_new RENAME TO outbox;

CREATE INDEX outbox_pending ON outbox (chat_id, id) WHERE status = 'pending';

CREATE INDEX outbox_pending_ref ON outbox (ref) WHERE status = 'pending' AND ref IS NOT NULL;

CREATE INDEX outbox_pending_target ON outbox (target_ref)
    WHERE status = 'pending' AND target_ref IS NOT NULL;

-- The triggers of 0011, as they were.
CREATE TRIGGER outbox_sent_shows_message AFTER UPDATE OF status ON outbox
WHEN NEW.status = 'sent' AND OLD.status = 'pending' AND NEW.shows IS NOT NULL
     AND NEW.message_id IS NOT NULL
     AND NEW.method NOT IN ('editMessageText', 'editMessageCaption', 'editMessageReplyMarkup')
     AND (NEW.ref IS NOT NULL OR json_array_length(NEW.shows, '$.buttons') > 0)
BEGIN
    INSERT INTO bot_messages (chat_id, message_id, ref, thread_id, text_digest, markup_digest,
                              buttons, updated_at)
    VALUES (NEW.chat_id, NEW.message_id, NEW.ref, json_extract(NEW.payload, '$.message_thread_id'),
            json_extract(NEW.shows, '$.text'), json_extract(NEW.shows, '$.markup'),
            json_extract(NEW.shows, '$.buttons'), NEW.sent_at)
    ON CONFLICT (chat_id, message_id) DO UPDATE SET
        ref = COALESCE(excluded.ref, ref),
        thread_id = COALESCE(excluded.thread_id, thread_id),
        text_digest = excluded.text_digest,
        markup_digest = excluded.markup_digest,
        buttons = excluded.buttons,
        updated_at = excluded.updated_at;
END;

CREATE TRIGGER outbox_sent_shows_edit AFTER UPDATE OF status ON outbox
WHEN NEW.status = 'sent' AND OLD.status = 'pending' AND NEW.shows IS NOT NULL
     AND NEW.method IN ('editMessageText', 'editMessageCaption', 'editMessageReplyMarkup')
BEGIN
    INSERT INTO bot_messages (chat_id, message_id, ref, text_digest, markup_digest, buttons,
                              updated_at)
    SELECT r.chat_id, r.message_id, r.ref, json_extract(NEW.shows, '$.text'),
           json_extract(NEW.shows, '$.markup'), json_extract(NEW.shows, '$.buttons'), NEW.sent_at
      FROM message_refs r WHERE r.ref = NEW.target_ref
    ON CONFLICT (chat_id, message_id) DO UPDATE SET
        text_digest = COALESCE(excluded.text_digest, text_digest),
        markup_digest = excluded.markup_digest,
        buttons = excluded.buttons,
        updated_at = excluded.updated_at;
END;

CREATE TRIGGER outbox_sent_forgets_message AFTER UPDATE OF status ON outbox
WHEN NEW.status = 'sent' AND OLD.status = 'pending' AND NEW.method = 'deleteMessage'
BEGIN
    DELETE FROM bot_messages
     WHERE (chat_id, message_id) IN (SELECT chat_id, message_id FROM message_refs
                                      WHERE ref = NEW.target_ref);
END;

-- user_roles: refers only to users, which stays. Built new and renamed.
CREATE TABLE user_roles_new (
    user_id    INTEGER NOT NULL REFERENCES users (id),
    role       TEXT    NOT NULL,                -- models.agencies.Role
    granted_by INTEGER,
    granted_at TEXT    NOT NULL,
    PRIMARY KEY (user_id, role)
);

INSERT INTO user_roles_new (rowid, user_id, role, granted_by, granted_at)
SELECT rowid, user_id, role, granted_by, granted_at FROM user_roles;

DROP TABLE user_roles;

ALTER TABLE user_roles_new RENAME TO user_roles;

-- The tables linked by foreign keys: their rows set aside, in tables without constraints (the
-- rowid too where it is not the id).
CREATE TABLE agencies_kept AS SELECT * FROM agencies;

CREATE TABLE broadcasts_kept AS SELECT * FROM broadcasts;

CREATE TABLE incidents_kept AS SELECT * FROM incidents;

CREATE TABLE responses_kept AS SELECT rowid AS kept_rowid, * FROM responses;

CREATE TABLE assignments_kept AS SELECT * FROM assignments;

CREATE TABLE reminders_kept AS SELECT * FROM reminders;

-- Referring tables first: then nothing of theirs refers to the ones dropped after them.
DROP TABLE reminders;

DROP TABLE assignments;

DROP TABLE responses;

DROP TABLE incidents;

DROP TABLE broadcasts;

DROP TABLE agencies;

-- Referred-to tables first: each row put back counts off the violations its drop counted.
CREATE TABLE agencies (
    id            INTEGER PRIMARY KEY,
    code          TEXT    NOT NULL UNIQUE,        -- short slug: damkar, dinkes, bpbd, relawan …
    name          TEXT    NOT NULL,
    kind          TEXT    NOT NULL DEFAULT 'agency',  -- models.agencies.AgencyKind
    chat_id       INTEGER NOT NULL,
    thread_id     INTEGER,                        -- forum topic the agency lives in, if any
    active        INTEGER NOT NULL DEFAULT 1,
    reachable     INTEGER NOT NULL DEFAULT 1,     -- 0 after the bot was removed from the chat
    registered_by INTEGER,
    registered_at TEXT    NOT NULL,
    updated_at    TEXT    NOT NULL
);

INSERT INTO agencies (id, code, name, kind, chat_id, thread_id, active, reachable, registered_by,
                      registered_at, updated_at)
SELECT id, code, name, kind, chat_id, thread_id, active, reachable, registered_by, registered_at,
       updated_at
  FROM agencies_kept;

DROP TABLE agencies_kept;

CREATE UNIQUE INDEX agencies_place ON agencies (chat_id, COALESCE(thread_id, 0)) WHERE active = 1;

CREATE UNIQUE INDEX agencies_one_coordinators ON agencies (kind)
    WHERE kind = 'coordinators' AND active = 1;

CREATE TABLE broadcasts (
    id            INTEGER PRIMARY KEY,
    sender_id     INTEGER NOT NULL,
    sender_name   TEXT    NOT NULL,
    language      TEXT    NOT NULL,                -- of the sender: status and report messages
    status        TEXT    NOT NULL DEFAULT 'draft',  -- models.broadcast.BroadcastStatus
    step          TEXT,                            -- while a draft: the question being asked
    text          TEXT    NOT NULL DEFAULT '',
    photo_file_id TEXT,
    latitude      REAL,
    longitude     REAL,
    urgency       TEXT,                            -- models.broadcast.Urgency
    target_kind   TEXT,                            -- models.broadcast.TargetKind
    agency_ids    TEXT    NOT NULL DEFAULT '[]',   -- JSON list: the chosen agencies
    shown_counts  TEXT,                            -- JSON: the counts the status message shows
    created_at    TEXT    NOT NULL,
    updated_at    TEXT    NOT NULL,
    sent_at       TEXT,
    finished_at   TEXT,                            -- nothing left pending (or cancelled)
    cancelled_at  TEXT
);

INSERT INTO broadcasts (id, sender_id, sender_name, language, status, step, text, photo_file_id,
                        latitude, longitude, urgency, target_kind, agency_ids, shown_counts,
                        created_at, updated_at, sent_at, finished_at, cancelled_at)
SELECT id, sender_id, sender_name, language, status, step, text, photo_file_id, latitude,
       longitude, urgency, target_kind, agency_ids, shown_counts, created_at, updated_at, sent_at,
       finished_at, cancelled_at
  FROM broadcasts_kept;

DROP TABLE broadcasts_kept;

CREATE UNIQUE INDEX broadcasts_one_draft ON broadcasts (sender_id) WHERE status = 'draft';

CREATE INDEX broadcasts_sending ON broadcasts (id) WHERE status = 'mengirim';

CREATE TABLE incidents (
    id             INTEGER PRIMARY KEY,            -- the number people see: #12
    type           TEXT    NOT NULL,
    severity       TEXT    NOT NULL,               -- models.incidents.Severity
    lifecycle      TEXT    NOT NULL DEFAULT 'terbuka',  -- models.incidents.Lifecycle
    source         TEXT    NOT NULL,               -- models.incidents.Source
    reporter_id    INTEGER REFERENCES users (id),
    reporter_phone TEXT,
    latitude       REAL,
    longitude      REAL,
    address        TEXT,
    description    TEXT    NOT NULL,
    hurt           TEXT    NOT NULL,               -- models.incidents.Hurt
    hurt_count     INTEGER,
    photos         TEXT    NOT NULL DEFAULT '[]',  -- JSON list of Telegram file ids
    merged_into    INTEGER REFERENCES incidents (id),
    cancel_reason  TEXT,
    created_at     TEXT    NOT NULL,
    updated_at     TEXT    NOT NULL,
    closed_at      TEXT,
    origin_update_id INTEGER,
    reporter_phone_source TEXT                     -- models.incidents.PhoneSource
);

-- Before the rows: each row put back looks for the incidents merged into it.
CREATE INDEX incidents_merged_into ON incidents (merged_into) WHERE merged_into IS NOT NULL;

INSERT INTO incidents (id, type, severity, lifecycle, source, reporter_id, reporter_phone,
                       latitude, longitude, address, description, hurt, hurt_count, photos,
                       merged_into, cancel_reason, created_at, updated_at, closed_at,
                       origin_update_id, reporter_phone_source)
SELECT id, type, severity, lifecycle, source, reporter_id, reporter_phone, latitude, longitude,
       address, description, hurt, hurt_count, photos, merged_into, cancel_reason, created_at,
       updated_at, closed_at, origin_update_id, reporter_phone_source
  FROM incidents_kept;

DROP TABLE incidents_kept;

CREATE INDEX incidents_open ON incidents (created_at) WHERE lifecycle = 'terbuka';

CREATE INDEX incidents_reporter ON incidents (reporter_id, created_at);

CREATE UNIQUE INDEX incidents_origin ON incidents (origin_update_id)
    WHERE origin_update_id IS NOT NULL;

CREATE TABLE responses (
    incident_id     INTEGER NOT NULL REFERENCES incidents (id),
    agency_id       INTEGER NOT NULL REFERENCES agencies (id),
    status          TEXT    NOT NULL DEFAULT 'menunggu',  -- models.incidents.ResponseStatus
    acknowledged_by INTEGER,
    acknowledged_at TEXT,
    on_behalf       INTEGER NOT NULL DEFAULT 0,
    updated_at      TEXT    NOT NULL,
    PRIMARY KEY (incident_id, agency_id)
);

INSERT INTO responses (rowid, incident_id, agency_id, status, acknowledged_by, acknowledged_at,
                       on_behalf, updated_at)
SELECT kept_rowid, incident_id, agency_id, status, acknowledged_by, acknowledged_at, on_behalf,
       updated_at
  FROM responses_kept;

DROP TABLE responses_kept;

CREATE INDEX responses_agency ON responses (agency_id, status);

CREATE TABLE assignments (
    id          INTEGER PRIMARY KEY,
    incident_id INTEGER NOT NULL REFERENCES incidents (id),
    agency_id   INTEGER NOT NULL REFERENCES agencies (id),
    user_id     INTEGER NOT NULL REFERENCES users (id),
    status      TEXT    NOT NULL,               -- models.incidents.AssignmentStatus
    assigned_by INTEGER,
    created_at  TEXT    NOT NULL,
    updated_at  TEXT    NOT NULL,
    UNIQUE (incident_id, agency_id, user_id)
);

INSERT INTO assignments (id, incident_id, agency_id, user_id, status, assigned_by, created_at,
                         updated_at)
SELECT id, incident_id, agency_id, user_id, status, assigned_by, created_at, updated_at
  FROM assignments_kept;

DROP TABLE assignments_kept;

CREATE INDEX assignments_user ON assignments (user_id, status);

CREATE TABLE reminders (
    id            INTEGER PRIMARY KEY,
    kind          TEXT    NOT NULL,             -- models.reminders.ReminderKind
    incident_id   INTEGER REFERENCES incidents (id),
    agency_id     INTEGER,                      -- ack: the agency that has not acknowledged
    assignment_id INTEGER,                      -- offered / accepted / en_route: the task
    broadcast_id  INTEGER REFERENCES broadcasts (id),  -- broadcast: the alert to send again…
    chat_id       INTEGER,                      -- …to this chat, which has not confirmed it
    due_at        TEXT    NOT NULL,
    attempt       INTEGER NOT NULL DEFAULT 0,   -- how many times it has fired
    state         TEXT    NOT NULL DEFAULT 'pending',  -- models.reminders.ReminderState
    created_at    TEXT    NOT NULL,
    fired_at      TEXT,
    CHECK ((kind = 'broadcast') = (broadcast_id IS NOT NULL AND chat_id IS NOT NULL)),
    CHECK ((kind = 'broadcast') = (incident_id IS NULL))
);

INSERT INTO reminders (id, kind, incident_id, agency_id, assignment_id, broadcast_id, chat_id,
                       due_at, attempt, state, created_at, fired_at)
SELECT id, kind, incident_id, agency_id, assignment_id, broadcast_id, chat_id, due_at, attempt,
       state, created_at, fired_at
  FROM reminders_kept;

DROP TABLE reminders_kept;

CREATE UNIQUE INDEX reminders_one_pending
    ON reminders (kind, COALESCE(incident_id, 0), COALESCE(agency_id, 0),
                  COALESCE(assignment_id, 0), COALESCE(broadcast_id, 0), COALESCE(chat_id, 0))
    WHERE state = 'pending';

CREATE INDEX reminders_due ON reminders (due_at) WHERE state = 'pending';

CREATE INDEX reminders_pending_incident ON reminders (incident_id) WHERE state = 'pending';

CREATE INDEX reminders_broadcast ON reminders (broadcast_id) WHERE broadcast_id IS NOT NULL;

CREATE INDEX reminders_done_incident ON reminders (incident_id) WHERE state = 'done';
