-- 0012_reporter_data: where a reporter's phone number came from, escalations and looked-up
-- views among an incident's posted copies, and the messages people sent that carry their own
-- data, so all of it can be found again when a person asks the bot to forget them.

-- How the phone number on an incident was given: 'contact' (the reporter shared their own
-- Telegram contact, so Telegram vouches for it), 'typed' (the reporter typed a number: theirs,
-- or anybody's), 'call' (a dispatcher took it from a 112 caller). NULL: no number, or an
-- incident from before this was kept.
ALTER TABLE incidents ADD COLUMN reporter_phone_source TEXT;

-- incident_posts without a CHECK list of kinds (models.incidents.PostKind names them), so new
-- kinds of posted copies need no rebuild of the table; every row is kept.
CREATE TABLE incident_posts_new (
    incident_id   INTEGER NOT NULL REFERENCES incidents (id),
    ref           TEXT    NOT NULL,               -- outbox message ref, e.g. card:12:3
    kind          TEXT    NOT NULL,               -- models.incidents.PostKind
    chat_id       INTEGER NOT NULL,
    agency_id     INTEGER,                        -- the agency of a card or an escalation
    assignment_id INTEGER,                        -- the task this card is for (task)
    PRIMARY KEY (incident_id, ref)
);

INSERT INTO incident_posts_new (incident_id, ref, kind, chat_id, agency_id, assignment_id)
SELECT incident_id, ref, kind, chat_id, agency_id, assignment_id FROM incident_posts;

DROP TABLE incident_posts;

ALTER TABLE incident_posts_new RENAME TO incident_posts;

-- Messages a person sent the bot that carry their own data (a shared contact, a typed phone
-- number): the bot deletes them from the person's chat when they ask it to forget them.
CREATE TABLE personal_messages (
    chat_id    INTEGER NOT NULL,
    message_id INTEGER NOT NULL,
    user_id    INTEGER NOT NULL,
    PRIMARY KEY (chat_id, message_id)
);

CREATE INDEX personal_messages_user ON personal_messages (user_id);
