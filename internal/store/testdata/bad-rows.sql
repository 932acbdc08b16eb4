-- Rows a careless CMS could write, beside good ones. Loaded by store tests.
INSERT INTO sections (id, slug, name, description) VALUES (1, 'world', 'World', 'World news');
INSERT INTO sections (id, slug, name, description) VALUES (2, 'Bad Slug!', 'Bad', '');
INSERT INTO authors (id, slug, name, email, bio, url, avatar_url) VALUES (1, 'ann', 'Ann Author', NULL, '', NULL, NULL);
INSERT INTO authors (id, slug, name, email, bio, url, avatar_url) VALUES (2, 'bob', 'Bob Writer', 'bob@example.com', 'Bob.', 'https://example.com/bob', NULL);
INSERT INTO authors (id, slug, name) VALUES (3, '../etc', 'Sneaky');
-- good: RFC 3339 with Z
INSERT INTO articles (id, guid, url, title, section_id, published_at) VALUES (1, 'g-rfc3339', '/a/1', 'RFC 3339 Z', 1, '2026-11-20T10:00:00Z');
-- good: SQLite form (UTC), 30 minutes later
INSERT INTO articles (id, guid, url, title, section_id, published_at) VALUES (2, 'g-sqlite', '/a/2', 'SQLite form', 1, '2026-11-20 10:30:00');
-- good: an offset; 09:45+02:00 is 07:45Z, so it sorts before both above although its text sorts after
INSERT INTO articles (id, guid, url, title, section_id, published_at) VALUES (3, 'g-offset', '/a/3', 'Offset', 1, '2026-11-20T09:45:00+02:00');
-- bad: unreadable timestamp
INSERT INTO articles (id, guid, url, title, section_id, published_at) VALUES (4, 'g-badtime', '/a/4', 'Bad time', 1, 'last tuesday');
-- repaired: invalid UTF-8 in the title, NULL image and updated_at
INSERT INTO articles (id, guid, url, title, section_id, published_at, image_url, updated_at) VALUES (5, 'g-utf8', '/a/5', CAST(X'42616420C3284D6F6A69' AS TEXT), 1, '2026-11-19T08:00:00Z', NULL, NULL);
-- not shown: draft, retracted, future
INSERT INTO articles (id, guid, url, title, section_id, status, published_at) VALUES (6, 'g-draft', '/a/6', 'Draft', 1, 'draft', '2026-11-19T08:00:00Z');
INSERT INTO articles (id, guid, url, title, section_id, status, published_at) VALUES (7, 'g-retracted', '/a/7', 'Retracted', 1, 'retracted', '2026-11-19T08:00:00Z');
INSERT INTO articles (id, guid, url, title, section_id, published_at) VALUES (8, 'g-future', '/a/8', 'Future', 1, '2027-01-01T00:00:00Z');
-- an article in a section with a bad slug, and a dangling section id
INSERT INTO articles (id, guid, url, title, section_id, published_at) VALUES (9, 'g-badslug', '/a/9', 'In bad section', 2, '2026-11-18T08:00:00Z');
INSERT INTO articles (id, guid, url, title, section_id, published_at) VALUES (10, 'g-dangling', '/a/10', 'Dangling section', 99, '2026-11-17T08:00:00Z');
INSERT INTO article_authors (article_id, author_id, position) VALUES (1, 2, 1), (1, 1, 0), (2, 1, 0), (9, 3, 0);
