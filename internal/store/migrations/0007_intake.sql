-- Hostile use (issue 11): POST /subscribe only records the request here
-- and answers; a worker acts on it (the same work whatever the address's
-- state, so the answer's timing tells nothing). Transactional mail
-- (confirmation, manage link) goes through mail_queue with the outbox's
-- promise: at least once, retried with backoff, nothing lost in a crash.
CREATE TABLE subscribe_intake (
  id         INTEGER PRIMARY KEY,
  email      TEXT NOT NULL,               -- a valid address (model.ParseAddress)
  name       TEXT NOT NULL DEFAULT '',
  digest     TEXT NOT NULL DEFAULT '',
  sections   TEXT NOT NULL DEFAULT '[]',  -- JSON arrays of slugs
  authors    TEXT NOT NULL DEFAULT '[]',
  timezone   TEXT NOT NULL DEFAULT '',
  created_at INTEGER NOT NULL
);

CREATE TABLE mail_queue (
  id              INTEGER PRIMARY KEY,
  kind            TEXT NOT NULL CHECK (kind IN ('confirm', 'resubscribe', 'manage')),
  subscriber_id   INTEGER NOT NULL REFERENCES subscribers(id) ON DELETE CASCADE,
  subscription_id INTEGER,                -- resubscribe: the subscription its link names
  to_addr         TEXT NOT NULL COLLATE NOCASE,
  status          TEXT NOT NULL DEFAULT 'pending'
                    CHECK (status IN ('pending', 'sent', 'failed', 'cancelled')),
  attempts        INTEGER NOT NULL DEFAULT 0,
  next_attempt_at INTEGER NOT NULL DEFAULT 0,
  last_reply      TEXT NOT NULL DEFAULT '',
  message_id      TEXT NOT NULL DEFAULT '',
  created_at      INTEGER NOT NULL,
  sent_at         INTEGER
);
CREATE INDEX mail_queue_due ON mail_queue (status, next_attempt_at);
CREATE INDEX mail_queue_to ON mail_queue (to_addr, created_at);
CREATE INDEX mail_queue_message_id ON mail_queue (message_id) WHERE message_id <> '';
