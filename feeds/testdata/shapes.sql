-- The shapes of issue 13 (loaded after golden.sql): a guid that is not an
-- IRI, one inside herald's derived tag: space, one needing escapes; a
-- co-written story (three authors, the lead without a url of its own); a
-- section in summary mode; images with and without a known type. First-
-- seen times are the published times, as for rows that existed when
-- herald was installed, so archive pages are the same on every run.
INSERT INTO sections (id, slug, name, description) VALUES (12, 'opinion', 'Opinion', 'Views, for subscribers.');
INSERT INTO authors (id, slug, name, email, bio, url, avatar_url) VALUES
  (22, 'priya-nair', 'Priya Nair', NULL, 'Priya writes opinion.', NULL, NULL);
INSERT INTO articles (id, guid, url, title, summary, body_html, image_url, section_id, status, published_at, updated_at) VALUES
  (201, '12345', '/opinion/co-written', 'A co-written story', '',
   '<p>The opening paragraph.</p><p>The paywalled rest.</p>', '/img/cover.webp?w=1200', 12, 'published', '2026-11-24T09:00:00Z', NULL),
  (202, 'tag:news.example.com,2026-01-01:12345', '/technology/colliding', 'A guid in herald''s tag space',
   'Looks like a derived id.', '<p>Body.</p>', '/img/photo', 10, 'published', '2026-11-24T08:00:00Z', NULL),
  (203, 'post name with spaces & <brackets>', '/opinion/summary', 'With a summary',
   'The <b>summary</b> only.', '<p>Secret body.</p>', NULL, 12, 'published', '2026-11-24T07:00:00Z', NULL);
INSERT INTO article_authors (article_id, author_id, position) VALUES
  (201, 22, 0), (201, 1, 1), (201, 20, 2), (203, 22, 0);
UPDATE herald_article_visible SET seen_at = (SELECT unixepoch(published_at) FROM articles WHERE id = article_id);
