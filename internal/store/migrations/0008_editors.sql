-- The editors' web UI: accounts, sessions and the audit log, plus the
-- indexes its pages page through. Times are unix seconds (UTC).

-- An editor account. The password is an argon2id hash in PHC form;
-- session_gen changes with the password, so sessions made before no longer
-- count.
CREATE TABLE editors (
  id            INTEGER PRIMARY KEY,
  email         TEXT NOT NULL UNIQUE COLLATE NOCASE,
  name          TEXT NOT NULL DEFAULT '',
  role          TEXT NOT NULL DEFAULT 'editor' CHECK (role IN ('editor', 'admin')),
  password_hash TEXT NOT NULL,
  timezone      TEXT NOT NULL DEFAULT '',
  session_gen   INTEGER NOT NULL DEFAULT 1,
  created_at    INTEGER NOT NULL,
  updated_at    INTEGER NOT NULL,
  last_login_at INTEGER
);

-- Web sessions (github.com/alexedwards/scs/v2's store): token is the
-- SHA-256 of the cookie's value, so a copy of the database logs nobody in;
-- data is the session's encoded values; expiry the idle or absolute end,
-- whichever comes first.
CREATE TABLE editor_sessions (
  token  TEXT PRIMARY KEY,
  data   BLOB NOT NULL,
  expiry INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX editor_sessions_expiry ON editor_sessions (expiry);

-- Who did what, when: logins, send-now with its parameters, cancel,
-- resume, import, export and editor changes. editor_id is NULL for the
-- command line; actor keeps the address as it was.
CREATE TABLE audit_log (
  id        INTEGER PRIMARY KEY,
  at        INTEGER NOT NULL,
  editor_id INTEGER,
  actor     TEXT NOT NULL,
  action    TEXT NOT NULL,
  target    TEXT NOT NULL DEFAULT '',
  detail    TEXT NOT NULL DEFAULT '',
  client    TEXT NOT NULL DEFAULT ''
);
CREATE INDEX audit_log_at ON audit_log (at);

-- Delivery counts of finished editions, so listing editions costs the
-- same at a million subscribers as at a thousand. Written once an edition
-- has been finished for a while (a message in flight at a cancel may still
-- be recorded sent just after it).
CREATE TABLE edition_counts (
  edition_id INTEGER PRIMARY KEY,
  counts     TEXT NOT NULL
) WITHOUT ROWID;

-- The subscribers page filters by status, newest first: (status, id).
CREATE INDEX subscribers_status ON subscribers (status);
