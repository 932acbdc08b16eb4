-- herald's own tables: subscribers, subscriptions, editions, deliveries and
-- the bookkeeping around them. Times are unix seconds (INTEGER, UTC) since
-- herald alone writes them. See README.md in this folder for the model.

-- Key/value settings herald keeps for itself (the generated token secret).
CREATE TABLE herald_settings (
  key   TEXT PRIMARY KEY,
  value TEXT NOT NULL
) WITHOUT ROWID;

CREATE TABLE subscribers (
  id           INTEGER PRIMARY KEY,
  email        TEXT NOT NULL UNIQUE COLLATE NOCASE,   -- normalised address
  name         TEXT NOT NULL DEFAULT '',
  status       TEXT NOT NULL DEFAULT 'pending'
                 CHECK (status IN ('pending', 'active', 'bounced', 'erased')),
  created_at   INTEGER NOT NULL,
  confirmed_at INTEGER,
  updated_at   INTEGER NOT NULL
);

CREATE TABLE subscriptions (
  id            INTEGER PRIMARY KEY,
  subscriber_id INTEGER NOT NULL REFERENCES subscribers(id) ON DELETE CASCADE,
  digest        TEXT NOT NULL,
  status        TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'unsubscribed')),
  created_at    INTEGER NOT NULL,
  updated_at    INTEGER NOT NULL,
  UNIQUE (subscriber_id, digest)
);
CREATE INDEX subscriptions_digest ON subscriptions (digest, status, subscriber_id);

-- A subscription's follows: sections and authors by slug. None means everything.
CREATE TABLE subscription_follows (
  subscription_id INTEGER NOT NULL REFERENCES subscriptions(id) ON DELETE CASCADE,
  kind            TEXT NOT NULL CHECK (kind IN ('section', 'author')),
  slug            TEXT NOT NULL,
  PRIMARY KEY (subscription_id, kind, slug)
) WITHOUT ROWID;

-- One run of one digest. A scheduled edition is keyed by (digest, slot) so a
-- second fire of the same slot finds the first; manual ones have slot NULL.
CREATE TABLE editions (
  id          INTEGER PRIMARY KEY,
  digest      TEXT NOT NULL,
  kind        TEXT NOT NULL CHECK (kind IN ('scheduled', 'manual')),
  slot        TEXT,
  cutoff      INTEGER NOT NULL,   -- frozen when planned
  since       INTEGER NOT NULL,   -- cutoff - lookback
  sections    TEXT NOT NULL DEFAULT '[]',  -- JSON: send-now --section filter
  authors     TEXT NOT NULL DEFAULT '[]',  -- JSON: send-now --author filter
  status      TEXT NOT NULL DEFAULT 'planning'
                CHECK (status IN ('planning', 'sending', 'done', 'cancelled')),
  planned_through INTEGER NOT NULL DEFAULT 0,  -- planning cursor: subscription id
  created_at  INTEGER NOT NULL,
  finished_at INTEGER,
  UNIQUE (digest, slot)
);
CREATE INDEX editions_digest_status ON editions (digest, status);

-- The one-active-edition lease: a row per digest while an edition is worked
-- on. holder names the process; a lease whose expires_at has passed may be
-- taken over (its holder died).
CREATE TABLE edition_leases (
  digest     TEXT PRIMARY KEY,
  edition_id INTEGER,
  holder     TEXT NOT NULL,
  expires_at INTEGER NOT NULL
) WITHOUT ROWID;

-- One subscriber's message in one edition.
CREATE TABLE deliveries (
  id              INTEGER PRIMARY KEY,
  edition_id      INTEGER NOT NULL REFERENCES editions(id) ON DELETE CASCADE,
  subscriber_id   INTEGER NOT NULL REFERENCES subscribers(id),
  subscription_id INTEGER NOT NULL REFERENCES subscriptions(id),
  status          TEXT NOT NULL DEFAULT 'pending'
                    CHECK (status IN ('pending', 'sent', 'failed', 'skipped', 'cancelled')),
  attempts        INTEGER NOT NULL DEFAULT 0,
  next_attempt_at INTEGER NOT NULL DEFAULT 0,
  last_reply      TEXT NOT NULL DEFAULT '',
  message_id      TEXT NOT NULL DEFAULT '',
  sent_at         INTEGER,
  article_ids     TEXT NOT NULL DEFAULT '[]',  -- JSON array of article ids carried
  UNIQUE (edition_id, subscriber_id)
);
CREATE INDEX deliveries_outbox ON deliveries (edition_id, status, next_attempt_at);
CREATE INDEX deliveries_subscriber ON deliveries (subscriber_id);

-- Articles a subscriber has received from a digest, written in the same
-- transaction that marks the delivery sent; selection subtracts them so an
-- updated article is never sent again.
CREATE TABLE received_articles (
  subscriber_id INTEGER NOT NULL,
  digest        TEXT NOT NULL,
  article_id    INTEGER NOT NULL,
  delivery_id   INTEGER NOT NULL,
  PRIMARY KEY (digest, subscriber_id, article_id)
) WITHOUT ROWID;

-- The last scheduled slot run per digest (scheduler catch-up).
CREATE TABLE schedule_slots (
  digest   TEXT PRIMARY KEY,
  slot     TEXT NOT NULL,     -- local wall-clock slot key
  slot_at  INTEGER NOT NULL,  -- the instant it ran for
  ran_at   INTEGER NOT NULL
) WITHOUT ROWID;

-- Per-feed state that must survive restarts: the hash of the feed's bytes and
-- when they last changed (Last-Modified never goes backwards).
CREATE TABLE feed_state (
  path        TEXT PRIMARY KEY,   -- e.g. /feeds/all.rss
  sha256      TEXT NOT NULL,
  modified_at INTEGER NOT NULL
) WITHOUT ROWID;
