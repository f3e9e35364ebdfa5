-- 0009_broadcasts: alerts a dispatcher sends to many chats at once, where each copy went, and
-- who confirmed it. The reminders table learns a kind that is about a broadcast, not an incident
-- (the re-send of an emergency alert to a chat that did not confirm it), so it is rebuilt.

CREATE TABLE broadcasts (
    id            INTEGER PRIMARY KEY,
    sender_id     INTEGER NOT NULL,
    sender_name   TEXT    NOT NULL,
    language      TEXT    NOT NULL,                -- of the sender: status and report messages
    status        TEXT    NOT NULL DEFAULT 'draft'
                  CHECK (status IN ('draft', 'mengirim', 'terkirim', 'dibatalkan')),
    step          TEXT,                            -- while a draft: the question being asked
    text          TEXT    NOT NULL DEFAULT '',
    photo_file_id TEXT,
    latitude      REAL,
    longitude     REAL,
    urgency       TEXT    CHECK (urgency IN ('info', 'peringatan', 'darurat')),
    target_kind   TEXT    CHECK (target_kind IN ('grup', 'instansi', 'siaga', 'semua')),
    agency_ids    TEXT    NOT NULL DEFAULT '[]',   -- JSON list: the chosen agencies
    shown_counts  TEXT,                            -- JSON: the counts the status message shows
    created_at    TEXT    NOT NULL,
    updated_at    TEXT    NOT NULL,
    sent_at       TEXT,
    finished_at   TEXT,                            -- nothing left pending (or cancelled)
    cancelled_at  TEXT
);

-- One draft per person; the broadcasts still going out are few and read often.
CREATE UNIQUE INDEX broadcasts_one_draft ON broadcasts (sender_id) WHERE status = 'draft';
CREATE INDEX broadcasts_sending ON broadcasts (id) WHERE status = 'mengirim';

-- One row per chat a broadcast was sent to, with the outbox rows that carry it there.
CREATE TABLE broadcast_deliveries (
    broadcast_id     INTEGER NOT NULL REFERENCES broadcasts (id),
    chat_id          INTEGER NOT NULL,
    thread_id        INTEGER,
    agency_id        INTEGER,                      -- an agency's group (or the coordinators')
    user_id          INTEGER,                      -- a person, in private
    label            TEXT    NOT NULL,             -- the agency's or person's name when sent
    language         TEXT    NOT NULL,
    outbox_id        INTEGER NOT NULL,             -- the message with the Received button
    photo_outbox_id  INTEGER,                      -- its photo, sent just before it
    location_outbox_id INTEGER,                    -- its map pin, sent just before it
    resend_outbox_id INTEGER,                      -- the emergency re-send, if one went
    PRIMARY KEY (broadcast_id, chat_id)
);

CREATE TABLE broadcast_receipts (
    broadcast_id INTEGER NOT NULL REFERENCES broadcasts (id),
    chat_id      INTEGER NOT NULL,
    user_id      INTEGER NOT NULL,
    confirmed_at TEXT    NOT NULL,
    PRIMARY KEY (broadcast_id, chat_id, user_id)
);

CREATE TABLE reminders_new (
    id            INTEGER PRIMARY KEY,
    kind          TEXT    NOT NULL
                  CHECK (kind IN ('ack', 'offered', 'accepted', 'en_route', 'open_long',
                                  'broadcast')),
    incident_id   INTEGER REFERENCES incidents (id),
    agency_id     INTEGER,                      -- ack: the agency that has not acknowledged
    assignment_id INTEGER,                      -- offered / accepted / en_route: the task
    broadcast_id  INTEGER REFERENCES broadcasts (id),  -- broadcast: the alert to send again…
    chat_id       INTEGER,                      -- …to this chat, which has not confirmed it
    due_at        TEXT    NOT NULL,
    attempt       INTEGER NOT NULL DEFAULT 0,   -- how many times it has fired
    state         TEXT    NOT NULL DEFAULT 'pending'
                  CHECK (state IN ('pending', 'done', 'cancelled')),
    created_at    TEXT    NOT NULL,
    fired_at      TEXT,
    CHECK ((kind = 'broadcast') = (broadcast_id IS NOT NULL AND chat_id IS NOT NULL)),
    CHECK ((kind = 'broadcast') = (incident_id IS NULL))
);

INSERT INTO reminders_new (id, kind, incident_id, agency_id, assignment_id, due_at, attempt,
                           state, created_at, fired_at)
SELECT id, kind, incident_id, agency_id, assignment_id, due_at, attempt, state, created_at,
       fired_at
FROM reminders;

DROP TABLE reminders;
ALTER TABLE reminders_new RENAME TO reminders;

-- At most one pending reminder of a kind for the same thing.
CREATE UNIQUE INDEX reminders_one_pending
    ON reminders (kind, COALESCE(incident_id, 0), COALESCE(agency_id, 0),
                  COALESCE(assignment_id, 0), COALESCE(broadcast_id, 0), COALESCE(chat_id, 0))
    WHERE state = 'pending';

-- The sweep reads only what is due; open incidents that are not due cost nothing.
CREATE INDEX reminders_due ON reminders (due_at) WHERE state = 'pending';
-- As 0007 had it: reconcile reads an incident's pending reminders in every transaction.
CREATE INDEX reminders_pending_incident ON reminders (incident_id) WHERE state = 'pending';
CREATE INDEX reminders_broadcast ON reminders (broadcast_id) WHERE broadcast_id IS NOT NULL;
