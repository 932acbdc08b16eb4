-- Indexes the digest outbox pages through. An index on (a, b) also orders
-- equal keys by rowid, so both reads below walk rows in id order without a
-- sort, whatever the table's size:
--   planning: active subscriptions of one digest, by subscription id;
--   sending:  pending deliveries of one edition, by delivery id.
CREATE INDEX subscriptions_digest_status_id ON subscriptions (digest, status);
CREATE INDEX deliveries_edition_status_id ON deliveries (edition_id, status);
