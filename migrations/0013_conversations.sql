-- 0013_conversations: every multi-step private exchange on one durable row per person.
--
-- A report, a 112 call form and a broadcast being composed were drafts in two tables with two
-- sets of rules. A conversation is one row: which flow (bot.conversations), its step and data,
-- the question it waits on (presses count only on that message), and when it was last touched
-- (one expiry for every kind). A broadcast's content stays in its draft row of `broadcasts`;
-- its conversation names it.

CREATE TABLE conversations (
    user_id    INTEGER PRIMARY KEY REFERENCES users (id),  -- in their private chat with the bot
    kind       TEXT    NOT NULL,   -- the flow: report, call, broadcast, … (no CHECK: new flows)
    step       TEXT    NOT NULL,
    data       TEXT    NOT NULL DEFAULT '{}',
    language   TEXT    NOT NULL,
    message_id INTEGER,            -- the question it waits on
    started_at TEXT    NOT NULL,
    updated_at TEXT    NOT NULL
);

CREATE INDEX conversations_touched ON conversations (updated_at);

INSERT INTO conversations (user_id, kind, step, data, language, message_id, started_at,
                           updated_at)
SELECT user_id, mode, step, data, language, message_id, started_at, updated_at FROM drafts;

-- A broadcast draft becomes its sender's conversation, unless they had a report open too (one
-- conversation per person; the report came first before as well): that draft is dropped.
INSERT OR IGNORE INTO conversations (user_id, kind, step, data, language, started_at, updated_at)
SELECT sender_id, 'broadcast', 'compose', json_object('broadcast_id', id), language, created_at,
       updated_at
  FROM broadcasts WHERE status = 'draft';

DELETE FROM broadcasts
 WHERE status = 'draft'
   AND id NOT IN (SELECT json_extract(data, '$.broadcast_id') FROM conversations
                   WHERE kind = 'broadcast');

DROP TABLE drafts;
