-- 0006_incident_origin: the Telegram update an incident came from, so that the same update
-- delivered twice (Telegram replays it after a crash) can never create a second incident.

ALTER TABLE incidents ADD COLUMN origin_update_id INTEGER;

CREATE UNIQUE INDEX incidents_origin ON incidents (origin_update_id)
    WHERE origin_update_id IS NOT NULL;
