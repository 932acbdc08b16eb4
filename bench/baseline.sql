-- The baseline `herald build` is measured against (bench/build-vs-sql.sh):
-- for every feed herald builds — the site, each section, each author — the
-- newest 50 (feeds.items) published rows, newest first, with the columns
-- herald reads (store.articleCols), the section, and every byline author.
-- It formats every row (bodies included) and throws the text away.
--
--   sqlite3 -bail DB < bench/baseline.sql
.output /dev/null
.mode list

-- The site feed.
SELECT 'all', a.id, a.guid, a.url, a.title, a.summary, a.body_html, a.image_url, a.status,
       a.published_at, a.updated_at, s.id, s.slug, s.name, s.description,
       (SELECT group_concat(au.id || '|' || au.slug || '|' || au.name || '|' || ifnull(au.email, '') || '|' ||
               au.bio || '|' || ifnull(au.url, '') || '|' || ifnull(au.avatar_url, ''), char(10))
          FROM article_authors aa JOIN authors au ON au.id = aa.author_id WHERE aa.article_id = a.id)
  FROM articles a LEFT JOIN sections s ON s.id = a.section_id
 WHERE a.status = 'published' AND unixepoch(a.published_at) <= unixepoch('now')
 ORDER BY unixepoch(a.published_at) DESC, a.id DESC
 LIMIT 50;

-- Each section's feed.
SELECT f.slug, a.id, a.guid, a.url, a.title, a.summary, a.body_html, a.image_url, a.status,
       a.published_at, a.updated_at, s.id, s.slug, s.name, s.description,
       (SELECT group_concat(au.id || '|' || au.slug || '|' || au.name || '|' || ifnull(au.email, '') || '|' ||
               au.bio || '|' || ifnull(au.url, '') || '|' || ifnull(au.avatar_url, ''), char(10))
          FROM article_authors aa JOIN authors au ON au.id = aa.author_id WHERE aa.article_id = a.id)
  FROM sections f, articles a LEFT JOIN sections s ON s.id = a.section_id
 WHERE a.id IN (SELECT x.id FROM articles x
                 WHERE x.section_id = f.id AND x.status = 'published'
                   AND unixepoch(x.published_at) <= unixepoch('now')
                 ORDER BY unixepoch(x.published_at) DESC, x.id DESC
                 LIMIT 50);

-- Each author's feed.
SELECT f.slug, a.id, a.guid, a.url, a.title, a.summary, a.body_html, a.image_url, a.status,
       a.published_at, a.updated_at, s.id, s.slug, s.name, s.description,
       (SELECT group_concat(au.id || '|' || au.slug || '|' || au.name || '|' || ifnull(au.email, '') || '|' ||
               au.bio || '|' || ifnull(au.url, '') || '|' || ifnull(au.avatar_url, ''), char(10))
          FROM article_authors aa JOIN authors au ON au.id = aa.author_id WHERE aa.article_id = a.id)
  FROM authors f, articles a LEFT JOIN sections s ON s.id = a.section_id
 WHERE a.id IN (SELECT x.id FROM article_authors xa JOIN articles x ON x.id = xa.article_id
                 WHERE xa.author_id = f.id AND x.status = 'published'
                   AND unixepoch(x.published_at) <= unixepoch('now')
                 ORDER BY unixepoch(x.published_at) DESC, x.id DESC
                 LIMIT 50);
