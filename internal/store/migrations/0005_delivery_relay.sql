-- Several SMTP relays (issue 12): which relay carried each delivery, or
-- gave its last attempt's reply ("host:port"; "file" for the file
-- transport; '' before any attempt). `herald editions show` lists it.
ALTER TABLE deliveries ADD COLUMN relay TEXT NOT NULL DEFAULT '';

-- deliveries_outbox (edition_id, status, next_attempt_at) is redundant
-- since 0004's deliveries_edition_status_id, which every outbox query
-- names (INDEXED BY): it only made each delivery mark move one more index
-- entry and write two more pages per commit, and the outbox commits marks
-- in small groups (one per SMTP connection at most).
DROP INDEX IF EXISTS deliveries_outbox;
