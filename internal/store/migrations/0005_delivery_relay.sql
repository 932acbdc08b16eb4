-- Several SMTP relays (issue 12): which relay carried each delivery, or
-- gave its last attempt's reply ("host:port"; "file" for the file
-- transport; '' before any attempt). `herald editions show` lists it.
ALTER TABLE deliveries ADD COLUMN relay TEXT NOT NULL DEFAULT '';
