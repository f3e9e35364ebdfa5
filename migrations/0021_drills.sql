-- Drills (`/latihan`): practising the whole workflow on the real groups, clearly marked, kept out
-- of the statistics. A drill incident is an ordinary incident with `drill_id` set, in the same
-- number series; it can never become a real one, nor a real one a drill.
CREATE TABLE drills (
    id          INTEGER PRIMARY KEY,
    scenario    TEXT    NOT NULL,            -- the scenario file's code (bot/scenarios/<code>.json)
    agencies    TEXT    NOT NULL,            -- JSON list of the participating agencies' codes
    started_by  INTEGER NOT NULL,
    started_at  TEXT    NOT NULL,
    ended_at    TEXT,
    ended_by    INTEGER                      -- NULL when it ended by itself (every report closed)
);
CREATE INDEX drills_running ON drills (started_at) WHERE ended_at IS NULL;

-- Each scripted report of a drill, injected at its offset (kept here so a restart loses none).
CREATE TABLE drill_reports (
    drill_id    INTEGER NOT NULL REFERENCES drills (id),
    position    INTEGER NOT NULL,            -- its index in the scenario's reports
    due_at      TEXT    NOT NULL,
    incident_id INTEGER REFERENCES incidents (id),  -- once injected
    PRIMARY KEY (drill_id, position)
);
CREATE INDEX drill_reports_due ON drill_reports (due_at) WHERE incident_id IS NULL;

ALTER TABLE incidents ADD COLUMN drill_id INTEGER REFERENCES drills (id);
CREATE INDEX incidents_drill ON incidents (drill_id) WHERE drill_id IS NOT NULL;
