-- 0004_reminders: every reminder, escalation and follow-up the bot owes, as rows.
--
-- The scheduler only mirrors this table: it is created and cancelled in the same transaction as
-- the state change that makes it due or moot, and a restart rebuilds the scheduler from it.

CREATE TABLE reminders (
    id            INTEGER PRIMARY KEY,
    kind          TEXT    NOT NULL
                  CHECK (kind IN ('ack', 'offered', 'accepted', 'en_route', 'open_long')),
    incident_id   INTEGER NOT NULL REFERENCES incidents (id),
    agency_id     INTEGER,                      -- ack: the agency that has not acknowledged
    assignment_id INTEGER,                      -- offered / accepted / en_route: the task
    due_at        TEXT    NOT NULL,
    attempt       INTEGER NOT NULL DEFAULT 0,   -- how many times it has fired
    state         TEXT    NOT NULL DEFAULT 'pending'
                  CHECK (state IN ('pending', 'done', 'cancelled')),
    created_at    TEXT    NOT NULL,
    fired_at      TEXT
);

-- At most one pending reminder of a kind for the same thing.
CREATE UNIQUE INDEX reminders_one_pending
    ON reminders (kind, incident_id, COALESCE(agency_id, 0), COALESCE(assignment_id, 0))
    WHERE state = 'pending';

-- The sweep reads only what is due; open incidents that are not due cost nothing.
CREATE INDEX reminders_due ON reminders (due_at) WHERE state = 'pending';
