-- 0007_lookup_indexes: two lookups every incident transaction makes were full scans.
--
-- Found by the scale benchmark (bench/scale.py): `merged_from` (`WHERE merged_into = ?`, run by
-- every incident view) scanned all incidents, so with 100,000 in the database /terbuka over
-- 1,000 open incidents took about 10 s; and `pending_reminders_of` (`WHERE incident_id = ? AND
-- state = 'pending'`, run by reconcile in every incident transaction) read every pending
-- reminder. Both indexes are partial, so the rows they do not serve cost nothing.

CREATE INDEX incidents_merged_into ON incidents (merged_into) WHERE merged_into IS NOT NULL;

CREATE INDEX reminders_pending_incident ON reminders (incident_id) WHERE state = 'pending';
