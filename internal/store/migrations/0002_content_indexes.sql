-- Indexes and triggers herald adds to the content tables (design.md allows
-- both, never columns).
--
-- Timestamps are compared as instants: unixepoch() reads both accepted forms
-- (RFC 3339 with any offset, and SQLite's 'YYYY-MM-DD HH:MM:SS' in UTC) and
-- yields NULL for anything else, so an unreadable row simply never matches.

-- Newest-first reads of the whole site and of one section.
CREATE INDEX articles_published_at ON articles (unixepoch(published_at) DESC, id DESC)
  WHERE status = 'published';
CREATE INDEX articles_section_published_at ON articles (section_id, unixepoch(published_at) DESC, id DESC)
  WHERE status = 'published';
-- An author's articles (the primary key covers article -> authors).
CREATE INDEX article_authors_author ON article_authors (author_id, article_id);

-- herald_changes records which feeds a content change touches, so the feed
-- cache and the static writer refresh only those. feed is 'all',
-- 'section:<id>' or 'author:<id>'. Consumers keep a cursor (the highest id
-- they have applied) and herald prunes old rows.
CREATE TABLE herald_changes (
  id         INTEGER PRIMARY KEY AUTOINCREMENT,
  feed       TEXT NOT NULL,
  changed_at INTEGER NOT NULL DEFAULT (unixepoch('now'))
);

-- herald_article_visible records when herald first saw an article published
-- (design.md's "visible-since" is the later of this and published_at), so an
-- article the CMS publishes late with an older date still goes out once.
CREATE TABLE herald_article_visible (
  article_id INTEGER PRIMARY KEY,
  seen_at    INTEGER NOT NULL
) WITHOUT ROWID;
-- Rows that exist when herald is installed count as visible since their own date.
INSERT INTO herald_article_visible (article_id, seen_at)
  SELECT id, coalesce(unixepoch(published_at), 0) FROM articles WHERE status = 'published';

CREATE TRIGGER articles_ai AFTER INSERT ON articles BEGIN
  INSERT INTO herald_changes (feed) VALUES ('all'), ('section:' || NEW.section_id);
  INSERT OR IGNORE INTO herald_article_visible (article_id, seen_at)
    SELECT NEW.id, unixepoch('now') WHERE NEW.status = 'published';
END;

CREATE TRIGGER articles_au AFTER UPDATE ON articles BEGIN
  INSERT INTO herald_changes (feed) VALUES ('all'), ('section:' || OLD.section_id);
  INSERT INTO herald_changes (feed) SELECT 'section:' || NEW.section_id WHERE NEW.section_id IS NOT OLD.section_id;
  INSERT INTO herald_changes (feed) SELECT 'author:' || author_id FROM article_authors WHERE article_id = NEW.id;
  INSERT OR IGNORE INTO herald_article_visible (article_id, seen_at)
    SELECT NEW.id, unixepoch('now') WHERE NEW.status = 'published';
END;

-- BEFORE DELETE: the bylines still exist (a CMS with foreign keys on
-- cascades them away after this trigger runs).
CREATE TRIGGER articles_bd BEFORE DELETE ON articles BEGIN
  INSERT INTO herald_changes (feed) VALUES ('all'), ('section:' || OLD.section_id);
  INSERT INTO herald_changes (feed) SELECT 'author:' || author_id FROM article_authors WHERE article_id = OLD.id;
  DELETE FROM herald_article_visible WHERE article_id = OLD.id;
END;

CREATE TRIGGER article_authors_ai AFTER INSERT ON article_authors BEGIN
  INSERT INTO herald_changes (feed) VALUES ('all'), ('author:' || NEW.author_id);
END;
CREATE TRIGGER article_authors_au AFTER UPDATE ON article_authors BEGIN
  INSERT INTO herald_changes (feed) VALUES ('all'), ('author:' || OLD.author_id);
  INSERT INTO herald_changes (feed) SELECT 'author:' || NEW.author_id WHERE NEW.author_id IS NOT OLD.author_id;
END;
CREATE TRIGGER article_authors_ad AFTER DELETE ON article_authors BEGIN
  INSERT INTO herald_changes (feed) VALUES ('all'), ('author:' || OLD.author_id);
END;

CREATE TRIGGER sections_ai AFTER INSERT ON sections BEGIN
  INSERT INTO herald_changes (feed) VALUES ('section:' || NEW.id);
END;
CREATE TRIGGER sections_au AFTER UPDATE ON sections BEGIN
  INSERT INTO herald_changes (feed) VALUES ('all'), ('section:' || OLD.id);
  INSERT INTO herald_changes (feed) SELECT 'section:' || NEW.id WHERE NEW.id IS NOT OLD.id;
  INSERT INTO herald_changes (feed) SELECT DISTINCT 'author:' || aa.author_id
    FROM articles a JOIN article_authors aa ON aa.article_id = a.id WHERE a.section_id = NEW.id;
END;
CREATE TRIGGER sections_ad AFTER DELETE ON sections BEGIN
  INSERT INTO herald_changes (feed) VALUES ('all'), ('section:' || OLD.id);
END;

CREATE TRIGGER authors_ai AFTER INSERT ON authors BEGIN
  INSERT INTO herald_changes (feed) VALUES ('author:' || NEW.id);
END;
CREATE TRIGGER authors_au AFTER UPDATE ON authors BEGIN
  INSERT INTO herald_changes (feed) VALUES ('all'), ('author:' || OLD.id);
  INSERT INTO herald_changes (feed) SELECT 'author:' || NEW.id WHERE NEW.id IS NOT OLD.id;
  INSERT INTO herald_changes (feed) SELECT DISTINCT 'section:' || a.section_id
    FROM articles a JOIN article_authors aa ON aa.article_id = a.id WHERE aa.author_id = NEW.id;
END;
CREATE TRIGGER authors_ad AFTER DELETE ON authors BEGIN
  INSERT INTO herald_changes (feed) VALUES ('all'), ('author:' || OLD.id);
END;
