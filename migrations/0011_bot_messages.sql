-- 0011_bot_messages: what each message of the bot shows now.
--
-- A button press is checked against the buttons the bot last put on the very message pressed
-- (a modified client can send any button data on any message it can see, and Telegram does not
-- check that the data belongs to the message). An edit is compared with what the message shows
-- and not sent when it would change nothing, which Telegram refuses. Rows are written when the
-- outbox records a send or an edit, and when a handler's own call to Telegram succeeds; only
-- messages with buttons or an outbox name are kept. Digests, not texts: no personal data here.

CREATE TABLE bot_messages (
    chat_id       INTEGER NOT NULL,
    message_id    INTEGER NOT NULL,
    ref           TEXT,                       -- the message's outbox name (card:12:3), if any
    thread_id     INTEGER,                    -- the forum topic it was posted in
    text_digest   TEXT,                       -- hash of its text or caption; NULL: not known
    markup_digest TEXT,                       -- hash of its inline keyboard; NULL: not known
    buttons       TEXT    NOT NULL DEFAULT '[]',  -- JSON list of the callback data it carries
    updated_at    TEXT    NOT NULL,
    PRIMARY KEY (chat_id, message_id)
);

CREATE INDEX bot_messages_ref ON bot_messages (ref) WHERE ref IS NOT NULL;

-- The question a report draft is waiting on: its buttons count only on that message.
ALTER TABLE drafts ADD COLUMN message_id INTEGER;

-- What the messages sent before this migration show, read back from the outbox: the newest
-- sent text of each named message (cards, task cards, broadcast copies), and every unnamed
-- message sent with buttons (escalations). Their buttons keep working. Digests stay unknown,
-- so the first edit of each is sent without comparing.
INSERT INTO bot_messages (chat_id, message_id, ref, thread_id, buttons, updated_at)
SELECT r.chat_id, r.message_id, r.ref,
       (SELECT json_extract(first.payload, '$.message_thread_id') FROM outbox first
         WHERE first.ref = r.ref AND first.method = 'sendMessage' ORDER BY first.id LIMIT 1),
       COALESCE((SELECT json_group_array(json_extract(button.value, '$.callback_data'))
                   FROM json_each(json_extract(last.payload, '$.reply_markup.inline_keyboard'))
                            AS keyboard_row,
                        json_each(keyboard_row.value) AS button
                  WHERE json_extract(button.value, '$.callback_data') IS NOT NULL), '[]'),
       r.updated_at
  FROM message_refs r
  JOIN outbox last ON last.id = (
        SELECT MAX(o.id) FROM outbox o
         WHERE o.status = 'sent'
           AND ((o.ref = r.ref AND o.method = 'sendMessage')
                OR (o.target_ref = r.ref
                    AND o.method IN ('editMessageText', 'editMessageReplyMarkup'))));

INSERT OR IGNORE INTO bot_messages (chat_id, message_id, thread_id, buttons, updated_at)
SELECT o.chat_id, o.message_id, json_extract(o.payload, '$.message_thread_id'),
       (SELECT json_group_array(json_extract(button.value, '$.callback_data'))
          FROM json_each(json_extract(o.payload, '$.reply_markup.inline_keyboard')) AS keyboard_row,
               json_each(keyboard_row.value) AS button
         WHERE json_extract(button.value, '$.callback_data') IS NOT NULL),
       o.sent_at
  FROM outbox o
 WHERE o.status = 'sent' AND o.ref IS NULL AND o.method = 'sendMessage'
   AND o.message_id IS NOT NULL
   AND json_extract(o.payload, '$.reply_markup.inline_keyboard') IS NOT NULL;
