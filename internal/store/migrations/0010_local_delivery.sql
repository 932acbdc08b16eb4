-- Delivery at each reader's local time (a digest's `delivery: local`).

-- The reader's IANA timezone ('' when unknown: the digest's timezone
-- applies). The index lets the scheduler list the zones in use with one
-- seek per zone, and lets planning walk one zone's readers in id order.
ALTER TABLE subscribers ADD COLUMN timezone TEXT NOT NULL DEFAULT '';
CREATE INDEX subscribers_timezone ON subscribers (timezone, status);

-- A local edition's zone group (the zone whose slot it is; '' for manual
-- editions and digest-mode ones), and, while it is planned, the zone of the
-- group being walked (planned_through is then a subscriber id in it).
ALTER TABLE editions ADD COLUMN zone TEXT NOT NULL DEFAULT '';
ALTER TABLE editions ADD COLUMN planned_zone TEXT NOT NULL DEFAULT '';

-- Each reader's cursor per local digest: the window their digests have
-- covered (through), and the last scheduled slot planned for them with its
-- zone group, so a reader who moves to another zone does not get two
-- digests close together. Moved in the transaction that plans the reader's
-- delivery, only if it still holds what the planner read.
CREATE TABLE reader_cursors (
  digest        TEXT NOT NULL,
  subscriber_id INTEGER NOT NULL,
  through       INTEGER NOT NULL,            -- unix seconds: covered up to here
  slot_at       INTEGER NOT NULL DEFAULT 0,  -- the last scheduled slot planned (0: none yet)
  zone          TEXT NOT NULL DEFAULT '',    -- that slot's zone group
  PRIMARY KEY (digest, subscriber_id)
) WITHOUT ROWID;
