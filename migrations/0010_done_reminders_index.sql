-- 0010_done_reminders_index: reconcile, run in every incident transaction, reads the incident's
-- reminders that have run their course (`WHERE incident_id = ? AND state = 'done'`) to keep them
-- from being armed again; without an index that read every reminder ever made. Partial, like
-- reminders_pending_incident, so pending and cancelled rows cost nothing here.

CREATE INDEX reminders_done_incident ON reminders (incident_id) WHERE state = 'done';
