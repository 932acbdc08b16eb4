-- Readers' pages (issue 16): the public archive of each digest and the
-- undo of an unsubscribe.

-- An edition's archive page, given when its first message is about to go
-- out and never changed: archive_day is the slot's date in the digest's
-- time zone (a zone group's edition: its zone's; a manual edition: its
-- cutoff's), archive_seq its place that day (1, 2, ...). The page's slug
-- is the day, then -2, -3 for later pages. A local digest's zone-group
-- editions of one day share one page. archive_articles is the union of
-- the article ids its sent messages carried, kept once the edition is
-- finished (NULL until then: read from its deliveries).
ALTER TABLE editions ADD COLUMN archive_day TEXT NOT NULL DEFAULT '';
ALTER TABLE editions ADD COLUMN archive_seq INTEGER NOT NULL DEFAULT 0;
ALTER TABLE editions ADD COLUMN archive_articles TEXT;
CREATE INDEX editions_archive ON editions (digest, archive_day, archive_seq) WHERE archive_day != '';

-- What a reader's subscriptions were just before an unsubscribe, so the
-- page's undo link (a signed token naming the row, valid 30 days) restores
-- exactly that. No address or name: digests, statuses and follows only.
CREATE TABLE undo_snapshots (
  id            INTEGER PRIMARY KEY AUTOINCREMENT, -- never reused: an undo link names its id, and an old link must not name a newer snapshot
  subscriber_id INTEGER NOT NULL REFERENCES subscribers(id) ON DELETE CASCADE,
  subscriptions TEXT NOT NULL,   -- JSON: [{digest, status, sections, authors}]
  created_at    INTEGER NOT NULL,
  expires_at    INTEGER NOT NULL
);
CREATE INDEX undo_snapshots_expiry ON undo_snapshots (expires_at);
CREATE INDEX undo_snapshots_subscriber ON undo_snapshots (subscriber_id);
