-- The editors' pages show each edition's complaint and bounce rates
-- (issue 15): how many of its deliveries drew a report of each kind. A
-- million-reader edition may have tens of thousands of events; counting
-- them on every view of the dashboard would cost more as the list grows,
-- so a trigger keeps the counts as events are recorded. A delivery counts
-- once per kind, however many reports of that kind arrive for it (a DSN
-- and a webhook). The counts outlive the events housekeeping prunes, like
-- an edition's delivery counts in edition_counts.
CREATE TABLE edition_reports (
  edition_id INTEGER NOT NULL,
  kind       TEXT NOT NULL,
  deliveries INTEGER NOT NULL,
  PRIMARY KEY (edition_id, kind)
) WITHOUT ROWID;

INSERT INTO edition_reports (edition_id, kind, deliveries)
  SELECT edition_id, kind, count(DISTINCT delivery_id) FROM bounce_events
  WHERE edition_id IS NOT NULL AND delivery_id IS NOT NULL GROUP BY edition_id, kind;

CREATE TRIGGER bounce_events_edition_reports AFTER INSERT ON bounce_events
  WHEN NEW.edition_id IS NOT NULL AND NEW.delivery_id IS NOT NULL
   AND NOT EXISTS (SELECT 1 FROM bounce_events WHERE delivery_id = NEW.delivery_id AND kind = NEW.kind AND id <> NEW.id)
BEGIN
  INSERT INTO edition_reports (edition_id, kind, deliveries) VALUES (NEW.edition_id, NEW.kind, 1)
    ON CONFLICT (edition_id, kind) DO UPDATE SET deliveries = deliveries + 1;
END;
