-- The subscriber lifecycle (issue 14): the complained status, the
-- suppression list, bounce and complaint events, and the lookup of a
-- delivery by its Message-ID.
--
-- subscribers.status's CHECK constraint gains 'complained'. SQLite cannot
-- alter a CHECK, and rebuilding the table would lose what later migrations
-- added to it on a database that ran them first (0008's index, 0010's
-- timezone column); so the store widens it in place before this script
-- runs (store.go, schemaEdits: SQLite's documented procedure for loosening
-- a constraint — no row can break a wider check).
-- Housekeeping finds stale pending subscribers by status and age.
CREATE INDEX subscribers_status_updated ON subscribers (status, updated_at);

-- The suppression list's own entries: nothing is planned or sent to an
-- address they match. entry is an address in lower case
-- ('ann@example.com'), a domain ('@example.com'), or the keyed hash an
-- erased address leaves ('#' + hex HMAC, see model.AddressHash). reason is
-- operator (`herald suppressions add`) or erased (a completed double opt-in
-- lifts it). Bounced and complained subscribers are on the list through
-- their status; `herald suppressions list` shows both.
CREATE TABLE suppressions (
  entry      TEXT PRIMARY KEY,
  reason     TEXT NOT NULL CHECK (reason IN ('erased', 'operator')),
  note       TEXT NOT NULL DEFAULT '',
  created_at INTEGER NOT NULL
) WITHOUT ROWID;

-- What came back after a message left: a bounce (hard, soft, or one that
-- blames the sender), a complaint, or an unsubscribe by mail. delivery_id
-- names a digest delivery, mail_id a transactional mail; either may be
-- NULL when the report was matched by address only.
CREATE TABLE bounce_events (
  id            INTEGER PRIMARY KEY,
  delivery_id   INTEGER,
  mail_id       INTEGER,
  edition_id    INTEGER,
  subscriber_id INTEGER REFERENCES subscribers(id) ON DELETE CASCADE,
  kind          TEXT NOT NULL CHECK (kind IN ('hard', 'soft', 'complaint', 'sender', 'unsubscribe')),
  status        TEXT NOT NULL DEFAULT '',   -- RFC 3463 status, e.g. 5.1.1
  diagnostic    TEXT NOT NULL DEFAULT '',   -- the reporter's words, one line
  source        TEXT NOT NULL DEFAULT '',   -- smtp, pipe, imap, webhook:ses ...
  created_at    INTEGER NOT NULL
);
CREATE INDEX bounce_events_delivery ON bounce_events (delivery_id) WHERE delivery_id IS NOT NULL;
CREATE INDEX bounce_events_edition ON bounce_events (edition_id) WHERE edition_id IS NOT NULL;
CREATE INDEX bounce_events_subscriber ON bounce_events (subscriber_id, kind, created_at);

-- A provider's report names the original Message-ID.
CREATE INDEX deliveries_message_id ON deliveries (message_id) WHERE message_id <> '';
