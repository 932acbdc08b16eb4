-- Fixed content for the golden feeds (loaded after internal/store/testdata/seed-article.sql).
-- The test clock is 2026-11-26T12:00:00Z.
INSERT INTO sections (id, slug, name, description) VALUES
  (10, 'technology', 'Technology', 'Gadgets & the <b>web</b>.'),
  (11, 'quiet', 'Quiet Corner', '');
INSERT INTO authors (id, slug, name, email, bio, url, avatar_url) VALUES
  (20, 'ana-lima', 'Ana Lima', 'ana@example.com', 'Ana covers technology.', 'https://news.example.com/people/ana-lima', '/img/ana.png'),
  (21, 'ned-quiet', 'Ned Quiet', NULL, '', NULL, NULL);
INSERT INTO articles (id, guid, url, title, summary, body_html, image_url, section_id, status, published_at, updated_at) VALUES
  (101, 'urn:herald:article:chips', '/technology/chips', 'Chips & the <future>',
   'Chips &amp; <b>things</b>', '<p>See <a href="/technology/more">more</a> and <img src="img/chip.png" alt="chip"></p>',
   '/img/chip.png', 10, 'published', '2026-11-20T09:00:00+01:00', '2026-11-21 10:00:00'),
  (102, 'urn:herald:article:tie-low', 'https://news.example.com/technology/tie-low', 'Tie, lower id',
   'Same instant as 103.', '<p>Lower id.</p>', NULL, 10, 'published', '2026-11-22T08:00:00Z', NULL),
  (103, 'urn:herald:article:tie-high', 'https://news.example.com/world-news/tie-high', 'Tie, higher id',
   'Same instant as 102, other form.', '<p>Higher id.</p>', NULL, 1, 'published', '2026-11-22 08:00:00', NULL),
  (104, 'https://news.example.com/world-news/permalink', 'https://news.example.com/world-news/permalink', 'A guid that is the URL',
   '', '<p>No summary, no byline.</p>', NULL, 1, 'published', '2026-11-23T07:00:00-05:00', NULL),
  (105, 'urn:herald:article:draft', '/d', 'Draft', '', '', NULL, 10, 'draft', '2026-11-24T08:00:00Z', NULL),
  (106, 'urn:herald:article:retracted', '/r', 'Retracted', '', '', NULL, 10, 'retracted', '2026-11-24T08:00:00Z', NULL),
  (107, 'urn:herald:article:embargoed', '/e', 'Embargoed', '', '', NULL, 10, 'published', '2026-12-24T08:00:00Z', NULL);
INSERT INTO article_authors (article_id, author_id, position) VALUES
  (101, 20, 0), (101, 1, 1),
  (102, 20, 0),
  (103, 1, 0),
  (105, 20, 0), (106, 20, 0), (107, 20, 0);
