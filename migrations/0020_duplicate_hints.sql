-- A report that may repeat an open incident (duplicate detection, models.duplicates): one hint
-- per later report, shown on both cards until a dispatcher merges it or says it is not one.
CREATE TABLE duplicate_hints (
    incident_id INTEGER PRIMARY KEY REFERENCES incidents (id),  -- the later report
    of_id       INTEGER NOT NULL REFERENCES incidents (id),     -- the incident it may repeat
    basis       TEXT    NOT NULL,   -- models.duplicates.Basis: pins, text or pin_text
    score       REAL    NOT NULL,
    distance_m  INTEGER,            -- between the pins (NULL: compared by words)
    minutes     INTEGER NOT NULL,   -- how long after the earlier report it came
    state       TEXT    NOT NULL,   -- models.duplicates.HintState
    decided_by  INTEGER,
    decided_at  TEXT,
    created_at  TEXT    NOT NULL
);
CREATE INDEX duplicate_hints_of ON duplicate_hints (of_id) WHERE state = 'open';
