-- The content tables, exactly as design.md's contract gives them. A CMS
-- writes these; herald only reads them (and adds indexes and triggers in
-- later migrations, never columns).
CREATE TABLE sections (
  id          INTEGER PRIMARY KEY,
  slug        TEXT NOT NULL UNIQUE,
  name        TEXT NOT NULL,
  description TEXT NOT NULL DEFAULT ''
);
CREATE TABLE authors (
  id         INTEGER PRIMARY KEY,
  slug       TEXT NOT NULL UNIQUE,
  name       TEXT NOT NULL,
  email      TEXT,
  bio        TEXT NOT NULL DEFAULT '',
  url        TEXT,
  avatar_url TEXT
);
CREATE TABLE articles (
  id           INTEGER PRIMARY KEY,
  guid         TEXT NOT NULL UNIQUE,  -- stable id, never reused
  url          TEXT NOT NULL,         -- absolute, or relative to site.url
  title        TEXT NOT NULL,
  summary      TEXT NOT NULL DEFAULT '',  -- plain text or HTML
  body_html    TEXT NOT NULL DEFAULT '',
  image_url    TEXT,
  section_id   INTEGER NOT NULL REFERENCES sections(id),
  status       TEXT NOT NULL DEFAULT 'published',  -- 'published' | 'draft' | 'retracted'
  published_at TEXT NOT NULL,
  updated_at   TEXT
);
CREATE TABLE article_authors (       -- co-bylines; position orders them
  article_id INTEGER NOT NULL REFERENCES articles(id) ON DELETE CASCADE,
  author_id  INTEGER NOT NULL REFERENCES authors(id),
  position   INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (article_id, author_id)
);
