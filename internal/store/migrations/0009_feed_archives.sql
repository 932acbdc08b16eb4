-- Archive pages of every feed (RFC 5005 §4, feeds.archives). A feed's
-- published articles are ordered by first-seen key — visible-since, the
-- later of unixepoch(published_at) and herald_article_visible.seen_at,
-- ties by article id — and cut into pages of feeds.archive_page_size,
-- page 1 the oldest. A page is frozen once full by recording the key of
-- its last entry; later articles (a late-published one too: its key is
-- when herald first saw it) never enter a frozen page, and a retraction
-- only empties its slot.
CREATE TABLE herald_archive_pages (
  feed     TEXT NOT NULL,     -- 'all', 'section:<id>' or 'author:<id>', as herald_changes
  page     INTEGER NOT NULL,  -- 1 = the oldest
  last_key INTEGER NOT NULL,  -- the first-seen key of the page's last entry
  last_id  INTEGER NOT NULL,  -- that entry's article id
  PRIMARY KEY (feed, page)
) WITHOUT ROWID;

-- First-seen order: the site's archive reads ranges of it.
CREATE INDEX herald_article_visible_seen ON herald_article_visible (seen_at, article_id);

-- Bylines in order without the table: a feed build reads the byline of
-- every article it writes (275,000 at a million articles) by article id.
CREATE INDEX article_authors_byline ON article_authors (article_id, position, author_id);

-- Which archive pages a change touches: 'archive:<key>' names the first-
-- seen key of a changed article (before and after the change), so only the
-- page holding it is rebuilt; 'archive:*' (a section or author renamed)
-- rebuilds every page of the touched feeds.
CREATE TRIGGER herald_archive_articles_au AFTER UPDATE ON articles BEGIN
  INSERT INTO herald_changes (feed)
    SELECT 'archive:' || max(coalesce(unixepoch(OLD.published_at), 0), coalesce(v.seen_at, 0))
      FROM (SELECT 1) LEFT JOIN herald_article_visible v ON v.article_id = OLD.id;
  INSERT INTO herald_changes (feed)
    SELECT 'archive:' || max(coalesce(unixepoch(NEW.published_at), 0), coalesce(v.seen_at, 0))
      FROM (SELECT 1) LEFT JOIN herald_article_visible v ON v.article_id = NEW.id
     WHERE unixepoch(NEW.published_at) IS NOT unixepoch(OLD.published_at);
END;
CREATE TRIGGER herald_archive_articles_bd BEFORE DELETE ON articles BEGIN
  INSERT INTO herald_changes (feed)
    SELECT 'archive:' || max(coalesce(unixepoch(OLD.published_at), 0), coalesce(v.seen_at, 0))
      FROM (SELECT 1) LEFT JOIN herald_article_visible v ON v.article_id = OLD.id;
END;
CREATE TRIGGER herald_archive_bylines_ai AFTER INSERT ON article_authors BEGIN
  INSERT INTO herald_changes (feed)
    SELECT 'archive:' || max(coalesce(unixepoch(a.published_at), 0), coalesce(v.seen_at, 0))
      FROM articles a LEFT JOIN herald_article_visible v ON v.article_id = a.id WHERE a.id = NEW.article_id;
END;
CREATE TRIGGER herald_archive_bylines_au AFTER UPDATE ON article_authors BEGIN
  INSERT INTO herald_changes (feed)
    SELECT 'archive:' || max(coalesce(unixepoch(a.published_at), 0), coalesce(v.seen_at, 0))
      FROM articles a LEFT JOIN herald_article_visible v ON v.article_id = a.id WHERE a.id IN (OLD.article_id, NEW.article_id);
END;
CREATE TRIGGER herald_archive_bylines_ad AFTER DELETE ON article_authors BEGIN
  INSERT INTO herald_changes (feed)
    SELECT 'archive:' || max(coalesce(unixepoch(a.published_at), 0), coalesce(v.seen_at, 0))
      FROM articles a LEFT JOIN herald_article_visible v ON v.article_id = a.id WHERE a.id = OLD.article_id;
END;
CREATE TRIGGER herald_archive_sections_au AFTER UPDATE ON sections BEGIN
  INSERT INTO herald_changes (feed) VALUES ('archive:*');
END;
CREATE TRIGGER herald_archive_authors_au AFTER UPDATE ON authors BEGIN
  INSERT INTO herald_changes (feed) VALUES ('archive:*');
END;
