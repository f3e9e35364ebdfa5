-- Every call has an owner: a dispatcher takes over an incident no agency is routed to (🙋 Ambil
-- alih), and it is reminded and escalated until somebody does. The name is kept as it was at
-- that moment, like an acknowledgement's.
ALTER TABLE incidents ADD COLUMN owner_id INTEGER;
ALTER TABLE incidents ADD COLUMN owner_name TEXT;
ALTER TABLE incidents ADD COLUMN owned_at TEXT;
