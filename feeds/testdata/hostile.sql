-- Hostile rows, one case each (loaded after seed-article.sql). The test
-- clock is 2026-11-26T12:00:00Z. Each article's guid names its case.
INSERT INTO sections (id, slug, name, description) VALUES
  (30, 'hostile', 'Hostile ' || char(1) || 'Section', '<script>alert(1)</script>Bad things.'),
  (31, 'Bad Slug', 'Bad Slug Section', ''),
  (32, '../escape', 'Traversal', '');
INSERT INTO authors (id, slug, name, email, bio, url, avatar_url) VALUES
  (40, 'mallory', 'Mallory <b>' || char(11) || 'Evil</b>', 'not an email', 'Bio' || char(12), 'javascript:alert(1)', '//cdn.example.net/m.png'),
  (41, 'Not/Valid', 'Slash Author', NULL, '', NULL, NULL),
  (42, 'rtl', 'سارة', NULL, '', '/people/rtl', NULL);
INSERT INTO articles (id, guid, url, title, summary, body_html, image_url, section_id, status, published_at, updated_at) VALUES
  (201, 'forbidden-chars', '/h/1', 'Forbidden ' || char(1) || char(8) || char(65534) || ' chars', 'Sum' || char(0) || 'mary', '<p>body' || char(27) || '</p>', NULL, 30, 'published', '2026-11-25T01:00:00Z', NULL),
  (202, 'cdata-end', '/h/2', 'CDATA end', 'a ]]> b', '<p>before ]]> after</p><pre>]]&gt;</pre>', NULL, 30, 'published', '2026-11-25T02:00:00Z', NULL),
  (203, 'script', '/h/3', '<script>alert(1)</script>Script title', '<script>alert(1)</script>', '<p>ok</p><script>alert(1)</script><style>p{}</style>', NULL, 30, 'published', '2026-11-25T03:00:00Z', NULL),
  (204, 'event-handler', '/h/4', 'Event handler', '<img src=x onerror=alert(1)>', '<img src="/x.png" onerror="alert(1)"><p onclick="x()">p</p>', NULL, 30, 'published', '2026-11-25T04:00:00Z', NULL),
  (205, 'javascript-links', 'javascript:alert(1)', 'javascript links', '<a href="javascript:alert(1)">x</a>', '<a href="JaVaScRiPt:alert(1)">x</a><a href="java' || char(9) || 'script:alert(1)">y</a><iframe src="https://evil.example"></iframe>', 'javascript:alert(1)', 30, 'published', '2026-11-25T05:00:00Z', NULL),
  (206, 'relative', 'h/6?a=1&b=2', 'Relative links', '<a href="../up">up</a>', '<a href="/abs">abs</a><a href="rel">rel</a><img src="img/r.png"><a href="#frag">f</a>', 'img/lead.jpg', 30, 'published', '2026-11-25T06:00:00Z', NULL),
  (207, 'rtl', '/h/7', 'مرحبا بالعالم — עברית', 'نص عربي', '<p dir="rtl">مرحبا</p>', NULL, 30, 'published', '2026-11-25T07:00:00Z', NULL),
  (208, 'emoji', '/h/8', '🎉 Launch 🚀 👩‍👩‍👧', '🔥', '<p>💯 ok 🏳️‍🌈</p>', NULL, 30, 'published', '2026-11-25T08:00:00Z', NULL),
  (209, 'huge', '/h/9', 'A 1 MB body', 'big', '<p>' || hex(zeroblob(524288)) || '</p>', NULL, 30, 'published', '2026-11-25T09:00:00Z', NULL),
  (210, 'crlf-title', '/h/10', 'Line one' || char(13) || char(10) || 'Line two' || char(10) || 'X-Injected: yes', 'crlf', '<p>crlf</p>', NULL, 30, 'published', '2026-11-25T10:00:00Z', NULL),
  (211, 'empty-summary', '/h/11', 'Empty summary', '', '<p>only body</p>', NULL, 30, 'published', '2026-11-25T11:00:00Z', NULL),
  (212, 'no-author', '/h/12', 'No author', 'nobody wrote this', '<p>anon</p>', NULL, 30, 'published', '2026-11-25T12:00:00Z', NULL),
  (213, 'draft', '/h/13', 'Draft', '', '', NULL, 30, 'draft', '2026-11-25T13:00:00Z', NULL),
  (214, 'retracted', '/h/14', 'Retracted', '', '', NULL, 30, 'retracted', '2026-11-25T14:00:00Z', NULL),
  (215, 'future', '/h/15', 'Future', '', '', NULL, 30, 'published', '2027-01-01T00:00:00Z', NULL),
  (216, 'bad-date', '/h/16', 'Bad date', '', '', NULL, 30, 'published', 'yesterday', NULL),
  (217, 'invalid-utf8', '/h/17', 'Invalid ' || cast(x'ff' AS TEXT) || ' UTF-8', cast(x'c328' AS TEXT), '<p>x</p>', NULL, 30, 'published', '2026-11-25T15:00:00Z', 'garbage'),
  (218, 'bad-slug-section', '/h/18', 'In a section with a bad slug', '', '<p>x</p>', NULL, 31, 'published', '2026-11-25T16:00:00Z', NULL),
  (219, 'traversal-section', '/h/19', 'In a section with a traversal slug', '', '<p>x</p>', NULL, 32, 'published', '2026-11-25T17:00:00Z', NULL),
  (220, 'empty-everything', '', '', '', '', NULL, 30, 'published', '2026-11-25T18:00:00Z', NULL);
INSERT INTO article_authors (article_id, author_id, position) VALUES
  (201, 40, 0), (202, 40, 0), (203, 40, 0), (204, 40, 0), (205, 40, 0), (206, 40, 0),
  (207, 42, 0), (208, 40, 1), (208, 42, 0), (209, 40, 0), (210, 40, 0), (211, 40, 0),
  (213, 40, 0), (214, 40, 0), (215, 40, 0), (216, 40, 0), (217, 40, 0), (218, 41, 0), (219, 41, 0), (220, 40, 0);
