-- When herald first saw each article published, kept after the article is
-- deleted (herald_article_visible loses its row then, and a row inserted
-- again with the same id is seen afresh). Selection uses it only to bound
-- which editions can have carried a candidate (store.ReceivedArticles): an
-- edition carried an article only if herald had seen it by the edition's
-- cutoff, and this time never moves, so an article deleted and restored
-- is still found in the deliveries that carried it.
CREATE TABLE herald_article_first_seen (
  article_id INTEGER PRIMARY KEY,
  seen_at    INTEGER NOT NULL
) WITHOUT ROWID;
INSERT INTO herald_article_first_seen (article_id, seen_at)
  SELECT article_id, seen_at FROM herald_article_visible;

CREATE TRIGGER herald_first_seen_ai AFTER INSERT ON articles BEGIN
  INSERT OR IGNORE INTO herald_article_first_seen (article_id, seen_at)
    SELECT NEW.id, unixepoch('now') WHERE NEW.status = 'published';
END;
CREATE TRIGGER herald_first_seen_au AFTER UPDATE ON articles BEGIN
  INSERT OR IGNORE INTO herald_article_first_seen (article_id, seen_at)
    SELECT NEW.id, unixepoch('now') WHERE NEW.status = 'published';
END;
