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

-- What a sent row put on its message: models.shown.Showing as JSON (text and keyboard digests,
-- the button data), written by the statement that marks the row sent. The triggers below keep
-- bot_messages in step with it in that same statement: no second write, no second commit.
ALTER TABLE outbox ADD COLUMN shows TEXT;

-- A new message: kept when it has buttons or a name others will edit it by.
CREATE TRIGGER outbox_sent_shows_message AFTER UPDATE OF status ON outbox
WHEN NEW.status = 'sent' AND OLD.status = 'pending' AND NEW.shows IS NOT NULL
     AND NEW.message_id IS NOT NULL
     AND NEW.method NOT IN ('editMessageText', 'editMessageCaption', 'editMessageReplyMarkup')
     AND (NEW.ref IS NOT NULL OR json_array_length(NEW.shows, '$.buttons') > 0)
BEGIN
    INSERT INTO bot_messages (chat_id, message_id, ref, thread_id, text_digest, markup_digest,
                              buttons, updated_at)
    VALUES (NEW.chat_id, NEW.message_id, NEW.ref, json_extract(NEW.payload, '$.message_thread_id'),
            json_extract(NEW.shows, '$.text'), json_extract(NEW.shows, '$.markup'),
            json_extract(NEW.shows, '$.buttons'), NEW.sent_at)
    ON CONFLICT (chat_id, message_id) DO UPDATE SET
        ref = COALESCE(excluded.ref, ref),
        thread_id = COALESCE(excluded.thread_id, thread_id),
        text_digest = excluded.text_digest,
        markup_digest = excluded.markup_digest,
        buttons = excluded.buttons,
        updated_at = excluded.updated_at;
END;

-- An edit (sent, or found needless): the message it names shows this now. A text digest of
-- NULL (an edit of the keyboard alone) leaves the one recorded.
CREATE TRIGGER outbox_sent_shows_edit AFTER UPDATE OF status ON outbox
WHEN NEW.status = 'sent' AND OLD.status = 'pending' AND NEW.shows IS NOT NULL
     AND NEW.method IN ('editMessageText', 'editMessageCaption', 'editMessageReplyMarkup')
BEGIN
    INSERT INTO bot_messages (chat_id, message_id, ref, text_digest, markup_digest, buttons,
                              updated_at)
    SELECT r.chat_id, r.message_id, r.ref, json_extract(NEW.shows, '$.text'),
           json_extract(NEW.shows, '$.markup'), json_extract(NEW.shows, '$.buttons'), NEW.sent_at
      FROM message_refs r WHERE r.ref = NEW.target_ref
    ON CONFLICT (chat_id, message_id) DO UPDATE SET
        text_digest = COALESCE(excluded.text_digest, text_digest),
        markup_digest = excluded.markup_digest,
        buttons = excluded.buttons,
        updated_at = excluded.updated_at;
END;

-- A deletion: nothing on the message can be pressed any more.
CREATE TRIGGER outbox_sent_forgets_message AFTER UPDATE OF status ON outbox
WHEN NEW.status = 'sent' AND OLD.status = 'pending' AND NEW.method = 'deleteMessage'
BEGIN
    DELETE FROM bot_messages
     WHERE (chat_id, message_id) IN (SELECT chat_id, message_id FROM message_refs
                                      WHERE ref = NEW.target_ref);
END;

-- Whether something is still on its way to a named message (then what it shows is not yet
-- what people will see): asked for every posted copy of an incident whenever it changes.
CREATE INDEX outbox_pending_ref ON outbox (ref) WHERE status = 'pending' AND ref IS NOT NULL;
CREATE INDEX outbox_pending_target ON outbox (target_ref)
    WHERE status = 'pending' AND target_ref IS NOT NULL;

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
       COALESCE(o.sent_at, o.created_at)
  FROM outbox o
 WHERE o.status = 'sent' AND o.ref IS NULL AND o.method = 'sendMessage'
   AND o.message_id IS NOT NULL
   AND json_extract(o.payload, '$.reply_markup.inline_keyboard') IS NOT NULL;
