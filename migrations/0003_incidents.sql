-- 0003_incidents: incidents, each agency's response, assignments, the timeline, where each
-- incident's messages were posted, and reporters' drafts. Also a fallback for outbox rows.

CREATE TABLE incidents (
    id             INTEGER PRIMARY KEY,            -- the number people see: #12
    type           TEXT    NOT NULL,
    severity       TEXT    NOT NULL CHECK (severity IN ('kritis', 'tinggi', 'sedang', 'rendah')),
    lifecycle      TEXT    NOT NULL DEFAULT 'terbuka'
                   CHECK (lifecycle IN ('terbuka', 'selesai', 'dibatalkan', 'digabung')),
    source         TEXT    NOT NULL CHECK (source IN ('laporan', 'telepon')),
    reporter_id    INTEGER REFERENCES users (id),
    reporter_phone TEXT,
    latitude       REAL,
    longitude      REAL,
    address        TEXT,
    description    TEXT    NOT NULL,
    hurt           TEXT    NOT NULL CHECK (hurt IN ('tidak', 'ya', 'tidak_tahu')),
    hurt_count     INTEGER,
    photos         TEXT    NOT NULL DEFAULT '[]',  -- JSON list of Telegram file ids
    merged_into    INTEGER REFERENCES incidents (id),
    cancel_reason  TEXT,
    created_at     TEXT    NOT NULL,
    updated_at     TEXT    NOT NULL,
    closed_at      TEXT
);

CREATE INDEX incidents_open ON incidents (created_at) WHERE lifecycle = 'terbuka';
CREATE INDEX incidents_reporter ON incidents (reporter_id, created_at);

CREATE TABLE responses (
    incident_id     INTEGER NOT NULL REFERENCES incidents (id),
    agency_id       INTEGER NOT NULL REFERENCES agencies (id),
    status          TEXT    NOT NULL DEFAULT 'menunggu'
                    CHECK (status IN ('menunggu', 'diterima', 'berangkat', 'di_lokasi', 'selesai')),
    acknowledged_by INTEGER,
    acknowledged_at TEXT,
    on_behalf       INTEGER NOT NULL DEFAULT 0,
    updated_at      TEXT    NOT NULL,
    PRIMARY KEY (incident_id, agency_id)
);

CREATE INDEX responses_agency ON responses (agency_id, status);

CREATE TABLE assignments (
    id          INTEGER PRIMARY KEY,
    incident_id INTEGER NOT NULL REFERENCES incidents (id),
    agency_id   INTEGER NOT NULL REFERENCES agencies (id),
    user_id     INTEGER NOT NULL REFERENCES users (id),
    status      TEXT    NOT NULL CHECK (status IN ('ditawarkan', 'diterima', 'ditolak',
                                                   'berangkat', 'di_lokasi', 'selesai', 'ditarik')),
    assigned_by INTEGER,
    created_at  TEXT    NOT NULL,
    updated_at  TEXT    NOT NULL,
    UNIQUE (incident_id, agency_id, user_id)
);

CREATE INDEX assignments_user ON assignments (user_id, status);

-- Every change to an incident, with who did it and when.
CREATE TABLE incident_events (
    id          INTEGER PRIMARY KEY,
    incident_id INTEGER NOT NULL REFERENCES incidents (id),
    at          TEXT    NOT NULL,
    actor_id    INTEGER,
    kind        TEXT    NOT NULL,
    agency_id   INTEGER,
    detail      TEXT    NOT NULL DEFAULT '{}'
);

CREATE INDEX incident_events_incident ON incident_events (incident_id, id);

-- Where an incident's cards and task cards were posted, so every change re-renders all of them.
CREATE TABLE incident_posts (
    incident_id   INTEGER NOT NULL REFERENCES incidents (id),
    ref           TEXT    NOT NULL,               -- outbox message ref, e.g. card:12:3
    kind          TEXT    NOT NULL CHECK (kind IN ('card', 'ops', 'task')),
    chat_id       INTEGER NOT NULL,
    agency_id     INTEGER,                        -- the agency whose card this is (card)
    assignment_id INTEGER,                        -- the task this card is for (task)
    PRIMARY KEY (incident_id, ref)
);

-- A report in progress. The draft lives here so a restart loses nothing.
CREATE TABLE drafts (
    user_id    INTEGER PRIMARY KEY REFERENCES users (id),
    mode       TEXT    NOT NULL CHECK (mode IN ('report', 'call')),
    step       TEXT    NOT NULL,
    data       TEXT    NOT NULL DEFAULT '{}',
    language   TEXT    NOT NULL,
    started_at TEXT    NOT NULL,
    updated_at TEXT    NOT NULL
);

-- When a send is refused for good (403), this message is sent instead (e.g. the agency's chat is
-- asked to tell an assignee to press Start).
ALTER TABLE outbox ADD COLUMN fallback TEXT;
