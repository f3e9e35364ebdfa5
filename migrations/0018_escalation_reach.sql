-- Where escalations reach a coordinator (`/eskalasi grup|pribadi|keduanya`): NULL keeps the
-- default, both the coordinators' group and their private chat.
ALTER TABLE users ADD COLUMN escalate_to TEXT;
